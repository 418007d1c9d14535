// Package lame encodes forever's PCM to MP3 with LAME, through
// github.com/viert/go-lame. It is the only package in forever that needs
// cgo (and the libmp3lame headers: apt-get install libmp3lame-dev).
//
// The Encoder hides go-lame's rough edges: it takes float32 PCM of any
// length, checks its settings before LAME silently adjusts them, applies
// them before the first sample, surfaces write errors, and drops the blank
// placeholder frame LAME writes for a Xing tag it never fills in. What
// reaches the caller's writer is whole Layer III audio frames, one
// per Write call, so a live stream can cut or start anywhere between
// writes.
//
// Encode and EncodeFile write a complete file instead: the same frames
// behind an Info tag with LAME's encoder delay and padding, which lets
// gapless decoders (including audio.Decode) return exactly the samples
// that were encoded.
package lame

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/audio/internal/mpa"
	golame "github.com/viert/go-lame"
)

// DefaultBitrate is the bitrate Options{} encodes at, in kb/s.
const DefaultBitrate = 128

// DefaultQuality is the LAME algorithm quality Options{} uses: LAME's own
// command-line default, near-best quality at a fraction of the cost of 0.
const DefaultQuality = 3

// EncoderDelay is the number of samples LAME puts before the first input
// sample (its MDCT and filterbank lookahead, 576 samples at 44.1 kHz).
const EncoderDelay = 576

// Options configures an Encoder. The zero value encodes 128 kb/s CBR at
// DefaultQuality.
type Options struct {
	// Bitrate is the constant bitrate in kb/s, one of the MPEG-1 Layer
	// III rates 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256
	// or 320. Zero means DefaultBitrate. Below about 96 kb/s LAME lowers
	// the sample rate of the stream (to 32 kHz or less) as it sees fit.
	Bitrate int
	// Quality selects LAME's algorithms, from 1 (best, slowest) to 9
	// (fastest). Zero means DefaultQuality.
	Quality int
}

func (o Options) withDefaults() (Options, error) {
	if o.Bitrate == 0 {
		o.Bitrate = DefaultBitrate
	}
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	if !slices.Contains(mpa.Bitrates(), o.Bitrate) {
		return o, fmt.Errorf("lame: bitrate %d kb/s is not an MPEG-1 Layer III bitrate (%v)", o.Bitrate, mpa.Bitrates())
	}
	if o.Quality < 1 || o.Quality > 9 {
		return o, fmt.Errorf("lame: quality %d out of range 1..9", o.Quality)
	}
	return o, nil
}

// An Encoder turns 44.1 kHz stereo PCM into MP3 frames written to an
// io.Writer. Its methods may be called from any goroutine; calls are
// serialised.
//
// Output lags input: LAME holds back about two frames (some 50 ms) of
// lookahead, and Close emits the rest.
type Encoder struct {
	mu     sync.Mutex
	enc    *golame.Encoder
	bw     *bufio.Writer // the writer go-lame buffers into; see NewEncoder
	out    *frameWriter
	pcm    []byte
	odd    []float32 // a left sample waiting for its right partner
	in     int64     // frames (stereo pairs) accepted
	err    error     // sticky
	closed bool
}

// NewEncoder returns an Encoder writing MP3 frames to w.
func NewEncoder(w io.Writer, o Options) (*Encoder, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	fw := &frameWriter{w: w}
	// go-lame wraps its writer in bufio.NewWriter, which returns the
	// writer itself when it is already a large enough *bufio.Writer. Handing
	// it one lets Flush push out what go-lame has buffered without ending
	// the stream (go-lame's own Flush finalises LAME).
	bw := bufio.NewWriterSize(fw, 4096)
	enc := golame.NewEncoder(bw)
	e := &Encoder{enc: enc, bw: bw, out: fw}
	// go-lame applies settings at the first Write and ignores errors from
	// lame_init_params, so everything is validated above and set here,
	// before any sample arrives.
	for _, set := range []func() error{
		func() error { return enc.SetInSamplerate(audio.SampleRate) },
		func() error { return enc.SetNumChannels(audio.Channels) },
		func() error { return enc.SetVBR(golame.VBROff) },
		func() error { return enc.SetBrate(o.Bitrate) },
		func() error { return enc.SetQuality(o.Quality) },
	} {
		if err := set(); err != nil {
			enc.Close()
			return nil, fmt.Errorf("lame: configuring encoder: %w", err)
		}
	}
	return e, nil
}

// Write encodes interleaved stereo samples (left, right, ...) nominally
// in [-1, 1]; louder samples are clipped. Any length is accepted,
// including zero and odd lengths: an unpaired left sample waits for the
// next call.
func (e *Encoder) Write(samples []float32) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("lame: write to closed encoder")
	}
	if e.err != nil {
		return e.err
	}
	if len(e.odd) > 0 && len(samples) > 0 {
		e.odd = append(e.odd, samples[0])
		samples = samples[1:]
		if err := e.encode(e.odd); err != nil {
			return err
		}
		e.odd = e.odd[:0]
	}
	whole := len(samples) &^ 1
	if len(samples) > whole {
		e.odd = append(e.odd, samples[whole])
	}
	// Bound the conversion buffer: long writes go to LAME in pieces.
	const chunk = 1 << 15
	for s := samples[:whole]; len(s) > 0; {
		n := min(len(s), chunk)
		if err := e.encode(s[:n]); err != nil {
			return err
		}
		s = s[n:]
	}
	return nil
}

// encode passes a whole number of stereo frames to go-lame, which panics
// on anything shorter than one frame and buffers partial ones as bytes.
func (e *Encoder) encode(s []float32) error {
	if len(s) == 0 {
		return nil
	}
	e.pcm = slices.Grow(e.pcm[:0], 2*len(s))[:2*len(s)]
	for i, v := range s {
		x := v * 32768
		switch {
		case x != x:
			x = 0
		case x > 32767:
			x = 32767
		case x < -32768:
			x = -32768
		}
		var q int16
		if x >= 0 {
			q = int16(x + 0.5)
		} else {
			q = int16(x - 0.5)
		}
		e.pcm[2*i] = byte(q)
		e.pcm[2*i+1] = byte(uint16(q) >> 8)
	}
	if _, err := e.enc.Write(e.pcm); err != nil {
		e.err = fmt.Errorf("lame: %w", err)
		return e.err
	}
	e.in += int64(len(s) / 2)
	if e.out.err != nil {
		e.err = e.out.err
		return e.err
	}
	return nil
}

// Flush writes every complete frame LAME has produced so far. LAME's own
// lookahead stays inside it until more input or Close.
func (e *Encoder) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("lame: flush of closed encoder")
	}
	if e.err != nil {
		return e.err
	}
	if err := e.bw.Flush(); err != nil {
		e.err = err
	}
	return e.err
}

// Close encodes what remains (padding the last frame with silence),
// writes it and frees LAME's state. It does not close the underlying
// writer. A pending unpaired left sample is dropped.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	// go-lame's Close runs lame_encode_flush, flushes into e.bw and then
	// frees LAME; the errors it drops show up in e.out and e.bw.
	e.enc.Close()
	if err := e.bw.Flush(); err != nil && e.err == nil {
		e.err = err
	}
	if e.out.err != nil && e.err == nil {
		e.err = e.out.err
	}
	if e.err == nil && len(e.out.buf) > 0 {
		e.err = fmt.Errorf("lame: %d bytes of incomplete frame at end of stream", len(e.out.buf))
	}
	return e.err
}

// Frames reports how many audio frames have been written to w.
func (e *Encoder) Frames() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.frames
}

// frameWriter receives LAME's byte stream and passes it on one whole
// frame per Write, dropping the blank Xing placeholder LAME starts with.
type frameWriter struct {
	w      io.Writer
	buf    []byte
	seen   bool // the first frame has been looked at
	frames int
	bytes  int
	crc    uint16
	header []byte // the first audio frame's header
	keep   *bytes.Buffer
	err    error
}

// Write never fails towards go-lame, which mishandles short writes
// (it slices its leftover buffer out of range); errors wait in f.err for
// the Encoder to report, and later output is discarded.
func (f *frameWriter) Write(p []byte) (int, error) {
	if f.err != nil {
		return len(p), nil
	}
	f.buf = append(f.buf, p...)
	off := 0
	for len(f.buf)-off >= 4 {
		h, err := mpa.ParseHeader(f.buf[off:])
		if err != nil {
			// LAME emits only frames; losing sync means a bug upstream.
			f.err = fmt.Errorf("lame: encoder output lost frame sync: %w", err)
			return len(p), nil
		}
		n := h.FrameSize()
		if len(f.buf)-off < n {
			break
		}
		frame := f.buf[off : off+n]
		off += n
		if !f.seen {
			f.seen = true
			if isBlank(frame, h) {
				continue
			}
		}
		if f.header == nil {
			f.header = append([]byte(nil), frame[:4]...)
		}
		f.frames++
		f.bytes += n
		f.crc = mpa.CRC16(f.crc, frame)
		if f.keep != nil {
			f.keep.Write(frame)
		}
		if f.w != nil {
			if _, err := f.w.Write(frame); err != nil {
				f.err = fmt.Errorf("lame: writing MP3: %w", err)
				return len(p), nil
			}
		}
	}
	f.buf = append(f.buf[:0], f.buf[off:]...)
	return len(p), nil
}

// isBlank reports whether a frame carries nothing after its header: the
// placeholder LAME reserves for a Xing/Info tag. It decodes as silence
// and would shift all audio by a frame.
func isBlank(frame []byte, h mpa.Header) bool {
	for _, c := range frame[4:] {
		if c != 0 {
			return false
		}
	}
	return true
}

// Encode encodes p to w as a complete MP3 file: an Info frame carrying
// the LAME gapless tag (encoder delay and padding), then the audio frames.
// The output is built in memory first, so w need not be seekable.
func Encode(w io.Writer, p *audio.PCM, o Options) error {
	if p == nil {
		return errors.New("lame: Encode: nil PCM")
	}
	var frames bytes.Buffer
	e, err := NewEncoder(nil, o)
	if err != nil {
		return err
	}
	e.out.keep = &frames
	werr := e.Write(p.Samples)
	cerr := e.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return err
	}
	if e.out.frames == 0 {
		return errors.New("lame: encoder produced no frames")
	}
	h, err := mpa.ParseHeader(e.out.header)
	if err != nil {
		return fmt.Errorf("lame: %w", err)
	}
	// LAME may have lowered the output rate (low bitrates); count the
	// input in output samples.
	samples := int((int64(p.Frames())*int64(h.SampleRate) + audio.SampleRate/2) / audio.SampleRate)
	padding := e.out.frames*h.SamplesPerFrame() - samples - EncoderDelay
	tag, err := mpa.BuildInfoFrame(e.out.header, e.out.frames, e.out.bytes, EncoderDelay, max(padding, 0), e.out.crc)
	if err != nil {
		return fmt.Errorf("lame: building Info tag: %w", err)
	}
	if _, err := w.Write(tag); err != nil {
		return fmt.Errorf("lame: %w", err)
	}
	if _, err := frames.WriteTo(w); err != nil {
		return fmt.Errorf("lame: %w", err)
	}
	return nil
}

// EncodeFile writes p to path as an MP3 file (see Encode).
func EncodeFile(path string, p *audio.PCM, o Options) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("lame: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("lame: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := Encode(bw, p, o); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("lame: %w", err)
	}
	return nil
}
