package audio

import "math"

// A FrameReader is decoded sound read by position, so that a player can
// hold a track without holding all of it as float32: a PCM, a PCM16 at
// half the memory, or a window onto a decode kept on disk.
type FrameReader interface {
	// Frames reports the number of stereo frames.
	Frames() int
	// ReadFramesAt fills dst, interleaved stereo like PCM.Samples, with
	// the frames from frame on, and returns how many frames it wrote:
	// fewer than len(dst)/Channels only at the end.
	ReadFramesAt(dst []float32, frame int) int
}

// ReadFramesAt implements FrameReader.
func (p *PCM) ReadFramesAt(dst []float32, frame int) int {
	if frame < 0 || frame >= p.Frames() {
		return 0
	}
	return copy(dst[:len(dst)/Channels*Channels], p.Samples[frame*Channels:]) / Channels
}

// PCM16 is decoded sound held as 16-bit integers, half of PCM's memory:
// a 2-hour mix takes 1.3 GB as PCM and 635 MB as PCM16. The samples are
// scaled by the track's peak when it is over full scale, so nothing
// clips; the rounding adds noise at -96 dB below that peak, the floor of
// the CD or MP3 the track came from.
type PCM16 struct {
	Samples []int16
	// Scale is the level of a sample of 32767: 1, or the peak when the
	// audio went over full scale.
	Scale float32
}

// Compact returns p as a PCM16.
func Compact(p *PCM) *PCM16 {
	peak := float32(1)
	for _, v := range p.Samples {
		if a := float32(math.Abs(float64(v))); a > peak && !math.IsInf(float64(a), 0) {
			peak = a
		}
	}
	c := &PCM16{Samples: make([]int16, len(p.Samples)), Scale: peak}
	k := 32767 / peak
	for i, v := range p.Samples {
		x := math.Round(float64(v * k))
		if math.IsNaN(x) {
			x = 0
		}
		c.Samples[i] = int16(max(-32767, min(32767, x)))
	}
	return c
}

// Frames implements FrameReader.
func (c *PCM16) Frames() int { return len(c.Samples) / Channels }

// ReadFramesAt implements FrameReader.
func (c *PCM16) ReadFramesAt(dst []float32, frame int) int {
	if frame < 0 || frame >= c.Frames() {
		return 0
	}
	src := c.Samples[frame*Channels:]
	n := min(len(dst)/Channels*Channels, len(src))
	k := c.Scale / 32767
	for i, v := range src[:n] {
		dst[i] = float32(v) * k
	}
	return n / Channels
}

// Window returns the frames [from, to) as a PCM of their own, for code
// that needs a span as float32 (a crossmatch's overlap).
func Window(r FrameReader, from, to int) *PCM {
	from, to = max(from, 0), min(to, r.Frames())
	p := NewPCM(max(to-from, 0))
	if to > from {
		r.ReadFramesAt(p.Samples, from)
	}
	return p
}
