package source

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

func TestCheckAnalysis(t *testing.T) {
	good := func() *analysis.Analysis {
		return &analysis.Analysis{
			Duration: 10, SampleRate: 44100, Tempo: 120, TimeSignature: 4, Key: 3, Mode: 0, Loudness: -12,
			Beats:    []analysis.Quantum{{Start: 0.1, Duration: 0.5}, {Start: 0.6, Duration: 0.5}},
			Segments: []analysis.Segment{{Start: 0, Duration: 10, Timbre: [12]float64{50}}},
		}
	}
	if err := CheckAnalysis(good()); err != nil {
		t.Fatalf("a sound analysis: %v", err)
	}
	for name, c := range map[string]struct {
		edit func(*analysis.Analysis)
		want string
	}{
		"tempo 1e308":  {func(a *analysis.Analysis) { a.Tempo = 1e308 }, "tempo"},
		"tempo NaN":    {func(a *analysis.Analysis) { a.Tempo = math.NaN() }, "tempo"},
		"inf loudness": {func(a *analysis.Analysis) { a.Loudness = math.Inf(-1) }, "loudness"},
		"beats backwards": {func(a *analysis.Analysis) {
			a.Beats = []analysis.Quantum{{Start: 2, Duration: 0.5}, {Start: 1, Duration: 0.5}}
		}, "before the one before"},
		"beat past the end": {func(a *analysis.Analysis) { a.Beats[1].Start = 50 }, "outside the track"},
		"timbre inf":        {func(a *analysis.Analysis) { a.Segments[0].Timbre[3] = math.Inf(1) }, "timbre"},
		"no analysis":       {nil, "no analysis"},
	} {
		var a *analysis.Analysis
		if c.edit != nil {
			a = good()
			c.edit(a)
		}
		if err := CheckAnalysis(a); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, c.want)
		}
	}
}

// A fresh analysis that is out of range is an error, never stored.
func TestCacheRejectsBadAnalysis(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	tr := memTrack("bad", 0.1, 1, nil)
	tr.Fingerprint = "fp"
	bad := func(context.Context, *audio.PCM) (*analysis.Analysis, error) {
		return &analysis.Analysis{Duration: 1, Tempo: -9.2e17}, nil
	}
	if _, err := c.Ensure(context.Background(), tr, bad); err == nil || !strings.Contains(err.Error(), "tempo") {
		t.Fatalf("err = %v", err)
	}
	if files := entryFiles(t, c.Dir); len(files) != 0 {
		t.Errorf("stored: %q", files)
	}
}
