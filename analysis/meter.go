package analysis

import "math"

// beatFrame converts a time to the nearest frame index within [0, n).
func beatFrame(t float64, n int) int {
	return min(max(int(math.Round(t*frameRate)), 0), n-1)
}

// maxAround returns the largest value of x within r frames of i.
func maxAround(x []float32, i, r int) float64 {
	m := float32(0)
	for j := max(0, i-r); j <= min(len(x)-1, i+r); j++ {
		m = max(m, x[j])
	}
	return float64(m)
}

// meter finds the bar length (3 or 4 beats) and the phase of the first
// downbeat. Downbeats are where harmony changes and, less surely, where
// the kick drum and bass land, so each candidate phase is scored by how
// much more of both falls on its beats than on the others. Harmony leads:
// on real music with exact bars (scripts/analysis-eval -annotated) the
// bass and the overall onset strength, which fall on beats 1 and 3 alike,
// put the bar a beat or two off more often than they helped (39 of 69
// pieces right with them at half harmony's weight or more, 48 with the
// bass at a tenth and the onsets left out).
func meter(f *features, beats []float64) (sig, phase int, conf float64) {
	nb := len(beats)
	if nb < 8 {
		return 4, 0, 0
	}
	bass := make([]float64, nb)
	change := make([]float64, nb)
	prev := make([]float64, 12)
	cur := make([]float64, 12)
	for i, t := range beats {
		fr := beatFrame(t-onsetLag, f.n)
		bass[i] = maxAround(f.bass, fr, 1)
		end := f.n
		if i+1 < nb {
			end = beatFrame(beats[i+1]-onsetLag, f.n)
		}
		clear(cur)
		for t := fr; t < max(end, fr+1) && t < f.n; t++ {
			for k := range 12 {
				cur[k] += float64(f.chroma[t*12+k])
			}
		}
		if i > 0 {
			change[i] = 1 - cosine(prev, cur)
		}
		prev, cur = cur, prev
	}
	zscore(bass)
	zscore(change)
	score := func(m, ph int) float64 {
		var in, out float64
		var nin, nout int
		for i := 1; i < nb; i++ {
			v := 0.25*bass[i] + 2.75*change[i]
			if (i-ph)%m == 0 {
				in += v
				nin++
			} else {
				out += v
				nout++
			}
		}
		if nin == 0 || nout == 0 {
			return 0
		}
		return in/float64(nin) - out/float64(nout)
	}
	best := map[int]float64{}
	bestPh := map[int]int{}
	for _, m := range []int{3, 4} {
		best[m] = math.Inf(-1)
		for ph := range m {
			if s := score(m, ph); s > best[m] {
				best[m], bestPh[m] = s, ph
			}
		}
	}
	// Most music is in four; three must win clearly.
	sig = 4
	if best[3] > 1.25*best[4] && best[3] > 0.3 {
		sig = 3
	}
	other := 7 - sig
	conf = clamp01((best[sig] - max(best[other], 0)) / (math.Abs(best[sig]) + 0.5))
	if best[sig] <= 0 {
		conf = 0
	}
	return sig, bestPh[sig], conf
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	if aa == 0 || bb == 0 {
		return 1
	}
	return ab / math.Sqrt(aa*bb)
}

// zscore standardises x in place (leaving a constant x at zero).
func zscore(x []float64) {
	var m, ss float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	sd := math.Sqrt(ss / float64(len(x)))
	for i := range x {
		if sd > 0 {
			x[i] = (x[i] - m) / sd
		} else {
			x[i] = 0
		}
	}
}

// beatQuanta turns beat times into quanta. Each beat lasts until the next;
// the last one lasts one local period, cut at the end of the track. The
// confidence of a beat is the onset strength on it relative to the track's
// strong beats.
func beatQuanta(f *features, times []float64) []Quantum {
	if len(times) == 0 {
		return nil
	}
	q := make([]Quantum, 0, len(times))
	str := make([]float64, len(times))
	var ref float64
	for i, t := range times {
		str[i] = maxAround(f.onset, beatFrame(t-onsetLag, f.n), 1)
		ref = max(ref, str[i])
	}
	// A robust reference: the 90th percentile of beat strengths.
	if len(str) > 10 {
		s := append([]float64(nil), str...)
		ref = quantile(s, 0.9)
	}
	for i, t := range times {
		var d float64
		if i+1 < len(times) {
			d = times[i+1] - t
		} else if i > 0 {
			d = t - times[i-1]
		}
		d = min(d, f.duration-t)
		if d <= 0 {
			break
		}
		c := 0.0
		if ref > 0 {
			c = clamp01(str[i] / ref)
		}
		q = append(q, Quantum{Start: t, Duration: d, Confidence: c})
	}
	return q
}

// barQuanta groups beats into bars of sig beats starting at the beat
// phase; beats before the first downbeat and an incomplete last bar are not
// part of any bar. A bar's confidence is the mean of its beats'.
func barQuanta(beats []Quantum, sig, phase int, conf float64) []Quantum {
	var bars []Quantum
	for i := phase; i+sig <= len(beats); i += sig {
		var c float64
		for _, b := range beats[i : i+sig] {
			c += b.Confidence
		}
		last := beats[i+sig-1]
		bars = append(bars, Quantum{
			Start:      beats[i].Start,
			Duration:   last.End() - beats[i].Start,
			Confidence: clamp01(c / float64(sig) * (0.5 + 0.5*conf)),
		})
	}
	return bars
}

// tatumQuanta subdivides each beat into two tatums, or three when the
// music swings: the onset strength a third and two thirds into the beat
// then outweighs that at the half.
func tatumQuanta(f *features, beats []Quantum) (tatums []Quantum, per int) {
	if len(beats) == 0 {
		return nil, 2
	}
	var half, thirds float64
	for _, b := range beats {
		at := func(frac float64) float64 {
			return maxAround(f.onset, beatFrame(b.Start+frac*b.Duration-onsetLag, f.n), 0)
		}
		half += at(0.5)
		thirds += 0.5 * (at(1.0/3) + at(2.0/3))
	}
	per = 2
	if thirds > 1.3*half && thirds > 0 {
		per = 3
	}
	tatums = make([]Quantum, 0, per*len(beats))
	for _, b := range beats {
		d := b.Duration / float64(per)
		for k := range per {
			start := b.Start + float64(k)*d
			dur := d
			if k == per-1 {
				dur = b.End() - start // end exactly where the beat ends
			}
			tatums = append(tatums, Quantum{Start: start, Duration: dur, Confidence: b.Confidence})
		}
	}
	return tatums, per
}
