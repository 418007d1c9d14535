package analysis

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/internal/shared"
)

// loudSeg describes a stretch of a test signal: a sine of the given
// frequency and peak level (dBFS) on every channel.
type loudSeg struct {
	seconds float64
	freq    float64
	dbfs    float64
}

// sines renders consecutive sine segments, interleaved, continuous in phase.
func loudSines(rate, channels int, segs ...loudSeg) []float32 {
	var n int
	for _, s := range segs {
		n += int(math.Round(s.seconds * float64(rate)))
	}
	out := make([]float32, 0, n*channels)
	// A rotating phasor, renormalised now and then, is much cheaper than
	// math.Sin for minutes of signal and as exact as a float32 needs.
	re, im := 1.0, 0.0
	for _, s := range segs {
		a := math.Pow(10, s.dbfs/20)
		c, sn := math.Cos(2*math.Pi*s.freq/float64(rate)), math.Sin(2*math.Pi*s.freq/float64(rate))
		for i := 0; i < int(math.Round(s.seconds*float64(rate))); i++ {
			v := float32(a * im)
			for ch := 0; ch < channels; ch++ {
				out = append(out, v)
			}
			re, im = re*c-im*sn, re*sn+im*c
			if i%4096 == 0 {
				g := 1 / math.Hypot(re, im)
				re, im = re*g, im*g
			}
		}
	}
	return out
}

func TestKWeightingMatchesStandardAt48k(t *testing.T) {
	// BS.1770-4 tables 1 and 2.
	want := [2]kBiquad{
		{b0: 1.53512485958697, b1: -2.69169618940638, b2: 1.19839281085285, a1: -1.69065929318241, a2: 0.73248077421585},
		{b0: 1, b1: -2, b2: 1, a1: -1.99004745483398, a2: 0.99007225036621},
	}
	got := kWeightingCoefficients(48000)
	for i := range want {
		g, w := got[i], want[i]
		pairs := [][2]float64{{g.b0, w.b0}, {g.b1, w.b1}, {g.b2, w.b2}, {g.a1, w.a1}, {g.a2, w.a2}}
		for j, p := range pairs {
			if math.Abs(p[0]-p[1]) > 1e-9 {
				t.Errorf("filter %d coefficient %d = %.14f, standard %.14f", i, j, p[0], p[1])
			}
		}
	}
}

// EBU Tech 3341 (minimum requirements of a loudness meter) and Tech 3342
// (loudness range) test signals that are plain sines. The tolerances are
// the documents'.
func TestEBUTech3341(t *testing.T) {
	tests := []struct {
		name string
		segs []loudSeg
		want float64
	}{
		{"case1 -23dBFS", []loudSeg{{20, 1000, -23}}, -23},
		{"case2 -33dBFS", []loudSeg{{20, 1000, -33}}, -33},
		{"case3 relative gate", []loudSeg{{10, 1000, -36}, {60, 1000, -23}, {10, 1000, -36}}, -23},
		{"case4 absolute gate", []loudSeg{{10, 1000, -72}, {10, 1000, -36}, {60, 1000, -23}, {10, 1000, -36}, {10, 1000, -72}}, -23},
		{"case5 gating edges", []loudSeg{{20, 1000, -26}, {20.1, 1000, -20}, {20, 1000, -26}}, -23},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IntegratedLoudness(loudSines(48000, 2, tt.segs...), 2, 48000)
			if math.Abs(got-tt.want) > 0.1 {
				t.Errorf("integrated loudness %.3f LUFS, want %.1f ±0.1", got, tt.want)
			}
		})
	}
}

func TestEBUTech3342Range(t *testing.T) {
	tests := []struct {
		name string
		segs []loudSeg
		want float64
	}{
		{"case1", []loudSeg{{20, 1000, -20}, {20, 1000, -30}}, 10},
		{"case2", []loudSeg{{20, 1000, -20}, {20, 1000, -15}}, 5},
		{"case3", []loudSeg{{20, 1000, -40}, {20, 1000, -20}}, 20},
		{"case4", []loudSeg{{20, 1000, -50}, {20, 1000, -35}, {20, 1000, -20}, {20, 1000, -35}, {20, 1000, -50}}, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := MeasureLoudness(loudSines(48000, 2, tt.segs...), 2, 48000)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(l.Range-tt.want) > 1 {
				t.Errorf("loudness range %.2f LU, want %.0f ±1", l.Range, tt.want)
			}
		})
	}
}

// The same sine must read the same loudness at every sample rate: the
// filters are derived per rate, not tabulated for 48 kHz.
func TestLoudnessAnySampleRate(t *testing.T) {
	for _, rate := range []int{8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 192000} {
		for _, f := range []float64{100, 1000} {
			x := loudSines(rate, 2, loudSeg{10, f, -23})
			ref := IntegratedLoudness(loudSines(48000, 2, loudSeg{10, f, -23}), 2, 48000)
			got := IntegratedLoudness(x, 2, rate)
			// Near Nyquist the bilinear transform bends the 1.7 kHz shelf
			// of the pre-filter a little, as it does in libebur128.
			tol := 0.1
			if rate < 16000 {
				tol = 0.3
			}
			if math.Abs(got-ref) > tol {
				t.Errorf("%d Hz sine at %d Hz: %.3f LUFS, at 48 kHz %.3f", int(f), rate, got, ref)
			}
			if f == 1000 && math.Abs(got+23) > 0.1 {
				t.Errorf("1 kHz -23 dBFS at %d Hz: %.3f LUFS, want -23.0", rate, got)
			}
		}
	}
}

func TestLoudnessChannelWeights(t *testing.T) {
	// One channel of a -23 dBFS sine alone reads 3 dB less than both.
	mono := loudSines(48000, 1, loudSeg{5, 1000, -23})
	if got := IntegratedLoudness(mono, 1, 48000); math.Abs(got+26.01) > 0.1 {
		t.Errorf("mono -23 dBFS sine: %.3f LUFS, want -26.0", got)
	}
	// Five channels L R C Ls Rs with sound only in Ls: weight 1.41 (+1.5 dB).
	one := loudSines(48000, 1, loudSeg{5, 1000, -23})
	five := make([]float32, 5*len(one))
	for i, v := range one {
		five[5*i+3] = v
	}
	if got := IntegratedLoudness(five, 5, 48000); math.Abs(got-(-26.01+1.49)) > 0.1 {
		t.Errorf("left surround only: %.3f LUFS, want %.2f", got, -26.01+1.49)
	}
	// LFE (fourth of six) does not count.
	six := make([]float32, 6*len(one))
	for i, v := range one {
		six[6*i+3] = v
	}
	if got := IntegratedLoudness(six, 6, 48000); !math.IsInf(got, -1) {
		t.Errorf("LFE only: %.3f LUFS, want -Inf", got)
	}
}

func TestTruePeak(t *testing.T) {
	// A sine at a quarter of the sample rate, sampled 45 degrees off its
	// crests: every sample sits 3 dB below the true peak (Tech 3341 cases
	// 15-17 are built this way; tolerance +0.2/-0.4 dB).
	for _, dbtp := range []float64{-6, 0, 3} {
		a := math.Pow(10, dbtp/20)
		x := make([]float32, 2*48000)
		for i := 0; i < 48000; i++ {
			v := float32(a * math.Sin(math.Pi/2*float64(i)+math.Pi/4))
			x[2*i], x[2*i+1] = v, v
		}
		got := TruePeak(x, 2, 48000)
		if got > dbtp+0.2 || got < dbtp-0.4 {
			t.Errorf("fs/4 sine of true peak %.1f dBTP: measured %.3f", dbtp, got)
		}
		l, _ := MeasureLoudness(x, 2, 48000)
		if math.Abs(l.SamplePeak-(dbtp-3.01)) > 0.01 {
			t.Errorf("sample peak %.3f dBFS, want %.2f", l.SamplePeak, dbtp-3.01)
		}
	}
	// At 192 kHz the samples are dense enough: true peak is the sample peak.
	x := loudSines(192000, 1, loudSeg{1, 997, -1})
	if got := TruePeak(x, 1, 192000); math.Abs(got+1) > 0.01 {
		t.Errorf("997 Hz -1 dBFS at 192 kHz: %.3f dBTP", got)
	}
}

// The skipping of quiet chunks must not change the true peak: compare with
// a meter that interpolates everything, on noise with bursts.
func TestTruePeakSkipIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 44100
	// Two channels of noise with bursts at different times.
	x := make([]float32, 2*n)
	for i := 0; i < n; i++ {
		for c := 0; c < 2; c++ {
			g := 0.05
			if (i+1500*c)/3000%4 == 0 {
				g = 0.3
			}
			x[2*i+c] = float32(g * r.NormFloat64())
		}
	}
	// Late in the right channel, a burst whose peaks fall between samples
	// (fs/4, 45 degrees off): its true peak, 1.6, beats every sample.
	for i := 30000; i < 30100; i++ {
		x[2*i+1] = float32(1.6 * math.Sin(math.Pi/2*float64(i)+math.Pi/4))
	}
	var samplePeak float64
	for _, v := range x {
		samplePeak = max(samplePeak, math.Abs(float64(v)))
	}
	// Brute force: every phase at every sample of each channel.
	var peak float64
	for c := 0; c < 2; c++ {
		h := make([]float64, tpTaps-1, n+tpTaps)
		for i := 0; i < n; i++ {
			h = append(h, float64(x[2*i+c]))
		}
		for j := tpTaps - 1; j < len(h); j++ {
			for _, ph := range truePeakPhases {
				var y float64
				for k, v := range ph {
					y += v * h[j-k]
				}
				peak = max(peak, math.Abs(y))
			}
		}
	}
	if peak <= samplePeak {
		t.Fatalf("test signal: interpolated peak %v not above sample peak %v", peak, samplePeak)
	}
	want := amplitudeToDB(peak)
	if got := TruePeak(x, 2, 44100); math.Abs(got-want) > 1e-9 {
		t.Errorf("true peak with skipping %.12f, without %.12f", got, want)
	}
}

func TestLoudnessStreamingMatchesWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 3*44100*7)
	for i := range x {
		x[i] = float32(0.2 * r.NormFloat64())
	}
	whole, err := MeasureLoudness(x, 3, 44100)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewLoudnessMeter(3, 44100)
	if err != nil {
		t.Fatal(err)
	}
	for rest := x; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(5000)) // odd sizes split frames
		m.Write(rest[:n])
		rest = rest[n:]
	}
	got := []float64{m.Integrated(), m.Range(), m.TruePeak(), m.SamplePeak(), m.MaxMomentary(), m.MaxShortTerm()}
	want := []float64{whole.Integrated, whole.Range, whole.TruePeak, whole.SamplePeak, whole.MaxMomentary, whole.MaxShortTerm}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("measure %d: streamed %.12f, whole %.12f", i, got[i], want[i])
		}
	}
	if mo, st := m.Momentary(), m.ShortTerm(); math.IsInf(mo, 0) || math.IsInf(st, 0) {
		t.Errorf("momentary %v, short-term %v after 7 s of noise", mo, st)
	}
	m.Reset()
	if got := m.Integrated(); !math.IsInf(got, -1) {
		t.Errorf("after Reset: %v LUFS", got)
	}
}

func TestLoudnessBadInput(t *testing.T) {
	if got := IntegratedLoudness(make([]float32, 2*48000), 2, 48000); !math.IsInf(got, -1) {
		t.Errorf("silence: %v LUFS, want -Inf", got)
	}
	if got := TruePeak(make([]float32, 2*48000), 2, 48000); !math.IsInf(got, -1) {
		t.Errorf("silence: %v dBTP, want -Inf", got)
	}
	if got := IntegratedLoudness(loudSines(48000, 2, loudSeg{0.3, 1000, -10}), 2, 48000); !math.IsInf(got, -1) {
		t.Errorf("0.3 s: %v LUFS, want -Inf (no whole 400 ms block)", got)
	}
	if got := IntegratedLoudness(nil, 2, 48000); !math.IsInf(got, -1) {
		t.Errorf("nothing: %v LUFS, want -Inf", got)
	}
	// Non-finite samples count as silence instead of poisoning the filters.
	x := loudSines(44100, 2, loudSeg{5, 1000, -23})
	x[1000], x[1001], x[5000] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	l, err := MeasureLoudness(x, 2, 44100)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{l.Integrated, l.Range, l.TruePeak, l.SamplePeak, l.MaxMomentary, l.MaxShortTerm} {
		if math.IsNaN(v) || math.IsInf(v, 1) {
			t.Errorf("non-finite samples gave %+v", l)
			break
		}
	}
	if math.Abs(l.Integrated+23) > 0.1 {
		t.Errorf("with three bad samples: %.3f LUFS, want -23", l.Integrated)
	}
	// DC offset is removed by the high-pass (all but the click of its onset).
	sine := loudSines(48000, 2, loudSeg{20, 1000, -23})
	ref := IntegratedLoudness(sine, 2, 48000)
	for i := range sine {
		sine[i] += 0.3
	}
	if got := IntegratedLoudness(sine, 2, 48000); math.Abs(got-ref) > 0.1 {
		t.Errorf("sine with DC offset reads %.2f LUFS, without %.2f", got, ref)
	}
	for _, f := range [][2]int{{0, 44100}, {-1, 44100}, {65, 44100}, {2, 0}, {2, 4000}, {2, 1 << 30}} {
		if _, err := NewLoudnessMeter(f[0], f[1]); !errors.Is(err, ErrMeterFormat) {
			t.Errorf("NewLoudnessMeter(%d, %d): error %v", f[0], f[1], err)
		}
	}
}

// TestLoudnessAgainstFFmpeg measures real music at its native sample rate
// and compares with ffmpeg's ebur128 filter.
func TestLoudnessAgainstFFmpeg(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes real music")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	files, _ := filepath.Glob(filepath.Join(loudnessTestdata(t), "music", "*.ogg"))
	if len(files) == 0 {
		t.Skip("no music in ../shared/testdata/music")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			x, ch, rate := ffmpegDecodeNative(t, f)
			want := ffmpegEBUR128(t, f, "")
			l, err := MeasureLoudness(x, ch, rate)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d Hz %d ch: ours I %.2f LUFS LRA %.2f LU TP %.2f dBTP; ffmpeg I %.2f LRA %.2f TP %.2f",
				rate, ch, l.Integrated, l.Range, l.TruePeak, want.Integrated, want.Range, want.TruePeak)
			if d := math.Abs(l.Integrated - want.Integrated); d > 0.2 {
				t.Errorf("integrated loudness %.2f LUFS, ffmpeg %.2f (difference %.2f > 0.2 LU)", l.Integrated, want.Integrated, d)
			}
			if d := math.Abs(l.Range - want.Range); d > 1 {
				t.Errorf("loudness range %.2f LU, ffmpeg %.2f", l.Range, want.Range)
			}
			// ffmpeg oversamples through libswresample, not the Annex 2
			// filter, so allow the meter tolerance of Tech 3341.
			if d := l.TruePeak - want.TruePeak; d > 0.4 || d < -0.4 {
				t.Errorf("true peak %.2f dBTP, ffmpeg %.2f", l.TruePeak, want.TruePeak)
			}
		})
	}
}

// TestLoudnessAgainstFFmpegResampled resamples real music to other rates
// with ffmpeg and compares both meters on the same samples, so that the
// per-rate K-weighting is checked on music, not only on sines.
func TestLoudnessAgainstFFmpegResampled(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes real music")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	files, _ := filepath.Glob(filepath.Join(loudnessTestdata(t), "music", "*.ogg"))
	if len(files) == 0 {
		t.Skip("no music in ../shared/testdata/music")
	}
	for _, rate := range []int{22050, 48000, 96000} {
		r := strconv.Itoa(rate)
		x, ch, _ := ffmpegDecodeNative(t, files[0], "-ar", r)
		want := ffmpegEBUR128(t, files[0], "aresample="+r)
		got := IntegratedLoudness(x, ch, rate)
		t.Logf("%d Hz: ours %.2f LUFS, ffmpeg %.2f", rate, got, want.Integrated)
		if d := math.Abs(got - want.Integrated); d > 0.2 {
			t.Errorf("%d Hz: %.2f LUFS, ffmpeg %.2f", rate, got, want.Integrated)
		}
	}
}

// loudnessTestdata returns ../shared/testdata relative to the module root,
// skipping the test when it is absent.
func loudnessTestdata(t testing.TB) string {
	t.Helper()
	return shared.Path(t, "testdata")
}

// ffmpegDecodeNative decodes a file at its native rate and layout to float32.
func ffmpegDecodeNative(t testing.TB, path string, args ...string) (samples []float32, channels, rate int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0",
		"-show_entries", "stream=sample_rate,channels", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	fields := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(fields) != 2 {
		t.Fatalf("ffprobe %s: unexpected output %q", path, out)
	}
	rate, _ = strconv.Atoi(fields[0])
	channels, _ = strconv.Atoi(fields[1])
	if len(args) == 2 && args[0] == "-ar" {
		rate, _ = strconv.Atoi(args[1])
	}
	cmd := append([]string{"-v", "error", "-t", excerpt, "-i", path}, args...)
	cmd = append(cmd, "-f", "f32le", "-acodec", "pcm_f32le", "-")
	raw, err := exec.Command("ffmpeg", cmd...).Output()
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v", path, err)
	}
	samples = make([]float32, len(raw)/4)
	if err := binary.Read(bytes.NewReader(raw[:4*len(samples)]), binary.LittleEndian, samples); err != nil {
		t.Fatal(err)
	}
	return samples, channels, rate
}

// excerpt is how much of each recording the ffmpeg comparisons measure,
// to keep the tests quick.
const excerpt = "30"

var (
	ffmpegI   = regexp.MustCompile(`(?m)^\s*I:\s+(-?[\d.]+|-inf) LUFS`)
	ffmpegLRA = regexp.MustCompile(`(?m)^\s*LRA:\s+(-?[\d.]+) LU`)
	ffmpegTP  = regexp.MustCompile(`(?m)^\s*Peak:\s+(-?[\d.]+|-inf) dBFS`)
)

// ffmpegEBUR128 runs ffmpeg's ebur128 filter and parses its summary.
// A non-empty pre is a filter chain run before the meter.
func ffmpegEBUR128(t testing.TB, path, pre string) Loudness {
	t.Helper()
	filter := "ebur128=peak=true"
	if pre != "" {
		// ffmpeg's true peak oversampling is slow; only loudness is
		// compared after resampling.
		filter = pre + ",ebur128"
	}
	out, err := exec.Command("ffmpeg", "-nostats", "-hide_banner", "-t", excerpt, "-i", path,
		"-filter_complex", filter, "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg ebur128 %s: %v\n%s", path, err, out)
	}
	s := string(out)
	if i := strings.LastIndex(s, "Summary:"); i >= 0 {
		s = s[i:]
	}
	parse := func(re *regexp.Regexp) float64 {
		m := re.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("ffmpeg ebur128 %s: no %s in summary:\n%s", path, re, s)
		}
		if m[1] == "-inf" {
			return math.Inf(-1)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	l := Loudness{Integrated: parse(ffmpegI), Range: parse(ffmpegLRA), TruePeak: math.NaN()}
	if pre == "" {
		l.TruePeak = parse(ffmpegTP)
	}
	return l
}

// BenchmarkLoudness reports x real time for a full measurement (integrated,
// range, true peak) of 60 s of 44.1 kHz stereo noise-like music.
func BenchmarkLoudness(b *testing.B) {
	const rate, secs = 44100, 60
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 2*rate*secs)
	for i := 0; i < len(x); i += 2 {
		// Noise under a 2 Hz envelope: loud and quiet passages, so the
		// true-peak skipping does not flatter the figure.
		env := 0.3 + 0.25*math.Sin(2*math.Pi*2*float64(i/2)/rate)
		x[i] = float32(env * r.NormFloat64() * 0.5)
		x[i+1] = float32(env * r.NormFloat64() * 0.5)
	}
	b.SetBytes(int64(4 * len(x)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := MeasureLoudness(x, 2, rate); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(secs*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

// BenchmarkIntegratedLoudness is the loudness alone, without true peak.
func BenchmarkIntegratedLoudness(b *testing.B) {
	const rate, secs = 44100, 60
	x := loudSines(rate, 2, loudSeg{secs, 440, -12})
	b.ResetTimer()
	for b.Loop() {
		IntegratedLoudness(x, 2, rate)
	}
	b.ReportMetric(secs*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

// BenchmarkLoudnessMusic measures real music (../shared/testdata/music),
// decoded once, at 44.1 kHz stereo.
func BenchmarkLoudnessMusic(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(loudnessTestdata(b), "music", "*.ogg"))
	if len(files) == 0 {
		b.Skip("no music")
	}
	p, err := audio.DecodeFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := MeasureLoudness(p.Samples, audio.Channels, audio.SampleRate); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(p.Seconds()*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

// A streaming meter fed in pieces, as a mixer would feed it.
func ExampleLoudnessMeter() {
	m, err := NewLoudnessMeter(2, 48000)
	if err != nil {
		panic(err)
	}
	// EBU Tech 3341 case 1: a 1 kHz sine at -23 dBFS on both channels.
	x := loudSines(48000, 2, loudSeg{20, 1000, -23})
	for len(x) > 0 {
		n := min(len(x), 4800) // 50 ms at a time
		m.Write(x[:n])
		x = x[n:]
	}
	fmt.Printf("integrated %.1f LUFS, short-term %.1f LUFS, range %.1f LU, true peak %.1f dBTP\n",
		m.Integrated(), m.ShortTerm(), m.Range(), m.TruePeak())
	// Output: integrated -23.0 LUFS, short-term -23.0 LUFS, range 0.0 LU, true peak -23.0 dBTP
}
