package eval

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMatchesIsMaximum(t *testing.T) {
	// Greedy nearest matching pairs 1.05 with 1.0 and leaves 1.1 and 0.96
	// apart; the maximum matching finds two pairs.
	ref := []float64{1.0, 1.1}
	est := []float64{0.96, 1.05}
	if got := Matches(ref, est, 0.05); got != 2 {
		t.Errorf("Matches = %d, want 2", got)
	}
	if got := Matches(ref, nil, 0.05); got != 0 {
		t.Errorf("Matches with no estimate = %d", got)
	}
	// Each event matches once, however many are in reach.
	if got := Matches([]float64{1}, []float64{0.99, 1, 1.01}, 0.05); got != 1 {
		t.Errorf("one reference matched %d times", got)
	}
}

func TestBeatsPerfectAndShifted(t *testing.T) {
	var ref []float64
	for b := 0.0; b < 60; b += 0.5 {
		ref = append(ref, b)
	}
	s, err := EvaluateBeats(ref, ref)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]float64{"F": s.FMeasure, "Cemgil": s.Cemgil, "Goto": s.Goto, "P": s.PScore,
		"CMLc": s.CMLc, "CMLt": s.CMLt, "AMLc": s.AMLc, "AMLt": s.AMLt} {
		if math.Abs(v-1) > 1e-9 {
			t.Errorf("perfect beats: %s = %v, want 1", name, v)
		}
	}
	// Off-beat: wrong at the correct metrical level, right at any.
	off := make([]float64, len(ref))
	for i, b := range ref {
		off[i] = b + 0.25
	}
	s, _ = EvaluateBeats(ref, off)
	if s.FMeasure != 0 || s.CMLt != 0 || s.AMLt < 0.95 {
		t.Errorf("off-beat: F %v CMLt %v AMLt %v, want 0, 0, ~1", s.FMeasure, s.CMLt, s.AMLt)
	}
	// Double tempo: half the estimates are right.
	var dbl []float64
	for b := 0.0; b < 60; b += 0.25 {
		dbl = append(dbl, b)
	}
	s, _ = EvaluateBeats(ref, dbl)
	if math.Abs(s.FMeasure-2.0/3) > 0.01 || s.AMLt < 0.95 {
		t.Errorf("double tempo: F %v AMLt %v, want 2/3 and ~1", s.FMeasure, s.AMLt)
	}
	if got := BeatFMeasure(ref, nil); got != 0 {
		t.Errorf("no estimate: F %v", got)
	}
}

func TestTrimBeats(t *testing.T) {
	b := []float64{1, 4.99, 5, 6}
	if got := TrimBeats(b, MinBeatTime); len(got) != 2 || got[0] != 5 {
		t.Errorf("TrimBeats = %v", got)
	}
	if got := TrimBeats(b, 10); len(got) != 0 {
		t.Errorf("TrimBeats past the end = %v", got)
	}
}

func TestTempoWithin(t *testing.T) {
	tests := []struct {
		ref, est   float64
		ok, octave bool
	}{
		{120, 120, true, false},
		{120, 124.7, true, false},
		{120, 125, false, false},
		{120, 240, false, true},
		{120, 61, false, true},
		{120, 180, false, false},
		{120, 0, false, false},
		{0, 120, false, false},
	}
	for _, tt := range tests {
		ok, oct := TempoWithin(tt.ref, tt.est, 0.04)
		if ok != tt.ok || oct != tt.octave {
			t.Errorf("TempoWithin(%v, %v) = %v, %v; want %v, %v", tt.ref, tt.est, ok, oct, tt.ok, tt.octave)
		}
	}
}

func TestHistogramAndMod(t *testing.T) {
	if got := numpyMod(0.25, -1); got != -0.75 {
		t.Errorf("numpyMod(0.25, -1) = %v", got)
	}
	if got := numpyMod(-1.25, -1); got != -0.25 {
		t.Errorf("numpyMod(-1.25, -1) = %v", got)
	}
	for _, c := range []struct {
		x   float64
		bin int
	}{{-0.5, 0}, {0.5, 40}, {0, 20}, {-0.5 + 1.0/41, 1}} {
		if got, ok := histogramBin(c.x, -0.5, 0.5, 41); !ok || got != c.bin {
			t.Errorf("histogramBin(%v) = %d, %v; want %d", c.x, got, ok, c.bin)
		}
	}
	if _, ok := histogramBin(0.6, -0.5, 0.5, 41); ok {
		t.Error("0.6 binned")
	}
}

func TestReaders(t *testing.T) {
	ev, err := ReadEvents(strings.NewReader("# comment\n1.5\r\n 2.5 x\n\n3\n"))
	if err != nil || len(ev) != 3 || ev[2] != 3 {
		t.Errorf("ReadEvents = %v, %v", ev, err)
	}
	if _, err := ReadEvents(strings.NewReader("1\nabc\n")); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad number: %v", err)
	}
	iv, lab, err := ReadLabeledIntervals(strings.NewReader("0\t1.5\tVerse (Guitar Solo)\r\n1.5 3 Seg#2\n"))
	if err != nil || len(iv) != 2 || lab[0] != "Verse (Guitar Solo)" || lab[1] != "Seg#2" || iv[1].End != 3 {
		t.Errorf("ReadLabeledIntervals = %v %q %v", iv, lab, err)
	}
	if _, _, err := ReadLabeledIntervals(strings.NewReader("0 1\n")); !errors.Is(err, ErrInvalid) {
		t.Errorf("two columns: %v", err)
	}
	if _, _, err := ReadTempo(strings.NewReader("")); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty tempo file: %v", err)
	}
}

func TestEvaluateRejects(t *testing.T) {
	if _, err := EvaluateBeats([]float64{2, 1}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("unsorted beats: %v", err)
	}
	if _, err := EvaluateOnsets([]float64{math.NaN()}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("NaN onset: %v", err)
	}
	if _, err := EvaluateBeats([]float64{1, 40000}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("beat at 40000 s: %v", err)
	}
	if _, err := EvaluateSegments([]Interval{{0, 1}, {1, 1}}, []string{"a", "b"}, []Interval{{0, 1}}, []string{"a"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty interval: %v", err)
	}
	if _, err := EvaluateSegments([]Interval{{0, 1e12}}, []string{"a"}, []Interval{{0, 1e12}}, []string{"a"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("interval to 1e12 s: %v", err)
	}
}

func TestSegmentsIdentical(t *testing.T) {
	iv := []Interval{{0, 10}, {10, 25}, {25, 40}}
	lab := []string{"A", "B", "a"}
	s, err := EvaluateSegments(iv, lab, iv, lab)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]float64{"F@0.5": s.FMeasure05, "pairwise": s.PairwiseFMeasure, "rand": s.RandIndex,
		"ARI": s.AdjustedRandIndex, "NMI": s.NormalizedMutualInformation, "AMI": s.AdjustedMutualInformation,
		"NCE": s.NCEFMeasure, "V": s.VMeasure} {
		if math.Abs(v-1) > 1e-9 {
			t.Errorf("identical segmentations: %s = %v, want 1", name, v)
		}
	}
	if s.RefToEstDeviation != 0 || s.EstToRefDeviation != 0 {
		t.Errorf("deviations %v %v", s.RefToEstDeviation, s.EstToRefDeviation)
	}
}

// Measures never panic or return NaN on odd but valid input.
func TestBeatMeasuresRobust(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 300; i++ {
		ref := randomEvents(r)
		est := randomEvents(r)
		s, err := EvaluateBeats(ref, est)
		if err != nil {
			t.Fatal(err)
		}
		checkFinite(t, ref, est, s.FMeasure, s.Cemgil, s.CemgilBestMetricLevel, s.Goto, s.PScore,
			s.CMLc, s.CMLt, s.AMLc, s.AMLt, s.InformationGain)
	}
}

func randomEvents(r *rand.Rand) []float64 {
	n := r.IntN(12)
	ev := make([]float64, n)
	t := r.Float64() * 8
	for i := range ev {
		if r.IntN(4) > 0 { // sometimes a duplicate
			t += r.Float64()
		}
		ev[i] = t
	}
	return ev
}

func checkFinite(t *testing.T, ref, est []float64, v ...float64) {
	t.Helper()
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("ref %v est %v: measure %d = %v", ref, est, i, x)
		}
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte("1\n2\n3\n"), []byte("1.01\n2\n2.9\n"), []byte("0 10 A\n10 20 B\n"))
	f.Add([]byte("5\n5\n6\n"), []byte("# c\n5.5\n"), []byte("0 1 x\n"))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		ref, err1 := ReadEvents(bytes.NewReader(a))
		est, err2 := ReadEvents(bytes.NewReader(b))
		if err1 == nil && err2 == nil {
			if s, err := EvaluateBeats(ref, est); err == nil {
				for _, x := range []float64{s.FMeasure, s.Cemgil, s.PScore, s.CMLt, s.AMLt, s.InformationGain} {
					if math.IsNaN(x) {
						t.Fatalf("NaN beat score for %v %v", ref, est)
					}
				}
			}
			EvaluateOnsets(ref, est)
		}
		iv, lab, err := ReadLabeledIntervals(bytes.NewReader(c))
		if err == nil && len(iv) < 50 && maxTime(iv) < 1000 {
			EvaluateSegments(iv, lab, iv, lab)
		}
	})
}

// The scores agree with mir_eval.beat.evaluate on the same lists.
func Example() {
	ref := []float64{5.0, 5.5, 6.0, 6.5, 7.0, 7.5}
	est := []float64{5.02, 5.51, 6.2, 6.49, 7.0}
	s, err := EvaluateBeats(ref, est)
	if err != nil {
		panic(err)
	}
	ok, octave := TempoWithin(120, 240, 0.04)
	fmt.Printf("F %.3f CMLt %.3f; tempo ok %v octave error %v\n", s.FMeasure, s.CMLt, ok, octave)
	// Output: F 0.727 CMLt 0.500; tempo ok false octave error true
}

// One estimated class carries no information: exactly 0, where mir_eval
// reports rounding noise.
func TestSegmentsSingleClass(t *testing.T) {
	ref := []Interval{{0, 10}, {10, 25}, {25, 40}}
	s, err := EvaluateSegments(ref, []string{"a", "b", "c"}, []Interval{{0, 40}}, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	if s.MutualInformation != 0 || s.NormalizedMutualInformation != 0 {
		t.Errorf("MI %v NMI %v, want 0", s.MutualInformation, s.NormalizedMutualInformation)
	}
}
