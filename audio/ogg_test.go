package audio

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
