// Package audio holds forever's one PCM type and moves sound in and out of
// it: decoders for WAV, MP3, FLAC and Ogg Vorbis, a band-limited resampler,
// and a WAV writer.
//
// Everything inside forever works on 44.1 kHz stereo float32, interleaved,
// nominally in [-1, 1]. Decoders convert whatever they read into that form,
// so the rest of the library never has to ask what rate or layout a track
// came in. Conversions to and from github.com/go-audio/audio buffers are
// provided for callers who already use that ecosystem.
//
// MP3 files come out gapless: the decoder's own delay (529 samples, the
// Layer III filterbank) is always removed, and when the file carries a
// LAME/Info tag (as LAME, FFmpeg and audio/lame write it) so are the
// encoder's delay and end padding, so sample n of the decode is sample n
// of what was encoded. Untagged streams keep the unknown encoder delay
// (576 samples, 13 ms, for LAME).
//
// Decoding never trusts a header for memory: input longer than
// MaxDuration fails with ErrTooLong, truncated input returns the audio
// read so far with an error wrapping io.ErrUnexpectedEOF, and a panic in a
// third-party decoder becomes an error.
//
// MP3 encoding needs cgo (LAME) and lives in the sub-package audio/lame so
// that this package, and everything that only decodes, builds with
// CGO_ENABLED=0.
package audio

import (
	"fmt"
	"time"
)

// SampleRate is the rate, in frames per second, of every PCM in forever.
const SampleRate = 44100

// Channels is the number of interleaved channels of every PCM in forever.
const Channels = 2

// PCM is a span of decoded sound: 44.1 kHz stereo, interleaved float32
// (left, right, left, right, ...). A frame is one left/right pair.
type PCM struct {
	Samples []float32
}

// NewPCM returns silent PCM of n frames.
func NewPCM(frames int) *PCM {
	return &PCM{Samples: make([]float32, frames*Channels)}
}

// Frames reports the number of stereo frames held.
func (p *PCM) Frames() int { return len(p.Samples) / Channels }

// Seconds reports the length in seconds.
func (p *PCM) Seconds() float64 { return float64(p.Frames()) / SampleRate }

// Duration reports the length as a time.Duration.
func (p *PCM) Duration() time.Duration {
	return time.Duration(float64(p.Frames()) * float64(time.Second) / SampleRate)
}

// Slice returns the frames [from, to) sharing p's storage.
func (p *PCM) Slice(from, to int) *PCM {
	if from < 0 || to > p.Frames() || from > to {
		panic(fmt.Sprintf("audio: Slice [%d, %d) out of range of %d frames", from, to, p.Frames()))
	}
	return &PCM{Samples: p.Samples[from*Channels : to*Channels]}
}

// Mono writes the average of both channels into dst, growing it as needed,
// and returns it. Analysis works on this mixdown.
func (p *PCM) Mono(dst []float32) []float32 {
	n := p.Frames()
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	s := p.Samples
	for i := range dst {
		dst[i] = 0.5 * (s[2*i] + s[2*i+1])
	}
	return dst
}

// FrameAt converts a time in seconds to the nearest frame index.
func FrameAt(seconds float64) int {
	return int(seconds*SampleRate + 0.5)
}
