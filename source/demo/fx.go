package demo

import "math"

// pingPong runs the mono send through a feedback delay that alternates
// between the channels, damped a little on every repeat, and adds the wet
// signal to out and a share of it to the reverb send.
func pingPong(send, out, rev []float32, delay int, fb, wet float64) {
	bl := make([]float64, delay)
	br := make([]float64, delay)
	var lpl, lpr float64
	j := 0
	for i, x := range send {
		yl, yr := bl[j], br[j]
		lpl += 0.35 * (yl - lpl)
		lpr += 0.35 * (yr - lpr)
		bl[j] = float64(x) + fb*lpr
		br[j] = fb * lpl
		if j++; j == delay {
			j = 0
		}
		out[2*i] += float32(wet * yl)
		out[2*i+1] += float32(wet * yr)
		rev[i] += float32(0.3 * wet * (yl + yr))
	}
}

// reverb is a four-line feedback delay network with a Hadamard mixing
// matrix, damped lines and two input diffusers: a small, dense hall.
func reverb(send, out []float32, rt60, damp, wet float64) {
	lens := [4]int{1931, 2213, 2539, 2851}
	var lines [4][]float64
	var gain [4]float64
	for i, n := range lens {
		lines[i] = make([]float64, n)
		gain[i] = math.Pow(10, -3*float64(n)/(sr*rt60))
	}
	ap := [2]allpass{newAllpass(347, 0.6), newAllpass(113, 0.6)}
	pre := make([]float64, 794) // 18 ms pre-delay
	var idx [4]int
	var lp [4]float64
	pj := 0
	for i, x := range send {
		in := pre[pj]
		pre[pj] = float64(x)
		if pj++; pj == len(pre) {
			pj = 0
		}
		in = ap[1].tick(ap[0].tick(in))
		var y [4]float64
		for k := range 4 {
			y[k] = lines[k][idx[k]]
			lp[k] = y[k] + damp*(lp[k]-y[k])
		}
		a, b := lp[0]+lp[1], lp[0]-lp[1]
		c, d := lp[2]+lp[3], lp[2]-lp[3]
		m := [4]float64{(a + c) / 2, (b + d) / 2, (a - c) / 2, (b - d) / 2}
		for k := range 4 {
			lines[k][idx[k]] = in + gain[k]*m[k]
			if idx[k]++; idx[k] == lens[k] {
				idx[k] = 0
			}
		}
		out[2*i] += float32(wet * (y[0] + y[2]))
		out[2*i+1] += float32(wet * (y[1] + y[3]))
	}
}

type allpass struct {
	buf []float64
	g   float64
	j   int
}

func newAllpass(n int, g float64) allpass { return allpass{buf: make([]float64, n), g: g} }

func (a *allpass) tick(x float64) float64 {
	d := a.buf[a.j]
	v := x + a.g*d
	a.buf[a.j] = v
	if a.j++; a.j == len(a.buf) {
		a.j = 0
	}
	return d - a.g*v
}

// biquad is a direct-form-I second-order section.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

func (f *biquad) tick(x float64) float64 {
	y := f.b0*x + f.b1*f.x1 + f.b2*f.x2 - f.a1*f.y1 - f.a2*f.y2
	f.x2, f.x1 = f.x1, x
	f.y2, f.y1 = f.y1, y
	return y
}

// kWeighting returns the two ITU-R BS.1770 pre-filters (a high shelf for
// the head's acoustic effect and the RLB high-pass), designed for 44.1 kHz
// from their analogue prototypes.
func kWeighting() (shelf, hp biquad) {
	{
		const g, q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
		a := math.Pow(10, g/40)
		w := 2 * math.Pi * fc / sr
		al := math.Sin(w) / (2 * q)
		c := math.Cos(w)
		sa := 2 * math.Sqrt(a) * al
		a0 := (a + 1) - (a-1)*c + sa
		shelf = biquad{
			b0: a * ((a + 1) + (a-1)*c + sa) / a0,
			b1: -2 * a * ((a - 1) + (a+1)*c) / a0,
			b2: a * ((a + 1) + (a-1)*c - sa) / a0,
			a1: 2 * ((a - 1) - (a+1)*c) / a0,
			a2: ((a + 1) - (a-1)*c - sa) / a0,
		}
	}
	{
		const q, fc = 0.5003270373238773, 38.13547087602444
		w := 2 * math.Pi * fc / sr
		al := math.Sin(w) / (2 * q)
		c := math.Cos(w)
		a0 := 1 + al
		hp = biquad{
			b0: (1 + c) / 2 / a0,
			b1: -(1 + c) / a0,
			b2: (1 + c) / 2 / a0,
			a1: -2 * c / a0,
			a2: (1 - al) / a0,
		}
	}
	return shelf, hp
}

// loudness measures the integrated loudness of interleaved stereo samples
// in LUFS (ITU-R BS.1770-4: K-weighting, 400 ms blocks overlapping by 75%,
// absolute gate at -70 LUFS and relative gate 10 LU below the mean).
// It returns -Inf for silence.
func loudness(s []float32) float64 {
	shL, hpL := kWeighting()
	shR, hpR := kWeighting()
	const hop = audio400ms / 4
	frames := len(s) / 2
	nq := frames / hop
	quarter := make([]float64, nq)
	for q := range nq {
		var sum float64
		for i := q * hop; i < (q+1)*hop; i++ {
			l := hpL.tick(shL.tick(float64(s[2*i])))
			r := hpR.tick(shR.tick(float64(s[2*i+1])))
			sum += l*l + r*r
		}
		quarter[q] = sum / float64(hop)
	}
	var blocks []float64
	for q := 3; q < nq; q++ {
		z := (quarter[q] + quarter[q-1] + quarter[q-2] + quarter[q-3]) / 4
		if lufs(z) > -70 {
			blocks = append(blocks, z)
		}
	}
	if len(blocks) == 0 {
		return math.Inf(-1)
	}
	var mean float64
	for _, z := range blocks {
		mean += z
	}
	mean /= float64(len(blocks))
	gate := lufs(mean) - 10
	var sum float64
	var n int
	for _, z := range blocks {
		if lufs(z) > gate {
			sum += z
			n++
		}
	}
	return lufs(sum / float64(n))
}

const audio400ms = 17640 // 400 ms

func lufs(meanSquare float64) float64 { return -0.691 + 10*math.Log10(meanSquare) }

// limit applies the master soft limiter: unity below the knee, then a tanh
// shoulder that approaches but never reaches ceiling.
func limit(s []float32, gain float64) {
	const knee, ceiling = 0.7, 0.98
	for i, v := range s {
		x := float64(v) * gain
		a := math.Abs(x)
		if a > knee {
			a = knee + (ceiling-knee)*math.Tanh((a-knee)/(ceiling-knee))
			x = math.Copysign(a, x)
		}
		s[i] = float32(x)
	}
}
