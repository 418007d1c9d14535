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
	if data, err = vorbisStream(data); err != nil {
		return nil, err
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

// vorbisStream returns the pages of the first Vorbis logical stream in an
// Ogg file. The Vorbis decoder reads only the first stream, but files made
// from music with cover art often multiplex a Theora picture stream before
// the audio; Opus or FLAC-in-Ogg files have no Vorbis stream at all, which
// deserves a clearer error than a failed header. Most files hold one
// stream and are returned as they are.
func vorbisStream(data []byte) ([]byte, error) {
	type page struct {
		serial uint32
		bos    bool
		first  []byte // the start of the page's body
		raw    []byte
	}
	var pages []page
	serials := map[uint32]bool{}
	for off := 0; off+27 <= len(data); {
		h := data[off:]
		if string(h[:4]) != "OggS" {
			break // trailing junk, or damage the decoder will report
		}
		nseg := int(h[26])
		if 27+nseg > len(h) {
			break
		}
		body := 0
		for _, l := range h[27 : 27+nseg] {
			body += int(l)
		}
		size := 27 + nseg + body
		if size > len(h) {
			size = len(h) // a truncated last page: let the decoder say so
		}
		p := page{
			serial: uint32(h[14]) | uint32(h[15])<<8 | uint32(h[16])<<16 | uint32(h[17])<<24,
			bos:    h[5]&2 != 0,
			first:  h[27+nseg : size],
			raw:    h[:size],
		}
		serials[p.serial] = true
		pages = append(pages, p)
		off += size
	}
	if len(serials) <= 1 {
		return data, nil
	}
	var want uint32
	found := false
	for _, p := range pages {
		if p.bos && bytes.HasPrefix(p.first, []byte("\x01vorbis")) {
			want, found = p.serial, true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%d logical streams, none of them Vorbis: %w", len(serials), ErrFormat)
	}
	out := make([]byte, 0, len(data))
	for _, p := range pages {
		if p.serial == want {
			out = append(out, p.raw...)
		}
	}
	return out, nil
}
