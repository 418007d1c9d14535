package mix

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/foreverfm/forever/align"
)

// StyleKind names a way of mixing one track into the next, as DJs do it.
type StyleKind string

const (
	// StyleBlend is a long EQ blend: the incoming track is faded up with
	// its bass cut, the two play together, and at the switch (a bar line)
	// the basses are swapped in a beat; then the outgoing track, its bass
	// gone, is faded down. Two kicks and two basslines never sound at full
	// level together.
	StyleBlend StyleKind = "eq-blend"
	// StyleSwap is a short swap on the one: a bar or two of the incoming
	// track without bass and mids over the outgoing one, and at the switch
	// the outgoing track goes in a beat. For pairs whose keys clash or whose
	// alignment is less certain: little overlap to be wrong in.
	StyleSwap StyleKind = "swap"
	// StyleEchoOut lets the outgoing track's last beat ring on as a
	// beat-long echo, rising through a high-pass, while the incoming track
	// starts on the one of its intro. For pairs too far apart in tempo to
	// stretch.
	StyleEchoOut StyleKind = "echo-out"
	// StyleFilterOut sweeps a high-pass up through the outgoing track while
	// it fades, and opens a low-pass on the incoming one over the last bar.
	// For pairs too far apart whose grid is not sure enough for an echo.
	StyleFilterOut StyleKind = "filter-out"
)

// Deck is what a style does to one track over the overlap, each parameter
// automated in the overlap's frames: Gain is its fader in dB (0 open, -90
// closed; the loudness correction of the action is kept on top), Low, Mid
// and High the bands of its DJ EQ in dB, HighPass and LowPass filter
// cutoffs in Hz (nil: no filter), Echo an optional echo.
type Deck struct {
	Gain     Automation `json:"gain_db"`
	Low      Automation `json:"low_db,omitempty"`
	Mid      Automation `json:"mid_db,omitempty"`
	High     Automation `json:"high_db,omitempty"`
	HighPass Automation `json:"highpass_hz,omitempty"`
	LowPass  Automation `json:"lowpass_hz,omitempty"`
	Echo     *Echo      `json:"echo,omitempty"`
}

// Echo is a feedback delay: what goes in comes back Delay frames later
// scaled by Feedback, and again, decaying.
type Echo struct {
	Delay    int     `json:"delay"`
	Feedback float64 `json:"feedback"`
}

// Bands returns the deck's filter chain.
func (d Deck) Bands() []Band {
	b := EQBands(d.Low, d.Mid, d.High)
	if len(d.HighPass) > 0 {
		b = append(b, Band{Kind: HighPass, Freq: d.HighPass})
	}
	if len(d.LowPass) > 0 {
		b = append(b, Band{Kind: LowPass, Freq: d.LowPass})
	}
	return b
}

// Style is a transition's treatment of its two decks, a value that
// describes itself as JSON: its kind, the overlap's length in frames and in
// bars, the switch (the frame, a bar line, where the incoming track takes
// over), what it does to the outgoing and the incoming deck, and why it was
// chosen.
type Style struct {
	Kind   StyleKind `json:"kind"`
	Frames int       `json:"frames"`
	Bars   int       `json:"bars,omitempty"`
	Switch int       `json:"switch"`
	Out    Deck      `json:"out"`
	In     Deck      `json:"in"`
	Reason string    `json:"reason,omitempty"`
	// Phrases are the two tracks' phrase structures the plan read, when
	// it read them (StyleFor does).
	Phrases *PairPhrases `json:"phrases,omitempty"`
}

// PairPhrases are the phrase structures of a transition's two tracks.
type PairPhrases struct {
	Out align.Structure `json:"out"`
	In  align.Structure `json:"in"`
}

// Closed is a fader's closed position in dB: far below hearing, and a
// fade from it is a fade from silence.
const Closed = -90.0

// Blend returns the style of an EQ blend over frames, with the switch at
// frame sw and bars of bar frames: the incoming track comes up over the
// first quarter (at most four bars) with its bass cut, the basses swap over
// the beat before the switch, and the outgoing track goes down over the rest
// with its bass and, towards the end, its treble cut.
func Blend(frames, sw, bar int) Style {
	beat := max(bar/4, 1)
	sw = min(max(sw, beat), frames)
	up := min(4*bar, max(sw/2, 1))
	return Style{
		Kind: StyleBlend, Frames: frames, Switch: sw, Bars: barsOf(frames, bar),
		Out: Deck{
			Gain: Automation{{0, 0}, {sw, 0}, {frames, Closed}},
			Low:  Ramp(sw-beat, sw, 0, EQKill),
			High: Automation{{sw, 0}, {frames, -12}},
		},
		In: Deck{
			Gain: Automation{{0, Closed}, {up / 4, -24}, {up, 0}},
			Low:  Ramp(sw-beat, sw, EQKill, 0),
			High: Automation{{0, -12}, {up, 0}},
		},
	}
}

// Swap returns the style of a short swap on the one over frames, switching
// at frame sw (a bar line): the incoming track is faded up without bass and
// with its mids down, and in the last beat before the switch its bass and
// mids come in while the outgoing track is cut.
func Swap(frames, sw, bar int) Style {
	beat := max(bar/4, 1)
	sw = min(max(sw, beat), frames)
	return Style{
		Kind: StyleSwap, Frames: frames, Switch: sw, Bars: barsOf(frames, bar),
		Out: Deck{
			Gain: Automation{{0, 0}, {sw - beat/4, 0}, {sw, Closed}},
			Low:  Ramp(sw-beat, sw-beat/2, 0, EQKill),
		},
		In: Deck{
			Gain: Automation{{0, Closed}, {min(beat, sw/2), 0}},
			Low:  Ramp(sw-beat/2, sw, EQKill, 0),
			Mid:  Ramp(sw-beat, sw, -9, 0),
		},
	}
}

// EchoOut returns the style of an echo-out over frames: the outgoing
// track's input closes at frame sw over a sixteenth of a beat while its
// echo (one beat of the outgoing track, feedback 0.45) rings on under a
// rising high-pass; the incoming track opens at sw. Frames after sw are the
// echo's tail: four beats or so.
func EchoOut(frames, sw, outBeat int) Style {
	sw = min(max(sw, 0), frames)
	ramp := max(outBeat/16, 64)
	return Style{
		Kind: StyleEchoOut, Frames: frames, Switch: sw,
		Out: Deck{
			Gain:     Automation{{sw - ramp, 0}, {sw, Closed}},
			HighPass: Automation{{sw - 2*outBeat, 20}, {sw, 200}, {frames, 2000}},
			Echo:     &Echo{Delay: max(outBeat, 1), Feedback: 0.45},
		},
		In: Deck{Gain: Automation{{sw - 64, Closed}, {sw, 0}}},
	}
}

// FilterOut returns the style of a filter-out over frames: a high-pass
// rises from 20 Hz to 1.2 kHz through the outgoing track while it goes down
// over the second half; the incoming track comes up over the last bar (or
// the last half) through a low-pass opening from 300 Hz.
func FilterOut(frames, bar int) Style {
	in := min(bar, frames/2)
	open := frames - in
	return Style{
		Kind: StyleFilterOut, Frames: frames, Switch: open,
		Out: Deck{
			// Down 12 dB by the time the incoming track is well up, and
			// only then out: a fade straight to Closed in dB would be
			// inaudible halfway and leave a hole.
			Gain:     Automation{{frames / 2, 0}, {open + in/2, -12}, {frames, Closed}},
			HighPass: Automation{{0, 20}, {frames, 1200}},
		},
		In: Deck{
			Gain:    Automation{{open, Closed}, {open + in/3, -12}, {frames, 0}},
			LowPass: Automation{{open, 300}, {frames, 20000}},
		},
	}
}

func barsOf(frames, bar int) int {
	if bar <= 0 {
		return 0
	}
	return int(math.Round(float64(frames) / float64(bar)))
}

// deck runs one track of a styled transition: fader, echo, filters.
type deck struct {
	gain Automation
	base float64 // the action's loudness correction, linear
	echo *echoState
	ch   chain
}

type echoState struct {
	line []float32 // stereo ring of Delay frames
	at   int
	fb   float32
}

func newDeck(d Deck, gainDB float64) *deck {
	k := &deck{gain: append(Automation(nil), d.Gain...), base: DB(gainDB), ch: newChain(d.Bands())}
	if e := d.Echo; e != nil && e.Delay > 0 {
		k.echo = &echoState{line: make([]float32, 2*e.Delay), fb: float32(min(max(e.Feedback, 0), 0.95))}
	}
	return k
}

// process treats buf, whose first frame is frame pos of the overlap.
func (k *deck) process(buf []float32, pos int) {
	n := len(buf) / 2
	for i := 0; i < n; i++ {
		g := float32(k.base * DB(k.gain.At(pos+i)))
		buf[2*i] *= g
		buf[2*i+1] *= g
	}
	if e := k.echo; e != nil {
		for i := 0; i < 2*n; i += 2 {
			for ch := 0; ch < 2; ch++ {
				y := buf[i+ch] + e.fb*e.line[2*e.at+ch]
				e.line[2*e.at+ch] = y
				buf[i+ch] = y
			}
			e.at++
			if 2*e.at == len(e.line) {
				e.at = 0
			}
		}
	}
	k.ch.process(buf, pos)
}

// styled renders a two-track transition of this package with a Style in
// place of its equal-power fades.
type styled struct {
	inner   Action
	style   Style
	decks   [2]*deck
	read    func(j int, dst []float32)
	pos     int
	scratch [2 * block]float32
}

// KindStyled is the kind in the JSON description of a styled transition;
// its Info is the inner transition's.
const KindStyled Kind = "styled"

// Styled returns the transition a, a Crossmatch or a Crossfade of this
// package, rendered in style s: each track through its Deck (the fader
// replaces the equal-power fade; the loudness correction stays), mixed. s
// must span a's frames. The result has a's Info; its JSON description adds
// the style. a must not have been rendered.
func Styled(a Action, s Style) (Action, error) {
	if s.Frames != a.Len() {
		return nil, fmt.Errorf("mix: a %s style of %d frames for a %s of %d", s.Kind, s.Frames, a.Info().Kind, a.Len())
	}
	st := &styled{inner: a, style: s}
	switch x := a.(type) {
	case *crossmatch:
		st.decks = [2]*deck{newDeck(s.Out, x.info.Tracks[0].Gain), newDeck(s.In, x.info.Tracks[1].Gain)}
		st.read = func(j int, dst []float32) {
			if !x.ready {
				x.prepare()
			}
			x.read(j, dst)
		}
	case *crossfade:
		st.decks = [2]*deck{newDeck(s.Out, x.info.Tracks[0].Gain), newDeck(s.In, x.info.Tracks[1].Gain)}
		st.read = func(j int, dst []float32) {
			r := &x.out
			if j == 1 {
				r = &x.in
			}
			if err := r.read(dst); err != nil {
				x.fail(err)
			}
		}
	default:
		return nil, fmt.Errorf("mix: cannot style a %s: want a crossmatch or a crossfade", a.Info().Kind)
	}
	return st, nil
}

// StyleOf reports the style of a transition made by Styled.
func StyleOf(a Action) (Style, bool) {
	if s, ok := a.(*styled); ok {
		return s.style, true
	}
	return Style{}, false
}

func (s *styled) Len() int   { return s.inner.Len() }
func (s *styled) Info() Info { return s.inner.Info() }
func (s *styled) Err() error { return s.inner.Err() }

func (s *styled) SetStart(f int64) {
	if st, ok := s.inner.(Placer); ok {
		st.SetStart(f)
	}
}

func (s *styled) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Info
		Style Style `json:"style"`
	}{s.inner.Info(), s.style})
}

func (s *styled) Render(dst []float32) int {
	checkDst(dst)
	total := max(min(len(dst)/2, s.Len()-s.pos), 0)
	for done := 0; done < total; {
		m := min(total-done, block)
		d, o := dst[2*done:2*(done+m)], s.scratch[:2*m]
		s.read(0, d)
		s.decks[0].process(d, s.pos)
		s.read(1, o)
		s.decks[1].process(o, s.pos)
		for i, v := range o {
			d[i] += v
		}
		s.pos += m
		done += m
	}
	return total
}

func (s *styled) setReason(r string) {
	if x, ok := s.inner.(interface{ setReason(string) }); ok {
		x.setReason(r)
	}
}
