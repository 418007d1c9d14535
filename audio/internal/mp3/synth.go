package mp3

import "math"

// synthState is one channel's polyphase synthesis history: the last 16
// vectors V of 64 values, newest first from off. Each vector is written
// twice, 1024 apart, so that the 1024 values from off are contiguous.
type synthState struct {
	v   [2048]float32
	off int
}

// dctCos[n] holds 1/(2cos(pi(2i+1)/(4n))) for the size-2n stage of the
// fast DCT-II.
var dctCos = map[int][]float32{}

func init() {
	for n := 2; n <= 32; n *= 2 {
		c := make([]float32, n/2)
		for i := range c {
			c[i] = float32(0.5 / math.Cos(math.Pi*float64(2*i+1)/float64(2*n)))
		}
		dctCos[n] = c
	}
	dct32Cos, dct16Cos, dct8Cos, dct4Cos, dct2Cos = dctCos[32], dctCos[16], dctCos[8], dctCos[4], dctCos[2]
}

var dct32Cos, dct16Cos, dct8Cos, dct4Cos, dct2Cos []float32

// dct computes the unnormalised DCT-II of x in place,
// X[k] = sum_n x[n] cos(pi(2n+1)k/(2N)), for N a power of two up to 32,
// by Lee's recursive halving; tmp needs len(x) values.
func dct(x, tmp []float32) {
	n := len(x)
	if n == 1 {
		return
	}
	var c []float32
	switch n {
	case 32:
		c = dct32Cos
	case 16:
		c = dct16Cos
	case 8:
		c = dct8Cos
	case 4:
		c = dct4Cos
	default:
		c = dct2Cos
	}
	h := n / 2
	a, b := tmp[:h], tmp[h:n]
	c = c[:h]
	for i := range h {
		p, q := x[i], x[n-1-i]
		a[i] = p + q
		b[i] = (p - q) * c[i]
	}
	dct(a, x[:h])
	dct(b, x[h:n])
	for k := range h - 1 {
		x[2*k] = a[k]
		x[2*k+1] = b[k] + b[k+1]
	}
	x[n-2] = a[h-1]
	x[n-1] = b[h-1]
}

// synthesize runs the polyphase synthesis filterbank over the 18 time
// slots in d.hybrid[ch], writing 576 samples to d.out[ch].
func (d *Decoder) synthesize(ch int) {
	st := &d.synth[ch]
	in := &d.hybrid[ch]
	out := &d.out[ch]
	var x, tmp [32]float32
	for t := range 18 {
		copy(x[:], in[t*32:t*32+32])
		// V[i] = sum_k cos((16+i)(2k+1)pi/64) S[k] follows from the
		// DCT-II X[n] = sum_k cos(n(2k+1)pi/64) S[k] by its symmetries.
		dct(x[:], tmp[:])
		st.off = (st.off - 64) & 1023
		var v [64]float32
		for i := range 16 {
			v[i] = x[i+16]
		}
		for i := 17; i < 48; i++ {
			v[i] = -x[48-i]
		}
		for i := 48; i < 64; i++ {
			v[i] = -x[i-48]
		}
		copy(st.v[st.off:], v[:])
		copy(st.v[st.off+1024:], v[:])
		hist := st.v[st.off : st.off+1024]
		var acc [32]float32
		for m := range 8 {
			w0 := synthWindow[64*m : 64*m+32]
			w1 := synthWindow[64*m+32 : 64*m+64]
			v0 := hist[128*m : 128*m+32]
			v1 := hist[128*m+96 : 128*m+128]
			for j := range 32 {
				acc[j] += v0[j]*w0[j] + v1[j]*w1[j]
			}
		}
		copy(out[t*32:t*32+32], acc[:])
	}
}
