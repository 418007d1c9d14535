package eval

import (
	"fmt"
	"math"
)

// TempoTolerance is mir_eval's relative tolerance for tempo detection, 8%.
const TempoTolerance = 0.08

// TempoScores are mir_eval.tempo.evaluate's scores.
type TempoScores struct {
	PScore                  float64 // the reference weight of the tempi hit
	OneCorrect, BothCorrect bool
}

// EvaluateTempo is mir_eval.tempo.detection with tol TempoTolerance: ref
// holds a slower and a faster reference tempo (BPM; 0 for none) and weight
// the salience of the first, est two estimated tempi. A reference tempo is
// hit when an estimate is within tol of it, relatively. It returns an error
// for tempi that are negative or not finite, an all-zero reference, or a
// weight outside [0, 1].
func EvaluateTempo(ref [2]float64, weight float64, est [2]float64, tol float64) (TempoScores, error) {
	for _, t := range [][2]float64{ref, est} {
		for _, v := range t {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return TempoScores{}, fmt.Errorf("%w: tempi %v must be non-negative numbers", ErrInvalid, t)
			}
		}
	}
	if ref[0] == 0 && ref[1] == 0 {
		return TempoScores{}, fmt.Errorf("%w: reference tempi %v need one above zero", ErrInvalid, ref)
	}
	if !(weight >= 0 && weight <= 1) {
		return TempoScores{}, fmt.Errorf("%w: reference weight %v outside [0, 1]", ErrInvalid, weight)
	}
	if !(tol >= 0 && tol <= 1) {
		return TempoScores{}, fmt.Errorf("%w: tolerance %v outside [0, 1]", ErrInvalid, tol)
	}
	var hits [2]bool
	for i, r := range ref {
		if r > 0 {
			e := min(math.Abs(r-est[0])/r, math.Abs(r-est[1])/r)
			hits[i] = e <= tol
		}
	}
	var s TempoScores
	if hits[0] {
		s.PScore += weight
	}
	if hits[1] {
		s.PScore += 1 - weight
	}
	s.OneCorrect = hits[0] || hits[1]
	s.BothCorrect = hits[0] && hits[1]
	return s, nil
}

// TempoWithin reports whether est is within tol (relative, e.g. 0.04) of
// ref, and, when it is not, whether it is an octave error: within tol of
// twice or half ref.
func TempoWithin(ref, est, tol float64) (ok, octaveErr bool) {
	if !(ref > 0) || !(est > 0) {
		return false, false
	}
	within := func(r float64) bool { return math.Abs(est-r) <= tol*r }
	if within(ref) {
		return true, false
	}
	return false, within(2*ref) || within(ref/2)
}
