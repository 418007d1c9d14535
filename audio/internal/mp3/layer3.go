package mp3

import (
	"math"

	"github.com/foreverfm/forever/audio/internal/mpa"
)

// readScalefactors reads channel ch's scalefactors for granule g into
// d.sf[ch], in the order of the granule's band layout.
func (d *Decoder) readScalefactors(r *bitReader, h mpa.Header, g, ch int) {
	gr := &d.gr[g][ch]
	sf := &d.sf[ch]
	*sf = [39]int{}
	if h.Version == mpa.MPEG1 {
		slen := mpeg1Slen[gr.sfCompress]
		if gr.blockType == 2 {
			n1 := 18
			if gr.mixed {
				n1 = 17
			}
			for i := range n1 {
				sf[i] = r.read(uint(slen[0]))
			}
			for i := n1; i < n1+18; i++ {
				sf[i] = r.read(uint(slen[1]))
			}
		} else {
			groups := [5]int{0, 6, 11, 16, 21}
			for k := range 4 {
				n := uint(slen[0])
				if k >= 2 {
					n = uint(slen[1])
				}
				reuse := g == 1 && d.scfsi[ch]&(8>>k) != 0
				for i := groups[k]; i < groups[k+1]; i++ {
					if reuse {
						sf[i] = d.prevSF[ch][i]
					} else {
						sf[i] = r.read(n)
					}
				}
			}
		}
		if g == 0 {
			copy(d.prevSF[ch][:], sf[:22])
		}
		return
	}

	// MPEG-2: scalefac_compress selects bit lengths for four groups of
	// bands; the right channel of intensity stereo has its own tables,
	// whose largest value in each group marks an illegal position.
	c := gr.sfCompress
	var slen [4]int
	var tbl int
	gr.preflag = false
	if ch == 1 && h.Mode == 1 && h.ModeExt&1 != 0 {
		c >>= 1
		switch {
		case c < 180:
			slen, tbl = [4]int{c / 36, c % 36 / 6, c % 36 % 6, 0}, 3
		case c < 244:
			c -= 180
			slen, tbl = [4]int{c & 63 >> 4, c & 15 >> 2, c & 3, 0}, 4
		default:
			c -= 244
			slen, tbl = [4]int{c / 3, c % 3, 0, 0}, 5
		}
	} else {
		switch {
		case c < 400:
			slen = [4]int{c >> 4 / 5, c >> 4 % 5, c & 15 >> 2, c & 3}
		case c < 500:
			c -= 400
			slen, tbl = [4]int{c >> 2 / 5, c >> 2 % 5, c & 3, 0}, 1
		default:
			c -= 500
			slen, tbl = [4]int{c / 3, c % 3, 0, 0}, 2
			gr.preflag = true
		}
	}
	kind := 0
	if gr.blockType == 2 {
		kind = 1
		if gr.mixed {
			kind = 2
		}
	}
	i := 0
	for k, n := range mpeg2ScfCount[tbl][kind] {
		illegal := -1
		if slen[k] > 0 {
			illegal = 1<<slen[k] - 1
		}
		for range n {
			if i < len(sf) {
				sf[i] = r.read(uint(slen[k]))
				if ch == 1 {
					d.isMax[i] = illegal
				}
			}
			i++
		}
	}
	if ch == 1 {
		for ; i < len(d.isMax); i++ {
			d.isMax[i] = -1
		}
	}
}

// decode reads one codeword, returning its x and y (or vwxy) values.
func (t *huffTable) decode(r *bitReader) (int, int) {
	e := t.root[r.peek(huffRootBits)]
	if e&huffPointer != 0 {
		r.pos += huffRootBits
		e = t.sub[e>>8&0x7FFFFF+r.peek(uint(e&0xFF))]
	}
	n := int(e >> 8 & 0xFF)
	if n == 0 { // no codeword has these bits: corrupt data
		n = 1
	}
	r.pos += n
	return int(e >> 4 & 15), int(e & 15)
}

// huffman decodes channel ch's quantised spectrum up to bit end into
// d.ix and records where its nonzero lines end.
func (d *Decoder) huffman(r *bitReader, gr *granule, ch, end int) {
	ix := &d.ix[ch]
	big := gr.bigValues * 2
	r1 := bandEnd(gr.bands, gr.region[0]+1)
	r2 := bandEnd(gr.bands, gr.region[0]+gr.region[1]+2)
	i := 0
	for i < big {
		region, limit := 0, r1
		switch {
		case i >= r2:
			region, limit = 2, 576
		case i >= r1:
			region, limit = 1, r2
		}
		limit = min(limit, big)
		tn := gr.table[region]
		t := huffTables[tn]
		if t == nil { // tables 0, 4 and 14 code nothing
			for ; i < limit; i++ {
				ix[i] = 0
			}
			continue
		}
		lb := uint(linbits[tn])
		for ; i < limit; i += 2 {
			x, y := t.decode(r)
			if lb > 0 && x == 15 {
				x += r.read(lb)
			}
			if x != 0 && r.bit() == 1 {
				x = -x
			}
			if lb > 0 && y == 15 {
				y += r.read(lb)
			}
			if y != 0 && r.bit() == 1 {
				y = -y
			}
			ix[i], ix[i+1] = int32(x), int32(y)
		}
	}
	t := huffTables[32+gr.count1]
	for i+4 <= 576 && r.pos < end {
		_, v := t.decode(r)
		var q [4]int32
		for k := range 4 {
			if v>>(3-k)&1 != 0 {
				q[k] = 1
				if r.bit() == 1 {
					q[k] = -1
				}
			}
		}
		if r.pos > end { // the last quadruple overran the granule: drop it
			break
		}
		copy(ix[i:i+4], q[:])
		i += 4
	}
	for j := i; j < 576; j++ {
		ix[j] = 0
	}
	for i > 0 && ix[i-1] == 0 {
		i--
	}
	d.nz[ch] = i
}

// bandEnd returns the line where band n of bands starts (576 past the end).
func bandEnd(bands []uint8, n int) int {
	if n >= len(bands) {
		return 576
	}
	s := 0
	for _, w := range bands[:n] {
		s += int(w)
	}
	return min(s, 576)
}

// requantize turns d.ix into spectral values d.xr for channel ch.
func (d *Decoder) requantize(gr *granule, ch int) {
	ix, xr, sf := &d.ix[ch], &d.xr[ch], &d.sf[ch]
	nz := d.nz[ch]
	shift := uint(1 + gr.sfScale)
	pos := 0
	for b, w := range gr.bands {
		if pos >= nz {
			break
		}
		e := gr.globalGain - 210
		if b < gr.nLong {
			s := sf[b]
			if gr.preflag {
				s += int(pretab[b])
			}
			e -= s << shift
		} else {
			e -= 8*gr.subGain[(b-gr.nLong)%3] + sf[b]<<shift
		}
		g := float32(math.Exp2(float64(e) * 0.25))
		stop := min(pos+int(w), nz)
		for j := pos; j < stop; j++ {
			v := ix[j]
			switch {
			case v > 0:
				xr[j] = pow43[v] * g
			case v < 0:
				xr[j] = -pow43[-v] * g
			default:
				xr[j] = 0
			}
		}
		pos += int(w)
	}
	for j := nz; j < 576; j++ {
		xr[j] = 0
	}
}

// isPan holds MPEG-1's intensity-stereo gains (left, right) per position.
var isPan [7][2]float32

func init() {
	for p := range 7 {
		r := math.Tan(float64(p) * math.Pi / 12)
		if p == 6 {
			isPan[p] = [2]float32{1, 0}
			continue
		}
		isPan[p] = [2]float32{float32(r / (1 + r)), float32(1 / (1 + r))}
	}
}

// stereo applies mid/side and intensity stereo to granule g.
func (d *Decoder) stereo(h mpa.Header, g int) {
	g0 := &d.gr[g][0]
	l, r := &d.xr[0], &d.xr[1]
	ms := h.ModeExt&2 != 0
	n := max(d.nz[0], d.nz[1])
	d.nz[0], d.nz[1] = n, n
	if h.ModeExt&1 == 0 {
		if ms {
			midSide(l[:n], r[:n])
		}
		return
	}
	bands := g0.bands
	nLong := g0.nLong
	// The highest band per window where the right channel has values:
	// intensity stereo covers the bands above it.
	maxBand := [3]int{-1, -1, -1}
	pos := 0
	for b, w := range bands {
		for j := pos; j < pos+int(w) && j < 576; j++ {
			if r[j] != 0 {
				if b < nLong {
					maxBand = [3]int{b, b, b}
				} else {
					maxBand[(b-nLong)%3] = b
				}
				break
			}
		}
		pos += int(w)
	}
	if nLong > 0 {
		m := max(maxBand[0], maxBand[1], maxBand[2])
		maxBand = [3]int{m, m, m}
	}
	var isPos [39]int
	var legal [39]bool
	for b := range bands {
		p := d.sf[1][b]
		isPos[b] = p
		if h.Version == mpa.MPEG1 {
			legal[b] = p < 7
		} else {
			legal[b] = p != d.isMax[b]
		}
	}
	// The top band has no scalefactor of its own: it takes the one
	// below it, or the neutral position if that band is not intensity
	// coded.
	blocks := 1
	if g0.blockType == 2 {
		blocks = 3
	}
	for w := range blocks {
		top := len(bands) - blocks + w
		prev := top - blocks
		if maxBand[w] >= prev {
			isPos[top], legal[top] = 0, true
			if h.Version == mpa.MPEG1 {
				isPos[top] = 3
			}
		} else {
			isPos[top], legal[top] = isPos[prev], legal[prev]
		}
	}
	shift := uint(d.gr[g][1].sfCompress & 1)
	pos = 0
	for b, w := range bands {
		end := min(pos+int(w), 576)
		win := 0
		if b >= nLong {
			win = (b - nLong) % 3
		}
		switch {
		case b > maxBand[win] && legal[b]:
			var kl, kr float32
			if h.Version == mpa.MPEG1 {
				kl, kr = isPan[isPos[b]][0], isPan[isPos[b]][1]
			} else {
				k := float32(math.Exp2(-float64(((isPos[b]+1)>>1)<<shift) * 0.25))
				kl, kr = 1, k
				if isPos[b]&1 != 0 {
					kl, kr = k, 1
				}
			}
			for j := pos; j < end; j++ {
				v := l[j]
				l[j], r[j] = v*kl, v*kr
			}
			if end > n {
				n = end
			}
		case ms:
			midSide(l[pos:end], r[pos:end])
		}
		pos = end
	}
	d.nz[0], d.nz[1] = n, n
}

func midSide(l, r []float32) {
	r = r[:len(l)]
	for j := range l {
		m, s := l[j], r[j]
		l[j] = (m + s) * math.Sqrt2 / 2
		r[j] = (m - s) * math.Sqrt2 / 2
	}
}

// hybridFilter runs reordering, alias reduction, the IMDCT with overlap
// and frequency inversion on channel ch, leaving 18 time slots of 32
// subband samples in d.hybrid[ch].
func (d *Decoder) hybridFilter(gr *granule, ch int) {
	xr := &d.xr[ch]
	nz := d.nz[ch]
	longEnd := 576 // lines coded with long blocks
	if gr.blockType == 2 {
		longEnd = 0
		if gr.mixed {
			longEnd = bandEnd(gr.bands, gr.nLong)
		}
		d.reorder(xr, gr.bands[gr.nLong:], longEnd)
		nz = 576
	}
	// Alias reduction between long-block subbands.
	limit := min(31, (nz+17)/18, longEnd/18)
	if gr.blockType == 2 && gr.mixed {
		limit = min(1, longEnd/18)
	}
	for sb := 1; sb <= limit; sb++ {
		for i := range 8 {
			a, b := xr[18*sb-1-i], xr[18*sb+i]
			xr[18*sb-1-i] = a*aliasCS[i] - b*aliasCA[i]
			xr[18*sb+i] = b*aliasCS[i] + a*aliasCA[i]
		}
	}
	active := min(32, (nz+8+17)/18)
	out := &d.hybrid[ch]
	var y [36]float32
	for sb := range 32 {
		ov := &d.overlap[ch][sb]
		if sb >= active {
			for t := range 18 {
				v := ov[t]
				if sb&1 == 1 && t&1 == 1 {
					v = -v
				}
				out[t*32+sb] = v
				ov[t] = 0
			}
			continue
		}
		x := xr[18*sb : 18*sb+18]
		bt := gr.blockType
		if gr.mixed && sb < 2 {
			bt = 0
		}
		if bt == 2 {
			imdctShortBlock(x, &y)
		} else {
			imdct36(x, &y, &windows[bt])
		}
		for t := range 18 {
			v := y[t] + ov[t]
			if sb&1 == 1 && t&1 == 1 {
				v = -v
			}
			out[t*32+sb] = v
			ov[t] = y[18+t]
		}
	}
}

// reorder puts the short-block lines from line start on into subband
// order: for each frequency, the three windows side by side.
func (d *Decoder) reorder(xr *[576]float32, short []uint8, start int) {
	var tmp [576]float32
	pos := start
	for b := 0; b+2 < len(short); b += 3 {
		w := int(short[b])
		if pos+3*w > 576 {
			break
		}
		for win := range 3 {
			for i := range w {
				tmp[3*i+win] = xr[pos+win*w+i]
			}
		}
		copy(xr[pos:pos+3*w], tmp[:3*w])
		pos += 3 * w
	}
}

// imdct36 is the 36-point IMDCT of x, windowed by win. Its outputs
// y[i] = sum_k x[k] cos(pi/72 (2i+19)(2k+1)) are the 18-point DCT-IV
// c(u) = sum_k x[k] cos(pi/72 (2u+1)(2k+1)) at u = i+9, extended by
// c(35-u) = -c(u) and c(36+u) = -c(u).
func imdct36(x []float32, y *[36]float32, win *[36]float32) {
	x = x[:18]
	var c [18]float32
	for u := range 18 {
		row := &dct4x18[u]
		var s float32
		for k, v := range x {
			s += v * row[k]
		}
		c[u] = s
	}
	for i := range 9 {
		y[i] = c[i+9] * win[i]
		y[27+i] = -c[i] * win[27+i]
	}
	for i := 9; i < 27; i++ {
		y[i] = -c[26-i] * win[i]
	}
}

func imdctShortBlock(x []float32, y *[36]float32) {
	x = x[:18]
	*y = [36]float32{}
	win := &windows[2]
	for w := range 3 {
		for i := range 12 {
			c := &imdctShort[i]
			var s float32
			for k := range 6 {
				s += x[3*k+w] * c[k]
			}
			y[6+6*w+i] += s * win[i]
		}
	}
}
