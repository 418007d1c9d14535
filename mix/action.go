// Package mix turns analysed tracks into an endless, beat-matched DJ mix, as
// Forever.fm did with the Echo Nest Remix "Capsule" example.
//
// A mix is a sequence of Actions. Each one is a span of output with an exact
// length in frames that renders itself, front to back, into the caller's
// buffer, and describes itself as JSON: Playback (a span of one track),
// Fadein, Fadeout, Crossfade (two tracks overlapped with an equal-power
// curve) and Crossmatch (two tracks overlapped beat by beat, both
// time-stretched to a tempo gliding from the first track's to the second's,
// so that their beats land together all the way through).
//
// A Mixer consumes a stream of analysed Tracks and yields the Actions, the
// way Capsule did, but aware of bars; a Player renders Actions into blocks of
// PCM through a look-ahead true-peak Limiter, for a live stream or a file.
//
// Audio everywhere is audio.PCM's layout: 44.1 kHz stereo interleaved
// float32. Actions and Players are not safe for concurrent use.
package mix

import (
	"encoding/json"
	"math"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// Track is a track ready to mix: its identity, its analysis and its decoded
// audio. The Mixer plans from Analysis alone; Audio is needed only to render.
type Track struct {
	ID     string
	Title  string
	Artist string
	// Source says where the track came from: a path or URL.
	Source   string
	Analysis *analysis.Analysis
	Audio    *audio.PCM
}

// Kind names an Action's kind in its description.
type Kind string

const (
	KindPlayback   Kind = "playback"
	KindFadein     Kind = "fadein"
	KindFadeout    Kind = "fadeout"
	KindCrossfade  Kind = "crossfade"
	KindCrossmatch Kind = "crossmatch"
	KindSilence    Kind = "silence"
)

// An Action is one step of a mix. It renders its frames once, in order.
type Action interface {
	// Len reports the exact length in frames.
	Len() int
	// Render fills dst, interleaved stereo of even length, with the next
	// frames and returns how many frames it wrote: len(dst)/2 unless the
	// action ends, then the rest, then 0. It panics if len(dst) is odd.
	// Problems (a track without audio, a span beyond its end) render
	// silence and are reported by Err.
	Render(dst []float32) int
	// Info describes the action.
	Info() Info
	// Err reports the first problem met while rendering, if any.
	Err() error
}

// Info describes an Action; it is what a listener's display or a plan file
// shows. Times are in seconds, frames at 44.1 kHz.
type Info struct {
	Kind Kind `json:"kind"`
	// Start is the action's first frame in the output timeline, and
	// StartTime the same in seconds. A Mixer or Sequence sets them.
	Start     int64   `json:"start"`
	StartTime float64 `json:"start_time"`
	Frames    int     `json:"frames"`
	Duration  float64 `json:"duration"`
	Tracks    []Span  `json:"tracks"`
	// Match describes the alignment of a Crossmatch.
	Match *MatchInfo `json:"match,omitempty"`
	// Reason says why a Mixer's Policy chose this transition (see
	// Transition.Reason).
	Reason string `json:"reason,omitempty"`
}

// Span is the part of a track an Action plays.
type Span struct {
	ID     string  `json:"id,omitempty"`
	Title  string  `json:"title,omitempty"`
	Artist string  `json:"artist,omitempty"`
	Source string  `json:"source,omitempty"`
	Tempo  float64 `json:"tempo,omitempty"`
	Key    int     `json:"key"`
	Mode   int     `json:"mode"`
	// Start and Duration locate the span in the track's own time, in
	// seconds; StartFrame and Frames in frames. A Crossmatch stretches
	// Frames of track to the action's Frames of output.
	Start      float64 `json:"start"`
	Duration   float64 `json:"duration"`
	StartFrame int     `json:"start_frame"`
	Frames     int     `json:"frames"`
	// Gain is the loudness correction applied, in dB; Fade says how the
	// level moves across the action: "", "in" or "out".
	Gain float64 `json:"gain_db"`
	Fade string  `json:"fade,omitempty"`
	// Track is the track itself, for callers that need more than the
	// description (and to keep its audio alive while rendering).
	Track *Track `json:"-"`
}

// MatchInfo describes the alignment behind a Crossmatch.
type MatchInfo struct {
	Quanta     int     `json:"quanta"`
	Rate       string  `json:"rate"`
	OutDoubled bool    `json:"out_doubled,omitempty"`
	InDoubled  bool    `json:"in_doubled,omitempty"`
	Score      float64 `json:"score"`
	Distance   float64 `json:"distance"`
	Downbeat   bool    `json:"downbeat"`
	Phrase     int     `json:"phrase,omitempty"`
	Candidates int     `json:"candidates"`
	// TempoFrom and TempoTo are the quanta per minute at the start and at
	// the end: the outgoing and incoming tracks' tempos, doubled for a
	// doubled track.
	TempoFrom float64 `json:"tempo_from,omitempty"`
	TempoTo   float64 `json:"tempo_to,omitempty"`
}

// seconds fills in the times in seconds from the frame counts.
func (i Info) seconds() Info {
	i.StartTime = float64(i.Start) / audio.SampleRate
	i.Duration = float64(i.Frames) / audio.SampleRate
	for k := range i.Tracks {
		s := &i.Tracks[k]
		s.Start = float64(s.StartFrame) / audio.SampleRate
		s.Duration = float64(s.Frames) / audio.SampleRate
	}
	return i
}

// span returns the Span of frames [from, from+n) of t.
func span(t *Track, from, n int, gain float64, fade string) Span {
	s := Span{StartFrame: from, Frames: n, Gain: gain, Fade: fade, Track: t}
	if t != nil {
		s.ID, s.Title, s.Artist, s.Source = t.ID, t.Title, t.Artist, t.Source
		if a := t.Analysis; a != nil {
			s.Tempo, s.Key, s.Mode = a.Tempo, a.Key, a.Mode
		}
	}
	return s
}

// base carries what every action shares: its description and first error.
type base struct {
	info Info
	err  error
}

func (b *base) Info() Info                   { return b.info.seconds() }
func (b *base) Err() error                   { return b.err }
func (b *base) Len() int                     { return b.info.Frames }
func (b *base) SetStart(f int64)             { b.info.Start = f }
func (b *base) setReason(r string)           { b.info.Reason = r }
func (b *base) fail(err error)               { b.err = cmpErr(b.err, err) }
func (b *base) MarshalJSON() ([]byte, error) { return json.Marshal(b.Info()) }

func cmpErr(old, new error) error {
	if old != nil {
		return old
	}
	return new
}

// A Placer is an Action that reports its place in the output in Info: a
// Mixer, a Sequence or an Overlay calls SetStart with the action's first
// frame in their output before rendering. An action that is not a Placer
// is placed all the same: they wrap it so that the Info they show carries
// the start.
type Placer interface{ SetStart(frame int64) }

// A Curve maps a position x in [0, 1] across a fade to a gain in [0, 1].
type Curve func(x float64) float64

// The fade curves, declared as functions so that nothing can change them.
// Equal-power curves keep the summed power of two uncorrelated tracks
// constant across a crossfade; Linear ones keep the summed amplitude of
// two identical ones.

// Flat is 1 throughout.
func Flat(float64) float64 { return 1 }

// EqualPowerIn rises from 0 to 1 as sin(πx/2).
func EqualPowerIn(x float64) float64 { return math.Sin(math.Pi / 2 * clamp01(x)) }

// EqualPowerOut falls from 1 to 0 as cos(πx/2).
func EqualPowerOut(x float64) float64 { return math.Cos(math.Pi / 2 * clamp01(x)) }

// LinearIn rises from 0 to 1 in a straight line.
func LinearIn(x float64) float64 { return clamp01(x) }

// LinearOut falls from 1 to 0 in a straight line.
func LinearOut(x float64) float64 { return 1 - clamp01(x) }

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// DB converts decibels to a linear gain.
func DB(db float64) float64 { return math.Pow(10, db/20) }

// envelope applies gain × curve(i/n) to frame i of an n-frame span: the
// position comes from the frame's place in the whole action, never from its
// place in a block, so fades move the same way whatever the block size.
type envelope struct {
	curve Curve
	gain  float64
	n     int
}

func newEnvelope(c Curve, gainDB float64, n int) envelope {
	if c == nil {
		c = Flat
	}
	return envelope{curve: c, gain: DB(gainDB), n: max(n, 1)}
}

// knot is the spacing, in frames, of the points where a curve is evaluated
// exactly; between them the gain is interpolated linearly, far below
// audibility for fades of a second or more, and sin and cos are not called
// per frame. Knots sit at fixed positions of the span, so the result does
// not depend on how the span is cut into blocks.
const knot = 64

// at reports the gain at frame i of the span.
func (e *envelope) at(i int) float64 {
	return e.gain * e.curve(float64(i)/float64(e.n))
}

// apply scales the frames of buf, which start at frame pos of the span, and
// adds them into dst when add is set.
func (e *envelope) apply(dst, buf []float32, pos int, add bool) {
	n := len(buf) / 2
	for i := 0; i < n; {
		k0 := (pos + i) / knot * knot
		k1 := max(min(k0+knot, e.n), k0+1)
		g0, g1 := e.at(k0), e.at(k1)
		end := min(n, k0+knot-pos)
		for ; i < end; i++ {
			f := float64(pos+i-k0) / float64(k1-k0)
			g := float32(g0 + (g1-g0)*f)
			l, r := buf[2*i]*g, buf[2*i+1]*g
			if add {
				dst[2*i] += l
				dst[2*i+1] += r
			} else {
				dst[2*i], dst[2*i+1] = l, r
			}
		}
	}
}
