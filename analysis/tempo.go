package analysis

import (
	"math"
	"slices"
)

// Tempo search range, BPM. Beyond these, a tempo is an octave of one inside.
const (
	minBPM = 40.0
	maxBPM = 240.0
	// The perceptual tempo prior: where listeners' tapping concentrates,
	// near 2 Hz. Its centre and width were fitted on real music with exact
	// beats (scripts/analysis-eval -annotated): 120 BPM and half an octave
	// halved the notated tempo of fast rock and game music more often.
	priorBPM = 130.0
	priorOct = 0.7 // octaves, one standard deviation
)

// periodOf converts BPM to a beat period in frames, and back.
func periodOf(bpm float64) float64 { return 60 * frameRate / bpm }
func bpmOf(period float64) float64 { return 60 * frameRate / period }

// autocorr returns the mean-removed, unbiased autocorrelation of x for lags
// 0..maxLag, normalised so that lag 0 is 1 (all zeros for a flat x).
func autocorr(x []float32, maxLag int) []float64 {
	n := len(x)
	r := make([]float64, maxLag+1)
	if n < 2 {
		return r
	}
	mean := mean32(x)
	y := make([]float64, n)
	for i, v := range x {
		y[i] = float64(v) - mean
	}
	for l := 0; l <= maxLag && l < n; l++ {
		var s float64
		a, b := y[:n-l], y[l:]
		for i := range a {
			s += a[i] * b[i]
		}
		r[l] = s / float64(n-l)
	}
	if r[0] <= 0 {
		clear(r)
		return r
	}
	for l := maxLag; l >= 0; l-- {
		r[l] /= r[0]
	}
	return r
}

// at reads r at a fractional lag by linear interpolation (0 outside).
func at(r []float64, lag float64) float64 {
	i := int(lag)
	if lag < 0 || i+1 >= len(r) {
		return 0
	}
	f := lag - float64(i)
	return r[i]*(1-f) + r[i+1]*f
}

// peakAt returns the largest value of r within one frame of lag, which
// tolerates the quantisation of onset peaks to frames.
func peakAt(r []float64, lag float64) float64 {
	return max(at(r, lag-1), at(r, lag), at(r, lag+1))
}

// tempoCandidate is one hypothesis of the beat period.
type tempoCandidate struct {
	bpm   float64
	score float64 // comb score times prior
}

// tempoScores evaluates every tempo on a fine logarithmic grid: the
// autocorrelation at its period, with a little support from the bar-level
// and off-beat periods (twice and half the period). The log-Gaussian prior
// expresses which metrical level listeners tap to.
func tempoScores(r []float64) []tempoCandidate {
	const steps = 800
	out := make([]tempoCandidate, 0, steps)
	for i := range steps {
		bpm := minBPM * math.Pow(maxBPM/minBPM, float64(i)/(steps-1))
		out = append(out, tempoCandidate{bpm: bpm, score: tempoScore(r, bpm)})
	}
	return out
}

// tempoScore is the score of one tempo (see tempoScores).
func tempoScore(r []float64, bpm float64) float64 {
	p := periodOf(bpm)
	s := peakAt(r, p) + 0.25*(peakAt(r, 2*p)+peakAt(r, p/2))
	z := math.Log2(bpm/priorBPM) / priorOct
	return max(s, 0) * math.Exp(-0.5*z*z)
}

// tempoEstimate is what the onset envelope alone says of the tempo.
type tempoEstimate struct {
	bpm   float64
	conf  float64 // in [0, 1]
	bar   int     // the bar's length in frames, 0 when the envelope shows none (see barLag)
	pulse float64 // the envelope's autocorrelation at the beat period: how much of it repeats
}

// estimateTempo returns the most likely tempo of the onset envelope.
func estimateTempo(onset []float32) tempoEstimate {
	maxLag := int(4*periodOf(minBPM)) + 2
	r := autocorr(onset, maxLag)
	cands := tempoScores(r)
	best := 0
	for i, c := range cands {
		if c.score > cands[best].score {
			best = i
		}
	}
	if cands[best].score <= 0 {
		return tempoEstimate{bpm: priorBPM}
	}
	bpm := refinePeriod(r, periodOf(cands[best].bpm))
	bar := barLag(r)
	if b := wholeBar(r, bar, bpm); b != bpm {
		bpm = refinePeriod(r, periodOf(b))
	}
	// Confidence: how far the winning peak stands above the typical score.
	scores := make([]float64, len(cands))
	for i, c := range cands {
		scores[i] = c.score
	}
	slices.Sort(scores)
	med := scores[len(scores)/2]
	return tempoEstimate{
		bpm:   bpm,
		conf:  clamp01((cands[best].score - med) / cands[best].score),
		bar:   bar,
		pulse: peakAt(r, periodOf(bpm)),
	}
}

// A slurred melody over sustained chords can leave the mel-band flux with
// next to no pulse: on real music with exact beats, a legato piece repeats
// 0.07 of its band flux at its best period and a 3+3+2 one 0.04, where
// every other piece repeats at least 0.11 and most over 0.3. The legato
// piece's pitch classes still change with each note. So when the band flux
// repeats less than weakPulse, the pitch-class flux (see pitchFlux)
// estimates the tempo instead, provided it repeats more. Where the band
// flux has a pulse it stays the witness: trusted whenever it repeats more,
// the pitch-class flux halves a piece whose harmony moves at every other
// beat.
const weakPulse = 0.1

// tempoOf returns the tempo estimate of the track and the envelope its
// beats are to be tracked on: the one whose pulse gave the tempo (see
// weakPulse).
func tempoOf(f *features) (tempoEstimate, []float32) {
	est := estimateTempo(f.onset)
	if est.conf > 0 && est.pulse < weakPulse {
		pitch := pitchFlux(f)
		if alt := estimateTempo(pitch); alt.conf > 0 && alt.pulse > est.pulse {
			return alt, pitch
		}
	}
	return est, beatEnvelope(f, beatMix)
}

// Bars. At long lags the envelope repeats most strongly from bar to bar,
// and a bar holds a whole number of beats. The most periodic pulse can
// still cut across the bar: the 3+3+2 eighths of a tresillo repeat every
// three eighths, a run of triplets every two of them. A pulse that does
// not divide the bar is such a grouping, and the beat is then the bar
// divided by 2, 3 or 4, whichever scores best.
const (
	shortestBar = 1.2 // seconds
	longestBar  = 5.0
	barLeast    = 0.2  // autocorrelation the bar must reach to count
	barBeatsOff = 0.15 // beats: how far from whole the beats in a bar may be
	// A longer "bar" is a phrase, or a coincidence of lags.
	barMostBeats = 8.5
	// The beat replacing a grouping lies within this ratio of it: groupings
	// in three stand 2:3 or 3:4 to the beat.
	barNearest = 1.6
)

// barLag returns the lag of the bar in the autocorrelation r, in frames,
// or 0 when no lag in the bar's range stands out.
func barLag(r []float64) int {
	lo, hi := framesIn(shortestBar), min(framesIn(longestBar), len(r)-2)
	if lo >= hi {
		return 0
	}
	bar := lo
	for l := lo; l <= hi; l++ {
		if r[l] > r[bar] {
			bar = l
		}
	}
	// A maximum at the edge of the range is a slope, not a bar.
	if bar == lo || bar == hi || r[bar] < barLeast {
		return 0
	}
	return bar
}

// wholeBar returns bpm, or the tempo that divides the bar (in frames) when
// bpm does not (see above).
func wholeBar(r []float64, bar int, bpm float64) float64 {
	if bar == 0 {
		return bpm
	}
	beats := float64(bar) / periodOf(bpm)
	if beats > barMostBeats || math.Abs(beats-math.Round(beats)) < barBeatsOff {
		return bpm
	}
	best, bestScore := bpm, 0.0
	for _, k := range []float64{2, 3, 4} {
		alt := bpmOf(float64(bar) / k)
		if alt < minBPM || alt > maxBPM || alt < bpm/barNearest || alt > bpm*barNearest {
			continue
		}
		if s := tempoScore(r, alt); s > bestScore {
			best, bestScore = alt, s
		}
	}
	return best
}

// refinePeriod moves a tempo to the nearest autocorrelation peak with
// sub-frame precision, using the peaks at several multiples of the period.
func refinePeriod(r []float64, p float64) float64 {
	var num, den float64
	for k := 1; k <= 4; k++ {
		lag := float64(k) * p
		c := int(math.Round(lag))
		lo, hi := max(1, c-2), min(len(r)-2, c+2)
		if lo > hi {
			break
		}
		m := lo
		for i := lo; i <= hi; i++ {
			if r[i] > r[m] {
				m = i
			}
		}
		// A maximum at the edge of the window is the slope of a peak
		// elsewhere, or of none: a pulse that stops repeating at this
		// multiple, which must not pull the period.
		if m == lo || m == hi || m <= 0 || m >= len(r)-1 || r[m] <= 0 {
			continue
		}
		a, b, c2 := r[m-1], r[m], r[m+1]
		off := 0.0
		if d := a - 2*b + c2; d < 0 {
			off = 0.5 * (a - c2) / d
		}
		num += (float64(m) + off) * r[m]
		den += float64(k) * r[m]
	}
	if den <= 0 {
		return bpmOf(p)
	}
	return bpmOf(num / den)
}

func clamp01(x float64) float64 {
	switch {
	case !(x > 0): // also NaN
		return 0
	case x > 1:
		return 1
	}
	return x
}
