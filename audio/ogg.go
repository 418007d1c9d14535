package audio

import (
	"errors"
	"fmt"
	"io"

	"github.com/jfreymuth/oggvorbis"
)

// decodeOgg decodes an Ogg Vorbis stream with jfreymuth/oggvorbis.
func decodeOgg(r io.Reader) (*native, error) {
	d, err := oggvorbis.NewReader(r)
	if err != nil {
		return nil, eofAsUnexpected(err)
	}
	ch := d.Channels()
	rate := d.SampleRate()
	if ch < 1 || ch > 8 || rate < 1000 || rate > 768000 {
		return nil, fmt.Errorf("%d channels at %d Hz: %w", ch, rate, ErrFormat)
	}
	limit := maxFrames(rate)
	out := make([]float32, 0, 1<<20)
	buf := make([]float32, 8192*ch)
	for {
		n, err := d.Read(buf)
		for _, v := range buf[:n] {
			out = append(out, sanitize(v))
		}
		if len(out)/ch > limit {
			return nil, ErrTooLong
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			na := &native{samples: out[:len(out)/ch*ch], rate: rate, channels: ch}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return na, fmt.Errorf("after %d samples: %w", len(out)/ch, err)
			}
			return nil, fmt.Errorf("after %d samples: %w", len(out)/ch, err)
		}
	}
	return &native{samples: out[:len(out)/ch*ch], rate: rate, channels: ch}, nil
}
