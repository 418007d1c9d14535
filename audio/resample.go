package audio

import (
	"fmt"
	"math"
)

// Resampler parameters. A Kaiser-windowed sinc with beta 8.6 has its
// stopband below -85 dB; 48 zero crossings each side put the transition
// band (about 2.2 kHz wide at 44.1 kHz) between 95% of the lower Nyquist
// frequency and just past it, so 48 kHz material keeps everything below
// 20 kHz and aliases stay under -80 dB.
const (
	resampleZeros   = 48
	resampleRolloff = 0.95
	resampleBeta    = 8.6
	// maxPhases bounds the polyphase table. Ratios whose reduced
	// numerator is larger (odd rates such as 44056 Hz) interpolate
	// linearly between the table's phases instead of using exact ones.
	maxPhases = 2048
)

// Resample converts interleaved samples with the given channel count from
// fromRate to toRate (both in Hz) with a band-limited polyphase
// windowed-sinc filter and returns a new slice. Frequencies above the
// lower of the two Nyquist frequencies are removed rather than aliased.
// The output has ceil(frames*toRate/fromRate) frames and is aligned with
// the input: the output frame at time t is computed around input time t,
// with no added delay.
//
// Resample panics if channels < 1, either rate is not positive, or
// len(samples) is not a multiple of channels.
func Resample(samples []float32, channels, fromRate, toRate int) []float32 {
	if channels < 1 || fromRate <= 0 || toRate <= 0 {
		panic(fmt.Sprintf("audio: Resample: bad arguments channels=%d from=%d to=%d", channels, fromRate, toRate))
	}
	if len(samples)%channels != 0 {
		panic(fmt.Sprintf("audio: Resample: %d samples is not a whole number of %d-channel frames", len(samples), channels))
	}
	if fromRate == toRate {
		return append([]float32(nil), samples...)
	}
	r := newResampler(fromRate, toRate)
	return r.run(samples, channels)
}

type resampler struct {
	up, down int       // output frame n sits at input time n*down/up
	phases   int       // rows in coef; == up when exact
	half     int       // taps each side of the output time, in input samples
	coef     []float32 // (phases+1) rows of 2*half taps
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func newResampler(from, to int) *resampler {
	g := gcd(from, to)
	r := &resampler{up: to / g, down: from / g}
	scale := 1.0
	if to < from {
		scale = float64(to) / float64(from)
	}
	r.half = int(math.Ceil(resampleZeros / scale))
	r.phases = min(r.up, maxPhases)
	taps := 2 * r.half
	r.coef = make([]float32, (r.phases+1)*taps)
	a := scale * resampleRolloff
	i0b := besselI0(resampleBeta)
	for p := 0; p <= r.phases; p++ {
		frac := float64(p) / float64(r.phases)
		row := r.coef[p*taps : (p+1)*taps]
		var sum float64
		for k := range row {
			tau := frac + float64(r.half-1-k)
			x := tau / float64(r.half)
			if x <= -1 || x >= 1 {
				continue
			}
			w := besselI0(resampleBeta*math.Sqrt(1-x*x)) / i0b
			v := a * sinc(a*tau) * w
			row[k] = float32(v)
			sum += v
		}
		// Exact unity gain at DC for every phase, so a constant stays
		// constant instead of picking up a ripple at the phase rate.
		for k := range row {
			row[k] = float32(float64(row[k]) / sum)
		}
	}
	return r
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series (converges quickly for the arguments used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func (r *resampler) run(in []float32, ch int) []float32 {
	frames := len(in) / ch
	outFrames := int((int64(frames)*int64(r.up) + int64(r.down) - 1) / int64(r.down))
	// Zero padding on both sides makes every tap index valid.
	pad := make([]float32, (frames+2*r.half+1)*ch)
	copy(pad[r.half*ch:], in)
	out := make([]float32, outFrames*ch)
	taps := 2 * r.half
	exact := r.phases == r.up
	var acc [8]float32
	var accs []float32
	if ch > len(acc) {
		accs = make([]float32, ch)
	} else {
		accs = acc[:ch]
	}
	for n := range outFrames {
		pos := int64(n) * int64(r.down)
		i := int(pos / int64(r.up)) // input frame at or before the output time
		rem := int(pos % int64(r.up))
		// Taps cover input frames i-half+1 .. i+half, which start at
		// padded frame i+1.
		base := (i + 1) * ch
		if exact {
			row := r.coef[rem*taps : (rem+1)*taps]
			if ch == 2 {
				x := pad[base : base+2*taps]
				var l, rr float32
				for k, c := range row {
					l += x[2*k] * c
					rr += x[2*k+1] * c
				}
				out[2*n], out[2*n+1] = l, rr
				continue
			}
			for c := range accs {
				accs[c] = 0
			}
			for k, c := range row {
				x := pad[base+k*ch : base+k*ch+ch]
				for j := range accs {
					accs[j] += x[j] * c
				}
			}
			copy(out[n*ch:], accs)
			continue
		}
		// Interpolate between the two nearest tabulated phases.
		fp := float64(rem) / float64(r.up) * float64(r.phases)
		p := int(fp)
		w := float32(fp - float64(p))
		row0 := r.coef[p*taps : (p+1)*taps]
		row1 := r.coef[(p+1)*taps : (p+2)*taps]
		for c := range accs {
			accs[c] = 0
		}
		for k := range row0 {
			c := row0[k] + w*(row1[k]-row0[k])
			x := pad[base+k*ch : base+k*ch+ch]
			for j := range accs {
				accs[j] += x[j] * c
			}
		}
		copy(out[n*ch:], accs)
	}
	return out
}
