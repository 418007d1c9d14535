package eval

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Interval is a labelled span of a track, in seconds.
type Interval struct {
	Start, End float64
}

// Parameters of the segment measures, mir_eval's defaults.
const (
	// BoundaryWindowNarrow and BoundaryWindowWide are the two tolerances
	// at which boundary detection is scored, ±0.5 s and ±3 s.
	BoundaryWindowNarrow = 0.5
	BoundaryWindowWide   = 3.0
	// FrameSize is the sampling period of the frame-based structure
	// measures (pairwise, Rand, mutual information, conditional entropy).
	FrameSize = 0.1
)

// SegmentScores are mir_eval.segment.evaluate's scores, in its order.
type SegmentScores struct {
	Precision05, Recall05, FMeasure05 float64 // boundaries within 0.5 s
	Precision3, Recall3, FMeasure3    float64 // boundaries within 3 s
	RefToEstDeviation                 float64 // median distance, seconds
	EstToRefDeviation                 float64
	PairwisePrecision                 float64
	PairwiseRecall                    float64
	PairwiseFMeasure                  float64
	RandIndex                         float64
	AdjustedRandIndex                 float64
	MutualInformation                 float64
	AdjustedMutualInformation         float64
	NormalizedMutualInformation       float64
	NCEOver, NCEUnder, NCEFMeasure    float64 // normalised conditional entropies
	VPrecision, VRecall, VMeasure     float64
}

// ValidateIntervals reports whether every interval is finite,
// non-negative, of positive duration and ends by MaxTime (mir_eval does not
// check the last, but frame-based measures would otherwise take unbounded
// memory).
func ValidateIntervals(iv []Interval) error {
	for i, v := range iv {
		if math.IsNaN(v.Start) || math.IsNaN(v.End) || math.IsInf(v.Start, 0) || math.IsInf(v.End, 0) {
			return fmt.Errorf("%w: interval %d [%v, %v] not finite", ErrInvalid, i, v.Start, v.End)
		}
		if v.Start < 0 || v.End < 0 {
			return fmt.Errorf("%w: interval %d [%v, %v] negative", ErrInvalid, i, v.Start, v.End)
		}
		if v.End <= v.Start {
			return fmt.Errorf("%w: interval %d [%v, %v] not of positive duration", ErrInvalid, i, v.Start, v.End)
		}
		if v.End > MaxTime {
			return fmt.Errorf("%w: interval %d ends at %v s, later than %v s (not seconds?)", ErrInvalid, i, v.End, MaxTime)
		}
	}
	return nil
}

// EvaluateSegments is mir_eval.segment.evaluate: the reference is extended
// to start at 0, the estimate to span the reference exactly (gaps get the
// labels "__T_MIN" and "__T_MAX"), then every boundary and structure
// measure is computed. Labels compare case-insensitively.
func EvaluateSegments(refIv []Interval, refLabels []string, estIv []Interval, estLabels []string) (SegmentScores, error) {
	var s SegmentScores
	if len(refIv) != len(refLabels) || len(estIv) != len(estLabels) {
		return s, fmt.Errorf("%w: number of intervals and labels differ", ErrInvalid)
	}
	if err := ValidateIntervals(refIv); err != nil {
		return s, fmt.Errorf("reference: %w", err)
	}
	if err := ValidateIntervals(estIv); err != nil {
		return s, fmt.Errorf("estimate: %w", err)
	}
	if len(refIv) == 0 {
		return s, fmt.Errorf("%w: no reference intervals", ErrInvalid)
	}
	refIv, refLabels = adjustIntervals(refIv, refLabels, 0, math.NaN())
	estIv, estLabels = adjustIntervals(estIv, estLabels, 0, maxTime(refIv))
	if err := ValidateIntervals(estIv); err != nil {
		return s, fmt.Errorf("estimate after trimming to the reference: %w", err)
	}

	s.Precision05, s.Recall05, s.FMeasure05 = BoundaryDetection(refIv, estIv, BoundaryWindowNarrow, false)
	s.Precision3, s.Recall3, s.FMeasure3 = BoundaryDetection(refIv, estIv, BoundaryWindowWide, false)
	s.RefToEstDeviation, s.EstToRefDeviation = BoundaryDeviation(refIv, estIv, false)

	yRef := sampleLabels(refIv, refLabels, FrameSize)
	yEst := sampleLabels(estIv, estLabels, FrameSize)
	if len(yRef) == 0 || len(yRef) != len(yEst) {
		return s, fmt.Errorf("%w: reference and estimate do not cover the same %v s frames", ErrInvalid, FrameSize)
	}
	c := newContingency(yRef, yEst)
	s.PairwisePrecision, s.PairwiseRecall, s.PairwiseFMeasure = c.pairwise()
	s.RandIndex = c.rand()
	s.AdjustedRandIndex = c.adjustedRand()
	s.MutualInformation = c.mutualInfo()
	s.AdjustedMutualInformation = c.adjustedMutualInfo(s.MutualInformation)
	s.NormalizedMutualInformation = c.normalizedMutualInfo(s.MutualInformation)
	s.NCEOver, s.NCEUnder, s.NCEFMeasure = c.conditionalEntropy(false)
	s.VPrecision, s.VRecall, s.VMeasure = c.conditionalEntropy(true)
	return s, nil
}

func maxTime(iv []Interval) float64 {
	m := math.Inf(-1)
	for _, v := range iv {
		m = max(m, v.Start, v.End)
	}
	return m
}

func minTime(iv []Interval) float64 {
	m := math.Inf(1)
	for _, v := range iv {
		m = min(m, v.Start, v.End)
	}
	return m
}

// adjustIntervals is mir_eval.util.adjust_intervals: intervals ending
// before tMin are dropped and the rest clipped to it, a "__T_MIN" interval
// fills any gap at the start; likewise after tMax with "__T_MAX". A NaN
// tMax leaves the end alone. It returns new slices.
func adjustIntervals(iv []Interval, labels []string, tMin, tMax float64) ([]Interval, []string) {
	iv, labels = slices.Clone(iv), slices.Clone(labels)
	if len(iv) == 0 {
		if math.IsNaN(tMax) {
			return iv, labels
		}
		return []Interval{{tMin, tMax}}, []string{"__T_MIN"}
	}
	for i, v := range iv {
		if v.End >= tMin {
			iv, labels = iv[i:], labels[i:]
			break
		}
	}
	for i := range iv {
		iv[i].Start, iv[i].End = max(tMin, iv[i].Start), max(tMin, iv[i].End)
	}
	if m := minTime(iv); m > tMin {
		iv = append([]Interval{{tMin, m}}, iv...)
		labels = append([]string{"__T_MIN"}, labels...)
	}
	if math.IsNaN(tMax) {
		return iv, labels
	}
	for i, v := range iv {
		if v.Start > tMax {
			iv, labels = iv[:i], labels[:i]
			break
		}
	}
	for i := range iv {
		iv[i].Start, iv[i].End = min(tMax, iv[i].Start), min(tMax, iv[i].End)
	}
	if m := maxTime(iv); m < tMax {
		iv = append(iv, Interval{m, tMax})
		labels = append(labels, "__T_MAX")
	}
	return iv, labels
}

// Boundaries returns the distinct boundary times of the intervals, rounded
// to 10 µs as mir_eval rounds them, in increasing order.
func Boundaries(iv []Interval) []float64 {
	b := make([]float64, 0, 2*len(iv))
	for _, v := range iv {
		b = append(b, math.RoundToEven(v.Start*1e5)/1e5, math.RoundToEven(v.End*1e5)/1e5)
	}
	slices.Sort(b)
	return slices.Compact(b)
}

func trimmedBoundaries(ref, est []Interval, trim bool) (r, e []float64) {
	r, e = Boundaries(ref), Boundaries(est)
	if trim {
		// The first and last boundaries are the track's ends, found by
		// anyone.
		r, e = pySlice(r, 1, -1), pySlice(e, 1, -1)
	}
	return r, e
}

// BoundaryDetection returns the precision, recall and F-measure of the
// estimated segment boundaries against the reference within window
// seconds. With trim, the first and last boundaries are left out.
func BoundaryDetection(ref, est []Interval, window float64, trim bool) (precision, recall, f float64) {
	r, e := trimmedBoundaries(ref, est, trim)
	f, precision, recall = matchScores(r, e, window)
	return precision, recall, f
}

// BoundaryDeviation returns the median distance from each reference
// boundary to the nearest estimated one, and the other way round, in
// seconds. With trim, the first and last boundaries are left out; when no
// boundary is left, both are +Inf (NaN in mir_eval).
func BoundaryDeviation(ref, est []Interval, trim bool) (refToEst, estToRef float64) {
	r, e := trimmedBoundaries(ref, est, trim)
	if len(r) == 0 || len(e) == 0 {
		return math.Inf(1), math.Inf(1)
	}
	nearest := func(from, to []float64) []float64 {
		d := make([]float64, len(from))
		for i, x := range from {
			d[i] = math.Inf(1)
			for _, y := range to {
				d[i] = min(d[i], math.Abs(x-y))
			}
		}
		return d
	}
	return median(nearest(r, e)), median(nearest(e, r))
}

// sampleLabels is mir_eval.util.intervals_to_samples followed by
// index_labels: the lower-cased label at every frame time from 0, frames
// computed in float32 as numpy computes them, "none" where no interval
// covers a frame, later intervals winning.
func sampleLabels(iv []Interval, labels []string, frame float64) []int {
	n := int(math.Floor(maxTime(iv) / frame))
	if n <= 0 {
		return nil
	}
	times := make([]float64, n)
	for i := range times {
		times[i] = float64(float32(i) * float32(frame))
	}
	lab := make([]string, n)
	for i := range lab {
		lab[i] = "none"
	}
	for k, v := range iv {
		s, _ := slices.BinarySearch(times, v.Start)
		e := s
		for e < n && times[e] <= v.End {
			e++
		}
		l := strings.ToLower(labels[k])
		for i := s; i < e; i++ {
			lab[i] = l
		}
	}
	index := map[string]int{}
	y := make([]int, n)
	for i, l := range lab {
		j, ok := index[l]
		if !ok {
			j = len(index)
			index[l] = j
		}
		y[i] = j
	}
	return y
}

// contingency counts frames by reference and estimated class.
type contingency struct {
	n      int
	counts [][]int // [ref class][est class]
	a, b   []int   // row and column sums
}

func newContingency(ref, est []int) *contingency {
	var nr, ne int
	for i := range ref {
		nr, ne = max(nr, ref[i]+1), max(ne, est[i]+1)
	}
	c := &contingency{n: len(ref), counts: make([][]int, nr), a: make([]int, nr), b: make([]int, ne)}
	for i := range c.counts {
		c.counts[i] = make([]int, ne)
	}
	for i := range ref {
		c.counts[ref[i]][est[i]]++
		c.a[ref[i]]++
		c.b[est[i]]++
	}
	return c
}

func sumSquares(x []int) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

func (c *contingency) cellSquares() float64 {
	var s float64
	for _, row := range c.counts {
		s += sumSquares(row)
	}
	return s
}

// pairwise scores the frame pairs labelled alike: precision is the share of
// estimated like pairs that the reference also labels alike.
func (c *contingency) pairwise() (precision, recall, f float64) {
	n := float64(c.n)
	agreeRef := (sumSquares(c.a) - n) / 2
	agreeEst := (sumSquares(c.b) - n) / 2
	match := (c.cellSquares() - n) / 2
	if agreeEst > 0 {
		precision = match / agreeEst
	}
	if agreeRef > 0 {
		recall = match / agreeRef
	}
	return precision, recall, FMeasure(precision, recall, 1)
}

// rand is the Rand index: the share of frame pairs on whose likeness the
// two labellings agree.
func (c *contingency) rand() float64 {
	n := float64(c.n)
	pairs := n * (n - 1) / 2
	if pairs == 0 {
		return 0
	}
	pos := (c.cellSquares() - n) / 2
	neg := (n*n - sumSquares(c.a) - sumSquares(c.b) + c.cellSquares()) / 2
	return (pos + neg) / pairs
}

func comb2(k int) float64 { return float64(k) * float64(k-1) / 2 }

// adjustedRand is the Rand index adjusted for chance (Hubert and Arabie).
func (c *contingency) adjustedRand() float64 {
	nr, ne := len(c.a), len(c.b)
	if (nr == 1 && ne == 1) || (nr == 0 && ne == 0) || (nr == c.n && ne == c.n) {
		return 1
	}
	var sumA, sumB, sumCells float64
	for _, v := range c.a {
		sumA += comb2(v)
	}
	for _, v := range c.b {
		sumB += comb2(v)
	}
	for _, row := range c.counts {
		for _, v := range row {
			sumCells += comb2(v)
		}
	}
	prod := sumA * sumB / comb2(c.n)
	mean := (sumA + sumB) / 2
	if mean == prod {
		return 0
	}
	return (sumCells - prod) / (mean - prod)
}

// mutualInfo is the mutual information of the labellings in nats, computed
// in mir_eval's (scikit-learn's) order of operations.
//
// When either labelling has a single class the information is exactly 0;
// mir_eval's arithmetic leaves rounding noise of about 1e-16 there, which
// its normalised score divides by 1e-10 into noise of up to 1e-5. We return
// the exact 0 instead.
func (c *contingency) mutualInfo() float64 {
	if len(c.a) <= 1 || len(c.b) <= 1 {
		return 0
	}
	n := float64(c.n)
	var sa, sb float64
	for _, v := range c.a {
		sa += float64(v)
	}
	for _, v := range c.b {
		sb += float64(v)
	}
	var mi float64
	for i, row := range c.counts {
		for j, v := range row {
			if v == 0 {
				continue
			}
			p := float64(v) / n
			logOuter := -math.Log(float64(c.a[i])*float64(c.b[j])) + math.Log(sa) + math.Log(sb)
			mi += p*(math.Log(float64(v))-math.Log(n)) + p*logOuter
		}
	}
	return mi
}

func entropyOf(counts []int, n int) float64 {
	var h float64
	ln := math.Log(float64(n))
	for _, v := range counts {
		if v > 0 {
			h -= float64(v) / float64(n) * (math.Log(float64(v)) - ln)
		}
	}
	return h
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// adjustedMutualInfo is the mutual information adjusted for chance, with
// the expected mutual information under the hypergeometric model (Vinh,
// Epps and Bailey), normalised by the larger entropy as in mir_eval.
func (c *contingency) adjustedMutualInfo(mi float64) float64 {
	nr, ne := len(c.a), len(c.b)
	if (nr == 1 && ne == 1) || (nr == 0 && ne == 0) {
		return 1
	}
	n := float64(c.n)
	glnN := lgamma(n + 1)
	var emi float64
	for _, ai := range c.a {
		for _, bj := range c.b {
			start := max(ai-c.n+bj, 1)
			end := min(ai, bj) + 1
			logAB := math.Log(float64(ai) * float64(bj))
			gln := lgamma(float64(ai)+1) + lgamma(float64(bj)+1) + lgamma(n-float64(ai)+1) + lgamma(n-float64(bj)+1) - glnN
			for nij := start; nij < end; nij++ {
				fn := float64(nij)
				term2 := math.Log(n*fn) - logAB
				g := gln - lgamma(fn+1) - lgamma(float64(ai-nij)+1) - lgamma(float64(bj-nij)+1) -
					lgamma(n-float64(ai)-float64(bj)+fn+1)
				emi += fn / n * term2 * math.Exp(g)
			}
		}
	}
	h := max(entropyOf(c.a, c.n), entropyOf(c.b, c.n))
	if h == emi {
		return 0
	}
	return (mi - emi) / (h - emi)
}

// normalizedMutualInfo divides the mutual information by the geometric
// mean of the entropies.
func (c *contingency) normalizedMutualInfo(mi float64) float64 {
	nr, ne := len(c.a), len(c.b)
	if (nr == 1 && ne == 1) || (nr == 0 && ne == 0) {
		return 1
	}
	return mi / max(math.Sqrt(entropyOf(c.a, c.n)*entropyOf(c.b, c.n)), 1e-10)
}

// conditionalEntropy returns Lukashevich's normalised conditional entropy
// scores (over-segmentation, under-segmentation, F), or with marginal the
// V-measure's homogeneity-style precision, recall and V.
func (c *contingency) conditionalEntropy(marginal bool) (over, under, f float64) {
	n := float64(c.n)
	// H(ref | est): entropy of each estimated class's column, weighted.
	var refGivenEst, estGivenRef float64
	for j, bj := range c.b {
		var h float64
		for i := range c.a {
			if v := c.counts[i][j]; v > 0 {
				q := float64(v) / float64(bj)
				h -= q * math.Log(q)
			}
		}
		refGivenEst += float64(bj) / n * h / math.Ln2
	}
	for i, ai := range c.a {
		var h float64
		for _, v := range c.counts[i] {
			if v > 0 {
				q := float64(v) / float64(ai)
				h -= q * math.Log(q)
			}
		}
		estGivenRef += float64(ai) / n * h / math.Ln2
	}
	var zRef, zEst float64
	if marginal {
		zRef = entropyOf(c.a, c.n) / math.Ln2
		zEst = entropyOf(c.b, c.n) / math.Ln2
	} else {
		zRef = math.Log2(float64(len(c.a)))
		zEst = math.Log2(float64(len(c.b)))
	}
	if zRef > 0 {
		under = 1 - refGivenEst/zRef
	}
	if zEst > 0 {
		over = 1 - estGivenRef/zEst
	}
	return over, under, FMeasure(over, under, 1)
}
