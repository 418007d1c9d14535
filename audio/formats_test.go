package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// dominant returns the frequency of the strongest bin in the left channel
// of p's middle 8192 frames.
func dominant(p *PCM) float64 {
	const n = 8192
	db, _ := spectrum(p.Samples, 2, 0, (p.Frames()-n)/2, n)
	peak := 1
	for i := 1; i < len(db); i++ {
		if db[i] > db[peak] {
			peak = i
		}
	}
	return float64(peak) * SampleRate / n
}

func rms(s []float32) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

// The committed FLAC and Ogg files were made with FFmpeg's sine source
// (amplitude 1/8) at half volume: a 1 kHz sine as 22.05 kHz mono FLAC, a
// 3 kHz one as 48 kHz stereo Vorbis.
func TestDecodeFLACAndOgg(t *testing.T) {
	for _, tc := range []struct {
		file string
		freq float64
		rms  float64
	}{
		// Amplitude 1/16: RMS 0.0442.
		{"testdata/sine1k_22050_mono.flac", 1000, 0.0442},
		// FFmpeg's mono to stereo upmix takes 3 dB off each channel.
		{"testdata/sine3k_48000_stereo.ogg", 3000, 0.0312},
	} {
		p, err := DecodeFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(p.Seconds() - 0.5); d > 0.01 {
			t.Errorf("%s: %.3f s, want 0.5", tc.file, p.Seconds())
		}
		if f := dominant(p); math.Abs(f-tc.freq) > 10 {
			t.Errorf("%s: dominant %.0f Hz, want %.0f", tc.file, f, tc.freq)
		}
		mid := p.Slice(p.Frames()/4, 3*p.Frames()/4)
		if r := rms(mid.Samples); math.Abs(r-tc.rms) > 0.002 {
			t.Errorf("%s: RMS %.4f, want %.4f", tc.file, r, tc.rms)
		}
		for i := range mid.Frames() {
			if mid.Samples[2*i] != mid.Samples[2*i+1] && tc.file[len(tc.file)-4:] == "flac" {
				t.Fatalf("%s: mono not duplicated at %d", tc.file, i)
			}
		}
	}
}

// Truncated files give back what they have and say so.
func TestDecodeTruncated(t *testing.T) {
	for _, file := range []string{"testdata/sine1k_22050_mono.flac", "testdata/sine3k_48000_stereo.ogg"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), filepath.Base(file))
		// The files are mostly headers; 200 bytes off the end cuts into
		// the last frame or page.
		if err := os.WriteFile(path, data[:len(data)-200], 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := DecodeFile(path)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s cut short: error %v, want unexpected EOF", file, err)
		}
		// FLAC's frames are small enough that most of the audio survives;
		// this Ogg file keeps all its audio in one page, so none does.
		wantPartial := filepath.Ext(file) == ".flac"
		if wantPartial && (p == nil || p.Seconds() < 0.1 || p.Seconds() > 0.49) {
			t.Errorf("%s cut short: partial audio %v", file, p)
		}
		// Cut inside the headers: an error and no audio.
		if err := os.WriteFile(path, data[:40], 0o644); err != nil {
			t.Fatal(err)
		}
		if p, err := DecodeFile(path); err == nil || p != nil {
			t.Errorf("%s cut to 40 bytes: %v, %v", file, p, err)
		}
	}
}

// Misnamed files decode by content.
func TestDecodeMisnamed(t *testing.T) {
	data, err := os.ReadFile("testdata/sine1k_22050_mono.flac")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "really-flac.mp3")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeFile(path); err != nil {
		t.Error(err)
	}
	if _, err := Decode(bytes.NewReader(data), "ogg"); err != nil {
		t.Error(err)
	}
}

// benchClip is 30 s of a synthetic mix (chords, noise bursts) written to
// WAV and, where FFmpeg is installed, encoded to the other formats.
var benchClip struct {
	once  sync.Once
	dir   string
	files map[string]string
	err   error
}

func benchFiles(b *testing.B) map[string]string {
	benchClip.once.Do(func() {
		dir, err := os.MkdirTemp("", "audio-bench")
		if err != nil {
			benchClip.err = err
			return
		}
		benchClip.dir = dir
		p := NewPCM(30 * SampleRate)
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range p.Frames() {
			t := float64(i) / SampleRate
			v := 0.2*math.Sin(2*math.Pi*220*t) + 0.15*math.Sin(2*math.Pi*277.2*t) + 0.1*math.Sin(2*math.Pi*329.6*t)
			if math.Mod(t, 0.5) < 0.05 {
				v += 0.3 * (rng.Float64()*2 - 1)
			}
			p.Samples[2*i] = float32(v)
			p.Samples[2*i+1] = float32(0.9 * v)
		}
		var buf bytes.Buffer
		WriteWAV(&buf, p)
		wav := filepath.Join(dir, "clip.wav")
		if err := os.WriteFile(wav, buf.Bytes(), 0o644); err != nil {
			benchClip.err = err
			return
		}
		benchClip.files = map[string]string{"wav": wav}
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			return
		}
		for ext, args := range map[string][]string{
			"mp3":  {"-c:a", "libmp3lame", "-b:a", "128k"},
			"flac": {},
			"ogg":  {"-c:a", "libvorbis", "-q:a", "5"},
		} {
			out := filepath.Join(dir, "clip."+ext)
			cmd := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-y", "-i", wav}, args...), out)...)
			if err := cmd.Run(); err == nil {
				benchClip.files[ext] = out
			}
		}
	})
	if benchClip.err != nil {
		b.Fatal(benchClip.err)
	}
	return benchClip.files
}

func benchmarkDecode(b *testing.B, format string) {
	path, ok := benchFiles(b)[format]
	if !ok {
		b.Skipf("no %s clip (FFmpeg missing?)", format)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var seconds float64
	for b.Loop() {
		p, err := Decode(bytes.NewReader(data), format)
		if err != nil {
			b.Fatal(err)
		}
		seconds = p.Seconds()
	}
	b.ReportMetric(seconds*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

func BenchmarkDecodeWAV(b *testing.B)  { benchmarkDecode(b, "wav") }
func BenchmarkDecodeMP3(b *testing.B)  { benchmarkDecode(b, "mp3") }
func BenchmarkDecodeFLAC(b *testing.B) { benchmarkDecode(b, "flac") }
func BenchmarkDecodeOgg(b *testing.B)  { benchmarkDecode(b, "ogg") }

// MP3s made by FFmpeg (libmp3lame behind a "Lavc" tag) come out aligned
// and exactly as long as their source too.
func TestDecodeFFmpegMP3Gapless(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	p := NewPCM(2 * SampleRate)
	at := []int{5000, 30000, 61000}
	for _, f := range at {
		for k := range 32 {
			v := float32(0.9 * math.Exp(-float64(k)/4))
			if k%2 == 1 {
				v = -v
			}
			p.Samples[2*(f+k)], p.Samples[2*(f+k)+1] = v, v
		}
	}
	dir := t.TempDir()
	var wav bytes.Buffer
	if err := WriteWAV(&wav, p); err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.mp3")
	if err := os.WriteFile(in, wav.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("ffmpeg", "-v", "error", "-i", in, "-c:a", "libmp3lame", "-b:a", "192k", out).Run(); err != nil {
		t.Fatal(err)
	}
	q, err := DecodeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if q.Frames() != p.Frames() {
		t.Errorf("%d frames, want %d", q.Frames(), p.Frames())
	}
	for _, f := range at {
		best := f
		for i := f - 200; i < f+200; i++ {
			if math.Abs(float64(q.Samples[2*i])) > math.Abs(float64(q.Samples[2*best])) {
				best = i
			}
		}
		if d := best - f; d < -SampleRate/1000 || d > SampleRate/1000 {
			t.Errorf("click at %d decoded at %d", f, best)
		}
	}
}

// A 22.05 kHz, 32 kb/s file (padded MPEG-2 frames throughout, which
// go-mp3 v0.3.4 used to mis-size) must match FFmpeg's decode of it to
// within a couple of 16-bit steps.
func TestDecodeMPEG2Padded(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	mp3Path := filepath.Join(dir, "lsf.mp3")
	err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=22050:duration=3",
		"-af", "volume=4", "-c:a", "libmp3lame", "-b:a", "32k", "-write_xing", "0", mp3Path).Run()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(mp3Path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseMP3(data)
	if err != nil {
		t.Fatal(err)
	}
	padded := 0
	for _, o := range s.offsets {
		padded += int(data[o+2] >> 1 & 1)
	}
	if padded == 0 {
		t.Fatal("test stream has no padded frames; pick another bitrate")
	}
	ref, err := exec.Command("ffmpeg", "-v", "error", "-i", mp3Path, "-f", "s16le", "-ac", "1", "pipe:1").Output()
	if err != nil {
		t.Fatal(err)
	}
	n, err := decodeMP3Bytes(data, false)
	if err != nil {
		t.Fatal(err)
	}
	// Without a tag FFmpeg trims nothing, and neither does the raw decode.
	var se float64
	cnt := 0
	for i := 0; i+1 < len(ref)/2; i++ {
		j := i
		if 2*j >= len(n.samples) {
			break
		}
		w := float64(int16(uint16(ref[2*i]) | uint16(ref[2*i+1])<<8))
		g := float64(n.samples[2*j]) * 32768
		se += (g - w) * (g - w)
		cnt++
	}
	if cnt < 22050*2 {
		t.Fatalf("only %d samples compared", cnt)
	}
	p := 10 * math.Log10(32767*32767*float64(cnt)/(se+1e-9))
	t.Logf("%d padded frames; PSNR against FFmpeg %.1f dB", padded, p)
	if p < 80 {
		t.Errorf("PSNR against FFmpeg %.1f dB, want > 80", p)
	}
}

// A corrupt frame costs a frame or two of sound (dropped, with the frame
// whose data began in it, as the reference decoders do), not the track;
// many corrupt frames reject it.
func TestDecodeMP3ConcealsCorruptFrames(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "x.mp3")
	err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=10",
		"-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", path).Run()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clean, err := Decode(bytes.NewReader(data), "mp3")
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseMP3(data)
	if err != nil {
		t.Fatal(err)
	}
	// Turn frame 100 into Layer I, which the decoder refuses.
	corrupt := func(frames ...int) []byte {
		d := append([]byte(nil), data...)
		for _, f := range frames {
			d[s.offsets[f]+1] |= 0x06
		}
		return d
	}
	got, err := Decode(bytes.NewReader(corrupt(100)), "mp3")
	if err != nil {
		t.Fatalf("one corrupt frame: %v", err)
	}
	if d := clean.Frames() - got.Frames(); d < 0 || d > 2*1152 {
		t.Errorf("one corrupt frame: %d frames, clean %d", got.Frames(), clean.Frames())
	}
	// Everything before the damage is untouched.
	for i := range 2 * 1152 * 98 {
		if got.Samples[i] != clean.Samples[i] {
			t.Fatalf("sample %d differs before the corrupt frame", i)
		}
	}
	many := make([]int, 0, 20)
	for f := 10; f < 390; f += 20 {
		many = append(many, f)
	}
	if _, err := Decode(bytes.NewReader(corrupt(many...)), "mp3"); err == nil {
		t.Errorf("%d corrupt frames of %d accepted", len(many), len(s.offsets))
	}
}

// A free-format stream (bitrate index 0: frame length only found from the
// next header) decodes exactly like the same frames with their bitrate
// written in. FFmpeg cannot write free format, so its frames are
// relabelled.
func TestDecodeFreeFormat(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "x.mp3")
	err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
		"-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-id3v2_version", "0", path).Run()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(bytes.NewReader(data), "mp3")
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseMP3(data)
	if err != nil {
		t.Fatal(err)
	}
	free := bytes.Clone(data)
	for _, o := range s.offsets {
		free[o+2] &= 0x0F
	}
	got, err := Decode(bytes.NewReader(free), "mp3")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != len(want.Samples) {
		t.Fatalf("%d samples, want %d", len(got.Samples), len(want.Samples))
	}
	for i := range got.Samples {
		if got.Samples[i] != want.Samples[i] {
			t.Fatalf("sample %d: %v, want %v", i, got.Samples[i], want.Samples[i])
		}
	}
}

// TestDecodeFileLongCompressed checks that long MP3 and FLAC files are
// decoded into one allocation of their samples, not grown by append past
// a bound kept for untrusted headers: growing hundreds of megabytes made
// a 28-minute MP3 decode at a third of its usual speed. Noise, because
// FLAC is trusted to carry only so many samples per byte.
func TestDecodeFileLongCompressed(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	for _, tc := range []struct {
		ext     string
		seconds int // past the bound: 2^25 samples for MP3, 2^22 for FLAC
		codec   []string
	}{
		{"mp3", 400, []string{"-c:a", "libmp3lame", "-b:a", "64k"}},
		{"flac", 60, []string{"-c:a", "flac"}},
	} {
		t.Run(tc.ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "long."+tc.ext)
			args := append([]string{"-v", "error", "-f", "lavfi", "-i", fmt.Sprintf("anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:duration=%d", tc.seconds), "-ac", "2"}, tc.codec...)
			if out, err := exec.Command("ffmpeg", append(args, path)...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			p, got := decodeFileAllocating(t, path)
			if math.Abs(p.Seconds()-float64(tc.seconds)) > 0.1 {
				t.Fatalf("%.2f s decoded, want %d", p.Seconds(), tc.seconds)
			}
			// The samples once, the file's bytes (read whole for MP3) with
			// their buffer's growth, and the decoders' working space.
			final := uint64(len(p.Samples) * 4)
			budget := final + final/4 + 3*uint64(st.Size()) + 16<<20
			if got > budget {
				t.Errorf("decoding allocated %d MB for %d MB of samples from a %d MB file", got>>20, final>>20, st.Size()>>20)
			}
		})
	}
}
