// Package mp3 decodes MPEG-1, MPEG-2 and MPEG-2.5 Layer III audio frames
// to float32 PCM. It is written from ISO/IEC 11172-3 and 13818-3: bit
// reservoir, scalefactors (with MPEG-2's intensity-stereo partitions),
// Huffman decoding, requantisation, mid/side and intensity stereo,
// reordering, alias reduction, the IMDCT with its windows and the
// polyphase synthesis filterbank.
//
// It does not find frames in a file: its caller splits the stream into
// frames (free-format ones included) and hands them to a Decoder one by
// one. Corrupt frames are reported with an error and never make it
// panic.
package mp3

import (
	"errors"
	"fmt"

	"github.com/foreverfm/forever/audio/internal/mpa"
)

var (
	// ErrHeader means the bytes do not start with a Layer III frame header.
	ErrHeader = errors.New("mp3: not a Layer III frame header")
	// ErrCorrupt means the frame's side information or data is invalid.
	// The decoder's state has been reset; the frame produced no samples.
	ErrCorrupt = errors.New("mp3: corrupt frame")
	// ErrReservoir means the frame's data begins in earlier frames that
	// the decoder has not seen (the first frames of a stream cut from a
	// longer one). The frame produced no samples.
	ErrReservoir = errors.New("mp3: frame data starts before the stream")
)

// rateIndex returns the row of the band tables for a sample rate (see
// longBands).
func rateIndex(rate int) int {
	switch rate {
	case 8000:
		return 1
	case 22050:
		return 2
	case 24000:
		return 3
	case 16000:
		return 4
	case 44100:
		return 5
	case 48000:
		return 6
	case 32000:
		return 7
	}
	return 0 // 11025, 12000
}

// granule is one channel's side information for one granule, plus the
// layout of its scalefactor bands.
type granule struct {
	part23     int
	bigValues  int
	globalGain int
	sfCompress int
	blockType  int
	mixed      bool
	table      [3]int
	subGain    [3]int
	region     [2]int
	preflag    bool
	sfScale    int
	count1     int

	// bands lists the widths of the scalefactor bands in coding order:
	// nLong long bands, then short bands as window triples.
	bands []uint8
	nLong int
}

// Decoder decodes a sequence of frames, carrying the bit reservoir and
// the filterbank state from one to the next. The zero value is ready to
// use.
type Decoder struct {
	reservoir []byte
	main      []byte
	gr        [2][2]granule
	scfsi     [2]int
	sf        [2][39]int // scalefactors per band in coding order
	isMax     [39]int    // MPEG-2: the illegal intensity position per band
	prevSF    [2][22]int // MPEG-1 granule 0 long scalefactors for scfsi
	ix        [2][576]int32
	xr        [2][576]float32
	nz        [2]int // lines past the last nonzero one
	overlap   [2][32][18]float32
	synth     [2]synthState
	hybrid    [2][576]float32
	out       [2][576]float32 // PCM of the granule being decoded
}

// Reset forgets the reservoir and filterbank state, as at a stream start.
func (d *Decoder) Reset() {
	*d = Decoder{reservoir: d.reservoir[:0], main: d.main[:0]}
}

// maxReservoir bounds the bytes kept from earlier frames: main_data_begin
// reaches back at most 511 bytes.
const maxReservoir = 511

// DecodeFrame decodes one whole frame (header through the end of its
// main data) and appends its 576 or 1152 sample frames to dst as
// interleaved stereo float32, nominally in [-1, 1] (not clipped); mono
// frames are duplicated into both channels.
//
// On ErrReservoir and ErrCorrupt nothing is appended. A frame whose
// Huffman data overruns its granule still decodes (what was read stays),
// as the reference decoders do.
func (d *Decoder) DecodeFrame(frame []byte, dst []float32) ([]float32, error) {
	h, err := mpa.ParseHeader(frame)
	if err != nil && !errors.Is(err, mpa.ErrFreeFormat) {
		return dst, fmt.Errorf("%w: %w", ErrHeader, err)
	}
	nch := h.Channels
	siStart := 4
	if h.CRC {
		siStart += 2
	}
	mainStart := siStart + h.SideInfoSize()
	if len(frame) < mainStart {
		d.Reset()
		return dst, fmt.Errorf("%w: %d bytes, side information needs %d", ErrCorrupt, len(frame), mainStart)
	}
	br := bitReader{buf: frame[siStart:mainStart]}
	mainBegin, err := d.readSideInfo(&br, h)
	if err != nil {
		d.Reset()
		return dst, err
	}
	frameMain := frame[mainStart:]
	ngr := 2
	if h.Version != mpa.MPEG1 {
		ngr = 1
	}
	bitsNeeded := 0
	for g := range ngr {
		for ch := range nch {
			bitsNeeded += d.gr[g][ch].part23
		}
	}
	if bitsNeeded > 8*(mainBegin+len(frameMain)) {
		d.Reset()
		return dst, fmt.Errorf("%w: granules need %d bits, frame has %d", ErrCorrupt, bitsNeeded, 8*(mainBegin+len(frameMain)))
	}
	if mainBegin > len(d.reservoir) {
		d.save(frameMain)
		return dst, ErrReservoir
	}
	d.main = append(d.main[:0], d.reservoir[len(d.reservoir)-mainBegin:]...)
	d.main = append(d.main, frameMain...)
	d.main = append(d.main, 0, 0, 0, 0, 0, 0, 0, 0)
	d.save(frameMain)

	md := bitReader{buf: d.main}
	for g := range ngr {
		for ch := range nch {
			gr := &d.gr[g][ch]
			end := md.pos + gr.part23
			d.readScalefactors(&md, h, g, ch)
			d.huffman(&md, gr, ch, end)
			md.pos = end
			d.requantize(gr, ch)
		}
		if h.Mode == 1 && nch == 2 {
			d.stereo(h, g)
		}
		for ch := range nch {
			d.hybridFilter(&d.gr[g][ch], ch)
			d.synthesize(ch)
		}
		n := len(dst)
		dst = append(dst, make([]float32, 2*576)...)
		out := dst[n:]
		for t := range 18 {
			for i := range 32 {
				k := 2 * (t*32 + i)
				out[k] = d.out[0][t*32+i]
				if nch == 2 {
					out[k+1] = d.out[1][t*32+i]
				} else {
					out[k+1] = out[k]
				}
			}
		}
	}
	return dst, nil
}

// save appends a frame's main data to the reservoir, keeping its tail.
func (d *Decoder) save(b []byte) {
	if len(b) >= maxReservoir {
		d.reservoir = append(d.reservoir[:0], b[len(b)-maxReservoir:]...)
		return
	}
	if keep := maxReservoir - len(b); len(d.reservoir) > keep {
		copy(d.reservoir, d.reservoir[len(d.reservoir)-keep:])
		d.reservoir = d.reservoir[:keep]
	}
	d.reservoir = append(d.reservoir, b...)
}

// readSideInfo parses the side information and lays out each granule's
// scalefactor bands. It returns main_data_begin.
func (d *Decoder) readSideInfo(br *bitReader, h mpa.Header) (int, error) {
	nch := h.Channels
	var mainBegin, ngr int
	if h.Version == mpa.MPEG1 {
		mainBegin = br.read(9)
		if nch == 1 {
			br.read(5)
		} else {
			br.read(3)
		}
		for ch := range nch {
			d.scfsi[ch] = br.read(4)
		}
		ngr = 2
	} else {
		mainBegin = br.read(8)
		br.read(uint(nch))
		ngr = 1
	}
	for g := range ngr {
		for ch := range nch {
			gr := &d.gr[g][ch]
			gr.part23 = br.read(12)
			gr.bigValues = br.read(9)
			gr.globalGain = br.read(8)
			if h.Version == mpa.MPEG1 {
				gr.sfCompress = br.read(4)
			} else {
				gr.sfCompress = br.read(9)
			}
			if gr.bigValues > 288 {
				return 0, fmt.Errorf("%w: big_values %d > 288", ErrCorrupt, gr.bigValues)
			}
			gr.mixed = false
			gr.subGain = [3]int{}
			if br.bit() == 1 {
				gr.blockType = br.read(2)
				if gr.blockType == 0 {
					return 0, fmt.Errorf("%w: window switching with block type 0", ErrCorrupt)
				}
				gr.mixed = br.bit() == 1
				gr.table[0] = br.read(5)
				gr.table[1] = br.read(5)
				gr.table[2] = 0
				for w := range 3 {
					gr.subGain[w] = br.read(3)
				}
				gr.region = [2]int{7, 255}
				if gr.blockType == 2 && !gr.mixed {
					gr.region[0] = 8
				}
			} else {
				gr.blockType = 0
				for i := range 3 {
					gr.table[i] = br.read(5)
				}
				gr.region[0] = br.read(4)
				gr.region[1] = br.read(3)
			}
			if h.Version == mpa.MPEG1 {
				gr.preflag = br.bit() == 1
			}
			gr.sfScale = br.bit()
			gr.count1 = br.bit()
			d.layout(gr, h)
		}
	}
	return mainBegin, nil
}

// bandLists caches the band layouts: [rateIndex][kind] with kind 0 long,
// 1 short, 2 mixed MPEG-1, 3 mixed MPEG-2.
var bandLists [8][4][]uint8

func init() {
	for r := range 8 {
		bandLists[r][0] = longBands[r][:]
		var short []uint8
		for _, w := range shortBands[r] {
			short = append(short, w, w, w)
		}
		bandLists[r][1] = short
		bandLists[r][2] = append(append([]uint8(nil), longBands[r][:8]...), short[9:]...)
		bandLists[r][3] = append(append([]uint8(nil), longBands[r][:6]...), short[9:]...)
	}
}

func (d *Decoder) layout(gr *granule, h mpa.Header) {
	ri := rateIndex(h.SampleRate)
	switch {
	case gr.blockType != 2:
		gr.bands, gr.nLong = bandLists[ri][0], 22
	case !gr.mixed:
		gr.bands, gr.nLong = bandLists[ri][1], 0
	case h.Version == mpa.MPEG1:
		gr.bands, gr.nLong = bandLists[ri][2], 8
	default:
		gr.bands, gr.nLong = bandLists[ri][3], 6
	}
}
