package mp3

import "math"

// Scalefactor band widths (ISO/IEC 11172-3 Table B.8, ISO/IEC 13818-3
// Table B.2 and the MPEG-2.5 extension), indexed by rateIndex: 0 for
// 11.025 and 12 kHz, 1 for 8 kHz, 2 for 22.05, 3 for 24, 4 for 16, 5 for
// 44.1, 6 for 48 and 7 for 32 kHz.
var longBands = [8][22]uint8{
	{6, 6, 6, 6, 6, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 38, 46, 52, 60, 68, 58, 54},
	{12, 12, 12, 12, 12, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 76, 90, 2, 2, 2, 2, 2},
	{6, 6, 6, 6, 6, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 38, 46, 52, 60, 68, 58, 54},
	{6, 6, 6, 6, 6, 6, 8, 10, 12, 14, 16, 18, 22, 26, 32, 38, 46, 54, 62, 70, 76, 36},
	{6, 6, 6, 6, 6, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 38, 46, 52, 60, 68, 58, 54},
	{4, 4, 4, 4, 4, 4, 6, 6, 8, 8, 10, 12, 16, 20, 24, 28, 34, 42, 50, 54, 76, 158},
	{4, 4, 4, 4, 4, 4, 6, 6, 6, 8, 10, 12, 16, 18, 22, 28, 34, 40, 46, 54, 54, 192},
	{4, 4, 4, 4, 4, 4, 6, 6, 8, 10, 12, 16, 20, 24, 30, 38, 46, 56, 68, 84, 102, 26},
}

var shortBands = [8][13]uint8{
	{4, 4, 4, 6, 8, 10, 12, 14, 18, 24, 30, 40, 18},
	{8, 8, 8, 12, 16, 20, 24, 28, 36, 2, 2, 2, 26},
	{4, 4, 4, 6, 6, 8, 10, 14, 18, 26, 32, 42, 18},
	{4, 4, 4, 6, 8, 10, 12, 14, 18, 24, 32, 44, 12},
	{4, 4, 4, 6, 8, 10, 12, 14, 18, 24, 30, 40, 18},
	{4, 4, 4, 4, 6, 8, 10, 12, 14, 18, 22, 30, 56},
	{4, 4, 4, 4, 6, 6, 10, 12, 14, 16, 20, 26, 66},
	{4, 4, 4, 4, 6, 8, 12, 16, 20, 26, 34, 42, 12},
}

// pretab is the preemphasis added to long-block scalefactors when preflag
// is set (Table B.6).
var pretab = [22]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 2, 0}

// slen1, slen2 give the scalefactor bit lengths for MPEG-1's
// scalefac_compress.
var mpeg1Slen = [16][2]uint8{
	{0, 0}, {0, 1}, {0, 2}, {0, 3}, {3, 0}, {1, 1}, {1, 2}, {1, 3},
	{2, 1}, {2, 2}, {2, 3}, {3, 1}, {3, 2}, {3, 3}, {4, 2}, {4, 3},
}

// mpeg2ScfCount is nr_of_sfb_block of ISO/IEC 13818-3 Table B.1: how many
// scalefactors each of the four slen groups covers, by table (0-2 plain,
// 3-5 the intensity-stereo right channel) and block kind (long, short,
// mixed).
var mpeg2ScfCount = [6][3][4]uint8{
	{{6, 5, 5, 5}, {9, 9, 9, 9}, {6, 9, 9, 9}},
	{{6, 5, 7, 3}, {9, 9, 12, 6}, {6, 9, 12, 6}},
	{{11, 10, 0, 0}, {18, 18, 0, 0}, {15, 18, 0, 0}},
	{{7, 7, 7, 0}, {12, 12, 12, 0}, {6, 15, 12, 0}},
	{{6, 6, 6, 3}, {12, 9, 9, 6}, {6, 12, 9, 6}},
	{{8, 8, 5, 0}, {15, 12, 9, 0}, {6, 18, 9, 0}},
}

// linbits per big-values table; tables 16-23 share the tree of 16 and
// 24-31 that of 24.
var linbits = [32]uint8{
	16: 1, 17: 2, 18: 3, 19: 4, 20: 6, 21: 8, 22: 10, 23: 13,
	24: 4, 25: 5, 26: 6, 27: 7, 28: 8, 29: 9, 30: 11, 31: 13,
}

type huffCode struct {
	x, y, n uint8
	code    uint32
}

// huffRootBits is the width of the first lookup level.
const huffRootBits = 8

// huffTable is a two-level lookup table for one Huffman code. An entry
// is either a codeword (length<<8 | x<<4 | y) or, with bit 31 set, a
// pointer to a second-level table (start<<8 | bits) indexed by the next
// bits after the root.
type huffTable struct {
	root [1 << huffRootBits]uint32
	sub  []uint32
}

var huffTables [34]*huffTable

const huffPointer = 1 << 31

func buildHuffTable(codes []huffCode) *huffTable {
	t := &huffTable{}
	// Longest code beyond the root, per root prefix.
	var extra [1 << huffRootBits]uint8
	for _, c := range codes {
		if c.n > huffRootBits {
			p := c.code >> (c.n - huffRootBits)
			extra[p] = max(extra[p], c.n-huffRootBits)
		}
	}
	for p, e := range extra {
		if e > 0 {
			t.root[p] = huffPointer | uint32(len(t.sub))<<8 | uint32(e)
			t.sub = append(t.sub, make([]uint32, 1<<e)...)
		}
	}
	for _, c := range codes {
		v := uint32(c.x)<<4 | uint32(c.y)
		if c.n <= huffRootBits {
			shift := huffRootBits - c.n
			base := c.code << shift
			for i := range uint32(1) << shift {
				t.root[base+i] = uint32(c.n)<<8 | v
			}
			continue
		}
		p := c.code >> (c.n - huffRootBits)
		e := t.root[p]
		start, bits := e>>8&0x7FFFFF, uint8(e&0xFF)
		rest := c.n - huffRootBits
		low := c.code & (1<<rest - 1)
		shift := bits - rest
		for i := range uint32(1) << shift {
			t.sub[start+low<<shift+i] = uint32(rest)<<8 | v
		}
	}
	return t
}

// pow43 holds |x|^(4/3) for every magnitude a big-values pair can code
// (15 + 13 linbits).
var pow43 [8207]float32

// Hybrid filterbank constants.
var (
	dct4x18    [18][18]float32 // cos(pi/72 (2u+1)(2k+1)), a DCT-IV
	imdctShort [12][6]float32  // cos(pi/24 (2i+1+6)(2k+1))
	// windows by block type; short uses windows[2][:12].
	windows [4][36]float32
	// alias butterflies.
	aliasCS, aliasCA [8]float32
)

func init() {
	for i := 1; i < len(huffCodes); i++ {
		if huffCodes[i] != nil {
			huffTables[i] = buildHuffTable(huffCodes[i])
		}
	}
	for i := 17; i < 32; i++ {
		if i != 24 {
			huffTables[i] = huffTables[i&^7]
		}
	}
	for i := range pow43 {
		pow43[i] = float32(math.Pow(float64(i), 4.0/3))
	}
	for u := range 18 {
		for k := range 18 {
			dct4x18[u][k] = float32(math.Cos(math.Pi / 72 * float64((2*u+1)*(2*k+1))))
		}
	}
	for i := range 12 {
		for k := range 6 {
			imdctShort[i][k] = float32(math.Cos(math.Pi / 24 * float64((2*i+1+6)*(2*k+1))))
		}
	}
	for i := range 36 {
		windows[0][i] = float32(math.Sin(math.Pi / 36 * (float64(i) + 0.5)))
	}
	windows[1] = windows[0]
	windows[3] = windows[0]
	for i := 18; i < 36; i++ {
		switch {
		case i < 24:
			windows[1][i] = 1
		case i < 30:
			windows[1][i] = float32(math.Sin(math.Pi / 12 * (float64(i-18) + 0.5)))
		default:
			windows[1][i] = 0
		}
	}
	for i := range 18 {
		switch {
		case i < 6:
			windows[3][i] = 0
		case i < 12:
			windows[3][i] = float32(math.Sin(math.Pi / 12 * (float64(i-6) + 0.5)))
		default:
			windows[3][i] = 1
		}
	}
	for i := range 12 {
		windows[2][i] = float32(math.Sin(math.Pi / 12 * (float64(i) + 0.5)))
	}
	for i, c := range [8]float64{-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037} {
		d := math.Sqrt(1 + c*c)
		aliasCS[i] = float32(1 / d)
		aliasCA[i] = float32(c / d)
	}
}
