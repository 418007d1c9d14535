// Package align finds where two tracks line up for a beat-matched
// transition, in the manner of the Echo Nest Remix "Capsule" example that
// Forever.fm was built on: both tracks' segment features are resampled onto
// their beats (or tatums) as matrices with one row per quantum, and the tail
// of the outgoing track is slid along the start of the incoming one until the
// matrix norm of the difference is smallest.
//
// Unlike Capsule, the search also knows about bars: an entry point where the
// downbeats of both tracks coincide, better still the starts of 4, 8 or 16 bar
// phrases, is preferred over a slightly closer timbre match that would put the
// incoming track's "one" on the outgoing track's "three". The result carries a
// Score so that a mixer can fall back to a plain crossfade when nothing lines
// up.
//
// Everything here is deterministic and works on analyses alone; no audio is
// read.
package align

import (
	"errors"
	"fmt"
	"math"

	"github.com/foreverfm/forever/analysis"
	"gonum.org/v1/gonum/mat"
)

// Central returns the range [i, j) of quanta lying entirely between a's end
// of fade-in and start of fade-out: the part of a track that takes part in
// transitions. q is usually a.Beats or a.Tatums and must be sorted by start.
func Central(a *analysis.Analysis, q []analysis.Quantum) (i, j int) {
	from, to := a.EndOfFadeIn, a.StartOfFadeOut
	if to <= 0 || to > a.Duration && a.Duration > 0 {
		to = a.Duration
	}
	if to <= 0 && len(q) > 0 {
		to = q[len(q)-1].End()
	}
	const eps = 1e-6
	i = 0
	for i < len(q) && q[i].Start < from-eps {
		i++
	}
	j = i
	for j < len(q) && q[j].End() <= to+eps {
		j++
	}
	return i, j
}

// Matrix returns the feature matrix of quanta q of a: one row per quantum,
// 12 timbre columns followed, when withPitch is set, by 12 pitch columns.
// It returns nil for no quanta.
func Matrix(a *analysis.Analysis, q []analysis.Quantum, withPitch bool) *mat.Dense {
	if len(q) == 0 {
		return nil
	}
	cols := 12
	if withPitch {
		cols = 24
	}
	m := mat.NewDense(len(q), cols, nil)
	var buf []float64
	for r, qu := range q {
		buf = a.Features(qu, withPitch, buf)
		m.SetRow(r, buf)
	}
	return m
}

// Features is the feature matrix of the central part of a track.
type Features struct {
	// M has one row per quantum of Quanta.
	M *mat.Dense
	// Quanta are the quanta the rows describe, a sub-slice of the
	// analysis's own.
	Quanta []analysis.Quantum
	// Offset is the index in the analysis's quanta of row 0.
	Offset int
}

// CentralFeatures returns the feature matrix of the central quanta of q (see
// Central) with its index offset. M is nil when no quantum is central.
func CentralFeatures(a *analysis.Analysis, q []analysis.Quantum, withPitch bool) Features {
	i, j := Central(a, q)
	return Features{M: Matrix(a, q[i:j], withPitch), Quanta: q[i:j], Offset: i}
}

// Upsample returns m with every row repeated twice, the feature matrix of a
// track at double its quantum rate.
func Upsample(m mat.Matrix) *mat.Dense {
	r, c := m.Dims()
	u := mat.NewDense(2*r, c, nil)
	for i := 0; i < r; i++ {
		for k := 0; k < c; k++ {
			v := m.At(i, k)
			u.Set(2*i, k, v)
			u.Set(2*i+1, k, v)
		}
	}
	return u
}

// Split returns q with every quantum cut into two halves, the quanta of a
// track at double rate. Confidences are kept.
func Split(q []analysis.Quantum) []analysis.Quantum {
	s := make([]analysis.Quantum, 0, 2*len(q))
	for _, x := range q {
		h := x.Duration / 2
		s = append(s,
			analysis.Quantum{Start: x.Start, Duration: h, Confidence: x.Confidence},
			analysis.Quantum{Start: x.Start + h, Duration: x.Duration - h, Confidence: x.Confidence})
	}
	return s
}

// MeanDuration reports the mean duration of q, or 0 for none.
func MeanDuration(q []analysis.Quantum) float64 {
	if len(q) == 0 {
		return 0
	}
	var s float64
	for _, x := range q {
		s += x.Duration
	}
	return s / float64(len(q))
}

// Doubling says which of two tracks with mean quantum durations d1 and d2
// must be played at double quantum rate so that their quanta pair one to
// one: the slower one (longer quanta), when the two differ by more than half
// an octave (|log2(d1/d2)| > 0.5). At most one of the results is true.
func Doubling(d1, d2 float64) (double1, double2 bool) {
	if d1 <= 0 || d2 <= 0 {
		return false, false
	}
	r := math.Log2(d1 / d2)
	return r > 0.5, r < -0.5
}

// Walk returns the index reached by walking forward from quantum from of q
// until at least seconds of quanta have been passed, never passing the point
// where fewer than reserve quanta are left. ok is false when the walk had to
// stop short of seconds.
func Walk(q []analysis.Quantum, from int, seconds float64, reserve int) (to int, ok bool) {
	limit := len(q) - max(reserve, 0)
	if from < 0 {
		from = 0
	}
	to = from
	var walked float64
	for walked < seconds-1e-9 && to < limit {
		walked += q[to].Duration
		to++
	}
	return max(to, from), walked >= seconds-1e-9
}

// Back returns the index from which walking forward to index to of q covers
// at least seconds, never going before index floor. ok is false when it had
// to stop at floor.
func Back(q []analysis.Quantum, to int, seconds float64, floor int) (from int, ok bool) {
	from = min(to, len(q))
	var walked float64
	for walked < seconds-1e-9 && from > floor {
		from--
		walked += q[from].Duration
	}
	return from, walked >= seconds-1e-9
}

// At returns the index of the quantum of q containing time t, or the nearest
// one when t is outside q. It returns -1 for empty q.
func At(q []analysis.Quantum, t float64) int {
	if len(q) == 0 {
		return -1
	}
	lo, hi := 0, len(q)
	for lo < hi {
		m := (lo + hi) / 2
		if q[m].Start <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return max(lo-1, 0)
}

// BarLevel reports how strong a boundary the start of quantum x is, judged by
// bars (sorted by start): 0 when it starts no bar, 1 for a bar start, 4, 8 or
// 16 for the start of a phrase of that many bars (counted from the first bar,
// the best guess without section labels). A bar counts when it starts within
// a quarter of x's duration of x's start.
func BarLevel(bars []analysis.Quantum, x analysis.Quantum) int {
	if len(bars) == 0 {
		return 0
	}
	tol := x.Duration / 4
	k := At(bars, x.Start+tol)
	for _, i := range []int{k, k + 1} {
		if i < 0 || i >= len(bars) {
			continue
		}
		if math.Abs(bars[i].Start-x.Start) <= tol {
			switch {
			case i%16 == 0:
				return 16
			case i%8 == 0:
				return 8
			case i%4 == 0:
				return 4
			}
			return 1
		}
	}
	return 0
}

// ErrShape reports matrices that cannot be compared.
var ErrShape = errors.New("align: matrix shapes differ")

// Side is one track's part in an alignment search.
type Side struct {
	// M has one row per quantum of Quanta.
	M mat.Matrix
	// Quanta are the quanta the rows describe; with Bars they locate
	// downbeats. Both may be nil, then bars play no part.
	Quanta []analysis.Quantum
	Bars   []analysis.Quantum
	// Stride restricts entry points of the incoming side to rows that are a
	// multiple of it (2 for a track at doubled rate, so that it enters on a
	// whole quantum); 0 means 1.
	Stride int
}

// Options weigh the alignment search. The zero value uses the defaults.
type Options struct {
	// BarWeight is added to the cost of an entry where the downbeats of
	// the two tracks do not coincide, in units of the normalised timbre
	// distance (about √2 between unrelated material). Default 0.35.
	BarWeight float64
	// PhraseWeight is added in full when the entry starts no common phrase,
	// a quarter of it for a common 8-bar phrase and nothing for a common
	// 16-bar phrase (half for 4 bars). Default 0.15.
	PhraseWeight float64
	// LateWeight is added in proportion to how far into the candidates an
	// entry lies, so that among equals the incoming track starts early.
	// Default 0.05.
	LateWeight float64
}

func (o *Options) defaults() Options {
	d := Options{BarWeight: 0.35, PhraseWeight: 0.15, LateWeight: 0.05}
	if o == nil {
		return d
	}
	if o.BarWeight != 0 {
		d.BarWeight = o.BarWeight
	}
	if o.PhraseWeight != 0 {
		d.PhraseWeight = o.PhraseWeight
	}
	if o.LateWeight != 0 {
		d.LateWeight = o.LateWeight
	}
	// Negative values switch a term off.
	d.BarWeight, d.PhraseWeight, d.LateWeight = max(d.BarWeight, 0), max(d.PhraseWeight, 0), max(d.LateWeight, 0)
	return d
}

// Alignment is the outcome of a search.
type Alignment struct {
	// Entry is the row of the incoming matrix on which row 0 of the
	// outgoing one lands; the overlap covers Length rows of each.
	Entry, Length int
	// Candidates is the number of entry points compared.
	Candidates int
	// Distance is the Frobenius norm of the difference of the two
	// overlapped matrices after per-column standardisation, divided by
	// √(rows×columns): 0 for identical material, about √2 for unrelated.
	Distance float64
	// Downbeat is set when the entry puts a bar start on a bar start;
	// Phrase is the longest phrase (4, 8 or 16 bars) both start there, or
	// 0.
	Downbeat bool
	Phrase   int
	// Similarity is 1 - Distance/√2, clamped to [0, 1].
	Similarity float64
	// Cost is what the search minimised.
	Cost float64
}

// Align slides out (the tail of the outgoing track, all its rows) along in
// and returns the best entry point. Every entry whose window fits inside in
// is a candidate. It fails with ErrShape when the column counts differ and
// when in has fewer rows than out.
func Align(out, in Side, o *Options) (Alignment, error) {
	opt := o.defaults()
	k, c := out.M.Dims()
	n, c2 := in.M.Dims()
	if c != c2 {
		return Alignment{}, fmt.Errorf("%w: %d and %d columns", ErrShape, c, c2)
	}
	if k == 0 || n < k {
		return Alignment{}, fmt.Errorf("%w: %d outgoing rows against %d incoming", ErrShape, k, n)
	}
	stride := max(in.Stride, 1)

	// Standardise each column on the pooled rows, so that loud timbre
	// coefficients (the first is overall loudness) do not drown the others.
	mean := make([]float64, c)
	scale := make([]float64, c)
	for j := 0; j < c; j++ {
		var s, ss float64
		for i := 0; i < k; i++ {
			v := out.M.At(i, j)
			s += v
			ss += v * v
		}
		for i := 0; i < n; i++ {
			v := in.M.At(i, j)
			s += v
			ss += v * v
		}
		cnt := float64(k + n)
		m := s / cnt
		v := ss/cnt - m*m
		mean[j] = m
		if v > 1e-12 {
			scale[j] = 1 / math.Sqrt(v)
		}
	}
	active := 0
	for _, s := range scale {
		if s > 0 {
			active++
		}
	}
	a := mat.NewDense(k, c, nil)
	for i := 0; i < k; i++ {
		for j := 0; j < c; j++ {
			a.Set(i, j, (out.M.At(i, j)-mean[j])*scale[j])
		}
	}
	b := mat.NewDense(n, c, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			b.Set(i, j, (in.M.At(i, j)-mean[j])*scale[j])
		}
	}

	outLevel := 0
	if len(out.Quanta) > 0 {
		outLevel = BarLevel(out.Bars, out.Quanta[0])
	}
	last := n - k
	cands := last/stride + 1
	best := Alignment{Cost: math.Inf(1), Length: k, Candidates: cands}
	for e := 0; e <= last; e += stride {
		var d float64
		if active > 0 {
			var ss float64
			for i := 0; i < k; i++ {
				ra, rb := a.RawRowView(i), b.RawRowView(e+i)
				for j, v := range ra {
					x := v - rb[j]
					ss += x * x
				}
			}
			d = math.Sqrt(ss / float64(k*active))
		}
		inLevel := 0
		if e < len(in.Quanta) {
			inLevel = BarLevel(in.Bars, in.Quanta[e])
		}
		down := outLevel > 0 && inLevel > 0
		phrase := 0
		if down {
			phrase = min(outLevel, inLevel)
			if phrase == 1 {
				phrase = 0
			}
		}
		cost := d
		if !down {
			cost += opt.BarWeight
		}
		switch phrase {
		case 16:
		case 8:
			cost += opt.PhraseWeight / 4
		case 4:
			cost += opt.PhraseWeight / 2
		default:
			cost += opt.PhraseWeight
		}
		if last > 0 {
			cost += opt.LateWeight * float64(e) / float64(last)
		}
		if cost < best.Cost-1e-12 {
			best.Entry, best.Distance, best.Cost = e, d, cost
			best.Downbeat, best.Phrase = down, phrase
		}
	}
	best.Similarity = math.Min(1, math.Max(0, 1-best.Distance/math.Sqrt2))
	return best, nil
}
