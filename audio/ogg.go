package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/jfreymuth/oggvorbis"
)

// maxOggBytes bounds how much of an Ogg stream is held in memory to be
// decoded: far more than MaxDuration of Vorbis at any sane bitrate.
const maxOggBytes = 1 << 30

// oggParallelMin is the shortest stream, in samples per channel, that is
// decoded in parallel parts; shorter ones are not worth the extra seeks.
// A variable so that tests can exercise the parallel path on small files.
var oggParallelMin int64 = 20 * 44100

// decodeOgg decodes an Ogg Vorbis stream with jfreymuth/oggvorbis. Vorbis
// decoding is most of the cost of analysing an Ogg file, so a long stream
// is cut into one part per core, each decoded by its own reader seeked to
// the part's start. The decoder's seek is sample-exact, so the parts join
// into exactly what one reader would have produced (a test checks that).
func decodeOgg(r io.Reader) (*native, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxOggBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxOggBytes {
		return nil, ErrTooLong
	}
	d, err := oggvorbis.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, eofAsUnexpected(err)
	}
	ch := d.Channels()
	rate := d.SampleRate()
	if ch < 1 || ch > 8 || rate < 1000 || rate > 768000 {
		return nil, fmt.Errorf("%d channels at %d Hz: %w", ch, rate, ErrFormat)
	}
	limit := maxFrames(rate)
	if n := d.Length(); n >= oggParallelMin && n <= int64(limit) && runtime.GOMAXPROCS(0) > 1 {
		if out, ok := decodeOggParts(data, n, ch); ok {
			return &native{samples: out, rate: rate, channels: ch}, nil
		}
		// Any trouble in a part (a damaged page, a length that lies):
		// decode serially, which reports it precisely.
		if d, err = oggvorbis.NewReader(bytes.NewReader(data)); err != nil {
			return nil, eofAsUnexpected(err)
		}
	}
	return decodeOggSerial(d, ch, rate, limit)
}

func decodeOggSerial(d *oggvorbis.Reader, ch, rate, limit int) (*native, error) {
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

// decodeOggParts decodes the length samples of data in one part per core.
// It reports false if any part fails or comes up short.
func decodeOggParts(data []byte, length int64, ch int) ([]float32, bool) {
	parts := int64(runtime.GOMAXPROCS(0))
	out := make([]float32, length*int64(ch))
	ok := make([]bool, parts)
	var wg sync.WaitGroup
	for p := range parts {
		from, to := length*p/parts, length*(p+1)/parts
		wg.Go(func() {
			ok[p] = decodeOggPart(data, from, to, out[from*int64(ch):to*int64(ch)])
		})
	}
	wg.Wait()
	for _, k := range ok {
		if !k {
			return nil, false
		}
	}
	return out, true
}

func decodeOggPart(data []byte, from, to int64, dst []float32) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	d, err := oggvorbis.NewReader(bytes.NewReader(data))
	if err != nil {
		return false
	}
	if from > 0 {
		if err := d.SetPosition(from); err != nil || d.Position() != from {
			return false
		}
	}
	for len(dst) > 0 {
		n, err := d.Read(dst)
		for i, v := range dst[:n] {
			dst[i] = sanitize(v)
		}
		dst = dst[n:]
		if err != nil {
			return len(dst) == 0 && errors.Is(err, io.EOF)
		}
	}
	return true
}
