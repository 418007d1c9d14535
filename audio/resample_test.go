package audio

import (
	"math"
	"math/cmplx"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

func sine(rate, frames, channels int, freq, amp float64) []float32 {
	s := make([]float32, frames*channels)
	for i := range frames {
		v := float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for c := range channels {
			s[i*channels+c] = v
		}
	}
	return s
}

// spectrum returns the magnitude spectrum in dB (a full-scale sine on a
// bin centre = 0 dB) of n samples of channel ch starting at frame from,
// under a 4-term Blackman-Harris window (sidelobes below -92 dB), and the
// scale that turns the power summed over bins into squared amplitude.
func spectrum(s []float32, channels, ch, from, n int) (db []float64, powerScale float64) {
	seq := make([]float64, n)
	var wsum, w2sum float64
	for i := range seq {
		x := 2 * math.Pi * float64(i) / float64(n-1)
		w := 0.35875 - 0.48829*math.Cos(x) + 0.14128*math.Cos(2*x) - 0.01168*math.Cos(3*x)
		wsum += w
		w2sum += w * w
		seq[i] = w * float64(s[(from+i)*channels+ch])
	}
	c := fourier.NewFFT(n).Coefficients(nil, seq)
	db = make([]float64, len(c))
	for i, v := range c {
		db[i] = 20 * math.Log10(2*cmplx.Abs(v)/wsum+1e-300)
	}
	return db, wsum * wsum / (float64(n) * w2sum)
}

// toneLevel is the amplitude in dB of the tone around bin peak, from the
// power in its main lobe, so it does not depend on where the tone falls
// between bins.
func toneLevel(db []float64, scale float64, peak int) float64 {
	var p float64
	for i := max(0, peak-8); i <= min(len(db)-1, peak+8); i++ {
		a := math.Pow(10, db[i]/20)
		p += a * a
	}
	return 10 * math.Log10(p*scale)
}

func TestResampleSine(t *testing.T) {
	const n = 16384
	for _, tc := range []struct {
		from int
		freq float64
	}{
		{48000, 1000},
		{48000, 15000},
		{48000, 19500},
		{96000, 3000},
		{32000, 9000},
		{22050, 5000},
		{22050, 10000}, // image at 12050 Hz must be gone
		{8000, 3000},
		{44056, 7000}, // no small rational ratio: interpolated phases
	} {
		in := sine(tc.from, tc.from, 2, tc.freq, 0.5)
		out := Resample(in, 2, tc.from, SampleRate)
		wantFrames := int(math.Ceil(float64(tc.from) * SampleRate / float64(tc.from)))
		if got := len(out) / 2; got != wantFrames {
			t.Errorf("%d Hz: %d frames out, want %d", tc.from, got, wantFrames)
		}
		for ch := range 2 {
			db, scale := spectrum(out, 2, ch, (len(out)/2-n)/2, n)
			peak := 0
			for i := range db {
				if db[i] > db[peak] {
					peak = i
				}
			}
			binHz := float64(SampleRate) / n
			if f := float64(peak) * binHz; math.Abs(f-tc.freq) > binHz {
				t.Errorf("%d Hz, %g Hz sine: peak at %.1f Hz", tc.from, tc.freq, f)
			}
			// 0.5 amplitude is -6.02 dB; allow the passband ripple.
			if l := toneLevel(db, scale, peak); math.Abs(l+6.02) > 0.1 {
				t.Errorf("%d Hz, %g Hz sine: level %.2f dB, want -6.02", tc.from, tc.freq, l)
			}
			worst, at := -math.MaxFloat64, 0
			for i := range db {
				if i >= peak-8 && i <= peak+8 {
					continue
				}
				if db[i] > worst {
					worst, at = db[i], i
				}
			}
			if rel := worst - db[peak]; rel > -60 {
				t.Errorf("%d Hz, %g Hz sine: spur at %.0f Hz only %.1f dB below the tone", tc.from, tc.freq, float64(at)*binHz, -rel)
			} else if ch == 0 {
				t.Logf("%5d Hz -> 44100 Hz, %5g Hz sine: worst spur %.1f dB", tc.from, tc.freq, rel)
			}
		}
	}
}

// A tone above the output's Nyquist frequency must vanish, not fold back
// into the audible band.
func TestResampleRejectsAliases(t *testing.T) {
	const n = 16384
	for _, f := range []float64{22500, 23000, 23900} {
		in := sine(48000, 48000, 1, f, 0.9)
		out := Resample(in, 1, 48000, SampleRate)
		db, _ := spectrum(out, 1, 0, (len(out)-n)/2, n)
		worst := -math.MaxFloat64
		for _, v := range db {
			worst = max(worst, v)
		}
		if worst > -60 {
			t.Errorf("%g Hz in 48 kHz: alias at %.1f dBFS after resampling", f, worst)
		}
	}
}

// Resampling adds no delay: an impulse comes out at the same time.
func TestResampleTiming(t *testing.T) {
	for _, from := range []int{48000, 22050, 32000, 96000} {
		in := make([]float32, from)
		at := from / 3
		in[at] = 1
		out := Resample(in, 1, from, SampleRate)
		peak := 0
		for i, v := range out {
			if v > out[peak] {
				peak = i
			}
		}
		want := float64(at) * SampleRate / float64(from)
		if math.Abs(float64(peak)-want) > 0.5 {
			t.Errorf("%d Hz: impulse at %d, want %.1f", from, peak, want)
		}
	}
}

func TestResampleConstant(t *testing.T) {
	in := make([]float32, 3*48000)
	for i := range in {
		in[i] = 0.25
	}
	out := Resample(in, 3, 48000, SampleRate)
	// Away from the edges, where the zero padding shows, a constant stays
	// constant.
	for i := 3 * 200; i < len(out)-3*200; i++ {
		if math.Abs(float64(out[i])-0.25) > 1e-5 {
			t.Fatalf("sample %d = %v, want 0.25", i, out[i])
		}
	}
}

func TestResamplePanicsOnMisuse(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for 3 samples of 2 channels")
		}
	}()
	Resample(make([]float32, 3), 2, 48000, 44100)
}

func BenchmarkResample48k(b *testing.B) {
	in := sine(48000, 48000*10, 2, 1000, 0.5)
	b.ResetTimer()
	for b.Loop() {
		Resample(in, 2, 48000, SampleRate)
	}
	b.ReportMetric(10*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}
