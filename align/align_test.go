package align

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"gonum.org/v1/gonum/mat"
)

func randMatrix(rng *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rng.NormFloat64()*10+float64(j))
		}
	}
	return m
}

func grid(start, beat float64, n int) []analysis.Quantum {
	q := make([]analysis.Quantum, n)
	for i := range q {
		q[i] = analysis.Quantum{Start: start + float64(i)*beat, Duration: beat, Confidence: 0.9}
	}
	return q
}

func TestAlignFindsPlantedWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := randMatrix(rng, 40, 12)
	for _, want := range []int{0, 7, 23, 32} {
		out := mat.DenseCopyOf(in.Slice(want, want+8, 0, 12))
		for i := 0; i < 8; i++ {
			for j := 0; j < 12; j++ {
				out.Set(i, j, out.At(i, j)+rng.NormFloat64()*0.1)
			}
		}
		al, err := Align(Side{M: out}, Side{M: in}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if al.Entry != want || al.Length != 8 || al.Candidates != 33 {
			t.Errorf("planted at %d: got entry %d length %d candidates %d", want, al.Entry, al.Length, al.Candidates)
		}
		if al.Distance > 0.05 || al.Similarity < 0.95 {
			t.Errorf("planted at %d: distance %v similarity %v, want near 0 and 1", want, al.Distance, al.Similarity)
		}
	}
}

func TestAlignUnrelatedIsDistant(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	out, in := randMatrix(rng, 16, 12), randMatrix(rng, 64, 12)
	al, err := Align(Side{M: out}, Side{M: in}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The best of 49 windows of noise is still far: about √2 apart.
	if al.Distance < 1.0 || al.Similarity > 0.3 {
		t.Errorf("unrelated material: distance %v similarity %v", al.Distance, al.Similarity)
	}
}

// Periodic material matches equally well every 2 rows; the search must pick
// the entry where both tracks' bars start, and a phrase start over a bar.
func TestAlignPrefersDownbeatsAndPhrases(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pat := randMatrix(rng, 2, 12)
	in := mat.NewDense(80, 12, nil)
	for i := 0; i < 80; i++ {
		in.SetRow(i, pat.RawRowView(i%2))
	}
	out := mat.DenseCopyOf(in.Slice(0, 8, 0, 12))
	outQ := grid(100, 0.5, 8)
	outBars := []analysis.Quantum{{Start: 100, Duration: 2}} // bar 0: a 16-bar phrase start
	inQ := grid(10, 0.5, 80)
	// Bars of 4 beats starting at beat 2 (10+1s): bar starts at rows 2, 6, 10, ...
	var inBars []analysis.Quantum
	for b := 0; b < 19; b++ {
		inBars = append(inBars, analysis.Quantum{Start: 11 + 2*float64(b), Duration: 2})
	}
	al, err := Align(Side{M: out, Quanta: outQ, Bars: outBars}, Side{M: in, Quanta: inQ, Bars: inBars}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Row 2 is bar 0 of in, a 16-bar phrase start and the earliest downbeat.
	if al.Entry != 2 || !al.Downbeat || al.Phrase != 16 {
		t.Errorf("got entry %d downbeat %v phrase %d, want 2 true 16", al.Entry, al.Downbeat, al.Phrase)
	}
	// Counting bars from the second one, rows 6+4i start bar i: from row 8
	// on, bar 4 (row 22) starts a 4-bar phrase and bar 8 (row 38) an 8-bar
	// one; with entries up to row 42 the 8-bar phrase wins.
	al, err = Align(Side{M: out, Quanta: outQ, Bars: outBars},
		Side{M: in.Slice(8, 50, 0, 12), Quanta: inQ[8:50], Bars: inBars[1:]}, &Options{LateWeight: -1})
	if err != nil {
		t.Fatal(err)
	}
	if al.Entry != 30 || al.Phrase != 8 {
		t.Errorf("from row 8: entry %d phrase %d, want 30 (row 38) and 8", al.Entry, al.Phrase)
	}
	al, err = Align(Side{M: out, Quanta: outQ, Bars: outBars},
		Side{M: in.Slice(8, 40, 0, 12), Quanta: inQ[8:40], Bars: inBars[1:]}, &Options{LateWeight: -1})
	if err != nil {
		t.Fatal(err)
	}
	if al.Entry != 14 || al.Phrase != 4 {
		t.Errorf("rows 8..40: entry %d phrase %d, want 14 (row 22) and 4", al.Entry, al.Phrase)
	}
}

// A clearly better timbre match beats a downbeat.
func TestAlignTimbreOutweighsBars(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	in := randMatrix(rng, 40, 12)
	out := mat.DenseCopyOf(in.Slice(13, 21, 0, 12))
	outQ := grid(0, 0.5, 8)
	outBars := []analysis.Quantum{{Start: 0, Duration: 2}}
	inQ := grid(0, 0.5, 40)
	inBars := []analysis.Quantum{{Start: 0, Duration: 2}, {Start: 2, Duration: 2}, {Start: 4, Duration: 2}, {Start: 6, Duration: 2}}
	al, err := Align(Side{M: out, Quanta: outQ, Bars: outBars}, Side{M: in, Quanta: inQ, Bars: inBars}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if al.Entry != 13 || al.Downbeat {
		t.Errorf("got entry %d downbeat %v, want 13 false", al.Entry, al.Downbeat)
	}
}

func TestAlignStrideAndShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	in := Upsample(randMatrix(rng, 20, 12))
	out := mat.DenseCopyOf(in.Slice(11, 17, 0, 12)) // an odd row: a half-beat
	al, err := Align(Side{M: out}, Side{M: in, Stride: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if al.Entry%2 != 0 || al.Candidates != 18 {
		t.Errorf("stride 2: entry %d candidates %d", al.Entry, al.Candidates)
	}
	if _, err := Align(Side{M: randMatrix(rng, 4, 12)}, Side{M: randMatrix(rng, 10, 24)}, nil); !errors.Is(err, ErrShape) {
		t.Errorf("column mismatch: err %v", err)
	}
	if _, err := Align(Side{M: randMatrix(rng, 11, 12)}, Side{M: randMatrix(rng, 10, 12)}, nil); !errors.Is(err, ErrShape) {
		t.Errorf("too few rows: err %v", err)
	}
}

func TestUpsampleSplitDoubling(t *testing.T) {
	m := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
	u := Upsample(m)
	want := mat.NewDense(4, 2, []float64{1, 2, 1, 2, 3, 4, 3, 4})
	if !mat.Equal(u, want) {
		t.Errorf("Upsample = %v", mat.Formatted(u))
	}
	s := Split([]analysis.Quantum{{Start: 1, Duration: 0.5, Confidence: 0.7}})
	if len(s) != 2 || s[0].Start != 1 || s[1].Start != 1.25 || s[1].End() != 1.5 || s[1].Confidence != 0.7 {
		t.Errorf("Split = %v", s)
	}
	for _, c := range []struct {
		d1, d2   float64
		up1, up2 bool
	}{
		{0.5, 0.5, false, false},
		{0.5, 0.36, false, false}, // log2 = 0.47
		{0.5, 0.34, true, false},  // track 1 slower by more than half an octave
		{0.34, 0.5, false, true},
		{0, 0.5, false, false},
	} {
		a, b := Doubling(c.d1, c.d2)
		if a != c.up1 || b != c.up2 {
			t.Errorf("Doubling(%v, %v) = %v %v", c.d1, c.d2, a, b)
		}
	}
}

func TestWalkBackAt(t *testing.T) {
	q := grid(0, 0.5, 10)
	if to, ok := Walk(q, 2, 1.2, 2); to != 5 || !ok {
		t.Errorf("Walk 1.2s from 2 = %d %v, want 5 true", to, ok)
	}
	if to, ok := Walk(q, 2, 10, 2); to != 8 || ok {
		t.Errorf("Walk past reserve = %d %v, want 8 false", to, ok)
	}
	if from, ok := Back(q, 10, 1.0, 0); from != 8 || !ok {
		t.Errorf("Back = %d %v", from, ok)
	}
	if from, ok := Back(q, 10, 9, 3); from != 3 || ok {
		t.Errorf("Back to floor = %d %v", from, ok)
	}
	for _, c := range []struct {
		t    float64
		want int
	}{{-1, 0}, {0, 0}, {0.49, 0}, {0.5, 1}, {4.9, 9}, {100, 9}} {
		if got := At(q, c.t); got != c.want {
			t.Errorf("At(%v) = %d, want %d", c.t, got, c.want)
		}
	}
	if At(nil, 1) != -1 {
		t.Error("At(nil) != -1")
	}
}

func TestCentralAndBarLevel(t *testing.T) {
	a := &analysis.Analysis{Duration: 10, EndOfFadeIn: 1.1, StartOfFadeOut: 8.0, Beats: grid(0, 0.5, 20)}
	i, j := Central(a, a.Beats)
	if i != 3 || j != 16 {
		t.Errorf("Central = [%d, %d), want [3, 16)", i, j)
	}
	bars := grid(0, 2, 40)
	for _, c := range []struct {
		start float64
		want  int
	}{{0, 16}, {2, 1}, {8, 4}, {16, 8}, {32, 16}, {24, 4}, {1, 0}, {2.1, 1}, {2.2, 0}} {
		if got := BarLevel(bars, analysis.Quantum{Start: c.start, Duration: 0.5}); got != c.want {
			t.Errorf("BarLevel(%v) = %d, want %d", c.start, got, c.want)
		}
	}
}

// synth builds an analysis of a steady track: beats of the given length,
// bars of four beats, one segment per beat whose timbre is timbre(beat).
func synth(beat, dur, fadeIn, fadeOut float64, timbre func(i int) [12]float64) *analysis.Analysis {
	n := int(dur / beat)
	a := &analysis.Analysis{Duration: dur, Tempo: 60 / beat, EndOfFadeIn: fadeIn, StartOfFadeOut: fadeOut, TimeSignature: 4}
	a.Beats = grid(0, beat, n)
	a.Bars = grid(0, 4*beat, n/4)
	for i, b := range a.Beats {
		a.Segments = append(a.Segments, analysis.Segment{Start: b.Start, Duration: b.Duration, Timbre: timbre(i)})
	}
	return a
}

func TestFindPlantedEntry(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	noise := make([][12]float64, 2000)
	for i := range noise {
		for j := range noise[i] {
			noise[i][j] = rng.NormFloat64() * 20
		}
	}
	// In's beats 40.. (a bar start, 20 s in) sound like Out's last 30 s
	// before its fade-out at 180 s (beats 300..359).
	out := synth(0.5, 200, 5, 180, func(i int) [12]float64 { return noise[i] })
	in := synth(0.5, 200, 5, 190, func(i int) [12]float64 {
		if i >= 40 && i < 100 {
			return noise[i+260]
		}
		return noise[1000+i]
	})
	m, err := Find(Request{Out: out, In: in, From: 60, Duration: 30, Reserve: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.OutIndex != 300 || m.OutCount != 60 || m.InIndex != 40 || m.InCount != 60 || len(m.Out) != 60 || len(m.In) != 60 {
		t.Errorf("got out %d+%d in %d+%d (%d/%d quanta)", m.OutIndex, m.OutCount, m.InIndex, m.InCount, len(m.Out), len(m.In))
	}
	if !m.Downbeat || m.Phrase != 0 || m.OutDoubled || m.InDoubled {
		t.Errorf("downbeat %v phrase %d doubled %v %v", m.Downbeat, m.Phrase, m.OutDoubled, m.InDoubled)
	}
	if m.Score < 0.85 || math.Abs(m.Confidence-0.9) > 1e-9 {
		t.Errorf("score %v confidence %v", m.Score, m.Confidence)
	}
	// Search limits the candidates: entries only within 10 s.
	m, err = Find(Request{Out: out, In: in, From: 60, Duration: 30, Search: 10, Reserve: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Candidates != 21 || m.InIndex > 30 {
		t.Errorf("search 10 s: %d candidates, entry %d", m.Candidates, m.InIndex)
	}
}

func TestFindDoublesSlowerTrack(t *testing.T) {
	flat := func(int) [12]float64 { return [12]float64{1} }
	slow := synth(0.75, 200, 5, 180, flat) // 80 BPM
	fast := synth(0.5, 200, 5, 180, flat)  // 120 BPM: log2(1.5) = 0.58
	m, err := Find(Request{Out: slow, In: fast, Duration: 30}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.OutDoubled || m.InDoubled || len(m.Out) != 2*m.OutCount || len(m.In) != len(m.Out) || m.InCount != len(m.In) {
		t.Errorf("slow→fast: doubled %v %v, out %d (%d beats) in %d (%d beats)", m.OutDoubled, m.InDoubled, len(m.Out), m.OutCount, len(m.In), m.InCount)
	}
	if m.Out[len(m.Out)-1].End() > 180+1e-9 || m.Out[0].Start < 180-30-3 {
		t.Errorf("outgoing overlap %v..%v", m.Out[0].Start, m.Out[len(m.Out)-1].End())
	}
	m, err = Find(Request{Out: fast, In: slow, Duration: 30}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.OutDoubled || !m.InDoubled || len(m.In) != len(m.Out) || 2*m.InCount != len(m.In) || m.OutCount%2 != 0 {
		t.Errorf("fast→slow: doubled %v %v, out %d in %d (%d beats)", m.OutDoubled, m.InDoubled, len(m.Out), len(m.In), m.InCount)
	}
	if m.In[0].Start != slow.Beats[m.InIndex].Start {
		t.Errorf("incoming enters mid-beat: %v vs beat %v", m.In[0].Start, slow.Beats[m.InIndex].Start)
	}
}

func TestFindNoRoom(t *testing.T) {
	flat := func(int) [12]float64 { return [12]float64{1} }
	a := synth(0.5, 200, 5, 180, flat)
	short := synth(0.5, 20, 5, 15, flat)
	if _, err := Find(Request{Out: a, In: short, Duration: 30}, nil); !errors.Is(err, ErrNoRoom) {
		t.Errorf("short incoming: err %v", err)
	}
	if _, err := Find(Request{Out: a, In: a, From: 181, Duration: 30}, nil); !errors.Is(err, ErrNoRoom) {
		t.Errorf("cursor past fade-out: err %v", err)
	}
}
