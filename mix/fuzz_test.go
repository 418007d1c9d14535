package mix

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"slices"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// fuzzAnalysis builds an analysis from arbitrary bytes: analyses come from
// caches and other programs, so the mixer must survive any of them.
func fuzzAnalysis(b []byte) *analysis.Analysis {
	f := func() float64 {
		if len(b) < 4 {
			return 0
		}
		v := binary.LittleEndian.Uint32(b)
		b = b[4:]
		switch v % 17 {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(1)
		case 2:
			return -float64(v % 1000)
		}
		return float64(v%400000) / 1000
	}
	a := &analysis.Analysis{Duration: f(), EndOfFadeIn: f(), StartOfFadeOut: f(), Loudness: -f(), Tempo: f()}
	for i := 0; len(b) >= 8 && i < 400; i++ {
		q := analysis.Quantum{Start: f(), Duration: f() / 100, Confidence: 0.5}
		switch i % 3 {
		case 0:
			a.Beats = append(a.Beats, q)
		case 1:
			a.Bars = append(a.Bars, q)
		default:
			a.Segments = append(a.Segments, analysis.Segment{Start: q.Start, Duration: q.Duration, Timbre: [12]float64{q.Start, q.Duration}})
		}
	}
	return a
}

func FuzzMixer(f *testing.F) {
	steady := func(beat float64) []byte {
		var b []byte
		put := func(v float64) { b = binary.LittleEndian.AppendUint32(b, uint32(v*1000)/17*17+3*17+5) }
		put(200)
		put(2)
		put(190)
		put(14)
		put(120)
		for i := 0; i < 300; i++ {
			put(float64(i) * beat)
			put(beat * 100)
		}
		return b
	}
	f.Add(steady(0.5), steady(0.47))
	f.Add(steady(0.5), []byte{1, 2, 3})
	f.Add([]byte{}, steady(0.7))
	f.Fuzz(func(t *testing.T, x, y []byte) {
		tracks := []*Track{{ID: "x", Analysis: fuzzAnalysis(x)}, {ID: "y", Analysis: fuzzAnalysis(y)}}
		m := New(Options{Logger: slog.New(slog.DiscardHandler)})
		var at int64
		for a := range m.Actions(context.Background(), slices.Values(tracks)) {
			info := a.Info()
			if a.Len() <= 0 || info.Start != at {
				t.Fatalf("%s of %d frames at %d, want at %d", info.Kind, a.Len(), info.Start, at)
			}
			at += int64(a.Len())
			for _, s := range info.Tracks {
				if s.StartFrame < 0 || s.Frames < 0 {
					t.Fatalf("%s: span %+v", info.Kind, s)
				}
			}
			// Rendering a little of it without audio must not panic.
			buf := make([]float32, 2*64)
			a.Render(buf)
		}
		_ = audio.SampleRate
	})
}
