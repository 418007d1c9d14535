package stretch

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/foreverfm/forever/internal/cputime"
)

const rate = 44100

func sine(frames int, hz float64) []float32 {
	s := make([]float32, 2*frames)
	for i := 0; i < frames; i++ {
		v := float32(0.5 * math.Sin(2*math.Pi*hz*float64(i)/rate))
		s[2*i], s[2*i+1] = v, v
	}
	return s
}

// clicks returns noise bursts with an exponential decay at the given frames,
// over a quiet tone, like a drum track.
func clicks(frames int, at []int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := sine(frames, 220)
	for i := range s {
		s[i] *= 0.1
	}
	for _, a := range at {
		for j := 0; j < 4000 && a+j < frames; j++ {
			v := float32(rng.NormFloat64() * 0.5 * math.Exp(-float64(j)/600))
			s[2*(a+j)] += v
			s[2*(a+j)+1] += v
		}
	}
	return s
}

func readAll(t testing.TB, s *Stretcher, block int) []float32 {
	out := make([]float32, 0, 2*s.Len())
	buf := make([]float32, 2*block)
	for {
		n := s.Read(buf)
		out = append(out, buf[:2*n]...)
		if n < block {
			break
		}
	}
	if len(out) != 2*s.Len() {
		t.Fatalf("read %d frames, Len %d", len(out)/2, s.Len())
	}
	return out
}

func TestIdentityIsTransparent(t *testing.T) {
	src := clicks(50000, []int{1000, 20000, 33333}, 1)
	s, err := New(src, []int{0, 30000}, []int{5000, 35000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(t, s, 777)
	for i := range out {
		if d := math.Abs(float64(out[i] - src[10000+i])); d > 1e-6 {
			t.Fatalf("sample %d differs by %g", i, d)
		}
	}
}

// onsets finds the starts of bursts: frames where a 64-frame energy jumps
// above a threshold after being below it.
func onsets(s []float32) []int {
	var on []int
	const w = 32
	var hist [4]float64 // energies of the previous windows
	for i := 0; i+w <= len(s)/2; i += w / 2 {
		var e float64
		for j := i; j < i+w; j++ {
			e += float64(s[2*j] * s[2*j])
		}
		e /= w
		if e > 0.02 && hist[0] < 0.005 && (len(on) == 0 || i > on[len(on)-1]+2000) {
			// Refine to the first frame above a fraction of the burst.
			k := i
			for k < i+w && math.Abs(float64(s[2*k])) < 0.1 {
				k++
			}
			on = append(on, k)
		}
		copy(hist[:], hist[1:])
		hist[3] = e
	}
	return on
}

// A steady stretch puts onsets where the map says: within the tolerance
// when only the ends are anchored, to the frame when every onset is an
// anchor (as the mixer's beats are).
func TestConstantStretch(t *testing.T) {
	for _, ratio := range []float64{0.8, 0.94, 1.06, 1.25} {
		beat := 20000
		var at []int
		for b := 1; b < 12; b++ {
			at = append(at, b*beat)
		}
		src := clicks(13*beat, at, 2)
		inLen := 12 * beat
		outLen := int(float64(inLen) * ratio)
		for _, anchored := range []bool{false, true} {
			out, in := []int{0}, []int{0}
			if anchored {
				for _, a := range at {
					out, in = append(out, int(math.Round(float64(a)*ratio))), append(in, a)
				}
			}
			out, in = append(out, outLen), append(in, inLen)
			s, err := New(src, out, in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := onsets(readAll(t, s, 4096))
			if len(got) != len(at) {
				t.Fatalf("ratio %v: %d onsets, want %d: %v", ratio, len(got), len(at), got)
			}
			var errs []float64
			for i, a := range at {
				want := float64(a) * ratio
				errs = append(errs, math.Abs(float64(got[i])-want)/rate*1000)
			}
			sort.Float64s(errs)
			t.Logf("ratio %v, anchored %v: onset errors (ms) %.2f", ratio, anchored, errs)
			limit := 512.0/rate*1000 + 1 // the default tolerance
			if anchored {
				limit = 0.1
			}
			if errs[len(errs)-1] > limit {
				t.Errorf("ratio %v, anchored %v: onset errors (ms) %.2f, want all within %.1f", ratio, anchored, errs, limit)
			}
		}
	}
}

func TestPitchKept(t *testing.T) {
	src := sine(100000, 441)
	s, err := New(src, []int{0, 120000}, []int{0, 100000}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(t, s, 1000)
	// Count zero crossings in the middle: 441 Hz keeps 882 per second.
	cross := 0
	for i := 20000; i < 20000+rate; i++ {
		if (out[2*i] >= 0) != (out[2*i+2] >= 0) {
			cross++
		}
	}
	if cross < 870 || cross > 894 {
		t.Errorf("%d zero crossings per second, want 882", cross)
	}
	// And the level stays put (no cancellation between grains).
	var e float64
	for i := 20000; i < 20000+rate; i++ {
		e += float64(out[2*i] * out[2*i])
	}
	if rms := math.Sqrt(e / rate); rms < 0.33 || rms > 0.38 {
		t.Errorf("rms %v, want 0.354", rms)
	}
}

func TestBadAnchors(t *testing.T) {
	for _, c := range [][2][]int{
		{{0}, {0}},
		{{1, 10}, {0, 10}},
		{{0, 10, 10}, {0, 5, 9}},
		{{0, 10, 20}, {0, 5, 5}},
		{{0, 10}, {0, 5, 6}},
	} {
		if _, err := New(nil, c[0], c[1], Options{}); err == nil {
			t.Errorf("anchors %v %v accepted", c[0], c[1])
		}
	}
}

func BenchmarkStretch(b *testing.B) {
	src := clicks(30*rate, []int{rate, 2 * rate}, 3)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range src {
		src[i] += float32(rng.NormFloat64() * 0.05)
	}
	buf := make([]float32, 2*4096)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cputime.Self()
	for i := 0; i < b.N; i++ {
		s, _ := New(src, []int{0, 28 * rate}, []int{rate / 2, 29*rate + rate/2}, Options{})
		for s.Read(buf) == 4096 {
		}
	}
	b.ReportMetric(28*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	if c := (cputime.Self() - c0).Seconds(); c > 0 {
		b.ReportMetric(28*float64(b.N)/c, "x_realtime_per_cpu")
	}
}
