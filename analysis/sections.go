package analysis

import (
	"math"
	"slices"
)

// Sections come from novelty in a self-similarity matrix of half-second
// blocks described by timbre and loudness (Foote 2000): a Gaussian-tapered
// checkerboard kernel slid along the diagonal peaks where the music before
// and after a moment differ. Boundaries snap to the nearest bar.

const (
	minSection        = 8.0  // seconds: no section is shorter
	minTypicalSection = 15.0 // seconds: at most duration/this boundaries
	kernelHalf        = 8.0  // seconds each side of a candidate boundary
	maxBlocks         = 4000 // blocks cap; long tracks get longer blocks
	fadeDropDB        = 10.0 // a fade starts/ends this far below the track's level
	sectionDrop       = 3.0  // dB below the track that makes an intro/outro/breakdown
)

// blockFeatures averages frames into blocks of bl frames: 12 timbre
// coefficients (timbre[0], the level, scaled down to weigh like the
// others) and mean power in dB.
func blockFeatures(f *features, bl int) (feat [][13]float64, loud []float64) {
	nb := (f.n + bl - 1) / bl
	feat = make([][13]float64, nb)
	loud = make([]float64, nb)
	mel := make([]float64, nMel)
	for i := range nb {
		a, b := i*bl, min((i+1)*bl, f.n)
		clear(mel)
		var pw float64
		for t := a; t < b; t++ {
			for j := range nMel {
				mel[j] += float64(f.mel[t*nMel+j])
			}
			pw += math.Pow(10, float64(f.loud[t])/10)
		}
		for j := range mel {
			mel[j] /= float64(b - a)
		}
		tb := timbreOf(mel)
		for k := range 12 {
			feat[i][k] = tb[k]
		}
		loud[i] = dB(pw / float64(b-a))
		feat[i][12] = loud[i]
	}
	return feat, loud
}

// novelty returns the checkerboard-kernel novelty of each block.
func novelty(feat [][13]float64, half int) []float64 {
	nb := len(feat)
	nov := make([]float64, nb)
	if nb < 4 || half < 1 {
		return nov
	}
	// Scale for the similarity: the median distance between neighbours.
	d := make([]float64, 0, nb)
	for i := 1; i < nb; i++ {
		d = append(d, dist2(&feat[i-1], &feat[i]))
	}
	scale := quantile(d, 0.5)
	if scale <= 0 {
		scale = 1
	}
	g := make([]float64, 2*half)
	for i := range g {
		x := (float64(i-half) + 0.5) / float64(half)
		g[i] = math.Exp(-2 * x * x)
	}
	for c := 0; c < nb; c++ {
		var s, w float64
		for a := -half; a < half; a++ {
			i := c + a
			if i < 0 || i >= nb {
				continue
			}
			for b := -half; b < half; b++ {
				j := c + b
				if j < 0 || j >= nb || j <= i {
					continue
				}
				sim := math.Exp(-dist2(&feat[i], &feat[j]) / (4 * scale))
				k := g[a+half] * g[b+half]
				if (a < 0) != (b < 0) {
					s -= k * sim // across the boundary
				} else {
					s += k * sim
				}
				w += k
			}
		}
		if w > 0 {
			nov[c] = max(s/w, 0)
		}
	}
	return nov
}

func dist2(a, b *[13]float64) float64 {
	var s float64
	for k := range a {
		d := a[k] - b[k]
		s += d * d
	}
	return s
}

// sectionize finds section boundaries and describes the sections.
func sectionize(f *features, a *Analysis) []Section {
	if f.n == 0 || f.duration <= 0 {
		return nil
	}
	bl := max(int(math.Round(frameRate/2)), (f.n+maxBlocks-1)/maxBlocks)
	blockSec := float64(bl) / frameRate
	feat, _ := blockFeatures(f, bl)
	// The level coefficient of timbre measures loudness twice; halve it.
	for i := range feat {
		feat[i][0] *= 0.5
	}
	half := max(2, int(kernelHalf/blockSec))
	nov := novelty(feat, half)
	minGap := int(math.Ceil(minSection / blockSec))
	// Peaks: local maxima over ±minGap/2 above the mean plus half a std.
	var mean, ss float64
	for _, v := range nov {
		mean += v
	}
	mean /= float64(len(nov))
	for _, v := range nov {
		ss += (v - mean) * (v - mean)
	}
	th := mean + 0.25*math.Sqrt(ss/float64(len(nov)))
	type cand struct {
		t, v float64
	}
	var cands []cand
	for i := range nov {
		if nov[i] <= th || nov[i] <= 0 {
			continue
		}
		isMax := true
		for j := max(0, i-minGap/2); j <= min(len(nov)-1, i+minGap/2); j++ {
			if nov[j] > nov[i] {
				isMax = false
				break
			}
		}
		if isMax {
			cands = append(cands, cand{t: (float64(i)) * blockSec, v: nov[i]})
		}
	}
	// Strongest first, keep those far enough from kept ones and the ends.
	slices.SortFunc(cands, func(x, y cand) int {
		switch {
		case x.v > y.v:
			return -1
		case x.v < y.v:
			return 1
		}
		return 0
	})
	var top float64
	if len(cands) > 0 {
		top = cands[0].v
	}
	bounds := []cand{{t: 0, v: top}}
	maxBounds := int(f.duration / minTypicalSection)
	for _, c := range cands {
		if len(bounds) > maxBounds {
			break
		}
		t := snapToBar(c.t, a.Bars)
		if t < minSection || f.duration-t < minSection {
			continue
		}
		ok := true
		for _, b := range bounds {
			if math.Abs(b.t-t) < minSection {
				ok = false
				break
			}
		}
		if ok {
			bounds = append(bounds, cand{t: t, v: c.v})
		}
	}
	slices.SortFunc(bounds, func(x, y cand) int {
		switch {
		case x.t < y.t:
			return -1
		case x.t > y.t:
			return 1
		}
		return 0
	})
	trackLoud := meanLoudness(f, 0, f.n)
	secs := make([]Section, 0, len(bounds))
	for i, b := range bounds {
		end := f.duration
		if i+1 < len(bounds) {
			end = bounds[i+1].t
		}
		fa, fb := beatFrame(b.t, f.n), beatFrame(end, f.n)
		if i+1 == len(bounds) {
			fb = f.n
		}
		s := Section{
			Start:         b.t,
			Duration:      end - b.t,
			Confidence:    1,
			Loudness:      meanLoudness(f, fa, fb),
			Tempo:         tempoWithin(a.Beats, b.t, end, a.Tempo),
			TimeSignature: a.TimeSignature,
		}
		if top > 0 && i > 0 {
			s.Confidence = clamp01(b.v / top)
		}
		s.Key, s.Mode, _, _ = keyOf(chromaSummary(f, fa, fb))
		secs = append(secs, s)
	}
	labelSections(secs, trackLoud)
	return secs
}

// snapToBar moves t to the start of the nearest bar, if any is within 2 s.
func snapToBar(t float64, bars []Quantum) float64 {
	best := t
	bd := 2.0
	for _, b := range bars {
		if d := math.Abs(b.Start - t); d < bd {
			best, bd = b.Start, d
		}
	}
	return best
}

// meanLoudness is the mean power of frames [a, b) in dB.
func meanLoudness(f *features, a, b int) float64 {
	var pw float64
	n := 0
	for t := max(a, 0); t < min(b, f.n); t++ {
		pw += math.Pow(10, float64(f.loud[t])/10)
		n++
	}
	if n == 0 {
		return floorDB
	}
	return dB(pw / float64(n))
}

// tempoWithin is the tempo of the beats inside [a, b), or def.
func tempoWithin(beats []Quantum, a, b, def float64) float64 {
	var ts []float64
	for _, q := range beats {
		if q.Start >= a && q.Start < b {
			ts = append(ts, q.Start)
		}
	}
	if t := fitTempo(ts); len(ts) >= 4 && t > 0 {
		return t
	}
	return def
}

// labelSections names sections by their loudness against the track: a
// quiet first section is the intro, a quiet last one the outro, a quiet
// one between is a breakdown, and a loud section right after a breakdown
// or intro is a drop.
func labelSections(secs []Section, track float64) {
	n := len(secs)
	for i := range secs {
		quiet := secs[i].Loudness < track-sectionDrop
		switch {
		case i == 0 && n > 1 && quiet:
			secs[i].Label = "intro"
		case i == n-1 && n > 1 && quiet:
			secs[i].Label = "outro"
		case quiet && i > 0 && i < n-1:
			secs[i].Label = "breakdown"
		}
	}
	for i := 1; i < n; i++ {
		prev := secs[i-1]
		if secs[i].Label == "" && (prev.Label == "breakdown" || prev.Label == "intro") &&
			secs[i].Loudness >= track-1 && secs[i].Loudness > prev.Loudness+sectionDrop {
			secs[i].Label = "drop"
		}
	}
}

// fades finds where the fade-in ends and the fade-out starts: the first and
// last moments at which the one-second loudness comes within fadeDropDB of
// the track's typical loud level (its 90th percentile).
func fades(f *features) (endIn, startOut float64) {
	if f.n == 0 {
		return 0, f.duration
	}
	bl := max(1, int(math.Round(frameRate/4)))
	_, loud := blockFeatures(f, bl)
	// One-second smoothing, in the power domain.
	w := 2
	st := make([]float64, len(loud))
	for i := range loud {
		var p float64
		k := 0
		for j := max(0, i-w); j <= min(len(loud)-1, i+w); j++ {
			p += math.Pow(10, loud[j]/10)
			k++
		}
		st[i] = dB(p / float64(k))
	}
	ref := quantile(append([]float64(nil), st...), 0.9)
	if ref <= floorDB+1 {
		return 0, f.duration
	}
	th := ref - fadeDropDB
	first, last := -1, -1
	for i, v := range st {
		if v >= th {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, f.duration
	}
	bs := float64(bl) / frameRate
	endIn = float64(first) * bs
	startOut = math.Min(float64(last+1)*bs, f.duration)
	if endIn < 0.5 {
		endIn = 0
	}
	return endIn, math.Max(startOut, endIn)
}
