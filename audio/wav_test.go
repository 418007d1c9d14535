package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	goaudio "github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// wavSpec describes a WAV file for makeWAV.
type wavSpec struct {
	tag        uint16 // wavPCM or wavFloat
	bits       int
	channels   int
	rate       int
	extensible bool
	mask       uint32
	dataSize   int64 // -1: the real size
}

// makeWAV encodes frames (values in [-1, 1), one slice per frame) by hand,
// independently of the decoder under test.
func makeWAV(s wavSpec, frames [][]float64) []byte {
	var data bytes.Buffer
	for _, f := range frames {
		for _, v := range f {
			switch {
			case s.tag == wavFloat && s.bits == 32:
				binary.Write(&data, binary.LittleEndian, float32(v))
			case s.tag == wavFloat && s.bits == 64:
				binary.Write(&data, binary.LittleEndian, v)
			case s.bits == 8:
				data.WriteByte(byte(int(math.Round(v*128)) + 128))
			case s.bits == 16:
				binary.Write(&data, binary.LittleEndian, int16(math.Round(v*32768)))
			case s.bits == 24:
				x := int32(math.Round(v * (1 << 23)))
				data.Write([]byte{byte(x), byte(x >> 8), byte(x >> 16)})
			case s.bits == 32:
				binary.Write(&data, binary.LittleEndian, int32(math.Round(v*(1<<31-1))))
			}
		}
	}
	var fmtc bytes.Buffer
	tag := s.tag
	if s.extensible {
		tag = wavExtensible
	}
	align := s.channels * s.bits / 8
	for _, v := range []any{tag, uint16(s.channels), uint32(s.rate), uint32(s.rate * align), uint16(align), uint16(s.bits)} {
		binary.Write(&fmtc, binary.LittleEndian, v)
	}
	if s.extensible {
		for _, v := range []any{uint16(22), uint16(s.bits), s.mask, s.tag} {
			binary.Write(&fmtc, binary.LittleEndian, v)
		}
		fmtc.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
	}
	size := int64(data.Len())
	if s.dataSize >= 0 {
		size = s.dataSize
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+fmtc.Len()+8+data.Len()))
	b.WriteString("WAVE")
	// An unknown chunk before fmt must be skipped.
	b.WriteString("junk")
	binary.Write(&b, binary.LittleEndian, uint32(3))
	b.Write([]byte{1, 2, 3, 0})
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(fmtc.Len()))
	b.Write(fmtc.Bytes())
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(size))
	b.Write(data.Bytes())
	return b.Bytes()
}

func ramp(frames, channels int) [][]float64 {
	out := make([][]float64, frames)
	for i := range out {
		out[i] = make([]float64, channels)
		for c := range channels {
			out[i][c] = 0.9 * math.Sin(float64(i)*0.01+float64(c))
		}
	}
	return out
}

func TestDecodeWAVFormats(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec wavSpec
		tol  float64
	}{
		{"pcm8", wavSpec{tag: wavPCM, bits: 8}, 1.0 / 128},
		{"pcm16", wavSpec{tag: wavPCM, bits: 16}, 1.0 / 32768},
		{"pcm24", wavSpec{tag: wavPCM, bits: 24}, 1.0 / (1 << 23)},
		{"pcm32", wavSpec{tag: wavPCM, bits: 32}, 1e-7},
		{"float32", wavSpec{tag: wavFloat, bits: 32}, 1e-7},
		{"float64", wavSpec{tag: wavFloat, bits: 64}, 1e-7},
		{"extensible24", wavSpec{tag: wavPCM, bits: 24, extensible: true, mask: 3}, 1.0 / (1 << 23)},
		{"extensibleFloat", wavSpec{tag: wavFloat, bits: 32, extensible: true, mask: 3}, 1e-7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.spec
			s.channels, s.rate, s.dataSize = 2, SampleRate, -1
			frames := ramp(1000, 2)
			p, err := Decode(bytes.NewReader(makeWAV(s, frames)), "wav")
			if err != nil {
				t.Fatal(err)
			}
			if p.Frames() != len(frames) {
				t.Fatalf("%d frames, want %d", p.Frames(), len(frames))
			}
			for i, f := range frames {
				for c, v := range f {
					if d := math.Abs(float64(p.Samples[2*i+c]) - v); d > tc.tol {
						t.Fatalf("frame %d ch %d: %v, want %v", i, c, p.Samples[2*i+c], v)
					}
				}
			}
		})
	}
}

func TestDecodeWAVChannelsAndRate(t *testing.T) {
	// Mono is duplicated.
	mono := makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 1, rate: SampleRate, dataSize: -1}, ramp(500, 1))
	p, err := Decode(bytes.NewReader(mono), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Frames() {
		if p.Samples[2*i] != p.Samples[2*i+1] {
			t.Fatalf("mono frame %d: %v != %v", i, p.Samples[2*i], p.Samples[2*i+1])
		}
	}
	// 5.1: only the left front reaches the left output, the centre both.
	const n = 100
	six := make([][]float64, n)
	for i := range six {
		six[i] = []float64{0.5, 0, 0, 0.9, 0, 0} // FL and LFE
	}
	p, err = Decode(bytes.NewReader(makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 6, rate: SampleRate, dataSize: -1}, six)), "wav")
	if err != nil {
		t.Fatal(err)
	}
	if l, r := p.Samples[100], p.Samples[101]; l <= 0.1 || r != 0 {
		t.Errorf("5.1 front-left only: got L=%v R=%v, want L>0, R=0 (LFE dropped)", l, r)
	}
	// 48 kHz is resampled: one second stays one second.
	w48 := makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 2, rate: 48000, dataSize: -1}, ramp(48000, 2))
	p, err = Decode(bytes.NewReader(w48), "wav")
	if err != nil {
		t.Fatal(err)
	}
	if p.Frames() != SampleRate {
		t.Errorf("1 s at 48 kHz gave %d frames, want %d", p.Frames(), SampleRate)
	}
}

// TestDecodeWAVExtremeFloats checks that float samples near the float32
// limit, finite in the file, stay finite through mixing and resampling
// (found by FuzzDecodeWAV), and that no NaN or infinity in the file gets
// through.
func TestDecodeWAVExtremeFloats(t *testing.T) {
	frames := make([][]float64, 4800)
	for i := range frames {
		frames[i] = []float64{3e38, -3e38}
	}
	frames[10] = []float64{math.NaN(), math.Inf(1)}
	p, err := Decode(bytes.NewReader(makeWAV(wavSpec{tag: wavFloat, bits: 32, channels: 2, rate: 48000, dataSize: -1}, frames)), "wav")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range p.Samples {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("sample %d is %v", i, v)
		}
	}
}

// go-audio/wav, an independent writer, produces files we read back.
func TestDecodeGoAudioWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := wav.NewEncoder(f, 22050, 24, 1, 1)
	buf := &goaudio.IntBuffer{Format: &goaudio.Format{NumChannels: 1, SampleRate: 22050}, SourceBitDepth: 24}
	for i := range 22050 {
		buf.Data = append(buf.Data, int(4e6*math.Sin(2*math.Pi*440*float64(i)/22050)))
	}
	if err := enc.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p, err := DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Frames() != SampleRate {
		t.Fatalf("%d frames, want %d", p.Frames(), SampleRate)
	}
	var peak float32
	for _, v := range p.Samples {
		peak = max(peak, v)
	}
	if want := float32(4e6 / (1 << 23)); math.Abs(float64(peak-want)) > 0.01 {
		t.Errorf("peak %v, want %v", peak, want)
	}
}

func TestWriteWAVRoundTrip(t *testing.T) {
	p := NewPCM(5000)
	for i := range p.Samples {
		p.Samples[i] = float32(0.8 * math.Sin(float64(i)*0.003))
	}
	p.Samples[10] = 3  // clipped
	p.Samples[11] = -3 // clipped
	var b bytes.Buffer // not an io.Seeker
	if err := WriteWAV(&b, p); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Len(), 44+4*p.Frames(); got != want {
		t.Fatalf("%d bytes, want %d", got, want)
	}
	// go-audio/wav agrees about the header.
	d := wav.NewDecoder(bytes.NewReader(b.Bytes()))
	if !d.IsValidFile() || d.SampleRate != SampleRate || d.NumChans != 2 || d.BitDepth != 16 {
		t.Fatalf("go-audio/wav rejects the header: %v %d %d %d", d.Err(), d.SampleRate, d.NumChans, d.BitDepth)
	}
	q, err := Decode(&b, "wav")
	if err != nil {
		t.Fatal(err)
	}
	if q.Frames() != p.Frames() {
		t.Fatalf("%d frames, want %d", q.Frames(), p.Frames())
	}
	for i, v := range p.Samples {
		want := max(-1, min(32767.0/32768, float64(v)))
		// Rounding plus TPDF dither: at most 1.5 LSB.
		if d := math.Abs(float64(q.Samples[i]) - want); d > 1.5/32768 {
			t.Fatalf("sample %d: %v, want %v", i, q.Samples[i], want)
		}
	}
}

func TestDecodeBadInput(t *testing.T) {
	dir := t.TempDir()
	good := makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 2, rate: SampleRate, dataSize: -1}, ramp(1000, 2))
	huge := makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 2, rate: SampleRate, dataSize: 0xFFFFFFF0}, ramp(1000, 2))
	big := makeWAV(wavSpec{tag: wavPCM, bits: 16, channels: 2, rate: SampleRate, dataSize: 1 << 30}, ramp(1000, 2))
	hugeFmt := []byte("RIFF\x00\x00\x00\x00WAVEfmt \xF0\xFF\xFF\xFF\x01\x00\x02\x00")
	for _, tc := range []struct {
		name    string
		data    []byte
		want    error
		partial bool // a truncated file still yields its audio
	}{
		{"empty.wav", nil, ErrNoAudio, false},
		{"empty.mp3", nil, ErrNoAudio, false},
		{"empty.flac", nil, ErrNoAudio, false},
		{"empty.ogg", nil, ErrNoAudio, false},
		{"text.wav", []byte("this is not audio at all, just text"), ErrFormat, false},
		{"text.mp3", []byte("this is not audio at all, just text"), ErrFormat, false},
		{"text.flac", []byte("this is not audio at all, just text"), ErrFormat, false},
		{"text.ogg", []byte("this is not audio at all, just text"), ErrFormat, false},
		{"unknown.xyz", good, nil, false}, // content wins over an unknown extension
		{"junk.xyz", []byte("junk"), ErrFormat, false},
		{"truncated.wav", good[:len(good)-1001], io.ErrUnexpectedEOF, true},
		{"header-only.wav", good[:30], io.ErrUnexpectedEOF, false},
		{"claims4GB.wav", huge, ErrTooLong, false},
		{"claims1GB.wav", big, io.ErrUnexpectedEOF, true},
		{"fmt4GB.wav", hugeFmt, io.ErrUnexpectedEOF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			p, err := DecodeFile(path)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if tc.name == "unknown.xyz" {
				if err != nil || p.Frames() != 1000 {
					t.Fatalf("got %v, %v", p, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q is not %q", err, tc.want)
			}
			if tc.partial != (p != nil && p.Frames() > 0) {
				t.Errorf("partial audio: %v, want %v", p != nil, tc.partial)
			}
			if a := after.TotalAlloc - before.TotalAlloc; a > 64<<20 {
				t.Errorf("allocated %d MB", a>>20)
			}
			t.Logf("%v", err)
		})
	}
}

func TestDecodeDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := DecodeFile(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("decoding a directory: %v", err)
	}
}

// TestDecodeFileLongWAVOneAllocation checks that a long WAV file, whose
// size the file system vouches for, is read without growing the sample
// slice: growing hundreds of megabytes made a 28-minute file take four
// times as long to decode as to analyse.
func TestDecodeFileLongWAVOneAllocation(t *testing.T) {
	const frames = 5_000_000 // 10M samples: past the 8M bound kept for headers alone
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+frames*4))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(2), uint32(SampleRate), uint32(SampleRate * 4), uint16(4), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(frames*4))
	b.Write(make([]byte, frames*4))
	path := filepath.Join(t.TempDir(), "long.wav")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b = bytes.Buffer{}
	p, got := decodeFileAllocating(t, path)
	if p.Frames() != frames {
		t.Fatalf("%d frames, want %d", p.Frames(), frames)
	}
	final := uint64(frames * 2 * 4)
	if got > final+final/4 {
		t.Errorf("decoding allocated %d MB for %d MB of samples", got>>20, final>>20)
	}
}

// decodeFileAllocating decodes path and returns the PCM with the bytes
// allocated meanwhile.
func decodeFileAllocating(t *testing.T, path string) (*PCM, uint64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := DecodeFile(path)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return p, after.TotalAlloc - before.TotalAlloc
}
