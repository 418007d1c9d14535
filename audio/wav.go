package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// WAV format tags.
const (
	wavPCM        = 1
	wavFloat      = 3
	wavExtensible = 0xFFFE
)

// decodeWAV reads a RIFF/WAVE stream chunk by chunk, never trusting a
// header size for an allocation: chunk bodies are skipped or read in
// bounded blocks.
//
// go-audio/wav (v1.1.0) is not used for reading because it allocates the
// fmt chunk's declared size (a hostile 4 GB header allocates 4 GB), has no
// IEEE float or WAVE_FORMAT_EXTENSIBLE sub-format support, and reads one
// sample per Read call.
func decodeWAV(r io.Reader, avail int64) (*native, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading RIFF header: %w", eofAsUnexpected(err))
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a RIFF/WAVE file: %w", ErrFormat)
	}
	var (
		haveFmt  bool
		tag      uint16
		channels int
		rate     int
		bits     int
		align    int
		layout   []speaker
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) {
				if !haveFmt {
					return nil, fmt.Errorf("no fmt chunk: %w", io.ErrUnexpectedEOF)
				}
				return nil, fmt.Errorf("no data chunk: %w", io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("reading chunk header: %w", eofAsUnexpected(err))
		}
		id := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("fmt chunk of %d bytes is too short: %w", size, ErrFormat)
			}
			var f [40]byte
			n := min(size, int64(len(f)))
			if _, err := io.ReadFull(r, f[:n]); err != nil {
				return nil, fmt.Errorf("reading fmt chunk: %w", eofAsUnexpected(err))
			}
			if err := skip(r, size-n+size%2); err != nil {
				return nil, fmt.Errorf("reading fmt chunk: %w", err)
			}
			tag = binary.LittleEndian.Uint16(f[0:])
			channels = int(binary.LittleEndian.Uint16(f[2:]))
			rate = int(binary.LittleEndian.Uint32(f[4:]))
			align = int(binary.LittleEndian.Uint16(f[12:]))
			bits = int(binary.LittleEndian.Uint16(f[14:]))
			if tag == wavExtensible {
				if n < 40 {
					return nil, fmt.Errorf("WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes is too short: %w", size, ErrFormat)
				}
				mask := binary.LittleEndian.Uint32(f[20:])
				layout = maskLayout(mask, channels)
				// The sub-format GUID starts with the plain format tag.
				tag = binary.LittleEndian.Uint16(f[24:])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("data chunk before fmt chunk: %w", ErrFormat)
			}
			if err := checkWAVFormat(tag, channels, rate, bits, align); err != nil {
				return nil, err
			}
			// Streaming writers leave the size at 0 or 0xFFFFFFFF; read
			// such data to EOF.
			unknown := size == 0 || size == 0xFFFFFFFF
			s, err := readWAVData(r, size, avail, unknown, tag, channels, rate, bits, align)
			n := &native{samples: s, rate: rate, channels: channels, layout: layout}
			return n, err
		default:
			if err := skip(r, size+size%2); err != nil {
				return nil, fmt.Errorf("skipping %q chunk: %w", id, err)
			}
		}
	}
}

func checkWAVFormat(tag uint16, channels, rate, bits, align int) error {
	switch {
	case tag != wavPCM && tag != wavFloat:
		return fmt.Errorf("WAV format tag 0x%04x (compressed WAV) not supported: %w", tag, ErrFormat)
	case channels < 1 || channels > 32:
		return fmt.Errorf("WAV with %d channels: %w", channels, ErrFormat)
	case rate < 1000 || rate > 768000:
		return fmt.Errorf("WAV sample rate %d Hz: %w", rate, ErrFormat)
	case tag == wavPCM && bits != 8 && bits != 16 && bits != 24 && bits != 32:
		return fmt.Errorf("%d-bit PCM WAV: %w", bits, ErrFormat)
	case tag == wavFloat && bits != 32 && bits != 64:
		return fmt.Errorf("%d-bit float WAV: %w", bits, ErrFormat)
	case align != channels*bits/8:
		return fmt.Errorf("WAV block align %d for %d channels of %d bits: %w", align, channels, bits, ErrFormat)
	}
	return nil
}

// readWAVData converts the data chunk to float32 in blocks. avail is the
// number of bytes the input holds, when known (-1 when not).
func readWAVData(r io.Reader, size, avail int64, unknown bool, tag uint16, channels, rate, bits, align int) ([]float32, error) {
	limit := int64(maxFrames(rate)) * int64(align)
	if !unknown && size > limit {
		return nil, fmt.Errorf("data chunk of %d bytes: %w", size, ErrTooLong)
	}
	if unknown {
		size = limit + int64(align) // read to EOF, noticing overflow
	}
	// Trust the header's size only up to a bound (a hostile header may
	// claim gigabytes); append grows past it as real data arrives. The
	// bound is the file's own size when known, so a long track is read
	// into one allocation (growing a slice of hundreds of megabytes costs
	// copies and fresh pages many times over); else it covers a typical
	// track.
	bound := int64(8 << 20)
	if avail > 0 {
		bound = avail / int64(bits/8)
	}
	out := make([]float32, 0, min(size/int64(bits/8), bound))
	block := make([]byte, 64<<10/align*align)
	var carry int // bytes of a partial frame kept at the start of block
	var read int64
	for read < size {
		want := min(int64(len(block)-carry), size-read)
		n, err := io.ReadFull(r, block[carry:carry+int(want)])
		read += int64(n)
		avail := carry + n
		whole := avail / align * align
		out = appendWAVSamples(out, block[:whole], tag, bits)
		carry = copy(block, block[whole:avail])
		if read > limit {
			return nil, fmt.Errorf("data chunk: %w", ErrTooLong)
		}
		if err != nil {
			if unknown && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
				return out, nil
			}
			return out, fmt.Errorf("data chunk ends after %d of %d bytes: %w", read, size, eofAsUnexpected(err))
		}
	}
	return out, nil
}

func appendWAVSamples(out []float32, b []byte, tag uint16, bits int) []float32 {
	switch {
	case tag == wavFloat && bits == 32:
		for i := 0; i+4 <= len(b); i += 4 {
			out = append(out, sanitize(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))))
		}
	case tag == wavFloat && bits == 64:
		for i := 0; i+8 <= len(b); i += 8 {
			out = append(out, sanitize(float32(math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))))
		}
	case bits == 8:
		for _, c := range b {
			out = append(out, float32(int(c)-128)/128)
		}
	case bits == 16:
		for i := 0; i+2 <= len(b); i += 2 {
			out = append(out, float32(int16(binary.LittleEndian.Uint16(b[i:])))/(1<<15))
		}
	case bits == 24:
		for i := 0; i+3 <= len(b); i += 3 {
			v := int32(uint32(b[i])<<8|uint32(b[i+1])<<16|uint32(b[i+2])<<24) >> 8
			out = append(out, float32(v)/(1<<23))
		}
	case bits == 32:
		for i := 0; i+4 <= len(b); i += 4 {
			out = append(out, float32(float64(int32(binary.LittleEndian.Uint32(b[i:])))/(1<<31)))
		}
	}
	return out
}

// sanitize replaces NaN and infinities, which float WAVs can carry, with
// silence and full scale, and bounds finite samples at floatHeadroom:
// nothing downstream should ever see a non-finite sample, and a value near
// the float32 limit would overflow to one when mixed or resampled.
func sanitize(v float32) float32 {
	switch {
	case v != v:
		return 0
	case v > math.MaxFloat32:
		return 1
	case v < -math.MaxFloat32:
		return -1
	}
	return max(-floatHeadroom, min(v, floatHeadroom))
}

// floatHeadroom bounds float samples: 2^20 is 120 dB over full scale, far
// beyond any real file's headroom, and sums of thousands of such samples
// stay finite.
const floatHeadroom = 1 << 20

func skip(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	m, err := io.CopyN(io.Discard, r, n)
	if m < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

func eofAsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// WriteWAV writes p to w as a 16-bit stereo 44.1 kHz PCM WAV file. Samples
// are clipped to [-1, 1] and rounded to the nearest 16-bit value with
// triangular (TPDF) dither of one least significant bit, so quiet passages
// and fades keep their shape instead of turning into quantisation
// distortion. The dither generator is seeded identically on every call,
// so the same PCM always gives the same bytes.
//
// The sizes in the header are computed up front, so w need not be
// seekable (a pipe or an HTTP response works).
func WriteWAV(w io.Writer, p *PCM) error {
	if p == nil {
		return errors.New("audio: WriteWAV: nil PCM")
	}
	const maxData = math.MaxUint32 - 36
	data := int64(len(p.Samples)) * 2
	if data > maxData {
		return fmt.Errorf("audio: WriteWAV: %d frames do not fit a WAV file", p.Frames())
	}
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavPCM)
	binary.LittleEndian.PutUint16(h[22:], Channels)
	binary.LittleEndian.PutUint32(h[24:], SampleRate)
	binary.LittleEndian.PutUint32(h[28:], SampleRate*Channels*2)
	binary.LittleEndian.PutUint16(h[32:], Channels*2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("audio: WriteWAV: %w", err)
	}
	var d ditherer
	d.seed = 0x2545F4914F6CDD1D
	buf := make([]byte, 32<<10)
	s := p.Samples
	for len(s) > 0 {
		n := min(len(s), len(buf)/2)
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(d.quantize(v)))
		}
		if _, err := w.Write(buf[:2*n]); err != nil {
			return fmt.Errorf("audio: WriteWAV: %w", err)
		}
		s = s[n:]
	}
	return nil
}

// ditherer quantises float samples to int16 with TPDF dither from a
// xorshift generator (cheap and deterministic; its quality is ample for
// dither).
type ditherer struct{ seed uint64 }

func (d *ditherer) next() float32 {
	d.seed ^= d.seed << 13
	d.seed ^= d.seed >> 7
	d.seed ^= d.seed << 17
	return float32(d.seed>>40) / (1 << 24) // [0, 1)
}

func (d *ditherer) quantize(v float32) int16 {
	if v != v {
		v = 0
	}
	x := float64(v)*32768 + float64(d.next()-d.next())
	x = math.Round(x)
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return int16(x)
}
