package order

import (
	"math"
	"slices"
	"strings"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/tsp"
)

// Track is what the order needs to know about a track.
type Track struct {
	// ID identifies the track across calls; IDs must be unique.
	ID string
	// Analysis may be nil: criteria then count the track as middling.
	Analysis *analysis.Analysis
	// Tags are free-form labels (genre, mood, artist) from the source.
	Tags []string
}

// A Criterion measures one aspect of how far apart two tracks sound.
//
// Prepare is given the tracks being ordered and returns the distance
// between tracks[i] and tracks[j]: symmetric, 0 for tracks that are alike,
// about 1 for tracks that are as different as matters, never negative or
// NaN. Prepare is where per-track data (a mean timbre, a position on the
// circle of fifths) is computed once, so that the returned function, called
// many times by the solver, stays cheap.
type Criterion interface {
	Prepare(tracks []Track) func(i, j int) float64
}

// CriterionFunc adapts a plain two-track distance to a Criterion with no
// precomputation.
type CriterionFunc func(a, b *Track) float64

// Prepare returns f over tracks.
func (f CriterionFunc) Prepare(tracks []Track) func(i, j int) float64 {
	return func(i, j int) float64 { return f(&tracks[i], &tracks[j]) }
}

// Term is a weighted criterion of a Metric.
type Term struct {
	Weight    float64
	Criterion Criterion
}

// Metric is the track distance: the weighted sum of its criteria.
type Metric []Term

// DefaultMetric returns the metric forever's radio uses. Its weights rank
// what makes a beat-matched transition work: a tempo the stretcher can
// bridge and a similar sound first, a compatible key next, then level and
// feel. They are starting points to be tuned against package align's match
// Score (see the package documentation).
//
//	Tempo          3    Key        2    Timbre        2    TimbreSpread  0.5
//	Loudness       1    Energy     1    Danceability  0.5  Length        0.25
//	Tags           1
func DefaultMetric() Metric {
	return Metric{
		{3, Tempo{}},
		{2, Key{}},
		{2, Timbre{}},
		{0.5, TimbreSpread{}},
		{1, Loudness{}},
		{1, Energy{}},
		{0.5, Danceability{}},
		{0.25, Length{}},
		{1, Tags{}},
	}
}

// matrixMax is the largest set of tracks Prepare stores as a matrix
// (about 18 MB of distances); larger sets compute distances on demand.
const matrixMax = 1500

// Prepare returns the distance between tracks[i] and tracks[j] for the
// solver.
func (m Metric) Prepare(tracks []Track) tsp.Distance {
	fs := make([]func(i, j int) float64, len(m))
	ws := make([]float64, len(m))
	for k, t := range m {
		fs[k] = t.Criterion.Prepare(tracks)
		ws[k] = t.Weight
	}
	f := func(i, j int) float64 {
		if i == j {
			return 0
		}
		var sum float64
		for k, c := range fs {
			if ws[k] != 0 {
				sum += ws[k] * c(i, j)
			}
		}
		if !(sum >= 0) || math.IsInf(sum, 0) {
			// A criterion misbehaved (NaN, negative): count the pair as
			// far apart rather than poison the solve.
			return totalWeight(ws)
		}
		return sum
	}
	n := len(tracks)
	if n > matrixMax {
		return tsp.DistanceFunc(f)
	}
	mat := tsp.NewMatrix(n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			mat.Set(i, j, f(i, j))
		}
	}
	return mat
}

func totalWeight(ws []float64) float64 {
	var s float64
	for _, w := range ws {
		s += math.Abs(w)
	}
	return s
}

// Between returns the distance between two tracks. It prepares the
// criteria for just these two, so criteria that normalise over the set
// (Timbre, TimbreSpread) see only them; use Prepare to compare many.
func (m Metric) Between(a, b Track) float64 {
	return m.Prepare([]Track{a, b}).Dist(0, 1)
}

// unknown is the distance a criterion reports when a track lacks the data.
const unknown = 0.5

// Tempo compares tempi by their ratio, so that 120 and 126 BPM are as
// close as 60 and 63. A tempo twice or half the other counts as close too,
// since a mix can match every other beat.
type Tempo struct {
	// Tolerance is the ratio at which the distance reaches 1 (default
	// 0.15: tempi 15% apart are as bad as it gets).
	Tolerance float64
	// HalfDouble is added when tracks match only at double or half tempo
	// (default 0.2).
	HalfDouble float64
}

// Prepare implements Criterion.
func (c Tempo) Prepare(tracks []Track) func(i, j int) float64 {
	tol := c.Tolerance
	if tol <= 0 {
		tol = 0.15
	}
	hd := c.HalfDouble
	if hd == 0 {
		hd = 0.2
	}
	scale := math.Log(1 + tol)
	lt := make([]float64, len(tracks))
	for i, t := range tracks {
		lt[i] = math.NaN()
		if a := t.Analysis; a != nil && a.Tempo > 0 && !math.IsInf(a.Tempo, 0) {
			lt[i] = math.Log(a.Tempo)
		}
	}
	return func(i, j int) float64 {
		if math.IsNaN(lt[i]) || math.IsNaN(lt[j]) {
			return unknown
		}
		x := math.Abs(lt[i] - lt[j])
		d := math.Min(1, x/scale)
		if folded := math.Abs(x - math.Ln2); folded < x {
			d = math.Min(d, math.Min(1, folded/scale+hd))
		}
		return d
	}
}

// Key compares keys by their distance on the circle of fifths, counting a
// minor key at the place of its relative major (A minor with C major), so
// the moves DJs call harmonic mixing (same key, a fifth up or down,
// relative major/minor) are the close ones.
type Key struct {
	// ModeChange is added when the modes differ (default 0.1).
	ModeChange float64
}

// Prepare implements Criterion.
func (c Key) Prepare(tracks []Track) func(i, j int) float64 {
	mc := c.ModeChange
	if mc == 0 {
		mc = 0.1
	}
	type keyInfo struct {
		fifths int // position on the circle of fifths, -1 when unknown
		mode   int
		conf   float64
	}
	ks := make([]keyInfo, len(tracks))
	for i, t := range tracks {
		ks[i].fifths = -1
		a := t.Analysis
		if a == nil || a.Key < 0 || a.Key > 11 {
			continue
		}
		major := a.Key
		if a.Mode == 0 {
			major = (a.Key + 3) % 12 // relative major of a minor key
		}
		ks[i] = keyInfo{fifths: major * 7 % 12, mode: a.Mode, conf: a.KeyConfidence}
	}
	return func(i, j int) float64 {
		a, b := ks[i], ks[j]
		if a.fifths < 0 || b.fifths < 0 {
			return unknown
		}
		steps := (a.fifths - b.fifths + 12) % 12
		steps = min(steps, 12-steps)
		d := float64(steps) / 6
		if a.mode != b.mode {
			d = math.Min(1, d+mc)
		}
		// Trust an uncertain key less: blend towards "unknown". An
		// analysis that sets no confidence at all counts as sure.
		if a.conf > 0 && b.conf > 0 {
			w := math.Min(1, math.Min(a.conf, b.conf))
			d = w*d + (1-w)*unknown
		}
		return d
	}
}

// Timbre compares the tracks' mean segment timbre, the 12 Echo Nest-style
// coefficients weighted by segment duration. Each coefficient is
// standardised over the tracks being ordered, so that no coefficient's
// scale dominates; two unrelated tracks are then about 1 apart.
type Timbre struct{}

// Prepare implements Criterion.
func (Timbre) Prepare(tracks []Track) func(i, j int) float64 {
	return standardised(tracks, func(a *analysis.Analysis) ([12]float64, bool) {
		mean, _, ok := timbreStats(a)
		return mean, ok
	})
}

// TimbreSpread compares how much the timbre varies within each track (the
// standard deviation of each coefficient over the segments): a steady
// drone against a busy arrangement.
type TimbreSpread struct{}

// Prepare implements Criterion.
func (TimbreSpread) Prepare(tracks []Track) func(i, j int) float64 {
	return standardised(tracks, func(a *analysis.Analysis) ([12]float64, bool) {
		_, sd, ok := timbreStats(a)
		return sd, ok
	})
}

func timbreStats(a *analysis.Analysis) (mean, sd [12]float64, ok bool) {
	if a == nil {
		return mean, sd, false
	}
	var total float64
	for _, s := range a.Segments {
		w := s.Duration
		if !(w > 0) {
			continue
		}
		total += w
		for k, v := range s.Timbre {
			mean[k] += w * v
		}
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return mean, sd, false
	}
	for k := range mean {
		mean[k] /= total
	}
	for _, s := range a.Segments {
		w := s.Duration
		if !(w > 0) {
			continue
		}
		for k, v := range s.Timbre {
			sd[k] += w * (v - mean[k]) * (v - mean[k])
		}
	}
	for k := range sd {
		sd[k] = math.Sqrt(sd[k] / total)
	}
	for k := range mean {
		if math.IsNaN(mean[k]) || math.IsInf(mean[k], 0) || math.IsNaN(sd[k]) || math.IsInf(sd[k], 0) {
			return mean, sd, false
		}
	}
	return mean, sd, true
}

// standardised z-scores a 12-vector per track over the set and returns the
// Euclidean distance scaled so that unrelated tracks are about 1 apart.
func standardised(tracks []Track, vec func(*analysis.Analysis) ([12]float64, bool)) func(i, j int) float64 {
	n := len(tracks)
	vs := make([][12]float64, n)
	ok := make([]bool, n)
	var mean, sq [12]float64
	m := 0
	for i, t := range tracks {
		vs[i], ok[i] = vec(t.Analysis)
		if !ok[i] {
			continue
		}
		m++
		for k, v := range vs[i] {
			mean[k] += v
		}
	}
	if m > 0 {
		for k := range mean {
			mean[k] /= float64(m)
		}
		for i := range vs {
			if ok[i] {
				for k, v := range vs[i] {
					sq[k] += (v - mean[k]) * (v - mean[k])
				}
			}
		}
	}
	for k := range sq {
		sd := math.Sqrt(sq[k] / math.Max(1, float64(m)))
		if !(sd > 1e-9) {
			sd = 1 // constant over the set: the coefficient cannot separate tracks
		}
		for i := range vs {
			vs[i][k] = (vs[i][k] - mean[k]) / sd
		}
	}
	// Two independent standardised 12-vectors are about sqrt(24) apart.
	norm := 1 / math.Sqrt(24)
	return func(i, j int) float64 {
		if !ok[i] || !ok[j] {
			return unknown
		}
		var s float64
		for k := range vs[i] {
			d := vs[i][k] - vs[j][k]
			s += d * d
		}
		return math.Sqrt(s) * norm
	}
}

// Loudness compares integrated loudness: tracks Scale dB apart (default 6)
// or more are at distance 1.
type Loudness struct{ Scale float64 }

// Prepare implements Criterion.
func (c Loudness) Prepare(tracks []Track) func(i, j int) float64 {
	scale := c.Scale
	if scale <= 0 {
		scale = 6
	}
	return scalar(tracks, func(a *analysis.Analysis) float64 { return a.Loudness }, func(x, y float64) float64 {
		return math.Min(1, math.Abs(x-y)/scale)
	})
}

// Energy compares the analyses' Energy (0 to 1).
type Energy struct{}

// Prepare implements Criterion.
func (Energy) Prepare(tracks []Track) func(i, j int) float64 {
	return scalar(tracks, func(a *analysis.Analysis) float64 { return a.Energy }, absDiff)
}

// Danceability compares the analyses' Danceability (0 to 1).
type Danceability struct{}

// Prepare implements Criterion.
func (Danceability) Prepare(tracks []Track) func(i, j int) float64 {
	return scalar(tracks, func(a *analysis.Analysis) float64 { return a.Danceability }, absDiff)
}

// Length compares durations by their ratio: a track four times as long as
// the other is at distance 1. It keeps long mixes from alternating with
// short songs.
type Length struct{}

// Prepare implements Criterion.
func (Length) Prepare(tracks []Track) func(i, j int) float64 {
	return scalar(tracks, func(a *analysis.Analysis) float64 {
		if a.Duration <= 0 {
			return math.NaN()
		}
		return math.Log2(a.Duration)
	}, func(x, y float64) float64 { return math.Min(1, math.Abs(x-y)/2) })
}

func absDiff(x, y float64) float64 { return math.Min(1, math.Abs(x-y)) }

// scalar prepares a criterion on one number per analysis; NaN, infinite
// or missing values count as unknown.
func scalar(tracks []Track, get func(*analysis.Analysis) float64, dist func(x, y float64) float64) func(i, j int) float64 {
	vs := make([]float64, len(tracks))
	for i, t := range tracks {
		vs[i] = math.NaN()
		if t.Analysis != nil {
			if v := get(t.Analysis); !math.IsInf(v, 0) {
				vs[i] = v
			}
		}
	}
	return func(i, j int) float64 {
		if math.IsNaN(vs[i]) || math.IsNaN(vs[j]) {
			return unknown
		}
		return dist(vs[i], vs[j])
	}
}

// Tags compares tag sets by Jaccard distance (1 - shared/all), ignoring
// case. Tracks without tags are at the middling distance 0.5.
type Tags struct{}

// Prepare implements Criterion.
func (Tags) Prepare(tracks []Track) func(i, j int) float64 {
	ids := map[string]int32{}
	sets := make([][]int32, len(tracks))
	for i, t := range tracks {
		for _, tag := range t.Tags {
			key := foldTag(tag)
			if key == "" {
				continue
			}
			id, ok := ids[key]
			if !ok {
				id = int32(len(ids))
				ids[key] = id
			}
			sets[i] = append(sets[i], id)
		}
		slices.Sort(sets[i])
		sets[i] = slices.Compact(sets[i])
	}
	return func(i, j int) float64 {
		a, b := sets[i], sets[j]
		if len(a) == 0 || len(b) == 0 {
			return unknown
		}
		shared := 0
		for x, y := 0, 0; x < len(a) && y < len(b); {
			switch {
			case a[x] == b[y]:
				shared++
				x++
				y++
			case a[x] < b[y]:
				x++
			default:
				y++
			}
		}
		return 1 - float64(shared)/float64(len(a)+len(b)-shared)
	}
}

func foldTag(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
