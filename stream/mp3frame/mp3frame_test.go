package mp3frame

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/foreverfm/forever/audio"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		hdr        []byte
		version    Version
		layer      int
		bitrate    int
		sampleRate int
		size       int
		samples    int
	}{
		{[]byte{0xFF, 0xFB, 0x90, 0x64}, MPEG1, 3, 128000, 44100, 417, 1152},
		{[]byte{0xFF, 0xFB, 0x92, 0x64}, MPEG1, 3, 128000, 44100, 418, 1152},
		{[]byte{0xFF, 0xF3, 0x40, 0xC4}, MPEG2, 3, 32000, 22050, 104, 576},
		{[]byte{0xFF, 0xE3, 0x10, 0xC4}, MPEG25, 3, 8000, 11025, 52, 576},
		{[]byte{0xFF, 0xFD, 0xE4, 0x00}, MPEG1, 2, 384000, 48000, 1152, 1152},
		{[]byte{0xFF, 0xFF, 0x90, 0x00}, MPEG1, 1, 288000, 44100, 312, 384},
	}
	for _, tt := range tests {
		h, err := ParseHeader(tt.hdr)
		if err != nil {
			t.Fatalf("ParseHeader(% x): %v", tt.hdr, err)
		}
		if h.Version != tt.version || h.Layer != tt.layer || h.Bitrate != tt.bitrate || h.SampleRate != tt.sampleRate || h.Size() != tt.size || h.Samples() != tt.samples {
			t.Errorf("ParseHeader(% x) = %+v size %d samples %d; want %v L%d %d %d size %d samples %d",
				tt.hdr, h, h.Size(), h.Samples(), tt.version, tt.layer, tt.bitrate, tt.sampleRate, tt.size, tt.samples)
		}
	}
	for _, bad := range [][]byte{
		{0xFF, 0xFB, 0x90},       // short
		{0xFE, 0xFB, 0x90, 0x64}, // no sync
		{0xFF, 0xEB, 0x90, 0x64}, // reserved version
		{0xFF, 0xF9, 0x90, 0x64}, // reserved layer
		{0xFF, 0xFB, 0x00, 0x64}, // free format
		{0xFF, 0xFB, 0xF0, 0x64}, // bad bitrate
		{0xFF, 0xFB, 0x9C, 0x64}, // reserved sample rate
		{0xFF, 0xFB, 0x90, 0x66}, // reserved emphasis
	} {
		if _, err := ParseHeader(bad); err == nil {
			t.Errorf("ParseHeader(% x) succeeded, want error", bad)
		}
	}
}

func readFile(t testing.TB, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFramesOfEncodedFiles(t *testing.T) {
	for _, tt := range []struct {
		file       string
		sampleRate int
		minFrames  int
	}{
		{"testdata/tone128.mp3", 44100, 38}, // 1 s at 1152 samples a frame
		{"testdata/tone22k.mp3", 22050, 19}, // 0.5 s at 576
	} {
		b := readFile(t, tt.file)
		frames := Frames(b)
		if len(frames) < tt.minFrames {
			t.Fatalf("%s: %d frames, want at least %d", tt.file, len(frames), tt.minFrames)
		}
		total := 0
		for i, f := range frames {
			h, err := ParseHeader(f)
			if err != nil {
				t.Fatalf("%s: frame %d: %v", tt.file, i, err)
			}
			if h.Size() != len(f) || h.SampleRate != tt.sampleRate {
				t.Fatalf("%s: frame %d: %+v, len %d", tt.file, i, h, len(f))
			}
			total += len(f)
		}
		// Everything but the leading ID3 tag is frames.
		id3, _ := id3Size(b)
		if total+id3 != len(b) {
			t.Errorf("%s: frames cover %d bytes + %d tag, file has %d", tt.file, total, id3, len(b))
		}
		if !IsInfo(frames[0]) || IsInfo(frames[1]) {
			t.Errorf("%s: IsInfo(first)=%v IsInfo(second)=%v, want true, false", tt.file, IsInfo(frames[0]), IsInfo(frames[1]))
		}
	}
}

// TestSplitterPieces feeds a file surrounded by junk in random pieces and
// checks that the frames are those of the whole file.
func TestSplitterPieces(t *testing.T) {
	b := readFile(t, "testdata/tone128.mp3")
	want := Frames(b)
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 3000)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	junk[100], junk[101], junk[102], junk[103] = 0xFF, 0xFB, 0x90, 0x64 // a false sync
	in := append(append(append([]byte{}, junk...), b...), []byte("TAG trailing junk")...)
	for trial := range 20 {
		var s Splitter
		var got [][]byte
		for rest := in; len(rest) > 0; {
			n := 1 + rng.IntN(700)
			if trial == 0 {
				n = 1
			}
			n = min(n, len(rest))
			s.Write(rest[:n])
			rest = rest[n:]
			for {
				f, ok := s.Next()
				if !ok {
					break
				}
				got = append(got, bytes.Clone(f))
			}
		}
		s.Close()
		for {
			f, ok := s.Next()
			if !ok {
				break
			}
			got = append(got, bytes.Clone(f))
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d frames, want %d", trial, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("trial %d: frame %d differs", trial, i)
			}
		}
	}
}

func TestSilentDecodesToSilence(t *testing.T) {
	f, err := Silent(MPEG1, 128000, 44100, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeader(f)
	if err != nil || h.Size() != len(f) || h.Bitrate != 128000 {
		t.Fatalf("Silent: header %+v err %v len %d", h, err, len(f))
	}
	stream := bytes.Repeat(f, 20)
	p, err := audio.Decode(bytes.NewReader(stream), "mp3")
	if err != nil {
		t.Fatal(err)
	}
	if p.Frames() < 10*1152 {
		t.Fatalf("decoded %d frames, want at least %d", p.Frames(), 10*1152)
	}
	for i, v := range p.Samples {
		if v != 0 {
			t.Fatalf("sample %d of decoded silence is %v", i, v)
		}
	}
	if _, err := Silent(MPEG1, 127000, 44100, 1); err == nil {
		t.Error("Silent accepted a bitrate Layer III does not have")
	}
}

func FuzzFrames(f *testing.F) {
	b, err := os.ReadFile("testdata/tone22k.mp3")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:1200], 7)
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0, 0}, 1)
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x05hello\xff\xf3\x40\xc4"), 3)
	f.Fuzz(func(t *testing.T, data []byte, piece int) {
		if piece <= 0 {
			piece = 1
		}
		var s Splitter
		var total int
		check := func() {
			for {
				fr, ok := s.Next()
				if !ok {
					return
				}
				h, err := ParseHeader(fr)
				if err != nil {
					t.Fatalf("frame does not parse: %v", err)
				}
				if h.Size() != len(fr) || len(fr) > maxFrame {
					t.Fatalf("frame of %d bytes, header says %d", len(fr), h.Size())
				}
				total += len(fr)
			}
		}
		for rest := data; len(rest) > 0; {
			n := min(piece, len(rest))
			s.Write(rest[:n])
			rest = rest[n:]
			check()
			if len(s.buf)-s.start > 3*maxFrame {
				t.Fatalf("splitter holds %d bytes", len(s.buf)-s.start)
			}
		}
		s.Close()
		check()
		if int64(total)+s.Skipped > int64(len(data)) {
			t.Fatalf("frames %d + skipped %d exceed input %d", total, s.Skipped, len(data))
		}
		IsInfo(data)
	})
}

func BenchmarkSplitter(b *testing.B) {
	data := readFile(b, "testdata/tone128.mp3")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var s Splitter
	for b.Loop() {
		for off := 0; off < len(data); off += 1000 {
			s.Write(data[off:min(off+1000, len(data))])
			for _, ok := s.Next(); ok; _, ok = s.Next() {
			}
		}
	}
}
