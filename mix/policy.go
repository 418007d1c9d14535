package mix

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// A Policy decides how the playing track hands over to the next: the style
// of the transition, where the outgoing track leaves and the incoming one
// enters, and for how long. The Mixer asks it once per pair, in order, from
// the goroutine ranging over Mixer.Actions, after running the alignment
// search, so a Policy needs no locking of its own and never sees audio it
// has not been given.
//
// DefaultPolicy is the Mixer's own; a Policy of one's own can wrap it
// (decide some pairs, leave the rest to it) or replace it.
type Policy interface {
	Plan(h Handover) Transition
}

// PolicyFunc adapts a function to a Policy.
type PolicyFunc func(Handover) Transition

// Plan calls f(h).
func (f PolicyFunc) Plan(h Handover) Transition { return f(h) }

// Handover is what a Policy decides from. Frames are the tracks' own, at
// audio.SampleRate.
type Handover struct {
	Out, In *Track
	// From is Out's first frame not yet planned: the transition starts at
	// or after it. To is the frame of Out by which the transition should
	// be over: its start of fade-out, or earlier with Options.MaxStay.
	From, To int
	// OutGain and InGain are the loudness corrections, in dB, of the two
	// tracks (see LoudnessGain).
	OutGain, InGain float64
	// Rate is the quanta the alignment was searched on.
	Rate align.Rate
	// Match is the overlap align.Find found for the transition, and
	// MatchErr why it found none (then Match is zero).
	Match    align.Match
	MatchErr error
	// Transition is the Mixer's wanted length of a transition
	// (Options.Transition).
	Transition time.Duration
}

// Transition is a Policy's decision.
type Transition struct {
	// Kind is the style: KindCrossmatch overlaps Match beat by beat,
	// KindCrossfade crossfades Frames frames from Start in Out into Entry
	// in In. For any other style set Action.
	Kind Kind
	// Start is the frame of Out where the transition starts: Out plays on
	// its own up to it. It must not be before Handover.From. For a
	// crossmatch it is Match.Out[0]'s start.
	Start int
	// Entry is the frame of In where it enters, Frames the crossfade's
	// length.
	Entry, Frames int
	// Match is the overlap of a crossmatch; usually Handover.Match, but a
	// Policy may run a search of its own.
	Match align.Match
	// Action, when not nil, is the transition itself, of any Kind,
	// replacing the built-in ones: it starts at Start of Out and In plays
	// on from frame Resume after it. Build it from the package's actions
	// (Crossfade, Overlay, Fade, ...) or from one's own.
	Action Action
	Resume int
	// Reason says why this style was chosen; it shows in the action's
	// Info and the plan.
	Reason string
}

// DefaultPolicy is the Mixer's policy, Forever.fm's: a Crossmatch when the
// alignment is long, good and close enough in tempo (see Check), else a
// short equal-power Crossfade from the end of the outgoing track's body
// into the incoming track's first central beat. The zero value uses the
// defaults.
type DefaultPolicy struct {
	// MinOverlap is the shortest overlap worth a Crossmatch; default 3 s.
	MinOverlap time.Duration
	// MinCandidates is the fewest entry points the alignment must have
	// compared for a Crossmatch; default 4.
	MinCandidates int
	// MinScore is the lowest alignment score (see align.Match) worth a
	// Crossmatch; default 0.25.
	MinScore float64
	// MaxStretch is the largest tempo change a Crossmatch may make, as a
	// fraction (see CheckStretch). Past it the glide is heard as
	// stretching, and a DJ would crossfade instead. Default 0.15, about
	// what a turntable's pitch fader allows; negative for no limit.
	MaxStretch float64
	// Crossfade is the length of the fallback crossfade; default 3 s.
	Crossfade time.Duration
}

// The defaults of DefaultPolicy.
const (
	DefaultMinOverlap    = 3 * time.Second
	DefaultMinCandidates = 4
	DefaultMinScore      = 0.25
	DefaultMaxStretch    = 0.15
	DefaultCrossfade     = 3 * time.Second
)

func (p DefaultPolicy) withDefaults() DefaultPolicy {
	if p.MinOverlap <= 0 {
		p.MinOverlap = DefaultMinOverlap
	}
	if p.MinCandidates <= 0 {
		p.MinCandidates = DefaultMinCandidates
	}
	if p.MinScore == 0 {
		p.MinScore = DefaultMinScore
	}
	if p.MaxStretch == 0 {
		p.MaxStretch = DefaultMaxStretch
	}
	if p.Crossfade <= 0 {
		p.Crossfade = DefaultCrossfade
	}
	return p
}

// Check reports why m should not be crossmatched under p, or nil: an
// overlap shorter than MinOverlap, fewer than MinCandidates entries
// compared, a score below MinScore (CheckScore), or a tempo change past
// MaxStretch (CheckStretch). Call it on a Match of one's own before
// building a Crossmatch from it by hand.
func (p DefaultPolicy) Check(m align.Match) error {
	p = p.withDefaults()
	if len(m.Out) == 0 || len(m.In) != len(m.Out) {
		return fmt.Errorf("mix: a match of %d and %d quanta", len(m.Out), len(m.In))
	}
	if d := m.Out[len(m.Out)-1].End() - m.Out[0].Start; d < p.MinOverlap.Seconds() {
		return fmt.Errorf("overlap of %.1fs, below %v", d, p.MinOverlap)
	}
	if m.Candidates < p.MinCandidates {
		return fmt.Errorf("%d candidates, below %d", m.Candidates, p.MinCandidates)
	}
	if err := CheckScore(m, p.MinScore); err != nil {
		return err
	}
	return CheckStretch(m, p.MaxStretch)
}

// CheckScore reports an error when m's alignment score is below min.
func CheckScore(m align.Match, min float64) error {
	if m.Score < min {
		return fmt.Errorf("score %.2f, below %.2f", m.Score, min)
	}
	return nil
}

// CheckStretch reports an error when crossmatching m would change the
// tempo by more than the fraction limit: the two sides' quantum rates
// (after align.Find's doubling of a slower track) must be within a factor
// of 1 + limit of each other. A negative limit allows any change.
func CheckStretch(m align.Match, limit float64) error {
	from, to := QuantumTempo(m.Out), QuantumTempo(m.In)
	if limit < 0 {
		return nil
	}
	if from <= 0 || to <= 0 || math.Abs(math.Log(to/from)) > math.Log1p(limit) {
		return fmt.Errorf("tempo %.1f to %.1f is too far to stretch (limit %.0f%%)", from, to, 100*limit)
	}
	return nil
}

// LoudnessGain is the Mixer's gain rule: the correction in dB that brings a
// track measured at a's integrated loudness to target LUFS, bounded to
// ±maxGain. An unmeasured loudness (NaN, or 0 LUFS and above, which no
// track has) gets none.
func LoudnessGain(a *analysis.Analysis, target, maxGain float64) float64 {
	if a == nil {
		return 0
	}
	l := a.Loudness
	if l >= 0 || math.IsNaN(l) {
		return 0
	}
	return min(max(target-l, -maxGain), maxGain)
}

// QuantumTempo reports the rate of quanta q per minute: the tempo a
// listener hears a transition start or end at, twice the track's own for a
// doubled one.
func QuantumTempo(q []analysis.Quantum) float64 {
	d := align.MeanDuration(q)
	if d <= 0 {
		return 0
	}
	return 60 / d
}

// Plan crossmatches h.Match when Check accepts it, else crossfades.
func (p DefaultPolicy) Plan(h Handover) Transition {
	p = p.withDefaults()
	err := h.MatchErr
	if err == nil {
		err = p.Check(h.Match)
	}
	if err == nil {
		m := h.Match
		return Transition{
			Kind: KindCrossmatch, Start: audio.FrameAt(m.Out[0].Start), Match: m,
			Reason: fmt.Sprintf("score %.2f over %d %s, tempo %.1f to %.1f", m.Score, len(m.Out), h.Rate, QuantumTempo(m.Out), QuantumTempo(m.In)),
		}
	}
	t := p.Fallback(h)
	t.Reason = err.Error()
	return t
}

// Fallback is DefaultPolicy's crossfade: Crossfade long, ending at h.To
// (started on the outgoing beat nearest to where it should), into the
// incoming track's first central quantum.
func (p DefaultPolicy) Fallback(h Handover) Transition {
	p = p.withDefaults()
	n := seconds(p.Crossfade)
	pos := h.From
	end := max(h.To, pos)
	start := max(end-n, pos)
	if a := h.Out.Analysis; a != nil {
		if q := h.Rate.Quanta(a); len(q) > 0 {
			i := align.At(q, float64(start)/audio.SampleRate)
			if s := audio.FrameAt(q[i].Start); s >= pos && s <= audio.FrameAt(a.StartOfFadeOut) {
				start = s
			}
		}
	}
	entry := 0
	if b := h.In.Analysis; b != nil {
		entry = audio.FrameAt(b.EndOfFadeIn)
		if q := h.Rate.Quanta(b); len(q) > 0 {
			if i, _ := align.Central(b, q); i < len(q) {
				entry = audio.FrameAt(q[i].Start)
			}
		}
	}
	return Transition{Kind: KindCrossfade, Start: start, Entry: entry, Frames: n}
}

// placed carries what a Mixer or Sequence knows of an action that is not
// this package's: where it starts in the output and why it was chosen.
type placed struct {
	Action
	start  int64
	reason string
}

// withReason returns a with reason in its Info, a itself when it is this
// package's.
func withReason(a Action, reason string) Action {
	switch x := a.(type) {
	case *placed:
		if reason != "" {
			x.reason = reason
		}
		return x
	case interface{ setReason(string) }:
		if reason != "" {
			x.setReason(reason)
		}
		return a
	}
	return &placed{Action: a, start: a.Info().Start, reason: reason}
}

func (p *placed) Info() Info {
	i := p.Action.Info()
	i.Start = p.start
	i.StartTime = float64(p.start) / audio.SampleRate
	if p.reason != "" {
		i.Reason = p.reason
	}
	return i
}

func (p *placed) SetStart(f int64) {
	p.start = f
	if s, ok := p.Action.(Placer); ok {
		s.SetStart(f)
	}
}

func (p *placed) MarshalJSON() ([]byte, error) { return json.Marshal(p.Info()) }
