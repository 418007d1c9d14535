package align

import (
	"errors"
	"fmt"
	"math"

	"github.com/foreverfm/forever/analysis"
)

// Rate chooses the quanta a transition is matched on.
type Rate int

const (
	Beats Rate = iota
	Tatums
)

// Quanta returns a's quanta at rate r.
func (r Rate) Quanta(a *analysis.Analysis) []analysis.Quantum {
	if r == Tatums {
		return a.Tatums
	}
	return a.Beats
}

// String names the rate as in an analysis.
func (r Rate) String() string {
	if r == Tatums {
		return "tatums"
	}
	return "beats"
}

// Request asks where the end of Out and the start of In line up best.
type Request struct {
	Out, In *analysis.Analysis
	// From and To bound the overlap in Out, in seconds: it starts at or
	// after From and ends at or before To (zero: Out's start of fade-out).
	// The overlap ends as close to To as the quanta allow.
	From, To float64
	// Duration is the wanted length of the overlap in Out, in seconds.
	Duration float64
	// Search is how far after In's end of fade-in an entry may lie, in
	// seconds; zero means 2×Duration.
	Search float64
	// Rate picks beats or tatums.
	Rate Rate
	// WithPitch adds the 12 pitch columns to the 12 timbre ones.
	WithPitch bool
	// Reserve is the number of In's central quanta that must be left after
	// the overlap.
	Reserve int
}

// Match is a planned overlap: Out[i] plays against In[i] for every i.
type Match struct {
	// Out and In are the paired quanta, at the common rate (a doubled
	// track's quanta are halves of its beats).
	Out, In []analysis.Quantum
	// OutIndex and InIndex are the indices in each analysis's own quanta of
	// the first quantum overlapped; OutCount and InCount how many of them
	// the overlap spans.
	OutIndex, OutCount int
	InIndex, InCount   int
	// OutDoubled or InDoubled says which track plays at double quantum
	// rate (never both).
	OutDoubled, InDoubled bool
	// Confidence is the geometric mean of the two tracks' mean quantum
	// confidence over the overlap (an analysis without confidences counts
	// as sure).
	Confidence float64
	// Score in [0, 1] says how good the match is: √Confidence ×
	// (0.5 + 0.5×Similarity), × 0.8 when the downbeats do not coincide.
	// Beat confidence weighs most, as beats that are not where the
	// analysis says cannot be matched; timbre only tempers it, since two
	// different songs never sound alike.
	Score float64
	Alignment
}

// ErrNoRoom reports tracks with too few quanta for the requested overlap.
var ErrNoRoom = errors.New("align: no room for an overlap")

// Find plans the overlap of r.Out's end with r.In's start. The overlap in
// Out starts on a bar when one begins within a bar's worth of beats of the
// requested length, so that a transition starts on a downbeat. Only entry
// points whose window fits between In's end of fade-in and its reserve are
// candidates.
func Find(r Request, o *Options) (Match, error) {
	if r.Out == nil || r.In == nil {
		return Match{}, errors.New("align: Find needs two analyses")
	}
	q1, q2 := r.Rate.Quanta(r.Out), r.Rate.Quanta(r.In)
	c0, c1 := Central(r.Out, q1)
	const eps = 1e-6
	to := r.To
	if to <= 0 {
		to = r.Out.StartOfFadeOut
	}
	lo, hi := c0, c0
	for lo < c1 && q1[lo].Start < r.From-eps {
		lo++
	}
	hi = lo
	for hi < c1 && q1[hi].End() <= to+eps {
		hi++
	}
	if hi-lo < 1 {
		return Match{}, fmt.Errorf("%w: no outgoing %s between %.2fs and %.2fs", ErrNoRoom, r.Rate, r.From, to)
	}
	s, _ := Back(q1, hi, r.Duration, lo)
	// Start on a bar if one starts soon after s without halving the overlap.
	if BarLevel(r.Out.Bars, q1[s]) == 0 {
		for t := s + 1; t < hi && t < s+8; t++ {
			if BarLevel(r.Out.Bars, q1[t]) > 0 {
				if 2*(hi-t) >= hi-s {
					s = t
				}
				break
			}
		}
	}

	d0, d1 := Central(r.In, q2)
	d1 -= max(r.Reserve, 0)
	if d1-d0 < 1 {
		return Match{}, fmt.Errorf("%w: no incoming %s", ErrNoRoom, r.Rate)
	}
	dbl1, dbl2 := Doubling(MeanDuration(q1[s:hi]), MeanDuration(q2[d0:d1]))
	if dbl2 && (hi-s)%2 == 1 {
		// A doubled incoming track must leave the overlap on a whole
		// quantum, so pair an even number of halves.
		s++
	}
	k := hi - s
	if k < 1 {
		return Match{}, fmt.Errorf("%w: overlap of %d outgoing %s", ErrNoRoom, k, r.Rate)
	}
	outQ := q1[s:hi]
	outM := Matrix(r.Out, outQ, r.WithPitch)
	rows := k // incoming rows the overlap spans, at the incoming track's own rate
	switch {
	case dbl1:
		outQ = Split(outQ)
		outM = Upsample(outM)
		rows = 2 * k
	case dbl2:
		rows = k / 2
	}
	search := r.Search
	if search <= 0 {
		search = 2 * r.Duration
	}
	// Entries are the central incoming quanta starting within search.
	last := d0
	for last+1 < d1 && q2[last+1].Start <= q2[d0].Start+search+eps {
		last++
	}
	end := min(last+rows, d1)
	if end-d0 < rows {
		return Match{}, fmt.Errorf("%w: %d incoming %s for an overlap of %d", ErrNoRoom, d1-d0, r.Rate, rows)
	}
	inQ := q2[d0:end]
	inM := Matrix(r.In, inQ, r.WithPitch)
	stride := 1
	if dbl2 {
		inQ = Split(inQ)
		inM = Upsample(inM)
		stride = 2
	}
	al, err := Align(Side{M: outM, Quanta: outQ, Bars: r.Out.Bars},
		Side{M: inM, Quanta: inQ, Bars: r.In.Bars, Stride: stride}, o)
	if err != nil {
		return Match{}, err
	}
	m := Match{
		Out:        outQ,
		In:         inQ[al.Entry : al.Entry+al.Length],
		OutIndex:   s,
		OutCount:   k,
		InIndex:    d0 + al.Entry/stride,
		InCount:    rows,
		OutDoubled: dbl1,
		InDoubled:  dbl2,
		Alignment:  al,
	}
	m.Confidence = math.Sqrt(confidence(q1[s:hi]) * confidence(q2[m.InIndex:m.InIndex+rows]))
	m.Score = math.Sqrt(m.Confidence) * (0.5 + 0.5*al.Similarity)
	if !al.Downbeat {
		m.Score *= 0.8
	}
	return m, nil
}

func confidence(q []analysis.Quantum) float64 {
	var s float64
	for _, x := range q {
		s += math.Min(math.Max(x.Confidence, 0), 1)
	}
	if s == 0 || len(q) == 0 {
		return 1
	}
	return s / float64(len(q))
}
