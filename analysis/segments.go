package analysis

import (
	"math"
	"slices"
)

// onsetPeaks picks onsets from the onset envelope: local maxima over ±2
// frames that stand above a moving threshold (the local mean over half a
// second plus a fraction of the track's spread), at least 70 ms apart.
func onsetPeaks(o []float32) []int {
	n := len(o)
	if n < 3 {
		return nil
	}
	mean := mean32(o)
	var ss float64
	for _, v := range o {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	delta := 0.25 * math.Sqrt(ss/float64(n))
	if delta == 0 {
		return nil
	}
	pre := make([]float64, n+1)
	for i, v := range o {
		pre[i+1] = pre[i] + float64(v)
	}
	r := framesIn(0.25)
	const minGap = 3
	var peaks []int
	for t := 1; t < n-1; t++ {
		v := o[t]
		isMax := true
		for j := max(0, t-2); j <= min(n-1, t+2); j++ {
			if o[j] > v || (j < t && o[j] == v) {
				isMax = false
				break
			}
		}
		if !isMax {
			continue
		}
		lo, hi := max(0, t-r), min(n, t+r+1)
		th := (pre[hi]-pre[lo])/float64(hi-lo) + delta
		if float64(v) < th {
			continue
		}
		if len(peaks) > 0 && t-peaks[len(peaks)-1] < minGap {
			if v > o[peaks[len(peaks)-1]] {
				peaks[len(peaks)-1] = t
			}
			continue
		}
		peaks = append(peaks, t)
	}
	return peaks
}

// dctBasis holds the first 12 DCT-II basis vectors over the mel bands.
var dctBasis = func() (b [12][nMel]float64) {
	for k := range 12 {
		for j := range nMel {
			b[k][j] = math.Cos(math.Pi * float64(k) * (float64(j) + 0.5) / nMel)
		}
	}
	return b
}()

// timbreOf maps a mean mel spectrum in dB to the 12 timbre coefficients
// documented in the package comment.
func timbreOf(mel []float64) (t [12]float64) {
	for k := range 12 {
		var s float64
		for j, v := range mel {
			s += v * dctBasis[k][j]
		}
		if k == 0 {
			t[0] = s/nMel - floorDB
		} else {
			t[k] = -4 * s / nMel
		}
	}
	return t
}

// segmentize cuts the track into segments at the onsets, so that segments
// tile [0, duration], and describes each.
func segmentize(f *features) []Segment {
	peaks := onsetPeaks(f.onset)
	// Boundaries in frames; the first segment starts at 0.
	bounds := []int{0}
	for _, p := range peaks {
		if p-bounds[len(bounds)-1] >= 2 {
			bounds = append(bounds, p)
		}
	}
	strength := make([]float64, len(peaks))
	for i, p := range peaks {
		strength[i] = float64(f.onset[p])
	}
	ref := 1.0
	if len(strength) > 0 {
		ref = quantile(strength, 0.9)
	}
	segs := make([]Segment, 0, len(bounds))
	mel := make([]float64, nMel)
	for i, a := range bounds {
		b := f.n
		if i+1 < len(bounds) {
			b = bounds[i+1]
		}
		start := frameTime(float64(a))
		end := f.duration
		if i+1 < len(bounds) {
			end = frameTime(float64(b))
		}
		if end <= start {
			continue
		}
		s := Segment{Start: start, Duration: end - start}
		if i > 0 && ref > 0 {
			s.Confidence = clamp01(float64(f.onset[a]) / ref)
		}
		s.LoudnessStart = float64(f.loud[a])
		s.LoudnessMax = s.LoudnessStart
		clear(mel)
		var ch [12]float64
		for t := a; t < b; t++ {
			if l := float64(f.loud[t]); l > s.LoudnessMax {
				s.LoudnessMax = l
				s.LoudnessMaxTime = frameTime(float64(t - a))
			}
			for j := range nMel {
				mel[j] += float64(f.mel[t*nMel+j])
			}
			for k := range 12 {
				ch[k] += float64(f.chroma[t*12+k])
			}
		}
		cnt := float64(max(b-a, 1))
		for j := range mel {
			mel[j] /= cnt
		}
		s.Timbre = timbreOf(mel)
		var top float64
		for _, v := range ch {
			top = max(top, v)
		}
		if top > 0 {
			for k, v := range ch {
				s.Pitches[k] = v / top
			}
		}
		s.LoudnessMaxTime = min(s.LoudnessMaxTime, s.Duration)
		segs = append(segs, s)
	}
	// Close the tiling exactly at the end of the track.
	if len(segs) > 0 {
		last := &segs[len(segs)-1]
		last.Duration = f.duration - last.Start
	}
	return segs
}

// quantile returns the q-quantile of x, sorting x in place.
func quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return 0
	}
	slices.Sort(x)
	return x[min(len(x)-1, int(q*float64(len(x))))]
}
