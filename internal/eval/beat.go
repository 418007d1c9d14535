package eval

import (
	"fmt"
	"math"
	"slices"
)

// Parameters of the beat measures, mir_eval's defaults.
const (
	// BeatWindow is the F-measure tolerance, ±70 ms.
	BeatWindow = 0.07
	// MinBeatTime is where mir_eval.beat.evaluate starts scoring: beats
	// before it are trimmed, because annotators and trackers both need a
	// few seconds to settle.
	MinBeatTime = 5.0

	cemgilSigma        = 0.04
	gotoThreshold      = 0.35
	gotoMu             = 0.2
	gotoSigma          = 0.2
	pScoreThreshold    = 0.2
	continuityPhase    = 0.175
	continuityPeriod   = 0.175
	informationGainBin = 41
)

// BeatScores are mir_eval.beat.evaluate's scores. CMLc and CMLt are the
// longest continuously correct stretch and the total correct, at the
// correct metrical level; AMLc and AMLt allow any of the usual metrical
// variations (double, half, off-beat).
type BeatScores struct {
	FMeasure              float64
	Cemgil                float64
	CemgilBestMetricLevel float64
	Goto                  float64
	PScore                float64
	CMLc, CMLt            float64
	AMLc, AMLt            float64
	InformationGain       float64
}

// TrimBeats returns the beats at or after min seconds (MinBeatTime in
// mir_eval), sharing beats' storage.
func TrimBeats(beats []float64, min float64) []float64 {
	for i, b := range beats {
		if b >= min {
			return beats[i:]
		}
	}
	return beats[len(beats):]
}

// EvaluateBeats is mir_eval.beat.evaluate: it trims both lists before
// MinBeatTime and computes every beat measure.
func EvaluateBeats(ref, est []float64) (BeatScores, error) {
	if err := ValidateEvents(ref); err != nil {
		return BeatScores{}, fmt.Errorf("reference beats: %w", err)
	}
	if err := ValidateEvents(est); err != nil {
		return BeatScores{}, fmt.Errorf("estimated beats: %w", err)
	}
	ref, est = TrimBeats(ref, MinBeatTime), TrimBeats(est, MinBeatTime)
	var s BeatScores
	s.FMeasure = BeatFMeasure(ref, est)
	s.Cemgil, s.CemgilBestMetricLevel = Cemgil(ref, est)
	s.Goto = Goto(ref, est)
	s.PScore = PScore(ref, est)
	s.CMLc, s.CMLt, s.AMLc, s.AMLt = Continuity(ref, est)
	s.InformationGain = InformationGain(ref, est)
	return s, nil
}

// BeatFMeasure is the F-measure of est against ref with a ±70 ms window
// (no trimming), 0 when either is empty.
func BeatFMeasure(ref, est []float64) float64 {
	f, _, _ := matchScores(ref, est, BeatWindow)
	return f
}

// beatVariations returns the reference and its metrical variations, in
// mir_eval's order: as annotated, off-beat, double tempo, half tempo on the
// odd beats, half tempo on the even beats.
func beatVariations(ref []float64) [5][]float64 {
	n := len(ref)
	double := make([]float64, 0, max(0, 2*n-1))
	for i := 0; i < n; i++ {
		double = append(double, ref[i])
		if i+1 < n {
			// As numpy.interp computes the midpoint.
			double = append(double, (ref[i+1]-ref[i])*0.5+ref[i])
		}
	}
	var off, odd, even []float64
	for i, t := range double {
		if i%2 == 1 {
			off = append(off, t)
		}
	}
	for i, t := range ref {
		if i%2 == 0 {
			odd = append(odd, t)
		} else {
			even = append(even, t)
		}
	}
	return [5][]float64{ref, off, double, odd, even}
}

// Cemgil returns the Cemgil accuracy (a Gaussian error function of width
// 40 ms around each reference beat) at the annotated metrical level, and
// the best over the metrical variations.
func Cemgil(ref, est []float64) (accuracy, best float64) {
	if len(ref) == 0 || len(est) == 0 {
		return 0, 0
	}
	for v, r := range beatVariations(ref) {
		var acc float64
		for _, b := range r {
			d := math.Inf(1)
			for _, e := range est {
				d = min(d, math.Abs(b-e))
			}
			acc += math.Exp(-(d * d) / (2 * cemgilSigma * cemgilSigma))
		}
		acc /= 0.5 * float64(len(est)+len(r))
		if v == 0 {
			accuracy, best = acc, acc
		}
		best = max(best, acc)
	}
	return accuracy, best
}

// Goto returns Goto and Muraoka's binary score: 1 when a long enough run of
// reference beats each has exactly one estimate close to it, with small
// mean and spread of the errors.
func Goto(ref, est []float64) float64 {
	n := len(ref)
	if n == 0 || len(est) == 0 {
		return 0
	}
	beatError := make([]float64, n)
	for i := range beatError {
		beatError[i] = 1
	}
	for k := 1; k < n-1; k++ {
		prev := 0.5 * (ref[k] - ref[k-1])
		next := 0.5 * (ref[k+1] - ref[k])
		lo, hi := ref[k]-prev, ref[k]+next
		count := 0
		var found float64
		for _, e := range est {
			if e >= lo && e < hi {
				count++
				found = e
			}
		}
		if count != 1 {
			beatError[k] = 1
			continue
		}
		if off := found - ref[k]; off < 0 {
			beatError[k] = off / prev
		} else {
			beatError[k] = off / next
		}
	}
	var incorrect []int
	for i, e := range beatError {
		if math.Abs(e) > gotoThreshold {
			incorrect = append(incorrect, i)
		}
	}
	var track []float64
	criteria := false
	if len(incorrect) < 3 {
		// The first and last beats are always incorrect, so this is the
		// stretch between them, less one beat at the end as mir_eval has it.
		track = pySlice(beatError, incorrect[0]+1, incorrect[len(incorrect)-1]-1)
		criteria = true
	} else {
		longest, start := 0, 0
		for i := 0; i+1 < len(incorrect); i++ {
			if d := incorrect[i+1] - incorrect[i]; d > longest {
				longest, start = d, i
			}
		}
		if float64(longest-1) > 0.25*float64(n-2) {
			criteria = true
			track = beatError[incorrect[start] : incorrect[start+1]+1]
		}
	}
	if !criteria || len(track) < 2 {
		// The spread of fewer than two errors is undefined (NaN in mir_eval),
		// which fails the test.
		return 0
	}
	var mean, absMean float64
	for _, e := range track {
		mean += e
		absMean += math.Abs(e)
	}
	mean /= float64(len(track))
	absMean /= float64(len(track))
	var ss float64
	for _, e := range track {
		ss += (e - mean) * (e - mean)
	}
	std := math.Sqrt(ss / float64(len(track)-1))
	if absMean < gotoMu && std < gotoSigma {
		return 1
	}
	return 0
}

// pySlice is x[i:j] with Python's meaning of negative and out-of-range
// bounds.
func pySlice(x []float64, i, j int) []float64 {
	n := len(x)
	fix := func(k int) int {
		if k < 0 {
			k += n
		}
		return min(max(k, 0), n)
	}
	i, j = fix(i), fix(j)
	if i >= j {
		return nil
	}
	return x[i:j]
}

// PScore returns McKinney's P-score: the correlation of impulse trains of
// the two beat sequences, sampled at 100 Hz, within a lag of a fifth of the
// median reference beat interval, normalised by the longer sequence.
func PScore(ref, est []float64) float64 {
	if len(ref) <= 1 || len(est) <= 1 {
		return 0
	}
	const rate = 100
	offset := min(slices.Min(ref), slices.Min(est))
	end := math.Ceil(max(slices.Max(ref), slices.Max(est)) - offset)
	if end*rate > 1e8 {
		return 0 // beyond any sane annotation; mir_eval would allocate it
	}
	train := func(beats []float64) []int {
		idx := make([]int, 0, len(beats))
		for _, b := range beats {
			idx = append(idx, int(math.Ceil((b-offset)*rate)))
		}
		slices.Sort(idx)
		return slices.Compact(idx)
	}
	r, e := train(ref), train(est)
	if len(r) < 2 {
		return 0 // no reference interval: NaN in mir_eval
	}
	intervals := make([]float64, len(r)-1)
	for i := range intervals {
		intervals[i] = float64(r[i+1] - r[i])
	}
	win := int(math.RoundToEven(pScoreThreshold * median(intervals)))
	var sum int
	for _, p := range e {
		lo, _ := slices.BinarySearch(r, p-win)
		hi, _ := slices.BinarySearch(r, p+win+1)
		sum += hi - lo
	}
	return float64(sum) / float64(max(len(ref), len(est)))
}

// median is numpy's median: the mean of the middle two for even lengths.
// It sorts x.
func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

// Continuity returns Hainsworth and Klapuri's continuity-based accuracies:
// an estimate is correct when both its phase and its period are within
// 17.5% of the nearest reference beat's interval. CMLc is the longest
// correct run and CMLt the total correct, as fractions; AMLc and AMLt are
// the best of these over the metrical variations of the reference.
func Continuity(ref, est []float64) (cmlc, cmlt, amlc, amlt float64) {
	if len(ref) <= 1 || len(est) <= 1 {
		return 0, 0, 0, 0
	}
	for v, r := range beatVariations(ref) {
		c, t := continuity(r, est)
		if v == 0 {
			cmlc, cmlt = c, t
		}
		amlc, amlt = max(amlc, c), max(amlt, t)
	}
	return cmlc, cmlt, amlc, amlt
}

func continuity(ref, est []float64) (cont, total float64) {
	n := max(len(ref), len(est))
	used := make([]bool, n)
	ok := make([]bool, n)
	at := func(x []float64, i int) float64 { // Python indexing, -1 wraps
		if i < 0 {
			i += len(x)
		}
		return x[i]
	}
	for m, e := range est {
		nearest, minDiff := 0, math.Inf(1)
		for i, r := range ref {
			if d := math.Abs(e - r); d < minDiff {
				nearest, minDiff = i, d
			}
		}
		if used[nearest] {
			continue
		}
		var phase, period float64
		if m == 0 || nearest == 0 {
			var refInt float64
			if nearest+1 < len(ref) {
				refInt = ref[nearest+1] - ref[nearest]
			} else {
				refInt = ref[nearest] - at(ref, nearest-1)
			}
			var estInt float64
			if m+1 < len(est) {
				estInt = est[m+1] - est[m]
			} else {
				estInt = est[m] - est[m-1]
			}
			switch {
			case refInt != 0:
				phase = math.Abs(minDiff / refInt)
				period = math.Abs(1 - estInt/refInt)
			default:
				phase, period = math.Inf(1), math.Inf(1)
				if minDiff == 0 {
					phase = 1
				}
				if estInt == 0 {
					period = 0
				}
			}
		} else {
			refInt := ref[nearest] - ref[nearest-1]
			phase = math.Abs(minDiff / refInt)
			period = math.Abs(1 - (est[m]-est[m-1])/refInt)
		}
		if phase < continuityPhase && period < continuityPeriod {
			used[nearest] = true
			ok[m] = true
		}
	}
	run, longest, count := 0, 0, 0
	for _, s := range ok {
		if s {
			run++
			count++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return float64(longest) / float64(n), float64(count) / float64(n)
}

// InformationGain returns Davies' information gain: how far from uniform
// the histogram (41 bins) of beat errors, as fractions of the local beat
// interval, is, taking the worse of the two directions; 0 to 1.
func InformationGain(ref, est []float64) float64 {
	if len(ref) <= 1 || len(est) <= 1 {
		return 0
	}
	fwd := beatErrorEntropy(ref, est)
	bwd := beatErrorEntropy(est, ref)
	norm := math.Log2(informationGainBin)
	return (norm - max(fwd, bwd)) / norm
}

func beatErrorEntropy(ref, est []float64) float64 {
	const bins = informationGainBin
	var counts [bins]int
	last := len(ref) - 1
	for _, e := range est {
		closest, best := 0, math.Inf(1)
		for i, r := range ref {
			if d := math.Abs(e - r); d < best {
				closest, best = i, d
			}
		}
		err := e - ref[closest]
		var interval float64
		// mir_eval's branches, including its wrap-around to the last beat
		// for an estimate before the first one.
		if closest == 0 {
			interval = 0.5 * (ref[1] - ref[0])
		}
		if closest == last {
			interval = 0.5 * (ref[last] - ref[last-1])
		} else if err < 0 {
			prev := closest - 1
			if prev < 0 {
				prev = last
			}
			interval = 0.5 * (ref[closest] - ref[prev])
		} else {
			interval = 0.5 * (ref[closest+1] - ref[closest])
		}
		be := 0.5 * err / interval
		be = numpyMod(be+0.5, -1) + 0.5
		if i, ok := histogramBin(be, -0.5, 0.5, bins); ok {
			counts[i]++
		}
	}
	var total int
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(total)
			h -= p * math.Log2(p)
		}
	}
	return h
}

// numpyMod is numpy.mod: the remainder with the sign of the divisor.
func numpyMod(a, b float64) float64 {
	m := math.Mod(a, b)
	if m != 0 {
		if (b < 0) != (m < 0) {
			m += b
		}
	} else {
		m = math.Copysign(0, b)
	}
	return m
}

// histogramBin returns the bin of x among n equal bins from lo to hi as
// numpy.histogram assigns it: half-open bins, the last one closed, edges
// as numpy.linspace computes them.
func histogramBin(x, lo, hi float64, n int) (int, bool) {
	if !(x >= lo && x <= hi) {
		return 0, false
	}
	step := (hi - lo) / float64(n)
	edge := func(i int) float64 {
		if i == n {
			return hi
		}
		return float64(i)*step + lo
	}
	i := int((x - lo) * (float64(n) / (hi - lo)))
	i = min(max(i, 0), n-1)
	if x < edge(i) {
		i--
	} else if i != n-1 && x >= edge(i+1) {
		i++
	}
	return min(max(i, 0), n-1), true
}
