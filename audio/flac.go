package audio

import (
	"errors"
	"fmt"
	"io"

	"github.com/mewkiz/flac"
)

// decodeFLAC decodes a FLAC stream with mewkiz/flac.
func decodeFLAC(r io.Reader) (*native, error) {
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
	// The declared length sizes the output, but only up to 16 MB: the
	// header is not trusted for a larger allocation before the data
	// proves it.
	out := make([]float32, 0, min(int(info.NSamples)*ch, 1<<22))
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
