package mix

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source/demo"
)

// mapThrough maps input frame f through the piecewise-linear map from
// anchors (input) to grid (output); ok is false outside it.
func mapThrough(grid, anchors []int, f float64) (float64, bool) {
	i := sort.SearchInts(anchors, int(math.Floor(f))+1)
	if i == 0 || i >= len(anchors) {
		return 0, false
	}
	a0, a1, g0, g1 := float64(anchors[i-1]), float64(anchors[i]), float64(grid[i-1]), float64(grid[i])
	return g0 + (f-a0)*(g1-g0)/(a1-a0), true
}

func demoTrack(t testing.TB, s demo.Spec) (*Track, demo.Truth) {
	t.Helper()
	s = s.Short(8)
	p := s.Render()
	a, err := analysis.Analyze(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return &Track{ID: s.ID, Title: s.Title, Artist: s.Artist, Source: s.ID, Analysis: a, Audio: p}, s.Truth()
}

// TestDemoCrossmatchBeats renders two demo tracks of different tempos
// through a Crossmatch planned from the project's own analyses and measures
// how far apart their beats land in the output, two ways: the ground-truth
// beats of both tracks carried through the stretch maps, and the onsets the
// project's analysis finds in each track's rendered layer at each beat.
func TestDemoCrossmatchBeats(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses demo tracks")
	}
	cat := demo.Catalogue()
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		a, ta := demoTrack(t, cat[pair[0]])
		b, tb := demoTrack(t, cat[pair[1]])
		m := New(Options{Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
		acts, _ := m.transition(a, audio.FrameAt(20), a.Analysis.StartOfFadeOut, b)
		x, ok := acts[1].(*crossmatch)
		if !ok {
			t.Fatalf("%s → %s: no crossmatch but %s", a.Title, b.Title, acts[1].Info().Kind)
		}
		// Truth through the maps, as the crossmatch snaps them to onsets.
		snapA := snapToOnsets(a.Audio.Samples, x.anchors[0], onsetRadius)
		snapB := snapToOnsets(b.Audio.Samples, x.anchors[1], onsetRadius)
		var outA []float64
		for _, s := range ta.Beats {
			if o, ok := mapThrough(x.grid, snapA, s*audio.SampleRate); ok {
				outA = append(outA, o)
			}
		}
		var truth []float64
		for _, s := range tb.Beats {
			o, ok := mapThrough(x.grid, snapB, s*audio.SampleRate)
			if !ok || len(outA) == 0 || o < outA[0]-1000 || o > outA[len(outA)-1]+1000 {
				continue
			}
			i := sort.SearchFloat64s(outA, o)
			best := math.Inf(1)
			for _, k := range []int{i - 1, i} {
				if k >= 0 && k < len(outA) {
					best = min(best, math.Abs(outA[k]-o))
				}
			}
			truth = append(truth, best/audio.SampleRate*1000)
		}
		sort.Float64s(truth)

		// Onsets found in the output.
		found := onsetOffsets(t, x)
		sort.Float64s(found)
		if len(truth) < 10 || len(found) < 10 {
			t.Fatalf("%s → %s: %d true beats and %d onset pairs in the crossmatch", a.Title, b.Title, len(truth), len(found))
		}
		info := x.Info()
		t.Logf("%s (%.0f BPM) → %s (%.0f BPM), %d quanta, doubled %v/%v: true beats median %.1f ms p90 %.1f ms; onsets found median %.1f ms p90 %.1f ms (%d pairs)",
			a.Title, ta.Tempo, b.Title, tb.Tempo, info.Match.Quanta, info.Match.OutDoubled, info.Match.InDoubled,
			quantile(truth, 0.5), quantile(truth, 0.9), quantile(found, 0.5), quantile(found, 0.9), len(found))
		if quantile(truth, 0.5) > 5 || quantile(found, 0.5) > 10 {
			t.Errorf("%s → %s: beats apart by a median of %.1f ms (truth) and %.1f ms (onsets)", a.Title, b.Title, quantile(truth, 0.5), quantile(found, 0.5))
		}
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
