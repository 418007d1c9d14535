package order

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/tsp"
)

// synth makes a hand-made analysis: a tempo, a key, a loudness and a few
// segments whose timbre wanders around a centre.
func synth(rng *rand.Rand, tempo float64, key, mode int, loud float64, centre [12]float64) *analysis.Analysis {
	a := &analysis.Analysis{
		Duration: 180 + 60*rng.Float64(), Tempo: tempo, Key: key, Mode: mode,
		Loudness: loud, Energy: math.Min(1, math.Max(0, (loud+30)/24)), Danceability: 0.5,
	}
	for s := 0; s < 40; s++ {
		seg := analysis.Segment{Start: float64(s) * 0.5, Duration: 0.5}
		for k := range seg.Timbre {
			seg.Timbre[k] = centre[k] + 3*rng.NormFloat64()
		}
		a.Segments = append(a.Segments, seg)
	}
	return a
}

func randomTracks(rng *rand.Rand, n int) []Track {
	ts := make([]Track, n)
	for i := range ts {
		var centre [12]float64
		for k := range centre {
			centre[k] = 20 * rng.NormFloat64()
		}
		ts[i] = Track{
			ID:       fmt.Sprintf("t%03d", i),
			Analysis: synth(rng, 80+80*rng.Float64(), rng.IntN(12), rng.IntN(2), -20+12*rng.Float64(), centre),
			Tags:     []string{[]string{"house", "techno", "ambient"}[rng.IntN(3)]},
		}
	}
	return ts
}

func TestTempo(t *testing.T) {
	tr := func(bpm float64) Track { return Track{Analysis: &analysis.Analysis{Tempo: bpm}} }
	d := Tempo{}.Prepare([]Track{tr(120), tr(126), tr(150), tr(240), tr(60), tr(0), tr(63)})
	if !(d(0, 1) < d(0, 2)) {
		t.Errorf("120-126 (%v) should be closer than 120-150 (%v)", d(0, 1), d(0, 2))
	}
	if math.Abs(d(0, 1)-d(4, 6)) > 1e-12 {
		t.Errorf("ratios: 120-126 is %v but 60-63 is %v", d(0, 1), d(4, 6))
	}
	if got := d(0, 3); math.Abs(got-0.2) > 1e-9 {
		t.Errorf("double tempo: got %v, want the HalfDouble penalty 0.2", got)
	}
	if d(0, 3) >= d(0, 2) {
		t.Errorf("double tempo (%v) should be closer than 120-150 (%v)", d(0, 3), d(0, 2))
	}
	if d(0, 5) != unknown {
		t.Errorf("unknown tempo: got %v", d(0, 5))
	}
}

func TestKey(t *testing.T) {
	tr := func(key, mode int) Track { return Track{Analysis: &analysis.Analysis{Key: key, Mode: mode}} }
	// C major, A minor, G major, F# major, E minor, C minor, unknown.
	d := Key{}.Prepare([]Track{tr(0, 1), tr(9, 0), tr(7, 1), tr(6, 1), tr(4, 0), tr(0, 0), tr(-1, 1)})
	for _, c := range []struct {
		i, j int
		want float64
	}{
		{0, 0, 0},
		{0, 1, 0.1},        // relative minor
		{0, 2, 1.0 / 6},    // a fifth
		{0, 3, 1},          // tritone: opposite on the circle
		{2, 4, 0.1},        // G major and E minor are relatives
		{0, 5, 3.0/6 + .1}, // parallel minor: three fifths away
		{0, 6, unknown},
	} {
		if got := d(c.i, c.j); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("key %d vs %d: got %v, want %v", c.i, c.j, got, c.want)
		}
	}
}

func TestTags(t *testing.T) {
	d := Tags{}.Prepare([]Track{{Tags: []string{"House", "deep"}}, {Tags: []string{"house"}}, {Tags: []string{"jazz"}}, {}})
	if got := d(0, 1); got != 0.5 {
		t.Errorf("one shared of two: got %v", got)
	}
	if d(0, 2) != 1 || d(0, 3) != unknown {
		t.Errorf("disjoint %v, untagged %v", d(0, 2), d(0, 3))
	}
}

func TestMetricSane(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ts := randomTracks(rng, 30)
	ts = append(ts, Track{ID: "empty"}, Track{ID: "nan", Analysis: &analysis.Analysis{Tempo: math.NaN(), Loudness: math.Inf(-1), Key: 40}})
	d := DefaultMetric().Prepare(ts)
	for i := range ts {
		for j := range ts {
			v := d.Dist(i, j)
			if math.IsNaN(v) || v < 0 || math.Abs(v-d.Dist(j, i)) > 1e-12 || (i == j && v != 0) {
				t.Fatalf("d(%d, %d) = %v, d(%d, %d) = %v", i, j, v, j, i, d.Dist(j, i))
			}
		}
	}
}

// TestTourIsSmoother shows what the order is for: consecutive tracks of
// the generated order are closer, by the track distance, than consecutive
// tracks of a random order.
func TestTourIsSmoother(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	ts := randomTracks(rng, 120)
	g := &Generator{Solver: tsp.Options{MaxIterations: 2000}, Logger: discard()}
	g.SetCandidates(ts)
	var seq []Track
	for range ts {
		tr, err := g.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, tr)
	}
	m := DefaultMetric()
	d := m.Prepare(ts)
	index := map[string]int{}
	for i, tr := range ts {
		index[tr.ID] = i
	}
	mean := func(order []int) float64 {
		var s float64
		for i := 1; i < len(order); i++ {
			s += d.Dist(order[i-1], order[i])
		}
		return s / float64(len(order)-1)
	}
	var ordered []int
	for _, tr := range seq {
		ordered = append(ordered, index[tr.ID])
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ordered)))) != len(ts) {
		t.Fatalf("the first %d tracks repeat some: %v", len(ts), ordered)
	}
	var random float64
	for r := 0; r < 50; r++ {
		random += mean(rng.Perm(len(ts)))
	}
	random /= 50
	got := mean(ordered)
	t.Logf("mean distance between consecutive tracks: tour %.3f, random order %.3f (ratio %.2f)", got, random, got/random)
	if got > 0.7*random {
		t.Errorf("tour's mean step %.3f is not well below a random order's %.3f", got, random)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func ids(ts []Track) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestGenerator(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	ts := randomTracks(rng, 40)
	var logs bytes.Buffer
	solves := 0
	g := &Generator{
		Window: 15,
		Solver: tsp.Options{MaxIterations: 500},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnSolve: func(n int, took time.Duration) {
			solves++
			if n <= 0 || took < 0 {
				t.Errorf("OnSolve(%d, %v)", n, took)
			}
		},
	}
	g.SetCandidates(ts[:30])
	g.Blacklist(ts[3].ID, ts[4].ID)
	g.ForceMix(ts[35])

	var played []string
	next := func() string {
		t.Helper()
		tr, err := g.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		played = append(played, tr.ID)
		return tr.ID
	}
	for i := 0; i < 100; i++ {
		next()
	}
	if solves == 0 {
		t.Fatal("OnSolve never called")
	}
	if !strings.Contains(logs.String(), "Solving TSP on ") || !strings.Contains(logs.String(), "Solved TSP in ") {
		t.Errorf("log lacks the solve messages:\n%s", logs.String())
	}
	if n, took, s := g.LastSolve(); n == 0 || took <= 0 || s != solves {
		t.Errorf("LastSolve() = %d, %v, %d; OnSolve saw %d solves", n, took, s, solves)
	}
	allowed := map[string]bool{ts[35].ID: true}
	for _, tr := range ts[:30] {
		allowed[tr.ID] = true
	}
	delete(allowed, ts[3].ID)
	delete(allowed, ts[4].ID)
	count := map[string]int{}
	for i, id := range played {
		if !allowed[id] {
			t.Errorf("played %s, which is blacklisted or not a candidate", id)
		}
		count[id]++
		for j := max(0, i-15); j < i; j++ {
			if played[j] == id {
				t.Errorf("%s repeated after %d tracks (window 15)", id, i-j)
			}
		}
	}
	if count[ts[35].ID] == 0 {
		t.Errorf("force-mix track never played")
	}
	if len(count) != len(allowed) {
		t.Errorf("100 tracks played only %d of the %d allowed", len(count), len(allowed))
	}

	// PlayNext tracks come next, in order, even blacklisted ones.
	g.PlayNext(ts[39], ts[3], ts[38])
	for _, want := range []string{ts[39].ID, ts[3].ID, ts[38].ID} {
		if got := next(); got != want {
			t.Fatalf("after PlayNext: got %s, want %s", got, want)
		}
	}

	// A changed candidate set is solved again and its new tracks played.
	before := solves
	g.SetCandidates(ts[20:40])
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		seen[next()] = true
	}
	if solves == before {
		t.Errorf("new candidates did not trigger a solve")
	}
	for _, tr := range ts[20:40] {
		if !seen[tr.ID] && !slices.Contains(played[len(played)-35:len(played)-20], tr.ID) && tr.ID != ts[38].ID && tr.ID != ts[39].ID {
			t.Errorf("new candidate %s not played in 20 tracks", tr.ID)
		}
	}
	for id := range seen {
		if id < ts[20].ID && id != ts[35].ID {
			t.Errorf("played %s, no longer a candidate", id)
		}
	}
}

// TestGeneratorPathFromNowPlaying checks that the plan is an optimal path
// from the track now playing (small sets are solved exactly).
func TestGeneratorPathFromNowPlaying(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ts := randomTracks(rng, 9)
	g := &Generator{Logger: discard(), Window: -1}
	g.SetCandidates(ts[1:])
	g.Playing(ts[0])
	if _, err := g.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	plan := []Track{ts[0]}
	for _, id := range g.history[1:] {
		plan = append(plan, ts[slices.IndexFunc(ts, func(x Track) bool { return x.ID == id })])
	}
	plan = append(plan, g.Plan()...)
	if len(plan) != len(ts) {
		t.Fatalf("plan has %d tracks, want %d: %v", len(plan), len(ts), ids(plan))
	}
	d := DefaultMetric().Prepare(ts)
	perm := make([]int, len(plan))
	for i, tr := range plan {
		perm[i] = slices.IndexFunc(ts, func(x Track) bool { return x.ID == tr.ID })
	}
	_, best, err := tsp.ExactPath(len(ts), d, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := tsp.PathLength(perm, d); math.Abs(got-best) > 1e-9 {
		t.Errorf("plan from now playing has length %v, optimum %v", got, best)
	}
}

func TestGeneratorEmpty(t *testing.T) {
	g := &Generator{Logger: discard()}
	if _, err := g.Next(context.Background()); err != ErrNoTracks {
		t.Errorf("no candidates: got %v, want ErrNoTracks", err)
	}
	one := Track{ID: "solo", Analysis: &analysis.Analysis{Tempo: 120}}
	g.SetCandidates([]Track{one})
	for i := 0; i < 3; i++ {
		tr, err := g.Next(context.Background())
		if err != nil || tr.ID != "solo" {
			t.Fatalf("one candidate: got %v, %v", tr.ID, err)
		}
	}
}

// TestGeneratorConcurrent drives Next from one goroutine while others
// change the candidates, the blacklist and the queue (run with -race).
func TestGeneratorConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	ts := randomTracks(rng, 60)
	g := &Generator{Logger: discard(), Solver: tsp.Options{MaxIterations: 300}}
	g.SetCandidates(ts[:40])
	ctx := context.Background()
	done := make(chan error)
	go func() {
		for i := 0; i < 200; i++ {
			if _, err := g.Next(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 50; i++ {
		switch i % 5 {
		case 0:
			g.SetCandidates(ts[i%20 : i%20+40])
		case 1:
			g.Blacklist(ts[i].ID)
		case 2:
			g.PlayNext(ts[i])
		case 3:
			g.ForceMix(ts[59-i])
		case 4:
			_ = g.Plan()
			g.LastSolve()
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Upcoming previews exactly what Next then yields, and solves again when
// the plan is used up or the candidates change, rather than showing
// nothing until the next call of Next.
func TestGeneratorUpcoming(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 5))
	ts := randomTracks(rng, 12)
	g := &Generator{Window: 2, Solver: tsp.Options{MaxIterations: 200}, Logger: slog.New(slog.DiscardHandler)}
	g.SetCandidates(ts[:4])
	for i := 0; i < 4; i++ { // use the first plan up
		if _, err := g.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(g.Plan()); n != 0 {
		t.Fatalf("Plan has %d tracks after four Next on four candidates", n)
	}
	g.SetCandidates(ts)
	ahead, err := g.Upcoming(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(ahead) != 5 {
		t.Fatalf("Upcoming(5) = %d tracks, want 5", len(ahead))
	}
	g.PlayNext(ts[11])
	ahead, err = g.Upcoming(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if ahead[0].ID != ts[11].ID {
		t.Errorf("Upcoming starts with %s, want the queued %s", ahead[0].ID, ts[11].ID)
	}
	for i, want := range ahead {
		got, err := g.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID {
			t.Fatalf("Next #%d = %s, Upcoming said %s", i, got.ID, want.ID)
		}
		if i == 0 {
			// Playing a queued track continues the plan from it: the
			// rest of the preview is no longer binding.
			ahead, err = g.Upcoming(ctx, 4)
			if err != nil {
				t.Fatal(err)
			}
			for j, w := range ahead {
				got, err := g.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != w.ID {
					t.Fatalf("Next #%d after the queued track = %s, Upcoming said %s", j, got.ID, w.ID)
				}
			}
			break
		}
	}
}
