package audio

import (
	"errors"
	"fmt"
	"io"

	"github.com/mewkiz/flac"
)

// flacSamplesPerByte bounds the samples a FLAC byte is trusted to carry
// before decoding: 8:1 compression of 16-bit audio. Quieter material
// compresses further and grows the output past it.
const flacSamplesPerByte = 4

// decodeFLAC decodes a FLAC stream with mewkiz/flac; avail is the input's
// size in bytes when known, else -1.
func decodeFLAC(r io.Reader, avail int64) (*native, error) {
	st, err := flac.New(r)
	if err != nil {
		return nil, eofAsUnexpected(err)
	}
	info := st.Info
	ch := int(info.NChannels)
	rate := int(info.SampleRate)
	bits := int(info.BitsPerSample)
	if ch < 1 || ch > 8 || rate < 1000 || bits < 4 || bits > 32 {
		return nil, fmt.Errorf("stream info: %d channels, %d Hz, %d bits: %w", ch, rate, bits, ErrFormat)
	}
	limit := maxFrames(rate)
	if info.NSamples > uint64(limit) {
		return nil, fmt.Errorf("%d samples declared: %w", info.NSamples, ErrTooLong)
	}
	scale := 1 / float32(uint64(1)<<(bits-1))
	// The declared length sizes the output, but is not trusted for a
	// larger allocation than the input could hold (flacSamplesPerByte per
	// byte, when its size is known) or, when not, than 16 MB, before the
	// data proves it. Growing past a bound by append costs copies and
	// fresh pages many times over on a long track.
	bound := 1 << 22
	if avail > 0 {
		bound = max(bound, int(min(avail, maxInputBytes))*flacSamplesPerByte)
	}
	out := make([]float32, 0, min(int(info.NSamples)*ch, bound))
	for {
		f, err := st.ParseNext()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if info.NSamples > 0 && uint64(len(out)/ch) < info.NSamples {
					return &native{samples: out, rate: rate, channels: ch},
						fmt.Errorf("%d of %d samples: %w", len(out)/ch, info.NSamples, io.ErrUnexpectedEOF)
				}
				break
			}
			n := &native{samples: out, rate: rate, channels: ch}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return n, fmt.Errorf("after %d samples: %w", len(out)/ch, err)
			}
			return nil, fmt.Errorf("frame after %d samples: %w", len(out)/ch, err)
		}
		if len(f.Subframes) != ch {
			return nil, fmt.Errorf("frame with %d channels in a %d-channel stream: %w", len(f.Subframes), ch, ErrFormat)
		}
		bs := int(f.BlockSize)
		for _, sf := range f.Subframes {
			if len(sf.Samples) < bs {
				return nil, fmt.Errorf("short subframe: %w", ErrFormat)
			}
		}
		for i := range bs {
			for c := range ch {
				out = append(out, float32(f.Subframes[c].Samples[i])*scale)
			}
		}
		if len(out)/ch > limit {
			return nil, ErrTooLong
		}
	}
	return &native{samples: out, rate: rate, channels: ch}, nil
}
