package audio

import (
	"errors"
	"fmt"

	goaudio "github.com/go-audio/audio"
)

// Format returns forever's PCM format in go-audio's terms.
func Format() *goaudio.Format {
	return &goaudio.Format{NumChannels: Channels, SampleRate: SampleRate}
}

// Float32Buffer returns p as a go-audio buffer sharing p's samples.
func (p *PCM) Float32Buffer() *goaudio.Float32Buffer {
	return &goaudio.Float32Buffer{Format: Format(), Data: p.Samples, SourceBitDepth: 32}
}

// FloatBuffer returns a copy of p as a go-audio float64 buffer, the type
// most go-audio code (transforms, generators) works on.
func (p *PCM) FloatBuffer() *goaudio.FloatBuffer {
	d := make([]float64, len(p.Samples))
	for i, v := range p.Samples {
		d[i] = float64(v)
	}
	return &goaudio.FloatBuffer{Format: Format(), Data: d}
}

// IntBuffer returns p as a 16-bit go-audio integer buffer (clipped and
// rounded, without dither), for go-audio's encoders such as go-audio/wav.
func (p *PCM) IntBuffer() *goaudio.IntBuffer {
	d := make([]int, len(p.Samples))
	for i, v := range p.Samples {
		x := float64(v) * 32768
		switch {
		case x != x:
			x = 0
		case x > 32767:
			x = 32767
		case x < -32768:
			x = -32768
		}
		if x >= 0 {
			d[i] = int(x + 0.5)
		} else {
			d[i] = int(x - 0.5)
		}
	}
	return &goaudio.IntBuffer{Format: Format(), Data: d, SourceBitDepth: 16}
}

// FromBuffer converts any go-audio buffer to PCM, applying the same
// channel mixing and resampling as Decode. Float buffers are taken to be
// in [-1, 1]; integer buffers are scaled by their SourceBitDepth (16 if
// unset).
func FromBuffer(b goaudio.Buffer) (*PCM, error) {
	if b == nil {
		return nil, errors.New("audio: FromBuffer: nil buffer")
	}
	f := b.PCMFormat()
	if f == nil || f.NumChannels < 1 || f.SampleRate < 1 {
		return nil, fmt.Errorf("audio: FromBuffer: missing or invalid format %v: %w", f, ErrFormat)
	}
	n := &native{rate: f.SampleRate, channels: f.NumChannels}
	switch buf := b.(type) {
	case *goaudio.Float32Buffer:
		n.samples = make([]float32, len(buf.Data))
		for i, v := range buf.Data {
			n.samples[i] = sanitize(v)
		}
	case *goaudio.FloatBuffer:
		n.samples = make([]float32, len(buf.Data))
		for i, v := range buf.Data {
			n.samples[i] = sanitize(float32(v))
		}
	default:
		ib := b.AsIntBuffer()
		depth := ib.SourceBitDepth
		if depth == 0 {
			depth = 16
		}
		if depth < 2 || depth > 32 {
			return nil, fmt.Errorf("audio: FromBuffer: bit depth %d: %w", depth, ErrFormat)
		}
		scale := 1 / float64(uint64(1)<<(depth-1))
		n.samples = make([]float32, len(ib.Data))
		for i, v := range ib.Data {
			if depth == 8 { // 8-bit audio is unsigned
				v -= 128
			}
			n.samples[i] = float32(float64(v) * scale)
		}
	}
	n.samples = n.samples[:len(n.samples)/n.channels*n.channels]
	return n.toPCM(), nil
}
