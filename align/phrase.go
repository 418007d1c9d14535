package align

import (
	"math"
	"slices"

	"github.com/foreverfm/forever/analysis"
)

// Label names what a phrase does in its track, as a DJ reads it.
type Label string

const (
	// Intro: the quieter phrases before the track first plays at full level.
	Intro Label = "intro"
	// Drop: a phrase at full level right after an intro or a breakdown.
	Drop Label = "drop"
	// Body: the other phrases at full level.
	Body Label = "body"
	// Breakdown: a quieter phrase between two at full level.
	Breakdown Label = "breakdown"
	// Outro: the quieter phrases after the track last plays at full level.
	Outro Label = "outro"
)

// Phrase is a run of bars that belong together: between two places where
// the music changes (in timbre, loudness or harmony), on the track's grid of
// 4-bar units.
type Phrase struct {
	// Bar is the index in the analysis's Bars of its first bar, and Bars
	// how many bars it has.
	Bar   int     `json:"bar"`
	Bars  int     `json:"bars"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Label Label   `json:"label"`
	// Level is its loudness in dB against the track's full level (0 at
	// full level, negative quieter).
	Level float64 `json:"level_db"`
	// Novelty is how much the music changes where it starts, against the
	// track's typical change from bar to bar (about 1 for no change).
	Novelty float64 `json:"novelty"`
}

// Structure is a track's phrase structure.
type Structure struct {
	// Phrases cover the bars in order; nil when the track has too few
	// bars or no bars to go by.
	Phrases []Phrase `json:"phrases"`
	// Phase is the bar (0-3) on which the track's 4-bar grid starts: bar b
	// starts a unit when (b-Phase) is a multiple of 4. Phrase boundaries
	// sit on the grid, except the first phrase's start, which is bar 0.
	Phase int `json:"phase"`
	// Confidence in [0, 1]: how clearly the changes of the music fall on
	// the grid, times the confidence of the bars themselves.
	Confidence float64 `json:"confidence"`
}

// Phrase lengths: a phrase is a multiple of the unit; Level reports a
// bar's place on the grid in these.
const (
	unitBars   = 4
	maxLevel   = 32
	minBars    = 2 * unitBars // fewer bars than this: no structure
	quietDB    = 3.0          // this far under full level is quieter
	noveltyMin = 1.6          // a change this much over typical starts a phrase
)

// Phrases finds the phrase structure of a from novelty between its bars:
// each bar is described by its mean timbre, its loudness and its harmony
// (chroma), each normalised over the track; the novelty at a bar line is how
// far the four (and eight) bars after it are from those before it. The 4-bar
// grid is placed where the novelty concentrates, phrases start at its
// strongest changes, and each is labelled from its loudness against the
// track's full level. It reads only the analysis's bars and segments.
func Phrases(a *analysis.Analysis) Structure {
	bars := a.Bars
	n := len(bars)
	if n < minBars {
		return Structure{}
	}
	feat, loud := barFeatures(a)
	nov := barNovelty(feat)

	// The phase of the 8-bar grid that collects the most novelty; the
	// 4-bar grid is the same modulo 4.
	var score [2 * unitBars]float64
	var count [2 * unitBars]int
	for b := 1; b < n; b++ {
		score[b%len(score)] += nov[b]
		count[b%len(score)]++
	}
	best, total := 0, 0.0
	for p := range score {
		if count[p] > 0 {
			score[p] /= float64(count[p])
		}
		total += score[p]
		if score[p] > score[best] {
			best = p
		}
	}
	phase := best % unitBars
	mean := total / float64(len(score))

	// Typical novelty: the median over all bar lines.
	typ := median(nov[1:])
	if typ <= 0 {
		typ = 1
	}
	// Boundaries: grid lines whose novelty stands out and is the largest of
	// its neighbouring grid lines.
	cuts := []int{0}
	for b := phase; b < n; b += unitBars {
		if b < unitBars/2 || n-b < unitBars/2 {
			continue
		}
		v := nov[b] / typ
		prev, next := 0.0, 0.0
		if b-unitBars >= 1 {
			prev = nov[b-unitBars] / typ
		}
		if b+unitBars < n {
			next = nov[b+unitBars] / typ
		}
		if v >= noveltyMin && v >= prev && v > next {
			cuts = append(cuts, b)
		}
	}
	cuts = append(cuts, n)

	// Full level: loud bars, ignoring the quietest half-hearted ones.
	sorted := slices.Clone(loud)
	slices.Sort(sorted)
	full := sorted[int(0.8*float64(n-1))]

	s := Structure{Phase: phase}
	for i := 0; i+1 < len(cuts); i++ {
		b0, b1 := cuts[i], cuts[i+1]
		var lv float64
		for b := b0; b < b1; b++ {
			lv += math.Pow(10, (loud[b]-full)/10)
		}
		p := Phrase{
			Bar: b0, Bars: b1 - b0,
			Start: bars[b0].Start, End: bars[b1-1].End(),
			Level:   10 * math.Log10(max(lv/float64(b1-b0), 1e-10)),
			Novelty: nov[b0] / typ,
		}
		if b0 == 0 {
			p.Novelty = 0
		}
		s.Phrases = append(s.Phrases, p)
	}
	label(s.Phrases)

	// Confidence: the share of the grid's novelty over the other phases',
	// times the bars' own confidence.
	var clarity float64
	if mean > 0 {
		clarity = clamp(2*(score[best]/mean-1), 0, 1)
	}
	s.Confidence = clarity * barConfidence(bars)
	return s
}

// label names the phrases from their levels.
func label(ps []Phrase) {
	first, last := -1, -1
	for i, p := range ps {
		if p.Level > -quietDB {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := range ps {
		p := &ps[i]
		quiet := p.Level <= -quietDB
		switch {
		case first < 0:
			p.Label = Body
		case i < first:
			p.Label = Intro
		case i > last:
			p.Label = Outro
		case quiet:
			p.Label = Breakdown
		case i > 0 && ps[i-1].Level <= -quietDB:
			p.Label = Drop
		default:
			p.Label = Body
		}
	}
}

// Level reports bar b's place on the grid: 32, 16, 8 or 4 when b starts a
// unit of that many bars (counted from the grid's phase), 0 when it starts
// none. A phrase boundary reports at least 8.
func (s Structure) Level(b int) int {
	if s.Boundary(b) {
		return max(s.gridLevel(b), 8)
	}
	return s.gridLevel(b)
}

func (s Structure) gridLevel(b int) int {
	d := b - s.Phase
	if d < 0 || d%unitBars != 0 {
		return 0
	}
	l := unitBars
	for l < maxLevel && d%(2*l) == 0 {
		l *= 2
	}
	return l
}

// Boundary reports whether a phrase other than the first starts at bar b:
// where the music changes, not only a line of the grid.
func (s Structure) Boundary(b int) bool {
	for _, p := range s.Phrases {
		if p.Bar == b && b > 0 {
			return true
		}
	}
	return false
}

// At returns the index of the phrase holding bar b, or -1.
func (s Structure) At(b int) int {
	for i, p := range s.Phrases {
		if b >= p.Bar && b < p.Bar+p.Bars {
			return i
		}
	}
	return -1
}

// First returns the index of the first phrase labelled l, or -1.
func (s Structure) First(l Label) int {
	for i, p := range s.Phrases {
		if p.Label == l {
			return i
		}
	}
	return -1
}

// Last returns the index of the last phrase labelled l, or -1.
func (s Structure) Last(l Label) int {
	for i := len(s.Phrases) - 1; i >= 0; i-- {
		if s.Phrases[i].Label == l {
			return i
		}
	}
	return -1
}

// barFeatures describes every bar: 12 timbre values, 12 chroma values and
// the loudness, each column normalised to zero mean and unit variance over
// the track. loud is the bar's loudness in dB.
func barFeatures(a *analysis.Analysis) (feat [][]float64, loud []float64) {
	const cols = 25
	n := len(a.Bars)
	feat = make([][]float64, n)
	loud = make([]float64, n)
	var buf []float64
	for b, q := range a.Bars {
		buf = a.Features(q, true, buf)
		row := make([]float64, cols)
		copy(row, buf)
		var w, l float64
		for _, sg := range a.Overlapping(q) {
			d := min(sg.End(), q.End()) - max(sg.Start, q.Start)
			if d > 0 {
				w += d
				l += d * math.Pow(10, sg.LoudnessMax/10)
			}
		}
		loud[b] = -60
		if w > 0 && l > 0 {
			loud[b] = max(10*math.Log10(l/w), -60)
		}
		row[24] = loud[b]
		feat[b] = row
	}
	for c := 0; c < cols; c++ {
		var m, v float64
		for b := range feat {
			m += feat[b][c]
		}
		m /= float64(n)
		for b := range feat {
			d := feat[b][c] - m
			v += d * d
		}
		sd := math.Sqrt(v / float64(n))
		for b := range feat {
			if sd > 1e-9 {
				feat[b][c] = (feat[b][c] - m) / sd
			} else {
				feat[b][c] = 0
			}
		}
	}
	return feat, loud
}

// barNovelty returns, for each bar line b (the start of bar b), how far the
// w bars after it are from the w bars before it, for w of 4 and 8 bars where
// the track has them (fewer at its ends), averaged. The distance is, per
// feature, the squared difference of the means over its spread within the
// two runs (a t statistic): a feature that wanders from bar to bar (timbre
// of noisy drums) weighs little, one that holds and then moves (a chord, a
// level) weighs much. The features are averaged in three groups (timbre,
// chroma, loudness) that count alike. nov[0] is 0.
func barNovelty(feat [][]float64) []float64 {
	n := len(feat)
	nov := make([]float64, n)
	if n == 0 {
		return nov
	}
	cols := len(feat[0])
	// Prefix sums per column, of values and of squares.
	cum := make([][]float64, n+1)
	sq := make([][]float64, n+1)
	cum[0], sq[0] = make([]float64, cols), make([]float64, cols)
	for b := 0; b < n; b++ {
		cum[b+1], sq[b+1] = make([]float64, cols), make([]float64, cols)
		for c := 0; c < cols; c++ {
			cum[b+1][c] = cum[b][c] + feat[b][c]
			sq[b+1][c] = sq[b][c] + feat[b][c]*feat[b][c]
		}
	}
	group := func(c int) int { return min(c/12, 2) } // timbre, chroma, loudness
	for b := 1; b < n; b++ {
		var sum float64
		var k int
		for _, w := range []int{4, 8} {
			lo, hi := max(b-w, 0), min(b+w, n)
			if b-lo < 2 || hi-b < 2 {
				continue
			}
			var g [3]float64
			var gn [3]int
			for c := 0; c < cols; c++ {
				nb, na := float64(b-lo), float64(hi-b)
				mb := (cum[b][c] - cum[lo][c]) / nb
				ma := (cum[hi][c] - cum[b][c]) / na
				vb := max((sq[b][c]-sq[lo][c])/nb-mb*mb, 0)
				va := max((sq[hi][c]-sq[b][c])/na-ma*ma, 0)
				// The features have unit variance over the track; the
				// floor keeps a feature that never moves within a run
				// from counting without bound.
				t := (ma - mb) * (ma - mb) / (vb/nb + va/na + 0.01)
				g[group(c)] += t
				gn[group(c)]++
			}
			var d float64
			for i := range g {
				if gn[i] > 0 {
					d += math.Sqrt(g[i]/float64(gn[i])) / 3
				}
			}
			sum += d
			k++
		}
		if k > 0 {
			nov[b] = sum / float64(k)
		}
	}
	return nov
}

func barConfidence(bars []analysis.Quantum) float64 {
	var s float64
	for _, q := range bars {
		s += q.Confidence
	}
	return clamp(s/float64(len(bars)), 0, 1)
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }
