package analysis

import "math"

// Krumhansl and Kessler's key profiles: how well each pitch class fits a
// major or minor key, from listening experiments, starting at the tonic.
var (
	majorProfile = [12]float64{6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88}
	minorProfile = [12]float64{6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17}
)

// keyOf correlates a chroma summary with the 24 rotated key profiles and
// returns the best key (0 = C), mode (1 major, 0 minor), a key confidence
// (the correlation of the winner, clipped to [0, 1], scaled by how clearly it
// beats the runner-up that is not its relative key) and a mode confidence
// (how clearly the best key of the chosen mode beats the best of the other).
func keyOf(chroma [12]float64) (key, mode int, keyConf, modeConf float64) {
	var total float64
	for _, v := range chroma {
		total += v
	}
	if !(total > 0) {
		return 0, 1, 0, 0
	}
	var corr [2][12]float64
	best, bestMode, bestKey := math.Inf(-1), 1, 0
	for m, prof := range [2]*[12]float64{&minorProfile, &majorProfile} {
		for k := range 12 {
			var rot [12]float64
			for i := range 12 {
				rot[i] = prof[(i-k+12)%12]
			}
			c := pearson(chroma[:], rot[:])
			corr[m][k] = c
			if c > best {
				best, bestMode, bestKey = c, m, k
			}
		}
	}
	// The relative key shares its notes, so it is no real rival for the
	// key confidence; it is for the mode confidence.
	rel := (bestKey + 9) % 12 // relative minor of a major key
	if bestMode == 0 {
		rel = (bestKey + 3) % 12
	}
	second := math.Inf(-1)
	otherMode := math.Inf(-1)
	for m := range 2 {
		for k := range 12 {
			c := corr[m][k]
			if m != bestMode {
				otherMode = max(otherMode, c)
			}
			if (m == bestMode && k == bestKey) || (m != bestMode && k == rel) {
				continue
			}
			second = max(second, c)
		}
	}
	keyConf = clamp01(best) * clamp01((best-second)/0.15)
	modeConf = clamp01((best - otherMode) / 0.1)
	return bestKey, bestMode, keyConf, modeConf
}

func pearson(a, b []float64) float64 {
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= n
	mb /= n
	var ab, aa, bb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		ab += da * db
		aa += da * da
		bb += db * db
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// chromaSummary sums the chroma of frames [a, b), each frame normalised to
// unit sum so that loud passages do not outvote the rest, skipping
// near-silent frames.
func chromaSummary(f *features, a, b int) (out [12]float64) {
	for t := max(a, 0); t < min(b, f.n); t++ {
		if f.loud[t] < -60 {
			continue
		}
		row := f.chroma[t*12 : (t+1)*12]
		var s float64
		for _, v := range row {
			s += float64(v)
		}
		if s <= 0 {
			continue
		}
		for k, v := range row {
			out[k] += float64(v) / s
		}
	}
	return out
}
