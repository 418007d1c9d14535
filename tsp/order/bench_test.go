package order

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/foreverfm/forever/tsp"
)

// BenchmarkPrepare measures building the distance matrix of the default
// metric, done at every solve.
func BenchmarkPrepare(b *testing.B) {
	for _, n := range []int{100, 1000} {
		ts := randomTracks(rand.New(rand.NewPCG(1, 1)), n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				DefaultMetric().Prepare(ts)
			}
		})
	}
}

// BenchmarkSolveLocal measures ordering n tracks with local search only,
// the least a solve costs before the time budget is spent on kicks.
func BenchmarkSolveLocal(b *testing.B) {
	for _, n := range []int{100, 1000, 3000} {
		ts := randomTracks(rand.New(rand.NewPCG(1, 1)), n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				d := DefaultMetric().Prepare(ts)
				if _, err := tsp.SolvePath(context.Background(), n, d, 0, tsp.Options{MaxIterations: -1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
