package mp3

// synthState is one channel's polyphase synthesis history: the last 16
// vectors V of 64 values, newest at off.
type synthState struct {
	v   [1024]float32
	off int
}

// synthesize runs the polyphase synthesis filterbank over the 18 time
// slots in d.hybrid[ch], writing 576 samples to d.out[ch].
func (d *Decoder) synthesize(ch int) {
	st := &d.synth[ch]
	in := &d.hybrid[ch]
	out := &d.out[ch]
	var x [32]float32
	for t := range 18 {
		s := in[t*32 : t*32+32]
		// V[i] = sum_k cos((16+i)(2k+1)pi/64) S[k] comes from the DCT-II
		// X[n] = sum_k cos(n(2k+1)pi/64) S[k] by its symmetries.
		for n := range 32 {
			c := &dct32[n]
			var a float32
			for k, sv := range s {
				a += c[k] * sv
			}
			x[n] = a
		}
		st.off = (st.off - 64) & 1023
		v := st.v[st.off : st.off+64]
		for i := range 16 {
			v[i] = x[i+16]
		}
		v[16] = 0
		for i := 17; i < 48; i++ {
			v[i] = -x[48-i]
		}
		for i := 48; i < 64; i++ {
			v[i] = -x[i-48]
		}
		o := out[t*32 : t*32+32]
		for j := range 32 {
			var a float32
			for m := range 8 {
				a += st.v[(st.off+128*m+j)&1023]*synthWindow[64*m+j] +
					st.v[(st.off+128*m+96+j)&1023]*synthWindow[64*m+32+j]
			}
			o[j] = a
		}
	}
}
