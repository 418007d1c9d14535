package mix

import (
	"fmt"
	"iter"
	"math"
	"sort"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// Camelot returns a key's place on the Camelot wheel (the circle of fifths
// as DJs number it): 1-12, and 'A' for minor or 'B' for major; 0 and 0 for
// a key out of range.
func Camelot(key, mode int) (int, byte) {
	if key < 0 || key > 11 {
		return 0, 0
	}
	if mode == 1 {
		return (7*key+7)%12 + 1, 'B' // C major is 8B
	}
	return (7*key+4)%12 + 1, 'A' // A minor is 8A
}

// KeysClash reports whether two keys are far apart on the Camelot wheel:
// neither the same key, its relative major or minor, nor a fifth up or down
// in the same mode. Keys out of range never clash.
func KeysClash(key1, mode1, key2, mode2 int) bool {
	n1, m1 := Camelot(key1, mode1)
	n2, m2 := Camelot(key2, mode2)
	if n1 == 0 || n2 == 0 {
		return false
	}
	d := (n1 - n2 + 12) % 12
	d = min(d, 12-d)
	if m1 == m2 {
		return d > 1
	}
	return d != 0
}

// Pair is what a style is chosen from: the two analyses, their phrase
// structures and what the mixer made of the pair.
type Pair struct {
	Out, In               *analysis.Analysis
	OutPhrases, InPhrases align.Structure
	// Matched says the pair is beat-matched (a Crossmatch); otherwise it is
	// a crossfade, too far apart to stretch or without an alignment.
	Matched bool
	// Score is the alignment's score (see align.Match) when Matched.
	Score float64
}

// Choice is a chosen style and why.
type Choice struct {
	Kind   StyleKind `json:"kind"`
	Reason string    `json:"reason"`
}

// Thresholds of Choose: a beat grid or a key below these confidences is not
// relied on.
const (
	minGridConfidence = 0.4
	minKeyConfidence  = 0.5
	minBlendScore     = 0.5
)

// Choose picks a style for a pair, as a DJ would: an EQ blend for a
// beat-matched pair in compatible keys with sure grids; a short swap on the
// one when the keys clash (two harmonies together for long sound wrong) or
// the alignment or a grid is less sure (less overlap to drift in); for
// pairs not beat-matched, an echo-out when the outgoing track's beat is
// sure, else a filter-out.
func Choose(p Pair) Choice {
	gridOf := func(a *analysis.Analysis) float64 {
		if a == nil {
			return 0
		}
		return math.Min(a.TempoConfidence, meanConfidence(a.Bars))
	}
	go1, go2 := gridOf(p.Out), gridOf(p.In)
	if !p.Matched {
		if go1 >= minGridConfidence {
			return Choice{StyleEchoOut, fmt.Sprintf("not beat-matched; the outgoing beat is sure (grid confidence %.2f): echo out on its one", go1)}
		}
		return Choice{StyleFilterOut, fmt.Sprintf("not beat-matched and the outgoing beat is unsure (grid confidence %.2f): filter out", go1)}
	}
	if p.Out != nil && p.In != nil && p.Out.KeyConfidence >= minKeyConfidence && p.In.KeyConfidence >= minKeyConfidence &&
		KeysClash(p.Out.Key, p.Out.Mode, p.In.Key, p.In.Mode) {
		n1, m1 := Camelot(p.Out.Key, p.Out.Mode)
		n2, m2 := Camelot(p.In.Key, p.In.Mode)
		return Choice{StyleSwap, fmt.Sprintf("keys clash (%d%c against %d%c): a short swap with the incoming mids down", n1, m1, n2, m2)}
	}
	if min(go1, go2) < minGridConfidence || p.Score < minBlendScore {
		return Choice{StyleSwap, fmt.Sprintf("alignment score %.2f, grid confidences %.2f and %.2f: a short swap on the one", p.Score, go1, go2)}
	}
	return Choice{StyleBlend, fmt.Sprintf("beat-matched (score %.2f), keys compatible, grids sure: a long EQ blend, basses swapped at the switch", p.Score)}
}

func meanConfidence(q []analysis.Quantum) float64 {
	if len(q) == 0 {
		return 0
	}
	var s float64
	for _, x := range q {
		s += x.Confidence
	}
	return s / float64(len(q))
}

// WithStyles returns actions with every Crossmatch and Crossfade rendered in
// the style Choose picks for its pair (see Styled), its switch on a bar line
// of the incoming track, preferring its phrase boundaries, near the middle
// of the overlap. Other actions pass unchanged, and so does a transition
// that cannot be styled (tracks without bars).
func WithStyles(actions iter.Seq[Action]) iter.Seq[Action] {
	return func(yield func(Action) bool) {
		for a := range actions {
			if s, ok := StyleFor(a); ok {
				if b, err := Styled(a, s); err == nil {
					a = b
				}
			}
			if !yield(a) {
				return
			}
		}
	}
}

// StyleFor plans the style of transition a, a Crossmatch or a Crossfade of
// this package, from its tracks' analyses: the kind from Choose, the switch
// on a bar line of the incoming track.
func StyleFor(a Action) (Style, bool) {
	info := a.Info()
	if len(info.Tracks) != 2 {
		return Style{}, false
	}
	out, in := info.Tracks[0].Track, info.Tracks[1].Track
	if out == nil || in == nil || out.Analysis == nil || in.Analysis == nil || len(in.Analysis.Bars) == 0 {
		return Style{}, false
	}
	p := Pair{
		Out: out.Analysis, In: in.Analysis,
		OutPhrases: align.Phrases(out.Analysis), InPhrases: align.Phrases(in.Analysis),
	}
	n := a.Len()
	// toIn maps an output frame of the overlap to the incoming track's own
	// frame; for a crossmatch, through its grid.
	var toIn func(int) int
	var outBeat int
	switch x := a.(type) {
	case *crossmatch:
		p.Matched = true
		if info.Match != nil {
			p.Score = info.Match.Score
		}
		toIn = func(f int) int { return lookup(x.grid, x.beats[1], f) }
		outBeat = x.grid[1] - x.grid[0]
	case *crossfade:
		i0 := info.Tracks[1].StartFrame
		toIn = func(f int) int { return i0 + f }
		outBeat = audio.FrameAt(60 / max(out.Analysis.Tempo, 40))
	default:
		return Style{}, false
	}
	c := Choose(p)
	bar := audio.FrameAt(4 * 60 / max(in.Analysis.Tempo, 40))
	if b := in.Analysis.Bars; len(b) > 1 {
		bar = audio.FrameAt(b[len(b)/2].Duration)
	}
	var s Style
	switch c.Kind {
	case StyleBlend:
		s = Blend(n, switchAt(in.Analysis, p.InPhrases, toIn, n, n/2), bar)
	case StyleSwap:
		// The swap takes the last two bars before a bar line past the
		// middle; the rest of the overlap is the outgoing track alone.
		sw := switchAt(in.Analysis, p.InPhrases, toIn, n, n/2)
		s = Swap(n, sw, bar)
		s.In.Gain = Automation{{0, Closed}, {max(sw-2*bar, 0), Closed}, {max(sw-2*bar+bar/4, 1), 0}}
		s.In.Low = Ramp(sw-bar/8, sw, EQKill, 0)
		s.In.Mid = Ramp(sw-bar/4, sw, -9, 0)
	case StyleEchoOut:
		sw := switchAt(in.Analysis, p.InPhrases, toIn, n, n/4)
		s = EchoOut(n, sw, outBeat)
	case StyleFilterOut:
		s = FilterOut(n, bar)
	}
	s.Reason = c.Reason
	s.Phrases = &PairPhrases{Out: p.OutPhrases, In: p.InPhrases}
	return s, true
}

// lookup maps output frame f through a grid (output frames) onto anchors
// (a track's frames), linearly between grid points.
func lookup(grid, anchors []int, f int) int {
	i := sort.SearchInts(grid, f+1) - 1
	i = min(max(i, 0), len(grid)-2)
	g0, g1 := grid[i], grid[i+1]
	return anchors[i] + int(math.Round(float64(f-g0)/float64(g1-g0)*float64(anchors[i+1]-anchors[i])))
}

// switchAt returns the output frame of the overlap of n frames, near want,
// where a bar of the incoming track a starts: in the middle half, a phrase
// boundary of its structure (where the music changes) before a line of its
// 8-, 16- or 32-bar grid, else the bar line nearest want.
func switchAt(a *analysis.Analysis, s align.Structure, toIn func(int) int, n, want int) int {
	best, bestCost := want, math.Inf(1)
	// Output frames are found by walking the overlap in steps of 1/8 beat
	// and noting where the incoming track crosses a bar start.
	step := max(audio.FrameAt(60/max(a.Tempo, 40))/8, 1)
	bi := 0
	for f := step; f < n-step; f += step {
		t0, t1 := toIn(f-step), toIn(f)
		for bi < len(a.Bars) && audio.FrameAt(a.Bars[bi].Start) < t0 {
			bi++
		}
		if bi >= len(a.Bars) {
			break
		}
		bs := audio.FrameAt(a.Bars[bi].Start)
		if bs >= t1 {
			continue
		}
		// Bar bi starts between f-step and f.
		at := f - step + (bs-t0)*step/max(t1-t0, 1)
		cost := math.Abs(float64(at-want)) / float64(n)
		if l := s.Level(bi); l >= 8 && at > n/4 && at < 3*n/4 {
			cost -= float64(l) / 8
			if s.Boundary(bi) {
				cost-- // the music changes here: the best place of all
			}
		}
		if cost < bestCost {
			best, bestCost = at, cost
		}
	}
	return best
}
