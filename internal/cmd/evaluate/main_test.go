package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source/demo"
)

// perfect returns an analysis that reports truth exactly, at tempo x
// times the true one.
func perfect(t demo.Truth, x float64) *analysis.Analysis {
	a := &analysis.Analysis{Tempo: t.Tempo * x, Key: t.Key, Mode: t.Mode, Duration: t.Beats[len(t.Beats)-1] + 1}
	step := 1
	if x < 1 {
		step = 2
	}
	for i := 0; i < len(t.Beats); i += step {
		a.Beats = append(a.Beats, analysis.Quantum{Start: t.Beats[i], Duration: 60 / a.Tempo})
	}
	for _, d := range t.Downbeats {
		a.Bars = append(a.Bars, analysis.Quantum{Start: d})
	}
	return a
}

func TestReport(t *testing.T) {
	cat := demo.Catalogue()
	t0, t1 := cat[0].Truth(), cat[1].Truth()
	items := []*item{
		{group: "demo", name: "right", truth: &t0, ours: perfect(t0, 1), oursTime: time.Second,
			aubioBPM: t0.Tempo * 2, aubioBeats: t0.Beats, aubioTime: 2 * time.Second},
		{group: "demo", name: "half", truth: &t1, ours: perfect(t1, 0.5), oursTime: time.Second,
			aubioBPM: t1.Tempo * 1.2, aubioBeats: t1.Beats, aubioTime: 2 * time.Second},
		{group: "music", name: "song.ogg", ours: perfect(t0, 1), oursTime: time.Second,
			aubioBPM: t0.Tempo, aubioBeats: t0.Beats, aubioTime: 3 * time.Second},
	}
	var b strings.Builder
	report(&b, items, options{aubio: true, tol: 0.04})
	out := b.String()
	for _, want := range []string{
		"tempo 50% (1/2)", // ours: one right, one at half tempo
		"octave errors: ours 50% (1/2), aubio 50% (1/2)",
		"right or an octave off: ours 100% (2/2), aubio 50% (1/2)",
		"agreement with aubio: tempo 100% (1/1), mean beat F 1.000",
		"aubio/ours = 2.33", // (2+2+3) s / 3 s
		"song.ogg",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestReportEssentia(t *testing.T) {
	cat := demo.Catalogue()
	t0, t1 := cat[0].Truth(), cat[1].Truth()
	items := []*item{
		{group: "demo", name: "right", truth: &t0, ours: perfect(t0, 1), oursTime: time.Second,
			essentia: peerResult{bpm: t0.Tempo, beats: t0.Beats, compute: 4 * time.Second}},
		{group: "demo", name: "half", truth: &t1, ours: perfect(t1, 0.5), oursTime: time.Second,
			essentia: peerResult{bpm: t1.Tempo / 2, beats: t1.Beats, compute: 6 * time.Second}},
	}
	essentiaTimes = [2]time.Duration{}
	var b strings.Builder
	report(&b, items, options{essentia: true, tol: 0.04})
	out := b.String()
	for _, want := range []string{
		"essentia BPM",
		"octave errors: ours 50% (1/2), essentia 50% (1/2)",
		"right or an octave off: ours 100% (2/2), essentia 100% (2/2)",
		"essentia/ours = 5.00", // (4+6) s / 2 s
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestEssentiaInputAndOutput(t *testing.T) {
	p := audio.NewPCM(3)
	copy(p.Samples, []float32{1, 0, 0.5, 0.5, -1, 0})
	path := filepath.Join(t.TempDir(), "in.f32")
	if err := writeMonoF32(path, p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	for i := 0; i+4 <= len(b); i += 4 {
		got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	if want := []float32{0.5, 0.5, -0.5}; !slices.Equal(got, want) {
		t.Errorf("mono samples %v, want %v", got, want)
	}

	r := parseEssentia([]byte(`{"bpm":124.0007,"beats":[0.37,0.75,1.23],"seconds":16.3}` + "\n"))
	if r.err != nil || r.bpm != 124.0007 || len(r.beats) != 3 || r.compute != 16300*time.Millisecond {
		t.Errorf("parsed %+v", r)
	}
	if r := parseEssentia([]byte("RuntimeError: abort")); r.err == nil {
		t.Error("no error for output that is not JSON")
	}
}
