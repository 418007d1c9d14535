package lame

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/audio/internal/mp3"
	"github.com/foreverfm/forever/audio/internal/mpa"
)

// clicks returns PCM of the given length with a quiet tone bed and sharp
// clicks at the returned frame positions.
func clicks(seconds float64, seed uint64) (*audio.PCM, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := audio.NewPCM(int(seconds * audio.SampleRate))
	for i := range p.Frames() {
		v := float32(0.05 * math.Sin(2*math.Pi*220*float64(i)/audio.SampleRate))
		p.Samples[2*i], p.Samples[2*i+1] = v, v
	}
	var at []int
	for f := audio.SampleRate / 4; f < p.Frames()-audio.SampleRate/4; f += audio.SampleRate/2 + rng.IntN(audio.SampleRate/4) {
		at = append(at, f)
		// A short decaying burst is a click an MP3 encoder keeps sharp.
		for k := range 32 {
			v := float32(0.9 * math.Exp(-float64(k)/4))
			if k%2 == 1 {
				v = -v
			}
			p.Samples[2*(f+k)] += v
			p.Samples[2*(f+k)+1] += v
		}
	}
	return p, at
}

// findClicks locates each expected click in got by the peak of the
// burst's envelope within ±20 ms of where it should be (after shift).
func findClicks(t *testing.T, got *audio.PCM, want []int, shift int) (errs []int) {
	t.Helper()
	win := audio.SampleRate / 50
	for _, w := range want {
		w += shift
		best, bestV := -1, float32(0)
		for i := max(0, w-win); i < min(got.Frames(), w+win); i++ {
			if v := abs32(got.Samples[2*i]); v > bestV {
				best, bestV = i, v
			}
		}
		if best < 0 || bestV < 0.15 {
			t.Fatalf("click at %d not found (peak %v)", w, bestV)
		}
		errs = append(errs, best-w)
	}
	return errs
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func maxAbs(e []int) int {
	m := 0
	for _, v := range e {
		m = max(m, max(v, -v))
	}
	return m
}

// The headline property: encode with the gapless tag, decode with
// audio.Decode, and every click is where it was, within a millisecond,
// and the length is exact.
func TestRoundTripTiming(t *testing.T) {
	const ms = audio.SampleRate / 1000
	for _, br := range []int{128, 320, 96, 64} {
		p, at := clicks(8, uint64(br))
		var b bytes.Buffer
		if err := Encode(&b, p, Options{Bitrate: br}); err != nil {
			t.Fatal(err)
		}
		got, err := audio.Decode(bytes.NewReader(b.Bytes()), "mp3")
		if err != nil {
			t.Fatal(err)
		}
		errs := findClicks(t, got, at, 0)
		t.Logf("%d kb/s: %d clicks, worst timing error %d samples (%.3f ms), length %d vs %d",
			br, len(at), maxAbs(errs), float64(maxAbs(errs))*1000/audio.SampleRate, got.Frames(), p.Frames())
		if maxAbs(errs) > ms {
			t.Errorf("%d kb/s: timing errors %v samples exceed 1 ms", br, errs)
		}
		if got.Frames() != p.Frames() {
			t.Errorf("%d kb/s: decoded %d frames, want exactly %d", br, got.Frames(), p.Frames())
		}
	}
}

// A live stream carries no tag, so the decoder cannot know the encoder's
// delay: audio comes out EncoderDelay samples late, and no more.
func TestStreamTiming(t *testing.T) {
	p, at := clicks(6, 7)
	var b bytes.Buffer
	e, err := NewEncoder(&b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(p.Samples); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := audio.Decode(bytes.NewReader(b.Bytes()), "mp3")
	if err != nil {
		t.Fatal(err)
	}
	errs := findClicks(t, got, at, EncoderDelay)
	if maxAbs(errs) > audio.SampleRate/1000 {
		t.Errorf("untagged stream: clicks off by %v samples beyond the %d-sample encoder delay", errs, EncoderDelay)
	}
}

// TestDecoderDelay measures the MP3 decoder's own delay: the offset of
// the raw, untrimmed decode of every frame of the stream, less LAME's
// encoder delay. The audio package trims this figure (529) from every MP3.
func TestDecoderDelay(t *testing.T) {
	p, at := clicks(4, 3)
	var b bytes.Buffer
	e, _ := NewEncoder(&b, Options{})
	e.Write(p.Samples)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	var d mp3.Decoder
	var raw []float32
	data := b.Bytes()
	for off := mpa.Sync(data, 0); off >= 0 && off < len(data); {
		h, err := mpa.ParseHeader(data[off:])
		if err != nil || off+h.FrameSize() > len(data) {
			t.Fatalf("frame at %d: %v", off, err)
		}
		if raw, err = d.DecodeFrame(data[off:off+h.FrameSize()], raw); err != nil {
			t.Fatalf("frame at %d: %v", off, err)
		}
		off += h.FrameSize()
	}
	q := &audio.PCM{Samples: raw}
	// Clicks are found by their envelope peak, a few samples after
	// onset in both signals; compare against the 0-delay reference.
	ref := findClicks(t, p, at, 0)
	errs := findClicks(t, q, at, EncoderDelay+529)
	for i := range errs {
		errs[i] -= ref[i]
	}
	t.Logf("raw decoder offset = %d (LAME encoder delay) + 529 + %v", EncoderDelay, errs)
	if maxAbs(errs) > 2 {
		t.Errorf("decoder delay differs from 529 by %v samples", errs)
	}
}

// recorder keeps each Write separately.
type recorder struct{ writes [][]byte }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

// What a live stream sends is audio frames only: no blank placeholder and
// no tag, one whole frame per Write.
func TestEncoderWritesWholeAudioFrames(t *testing.T) {
	p, _ := clicks(2, 1)
	var r recorder
	e, err := NewEncoder(&r, Options{Bitrate: 192})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(p.Samples); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	mid := len(r.writes)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if mid == 0 {
		t.Error("Flush wrote nothing after 2 s of input")
	}
	if len(r.writes) != e.Frames() {
		t.Errorf("%d writes for %d frames", len(r.writes), e.Frames())
	}
	// 2 s plus delay and padding, in 1152-sample frames.
	if want := (p.Frames() + EncoderDelay + 1151) / 1152; e.Frames() < want || e.Frames() > want+2 {
		t.Errorf("%d frames, want about %d", e.Frames(), want)
	}
	for i, w := range r.writes {
		h, err := mpa.ParseHeader(w)
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if h.FrameSize() != len(w) || h.Bitrate != 192 || h.SampleRate != 44100 || h.Version != mpa.MPEG1 {
			t.Fatalf("write %d: %d bytes, header %+v", i, len(w), h)
		}
		if _, ok := mpa.ParseTag(w); ok {
			t.Fatalf("write %d carries a Xing/Info tag", i)
		}
		if isBlank(w, h) {
			t.Fatalf("write %d is a blank frame", i)
		}
	}
}

// Chunking must not change the output: any lengths, including 0 and odd.
func TestEncoderAnyWriteLength(t *testing.T) {
	p, _ := clicks(1.5, 2)
	encode := func(sizes func() int) []byte {
		var b bytes.Buffer
		e, err := NewEncoder(&b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for s := p.Samples; len(s) > 0; {
			n := min(sizes(), len(s))
			if err := e.Write(s[:n]); err != nil {
				t.Fatal(err)
			}
			s = s[n:]
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	whole := encode(func() int { return len(p.Samples) })
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 3, 1, 0, 2, 5}
	i := 0
	pieces := encode(func() int {
		i++
		if i < 200 {
			return sizes[i%len(sizes)]
		}
		return rng.IntN(5000)
	})
	if !bytes.Equal(whole, pieces) {
		t.Errorf("chunked writes gave %d bytes, one write %d; contents differ", len(pieces), len(whole))
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{{Bitrate: 100}, {Bitrate: 8}, {Bitrate: 384}, {Bitrate: -1}, {Quality: 10}, {Quality: -2}} {
		if _, err := NewEncoder(io.Discard, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	for _, br := range mpa.Bitrates() {
		e, err := NewEncoder(io.Discard, Options{Bitrate: br})
		if err != nil {
			t.Errorf("%d kb/s: %v", br, err)
			continue
		}
		e.Close()
	}
}

type failAfter struct{ n int }

var errDisk = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDisk
	}
	f.n--
	return len(p), nil
}

func TestWriteErrorsSurface(t *testing.T) {
	p, _ := clicks(3, 4)
	e, err := NewEncoder(&failAfter{n: 5}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for s := p.Samples; len(s) > 0 && werr == nil; s = s[min(len(s), 4096):] {
		werr = e.Write(s[:min(len(s), 4096)])
	}
	cerr := e.Close()
	if !errors.Is(werr, errDisk) && !errors.Is(cerr, errDisk) {
		t.Errorf("write error lost: Write %v, Close %v", werr, cerr)
	}
	if err := e.Write([]float32{0, 0}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// FFmpeg, an independent decoder, honours the tag too: it returns
// exactly the encoded number of samples.
func TestFFmpegReadsTag(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	p, _ := clicks(3, 5)
	path := filepath.Join(t.TempDir(), "clicks.mp3")
	if err := EncodeFile(path, p, Options{}); err != nil {
		t.Fatal(err)
	}
	// From a file, not a pipe: FFmpeg trims the end padding only when it
	// can see the end.
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "pipe:1").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(out) / 4; got != p.Frames() {
		t.Errorf("ffmpeg decoded %d frames, encoded %d", got, p.Frames())
	}
}

func BenchmarkEncode(b *testing.B) {
	p, _ := clicks(10, 1)
	for b.Loop() {
		if err := Encode(io.Discard, p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(10*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

func TestEncoderEmpty(t *testing.T) {
	var b bytes.Buffer
	e, err := NewEncoder(&b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("%d bytes from an encoder given nothing", b.Len())
	}
	if err := Encode(io.Discard, nil, Options{}); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}
