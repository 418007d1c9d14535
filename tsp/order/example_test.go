package order_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/tsp"
	"github.com/foreverfm/forever/tsp/order"
)

// A generator orders tracks so that tempo and key change gently, starting
// from the track now playing, and yields them forever.
func ExampleGenerator() {
	track := func(id string, bpm float64, key, mode int) order.Track {
		return order.Track{ID: id, Analysis: &analysis.Analysis{Tempo: bpm, Key: key, Mode: mode}}
	}
	g := &order.Generator{
		Metric: order.Metric{{Weight: 3, Criterion: order.Tempo{}}, {Weight: 2, Criterion: order.Key{}}},
		Window: 3,
		Solver: tsp.Options{MaxIterations: 100},
		Logger: slog.New(slog.DiscardHandler),
	}
	g.SetCandidates([]order.Track{
		track("E-minor-118", 118, 4, 0),
		track("C-major-100", 100, 0, 1),
		track("G-major-112", 112, 7, 1),
		track("D-major-122", 122, 2, 1),
		track("F-major-104", 104, 5, 1),
	})
	g.Playing(track("intro-C-major-98", 98, 0, 1))
	for i := 0; i < 7; i++ {
		t, err := g.Next(context.Background())
		if err != nil {
			panic(err)
		}
		fmt.Print(t.ID, " ")
	}
	fmt.Println()
	// Output:
	// C-major-100 F-major-104 G-major-112 E-minor-118 D-major-122 C-major-100 F-major-104
}
