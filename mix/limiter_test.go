package mix

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foreverfm/forever/internal/cputime"
)

// truePeak measures the peak of s (interleaved stereo) at 8× by windowed
// sinc interpolation with 48 taps, finer than the limiter's own detector.
func truePeak(s []float32) float64 {
	n := len(s) / 2
	var peak float64
	for ch := 0; ch < 2; ch++ {
		for i := 0; i < n-1; i++ {
			peak = max(peak, math.Abs(float64(s[2*i+ch])))
			for p := 1; p < 8; p++ {
				f := float64(p) / 8
				var v float64
				for j := -23; j <= 24; j++ {
					k := i + j
					if k < 0 || k >= n {
						continue
					}
					t := float64(j) - f
					w := 0.42 + 0.5*math.Cos(math.Pi*t/24) + 0.08*math.Cos(2*math.Pi*t/24)
					v += float64(s[2*k+ch]) * math.Sin(math.Pi*t) / (math.Pi * t) * w
				}
				peak = max(peak, math.Abs(v))
			}
		}
	}
	return peak
}

func process(l *Limiter, in []float32, blk int) []float32 {
	out := append([]float32(nil), in...)
	for i := 0; i < len(out); i += 2 * blk {
		l.Process(out[i:min(i+2*blk, len(out))])
	}
	return out
}

func TestLimiterPassesQuietMaterialBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	in := make([]float32, 2*50000)
	for i := range in {
		in[i] = float32(rng.NormFloat64() * 0.1)
		in[i] = max(min(in[i], 0.5), -0.5)
	}
	l := NewLimiter(LimiterOptions{})
	out := process(l, in, 333)
	d := l.Delay()
	for i := 0; i < 2*d; i++ {
		if out[i] != 0 {
			t.Fatalf("sample %d before the delay is %v", i, out[i])
		}
	}
	for i := 2 * d; i < len(out); i++ {
		if out[i] != in[i-2*d] {
			t.Fatalf("sample %d: %v, want %v bit-exact", i, out[i], in[i-2*d])
		}
	}
}

func TestLimiterNeverExceedsCeiling(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	cases := map[string][]float32{}
	// Loud noise with bursts up to +12 dBFS, gently low-passed as music
	// is (a 2-tap average: -3 dB at 11 kHz).
	noise := make([]float32, 2*25000)
	var prev [2]float64
	for i := range noise {
		amp := 0.3
		if (i/2)%10000 < 800 {
			amp = 2
		}
		v := rng.NormFloat64() * amp
		noise[i] = float32((v + prev[i%2]) / 2)
		prev[i%2] = v
	}
	cases["bursts"] = noise
	// Full-band white noise: sample peaks still never pass the ceiling,
	// true peaks read at eight phases may by a hair (see tpMargin).
	white := make([]float32, 2*10000)
	for i := range white {
		white[i] = float32(rng.NormFloat64())
	}
	cases["white"] = white
	// A full-scale sine near fs/4 with inter-sample peaks above its samples.
	sine := make([]float32, 2*30000)
	for i := 0; i < 30000; i++ {
		v := float32(1.2 * math.Sin(2*math.Pi*11025.0/44100*float64(i)+math.Pi/4))
		sine[2*i], sine[2*i+1] = v, -v
	}
	cases["intersample"] = sine
	// A single-sample spike after silence: the worst case for look-ahead.
	spike := make([]float32, 2*5000)
	spike[2*2000], spike[2*3000+1] = 4, -3
	cases["spike"] = spike

	for name, in := range cases {
		l := NewLimiter(LimiterOptions{})
		out := process(l, in, 1000)
		c := l.Ceiling()
		var over float64
		for _, v := range out {
			over = max(over, math.Abs(float64(v)))
		}
		if over > c || l.Clipped() != 0 {
			t.Errorf("%s: sample peak %v over ceiling %v (%d clamped by the guard)", name, over, c, l.Clipped())
		}
		tp := truePeak(out)
		t.Logf("%s: true peak %+.2f dB re ceiling", name, 20*math.Log10(tp/c))
		if limit := map[bool]float64{true: 0.1, false: 0.02}[name == "white"]; 20*math.Log10(tp/c) > limit {
			t.Errorf("%s: true peak %.2f dB over the ceiling", name, 20*math.Log10(tp/c))
		}
	}
}

// The gain moves smoothly: a steady loud sine comes out as a sine at a
// constant level, not clipped into a square.
func TestLimiterDoesNotDistort(t *testing.T) {
	in := make([]float32, 2*44100)
	for i := 0; i < 44100; i++ {
		v := float32(1.5 * math.Sin(2*math.Pi*440*float64(i)/44100))
		in[2*i], in[2*i+1] = v, v
	}
	l := NewLimiter(LimiterOptions{})
	out := process(l, in, 512)
	// After the attack, the output is the input scaled: compare shapes.
	d := l.Delay()
	var g float64
	for i := 22050; i < 44100; i++ {
		if x := float64(in[2*(i-d)]); math.Abs(x) > 1 {
			g = float64(out[2*i]) / x
			break
		}
	}
	var worst float64
	for i := 22050; i < 44100; i++ {
		worst = max(worst, math.Abs(float64(out[2*i])-g*float64(in[2*(i-d)])))
	}
	if worst > 1e-3 || g < 0.5 || g > 0.6 {
		t.Errorf("steady sine: gain %.3f, largest deviation from a scaled copy %.2g", g, worst)
	}
}

func TestLimiterSanitises(t *testing.T) {
	in := []float32{float32(math.NaN()), float32(math.Inf(1)), 0.5, 0.5}
	in = append(in, make([]float32, 2000)...)
	l := NewLimiter(LimiterOptions{})
	out := process(l, in, 1000)
	for i, v := range out {
		if v != v || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > l.Ceiling() {
			t.Fatalf("sample %d: %v", i, v)
		}
	}
}

func BenchmarkLimiter(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	in := make([]float32, 2*44100)
	for i := range in {
		in[i] = float32(rng.NormFloat64() * 0.5)
	}
	buf := make([]float32, len(in))
	l := NewLimiter(LimiterOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cputime.Self()
	for range b.N {
		copy(buf, in)
		l.Process(buf)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	if c := (cputime.Self() - c0).Seconds(); c > 0 {
		b.ReportMetric(float64(b.N)/c, "x_realtime_per_cpu")
	}
}
