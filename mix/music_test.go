package mix

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/internal/shared"
)

// sharedDir locates ../shared/testdata/music next to the module root, or
// skips.
func sharedMusic(t testing.TB) string {
	t.Helper()
	return shared.Path(t, "testdata", "music")
}

func loadMusic(t testing.TB, path string) *Track {
	t.Helper()
	p, err := audio.DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := analysis.Analyze(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return &Track{ID: path, Title: filepath.Base(path), Source: path, Analysis: a, Audio: p}
}

// onsetsOf runs the project's analysis on a rendered layer and returns its
// segment starts (onsets) in frames, each refined from the analysis's hop
// to the millisecond: within 1.5 hops of it, the 1.5 ms window where the
// energy of the first difference rises most.
func onsetsOf(t testing.TB, s []float32) []int {
	a, err := analysis.Analyze(context.Background(), &audio.PCM{Samples: s})
	if err != nil {
		t.Fatal(err)
	}
	n := len(s) / 2
	energy := func(from int) float64 {
		var e float64
		for i := max(from, 1); i < min(from+64, n); i++ {
			d := float64(s[2*i]-s[2*i-2]) + float64(s[2*i+1]-s[2*i-1])
			e += d * d
		}
		return e
	}
	var on []int
	for _, g := range a.Segments {
		f := audio.FrameAt(g.Start)
		best, rise := f, math.Inf(-1)
		for c := f - 768; c <= f+768; c += 16 {
			if r := energy(c) - energy(c-64); r > rise {
				best, rise = c, r
			}
		}
		on = append(on, best)
	}
	sort.Ints(on)
	return on
}

func nearest(on []int, f int) (int, bool) {
	i := sort.SearchInts(on, f)
	best, ok := 0, false
	for _, k := range []int{i - 1, i} {
		if k >= 0 && k < len(on) && (!ok || abs(on[k]-f) < abs(best-f)) {
			best, ok = on[k], true
		}
	}
	return best, ok
}

func abs(x int) int { return max(x, -x) }

// onsetOffsets renders each track's layer of crossmatch x alone, finds its
// onsets with the project's analysis, and returns, in ms, how far apart the
// two tracks' onsets are at every beat of the grid where both have one
// within 60 ms.
func onsetOffsets(t *testing.T, x *crossmatch) []float64 {
	t.Helper()
	var on [2][]int
	for j, l := range Layers(x) {
		on[j] = onsetsOf(t, renderAll(l.Action, 4096))
	}
	var offs []float64
	const win = 60 * audio.SampleRate / 1000
	for _, g := range x.grid {
		o0, ok0 := nearest(on[0], g)
		o1, ok1 := nearest(on[1], g)
		if ok0 && ok1 && abs(o0-g) < win && abs(o1-g) < win {
			offs = append(offs, math.Abs(float64(o0-o1))/audio.SampleRate*1000)
		}
	}
	return offs
}

// TestMusicCrossmatchBeats mixes the two tracks of ../shared/testdata/music,
// renders each track's layer of the crossmatch alone, finds its onsets with
// the project's analysis, and measures, at every beat of the transition
// where both tracks have an onset within 60 ms, how far apart they are.
func TestMusicCrossmatchBeats(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses real music")
	}
	dir := sharedMusic(t)
	a := loadMusic(t, filepath.Join(dir, "lets_go_fishin.ogg"))
	b := loadMusic(t, filepath.Join(dir, "vibe_ace.ogg"))
	// The analysis hears 88.5 and 130 BPM, a glide past MaxStretch that
	// the mixer would crossfade; this test measures how well a crossmatch
	// keeps the beats together, so it forces one.
	m := New(Options{Logger: slog.New(slog.DiscardHandler), Policy: DefaultPolicy{MaxStretch: -1}})
	acts, _ := m.transition(a, audio.FrameAt(20), a.Analysis.StartOfFadeOut, b)
	x, ok := acts[1].(*crossmatch)
	if !ok {
		t.Fatalf("no crossmatch: %+v", acts[1].Info())
	}
	offs := onsetOffsets(t, x)
	if len(offs) < len(x.grid)/4 {
		t.Fatalf("only %d of %d beats have onsets in both tracks", len(offs), len(x.grid))
	}
	sort.Float64s(offs)
	t.Logf("offsets (ms): %.1f", offs)
	med, p90 := quantile(offs, 0.5), quantile(offs, 0.9)
	t.Logf("%s → %s: %d beats, %d with onsets in both; offsets median %.1f ms, p90 %.1f ms",
		a.Title, b.Title, len(x.grid), len(offs), med, p90)
	if med > 10 {
		t.Errorf("median beat offset %.1f ms", med)
	}
}
