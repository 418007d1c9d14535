package audio

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The parallel decode must give exactly the samples one reader gives.
func TestOggPartsMatchSerial(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "chirp.ogg")
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i",
		"aevalsrc=sin(2*PI*(200+400*t)*t)|0.5*sin(2*PI*(300+200*t)*t):s=44100:d=7",
		"-c:a", "libvorbis", "-q:a", "4", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make Vorbis here: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func(m int64) { oggParallelMin = m }(oggParallelMin)

	oggParallelMin = 1 << 62
	serial, err := decodeOgg(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	length := int64(len(serial.samples) / 2)
	for _, procs := range []int{2, 3, 7} {
		t.Run("", func(t *testing.T) {
			defer setProcs(procs)()
			par, ok := decodeOggParts(data, length, 2)
			if !ok {
				t.Fatalf("%d parts: a part failed", procs)
			}
			if len(par) != len(serial.samples) {
				t.Fatalf("%d parts: %d samples, serial %d", procs, len(par), len(serial.samples))
			}
			for i := range serial.samples {
				if par[i] != serial.samples[i] {
					t.Fatalf("%d parts: sample %d (frame %d) is %v, serial %v", procs, i, i/2, par[i], serial.samples[i])
				}
			}
		})
	}
	// And decodeOgg takes that path for a long enough stream.
	oggParallelMin = 0
	defer setProcs(2)()
	whole, err := decodeOgg(bytes.NewReader(data))
	if err != nil || len(whole.samples) != len(serial.samples) {
		t.Fatalf("decodeOgg in parts: %d samples, %v", len(whole.samples), err)
	}
}

func setProcs(n int) (restore func()) {
	old := runtime.GOMAXPROCS(n)
	return func() { runtime.GOMAXPROCS(old) }
}

// Music files often carry cover art as a Theora stream multiplexed before
// the audio; the Vorbis stream must still be found. An Ogg file with no
// Vorbis at all (Opus) gets an error that says so.
func TestOggMultiplexed(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	withArt := filepath.Join(dir, "art.ogg")
	cmd := exec.Command("ffmpeg", "-v", "error",
		"-f", "lavfi", "-i", "color=c=red:s=64x64:d=1:r=1",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3",
		"-map", "0:v", "-map", "1:a", "-c:v", "libtheora", "-c:a", "libvorbis", withArt)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make Theora+Vorbis here: %v\n%s", err, out)
	}
	p, err := DecodeFile(withArt)
	if err != nil {
		t.Fatalf("Ogg with a picture stream: %v", err)
	}
	if s := p.Seconds(); s < 2.9 || s > 3.1 {
		t.Errorf("decoded %.2f s, want 3", s)
	}
	var sum float64
	for _, v := range p.Samples {
		sum += float64(v) * float64(v)
	}
	// ffmpeg's sine source is at 1/8 of full scale: an RMS of 0.088.
	if rms := math.Sqrt(sum / float64(len(p.Samples))); rms < 0.07 || rms > 0.1 {
		t.Errorf("RMS %.4f: want the tone's 0.088", rms)
	}

	opus := filepath.Join(dir, "opus.ogg")
	cmd = exec.Command("ffmpeg", "-v", "error",
		"-f", "lavfi", "-i", "color=c=red:s=64x64:d=1:r=1",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1",
		"-map", "0:v", "-map", "1:a", "-c:v", "libtheora", "-c:a", "libopus", opus)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make Theora+Opus here: %v\n%s", err, out)
	}
	_, err = DecodeFile(opus)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "none of them Vorbis") || !strings.Contains(err.Error(), opus) {
		t.Errorf("Theora+Opus: got %v, want an ErrFormat naming the file and saying there is no Vorbis", err)
	}
}
