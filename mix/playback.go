package mix

import (
	"errors"
	"fmt"
)

// block is the most frames an action processes at once through its own
// scratch space.
const block = 1024

// ErrNoAudio reports a track that has to be rendered without audio.
var ErrNoAudio = errors.New("mix: track has no audio")

// reader reads a track's frames from pos on; beyond the audio it reads
// silence and reports why.
type reader struct {
	t   *Track
	pos int
}

func (r *reader) read(dst []float32) error {
	n := len(dst) / 2
	from := r.pos
	r.pos += n
	if r.t == nil || r.t.Audio == nil {
		clear(dst)
		if r.t == nil {
			return ErrNoAudio
		}
		return fmt.Errorf("%w: %s", ErrNoAudio, r.t.label())
	}
	src := r.t.Audio.Samples
	frames := len(src) / 2
	lo, hi := max(from, 0), min(from+n, frames)
	if hi <= lo {
		clear(dst)
		lo, hi = 0, 0
	} else {
		// Frames before the start or after the end are silent.
		pre := lo - from
		clear(dst[:2*pre])
		copy(dst[2*pre:], src[2*lo:2*hi])
		clear(dst[2*(pre+hi-lo):])
	}
	if hi-lo < n {
		return fmt.Errorf("mix: %s: frames [%d, %d) beyond its %d frames", r.t.label(), from, from+n, frames)
	}
	return nil
}

func (t *Track) label() string {
	switch {
	case t.Title != "":
		return t.Title
	case t.Source != "":
		return t.Source
	}
	return t.ID
}

// solo plays one track with a gain curve: Playback, Fadein, Fadeout.
type solo struct {
	base
	r   reader
	env envelope
	pos int
}

func newSolo(k Kind, t *Track, from, n int, gainDB float64, c Curve, fade string) *solo {
	n = max(n, 0)
	s := &solo{r: reader{t: t, pos: from}, env: newEnvelope(c, gainDB, n)}
	s.info = Info{Kind: k, Frames: n, Tracks: []Span{span(t, from, n, gainDB, fade)}}
	return s
}

// Playback plays frames [from, from+n) of t at a constant gain in dB.
func Playback(t *Track, from, n int, gainDB float64) Action {
	return newSolo(KindPlayback, t, from, n, gainDB, Flat, "")
}

// Fadein plays frames [from, from+n) of t rising from silence to gainDB on
// an equal-power curve.
func Fadein(t *Track, from, n int, gainDB float64) Action {
	return newSolo(KindFadein, t, from, n, gainDB, EqualPowerIn, "in")
}

// Fadeout plays frames [from, from+n) of t falling from gainDB to silence on
// an equal-power curve.
func Fadeout(t *Track, from, n int, gainDB float64) Action {
	return newSolo(KindFadeout, t, from, n, gainDB, EqualPowerOut, "out")
}

func checkDst(dst []float32) {
	if len(dst)%2 != 0 {
		panic(fmt.Sprintf("mix: Render into %d samples, not whole stereo frames", len(dst)))
	}
}

func (s *solo) Render(dst []float32) int {
	checkDst(dst)
	n := min(len(dst)/2, s.info.Frames-s.pos)
	if n <= 0 {
		return 0
	}
	d := dst[:2*n]
	if err := s.r.read(d); err != nil {
		s.fail(err)
	}
	s.env.apply(d, d, s.pos, false)
	s.pos += n
	return n
}

// crossfade plays two tracks at once, one fading out and one fading in.
type crossfade struct {
	base
	out, in       reader
	envOut, envIn envelope
	pos           int
	scratch       [2 * block]float32
}

// Crossfade plays frames [outFrom, outFrom+n) of out fading out and frames
// [inFrom, inFrom+n) of in fading in, on equal-power curves, each at its own
// gain in dB.
func Crossfade(out *Track, outFrom int, in *Track, inFrom int, n int, outGainDB, inGainDB float64) Action {
	n = max(n, 0)
	c := &crossfade{
		out: reader{t: out, pos: outFrom}, in: reader{t: in, pos: inFrom},
		envOut: newEnvelope(EqualPowerOut, outGainDB, n), envIn: newEnvelope(EqualPowerIn, inGainDB, n),
	}
	c.info = Info{Kind: KindCrossfade, Frames: n, Tracks: []Span{
		span(out, outFrom, n, outGainDB, "out"), span(in, inFrom, n, inGainDB, "in"),
	}}
	return c
}

func (c *crossfade) Render(dst []float32) int {
	checkDst(dst)
	total := min(len(dst)/2, c.info.Frames-c.pos)
	for done := 0; done < total; {
		m := min(total-done, block)
		d, s := dst[2*done:2*(done+m)], c.scratch[:2*m]
		if err := c.out.read(d); err != nil {
			c.fail(err)
		}
		c.envOut.apply(d, d, c.pos, false)
		if err := c.in.read(s); err != nil {
			c.fail(err)
		}
		c.envIn.apply(d, s, c.pos, true)
		c.pos += m
		done += m
	}
	return max(total, 0)
}

// silence is a gap of nothing, for a Player that runs out of actions live.
type silence struct {
	base
	pos int
}

// Silence plays n frames of silence.
func Silence(n int) Action {
	s := &silence{}
	s.info = Info{Kind: KindSilence, Frames: max(n, 0)}
	return s
}

func (s *silence) Render(dst []float32) int {
	checkDst(dst)
	n := min(len(dst)/2, s.info.Frames-s.pos)
	clear(dst[:2*max(n, 0)])
	s.pos += max(n, 0)
	return max(n, 0)
}
