package mix

import (
	"bufio"
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/internal/shared"
)

// ffmpegTruePeak measures the true peak of a WAV file in dBTP as ffmpeg's
// ebur128 filter does (the largest of its per-channel true peaks).
func ffmpegTruePeak(t *testing.T, path string) float64 {
	t.Helper()
	meta := filepath.Join(t.TempDir(), "meta.txt")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostats", "-i", path,
		"-af", "ebur128=peak=true:metadata=1,ametadata=mode=print:file="+meta, "-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	var peak float64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || !strings.HasPrefix(k, "lavfi.r128.true_peaks_ch") {
			continue
		}
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			peak = max(peak, x)
		}
	}
	return 20 * math.Log10(peak)
}

// TestLimiterCeilingAsFFmpegMeasures limits loud material by up to 12 dB
// and wants ffmpeg's meter to read the output at or under the -1 dBTP
// ceiling: noise bursts shaped like music's spectrum and, when the shared
// test music is there, a real recording pushed 12 dB into the limiter.
func TestLimiterCeilingAsFFmpegMeasures(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("no ffmpeg")
	}
	rng := rand.New(rand.NewPCG(4, 4))
	const frames = 10 * audio.SampleRate
	bursts := audio.NewPCM(frames)
	var prev [2]float64
	for i := range bursts.Samples {
		amp := 0.3
		if (i/2)%20000 < 3000 {
			amp = 2
		}
		v := rng.NormFloat64() * amp
		bursts.Samples[i] = float32((v + prev[i%2]) / 2)
		prev[i%2] = v
	}
	cases := map[string]*audio.PCM{"bursts": bursts}
	if d := shared.Dir(); d == "" {
		t.Log("no shared test music: noise only")
	} else if p, err := audio.DecodeFile(filepath.Join(d, "testdata", "music", "lets_go_fishin.ogg")); err != nil {
		t.Fatal(err)
	} else {
		p.Samples = p.Samples[:min(len(p.Samples), 2*40*audio.SampleRate)]
		for i := range p.Samples {
			p.Samples[i] *= 4
		}
		cases["music +12 dB"] = p
	}
	for name, p := range cases {
		NewLimiter(LimiterOptions{}).Process(p.Samples)
		path := filepath.Join(t.TempDir(), "limited.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := audio.WriteWAV(f, p); err != nil {
			t.Fatal(err)
		}
		f.Close()
		tp := ffmpegTruePeak(t, path)
		t.Logf("%s: %.3f dBTP by ffmpeg", name, tp)
		if tp > -1 {
			t.Errorf("%s: ffmpeg reads %.3f dBTP, over the -1 dBTP ceiling", name, tp)
		}
	}
}
