package mix

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"time"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// Options configure a Mixer. The zero value uses the defaults, which are
// Forever.fm's.
type Options struct {
	// Transition is the wanted length of a transition; default 30 s.
	Transition time.Duration
	// FirstFadein is the fade-in of the first track; default 10 s.
	FirstFadein time.Duration
	// FinalFadeout is the fade-out after the last track; default 6 s.
	FinalFadeout time.Duration
	// Reserve is how many quanta of the incoming track must be left after
	// a Crossmatch; default 2.
	Reserve int
	// MinBody is the shortest a track may be between its end of fade-in
	// and its start of fade-out; shorter tracks are skipped. Default 60 s.
	MinBody time.Duration
	// MaxStay, when positive, caps how long a track plays between its two
	// transitions, for a quicker succession of tracks in the way of
	// Capsule. Zero plays every track to its end: the outgoing transition
	// overlaps the last Transition before its fade-out.
	MaxStay time.Duration
	// Search is how far into the incoming track, after its end of fade-in,
	// the transition may enter it; default 2×Transition.
	Search time.Duration
	// Rate picks the quanta matched: beats (default) or tatums.
	Rate align.Rate
	// WithPitch matches on pitch as well as timbre.
	WithPitch bool
	// Align weighs the alignment search.
	Align *align.Options
	// Policy decides each transition from the alignment the Mixer found;
	// default DefaultPolicy{}.
	Policy Policy
	// Target is the loudness every track is brought to, in LUFS; default
	// -14. MaxGain bounds the correction in both directions, in dB;
	// default 12. See LoudnessGain.
	Target  float64
	MaxGain float64
	// Logger receives a line per decision and per skipped track; nil
	// logs nothing.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	d := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	d(&o.Transition, 30*time.Second)
	d(&o.FirstFadein, 10*time.Second)
	d(&o.FinalFadeout, 6*time.Second)
	d(&o.MinBody, 60*time.Second)
	d(&o.Search, 2*o.Transition)
	if o.Reserve <= 0 {
		o.Reserve = 2
	}
	if o.Target == 0 {
		o.Target = -14
	}
	if o.MaxGain <= 0 {
		o.MaxGain = 12
	}
	if o.Policy == nil {
		o.Policy = DefaultPolicy{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// A Mixer plans a mix: it turns a stream of tracks into a stream of
// Actions, as Forever.fm's Capsule did. The first track fades in and plays;
// each next track is aligned against the one playing and enters through a
// Crossmatch when the alignment is good and long enough, else through a
// short Crossfade; between transitions each track plays on its own; when the
// tracks run out the last one fades out. Decisions need only the analyses,
// so they are testable without audio.
//
// A track's body comes as two Playbacks: the mixer yields the part that
// plays whatever follows (up to Transition + 2 s before the latest end of
// the body) before it asks for the next track, so that a live radio has the
// whole body's time to decode and analyse that track.
type Mixer struct {
	opt Options
	err error
}

// New returns a Mixer with options o.
func New(o Options) *Mixer { return &Mixer{opt: o.withDefaults()} }

// Err reports why the last Actions sequence ended early: the context's
// error, or nil when the tracks ran out.
func (m *Mixer) Err() error { return m.err }

// Tracks adapts a channel to the sequence Actions reads; the sequence ends
// when ch is closed or ctx is done.
func Tracks(ctx context.Context, ch <-chan *Track) iter.Seq[*Track] {
	return func(yield func(*Track) bool) {
		for {
			select {
			case <-ctx.Done():
				return
			case t, ok := <-ch:
				if !ok || !yield(t) {
					return
				}
			}
		}
	}
}

// gain is the loudness correction of t in dB.
func (m *Mixer) gain(t *Track) float64 {
	return LoudnessGain(t.Analysis, m.opt.Target, m.opt.MaxGain)
}

// usable reports why t cannot be mixed, or nil.
func (m *Mixer) usable(t *Track) error {
	if t == nil || t.Analysis == nil {
		return errors.New("no analysis")
	}
	a := t.Analysis
	if err := validate(a); err != nil {
		return err
	}
	body := a.StartOfFadeOut - a.EndOfFadeIn
	if math.IsNaN(body) || body < m.opt.MinBody.Seconds() {
		return fmt.Errorf("%.1fs between fade-in and fade-out, want %v", body, m.opt.MinBody)
	}
	if t.Audio != nil && float64(t.Audio.Frames()) < a.StartOfFadeOut*audio.SampleRate-1 {
		return fmt.Errorf("audio of %.1fs shorter than its analysis (fade-out at %.1fs)", t.Audio.Seconds(), a.StartOfFadeOut)
	}
	return nil
}

func seconds(d time.Duration) int { return audio.FrameAt(d.Seconds()) }

// Actions returns the sequence of actions mixing tracks. It pulls the next
// track only when it has to plan the transition into it, while the current
// one still has its body to play. The sequence ends after the final fade-out
// when tracks ends, or when ctx is done (then Err says so). Each action's
// Info().Start is its first frame in the output.
func (m *Mixer) Actions(ctx context.Context, tracks iter.Seq[*Track]) iter.Seq[Action] {
	return func(yield func(Action) bool) {
		m.err = nil
		next, stop := iter.Pull(tracks)
		defer stop()
		log := m.opt.Logger
		var out int64 // output frames planned so far
		emit := func(a Action) bool {
			if a.Len() <= 0 {
				return true
			}
			a = place(a)
			a.(Placer).SetStart(out)
			out += int64(a.Len())
			return yield(a)
		}
		pull := func() *Track {
			for {
				if err := ctx.Err(); err != nil {
					m.err = err
					return nil
				}
				t, ok := next()
				if !ok {
					m.err = ctx.Err()
					return nil
				}
				if err := m.usable(t); err != nil {
					name := "<nil>"
					if t != nil {
						name = t.label()
					}
					log.Info("mix: skipping track", "track", name, "reason", err)
					continue
				}
				return t
			}
		}

		cur := pull()
		if cur == nil {
			return
		}
		a := cur.Analysis
		end := audio.FrameAt(a.StartOfFadeOut)
		fade := min(seconds(m.opt.FirstFadein), end)
		if !emit(Fadein(cur, 0, fade, m.gain(cur))) {
			return
		}
		pos := fade
		for {
			// Commit to the part of cur's body that plays whatever comes
			// next, so that the next track has all that time to arrive.
			to := m.bodyEnd(cur, pos)
			if safe := audio.FrameAt(max(to-m.opt.Transition.Seconds()-2, 0)); safe > pos {
				if !emit(Playback(cur, pos, safe-pos, m.gain(cur))) {
					return
				}
				pos = safe
			}
			nxt := pull()
			if nxt == nil {
				if m.err != nil {
					return
				}
				// The end: play to the fade-out and fade.
				fo := max(audio.FrameAt(cur.Analysis.StartOfFadeOut), pos)
				n := seconds(m.opt.FinalFadeout)
				if cur.Audio != nil {
					n = min(n, max(cur.Audio.Frames()-fo, 0))
				}
				if emit(Playback(cur, pos, fo-pos, m.gain(cur))) {
					emit(Fadeout(cur, fo, n, m.gain(cur)))
				}
				return
			}
			acts, npos := m.transition(cur, pos, to, nxt)
			for _, a := range acts {
				if !emit(a) {
					return
				}
			}
			// cur is finished with: only the actions hold it now.
			cur, pos = nxt, npos
		}
	}
}

// bodyEnd reports where, in seconds, the transition out of cur must end at
// the latest when its body starts at frame pos: its start of fade-out, or
// earlier with MaxStay. The transition starts about Transition before (2 s
// more allow for snapping to a bar), so the body up to there can be
// committed to before the next track is known.
func (m *Mixer) bodyEnd(cur *Track, pos int) float64 {
	to := cur.Analysis.StartOfFadeOut
	if m.opt.MaxStay > 0 {
		to = min(to, float64(pos)/audio.SampleRate+(m.opt.MaxStay+m.opt.Transition).Seconds())
	}
	return to
}

// transition plans the rest of cur's body from frame pos and the transition
// into nxt, ending by to seconds into cur, and returns the actions and where
// nxt continues.
func (m *Mixer) transition(cur *Track, pos int, to float64, nxt *Track) ([]Action, int) {
	o := m.opt
	h := Handover{
		Out: cur, In: nxt, From: pos, To: audio.FrameAt(to),
		OutGain: m.gain(cur), InGain: m.gain(nxt), Rate: o.Rate, Transition: o.Transition,
	}
	h.Match, h.MatchErr = align.Find(align.Request{
		Out: cur.Analysis, In: nxt.Analysis, From: float64(pos) / audio.SampleRate, To: to,
		Duration: o.Transition.Seconds(), Search: o.Search.Seconds(),
		Rate: o.Rate, WithPitch: o.WithPitch, Reserve: o.Reserve,
	}, o.Align)
	t := o.Policy.Plan(h)
	x, resume, err := m.build(h, t)
	if err != nil {
		// The policy's choice cannot be built: fall back to the default
		// crossfade, which always can.
		o.Logger.Warn("mix: transition refused", "from", cur.label(), "to", nxt.label(), "kind", t.Kind, "err", err)
		t = DefaultPolicy{}.Fallback(h)
		t.Reason = fmt.Sprintf("%s refused: %v", t.Kind, err)
		x, resume, _ = m.build(h, t)
	}
	o.Logger.Info("mix: transition", "kind", x.Info().Kind, "from", cur.label(), "to", nxt.label(),
		"at", fmt.Sprintf("%.2fs", float64(t.Start)/audio.SampleRate), "reason", t.Reason)
	return []Action{Playback(cur, pos, t.Start-pos, h.OutGain), x}, resume
}

// build makes the action of transition t and reports where the incoming
// track continues after it.
func (m *Mixer) build(h Handover, t Transition) (Action, int, error) {
	if t.Start < h.From {
		return nil, 0, fmt.Errorf("starts at frame %d, before %d", t.Start, h.From)
	}
	if t.Action != nil {
		if t.Resume < 0 {
			return nil, 0, fmt.Errorf("resumes at frame %d", t.Resume)
		}
		return withReason(t.Action, t.Reason), t.Resume, nil
	}
	switch t.Kind {
	case KindCrossmatch:
		mt := t.Match
		if len(mt.Out) == 0 || audio.FrameAt(mt.Out[0].Start) != t.Start {
			return nil, 0, fmt.Errorf("crossmatch does not start at frame %d", t.Start)
		}
		x, err := Crossmatch(h.Out, mt.Out, h.In, mt.In, h.OutGain, h.InGain)
		if err != nil {
			return nil, 0, err
		}
		c := x.(*crossmatch)
		c.info.Match = matchInfo(mt, h.Rate)
		c.info.Reason = t.Reason
		return c, audio.FrameAt(mt.In[len(mt.In)-1].End()), nil
	case KindCrossfade:
		if t.Frames <= 0 || t.Entry < 0 {
			return nil, 0, fmt.Errorf("crossfade of %d frames into frame %d", t.Frames, t.Entry)
		}
		x := Crossfade(h.Out, t.Start, h.In, t.Entry, t.Frames, h.OutGain, h.InGain)
		x.(*crossfade).info.Reason = t.Reason
		return x, t.Entry + t.Frames, nil
	}
	return nil, 0, fmt.Errorf("a %q transition without an Action", t.Kind)
}

// matchInfo describes match m on quanta at rate r.
func matchInfo(m align.Match, r align.Rate) *MatchInfo {
	return &MatchInfo{
		Quanta: len(m.Out), Rate: r.String(),
		OutDoubled: m.OutDoubled, InDoubled: m.InDoubled,
		Score: m.Score, Distance: m.Distance, Downbeat: m.Downbeat,
		Phrase: m.Phrase, Candidates: m.Candidates,
		TempoFrom: QuantumTempo(m.Out), TempoTo: QuantumTempo(m.In),
	}
}

// validate rejects analyses the mixer cannot trust: they come from caches
// and other programs, and a NaN or an unsorted beat would otherwise turn
// into nonsense spans.
func validate(a *analysis.Analysis) error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	d := a.Duration
	if !finite(d) || d <= 0 || d > 24*3600 {
		return fmt.Errorf("invalid analysis: duration %v", d)
	}
	if !finite(a.EndOfFadeIn) || !finite(a.StartOfFadeOut) || a.EndOfFadeIn < 0 || a.StartOfFadeOut > d+1 || a.EndOfFadeIn >= a.StartOfFadeOut {
		return fmt.Errorf("invalid analysis: fade-in ends at %v, fade-out starts at %v of %v", a.EndOfFadeIn, a.StartOfFadeOut, d)
	}
	for name, q := range map[string][]analysis.Quantum{"beat": a.Beats, "bar": a.Bars, "tatum": a.Tatums} {
		for i, x := range q {
			if !finite(x.Start) || !finite(x.Duration) || x.Start < 0 || x.Duration <= 0 || x.End() > d+1 ||
				i > 0 && x.Start < q[i-1].Start {
				return fmt.Errorf("invalid analysis: %s %d at %v lasting %v", name, i, x.Start, x.Duration)
			}
		}
	}
	for i, g := range a.Segments {
		if !finite(g.Start) || !finite(g.Duration) || g.Duration < 0 || i > 0 && g.Start < a.Segments[i-1].Start {
			return fmt.Errorf("invalid analysis: segment %d at %v lasting %v", i, g.Start, g.Duration)
		}
	}
	return nil
}
