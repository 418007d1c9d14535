// Package mpa reads and writes the parts of MPEG-1/2/2.5 Layer III streams
// that sit around the audio itself: frame headers (to find, count and split
// frames) and the Xing/Info tag with LAME's extension (to learn the encoder
// delay and padding that make gapless playback possible).
//
// It decodes no audio. The audio package uses it to trim decoder output to
// the samples the encoder was given; audio/lame uses it to split LAME's
// output into frames and to write an Info tag.
package mpa

import (
	"encoding/binary"
	"errors"
)

// Version is the MPEG audio version of a frame.
type Version int

// MPEG audio versions.
const (
	MPEG1  Version = 1
	MPEG2  Version = 2
	MPEG25 Version = 25
)

// Header is a parsed Layer III frame header.
type Header struct {
	Version    Version
	Bitrate    int // kb/s; 0 for free format
	SampleRate int // Hz
	Padding    bool
	Channels   int  // 1 or 2
	CRC        bool // a 16-bit CRC follows the header
	Mode       int  // 0 stereo, 1 joint stereo, 2 dual channel, 3 mono
	ModeExt    int  // joint stereo: bit 1 mid/side, bit 0 intensity stereo
}

var (
	// ErrNoSync means the bytes do not begin with a valid Layer III frame header.
	ErrNoSync = errors.New("mpa: no frame sync")
	// ErrFreeFormat means the frame uses the free-format bitrate, whose frame
	// length cannot be derived from the header alone.
	ErrFreeFormat = errors.New("mpa: free-format bitrate")
)

var (
	bitratesV1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1}
	bitratesV2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1}
	ratesV1    = [4]int{44100, 48000, 32000, -1}
)

// Bitrates lists the legal MPEG-1 Layer III bitrates in kb/s.
func Bitrates() []int { return append([]int(nil), bitratesV1[1:15]...) }

// ParseHeader parses the 4-byte frame header at the start of b. Only Layer
// III is recognised: other layers, reserved fields and free format are
// errors.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return Header{}, ErrNoSync
	}
	var h Header
	switch (b[1] >> 3) & 3 {
	case 0:
		h.Version = MPEG25
	case 2:
		h.Version = MPEG2
	case 3:
		h.Version = MPEG1
	default:
		return Header{}, ErrNoSync
	}
	if (b[1]>>1)&3 != 1 { // Layer III
		return Header{}, ErrNoSync
	}
	h.CRC = b[1]&1 == 0
	bi := b[2] >> 4
	ri := (b[2] >> 2) & 3
	if bi == 15 || ri == 3 {
		return Header{}, ErrNoSync
	}
	if h.Version == MPEG1 {
		h.Bitrate = bitratesV1[bi]
	} else {
		h.Bitrate = bitratesV2[bi]
	}
	h.SampleRate = ratesV1[ri]
	switch h.Version {
	case MPEG2:
		h.SampleRate /= 2
	case MPEG25:
		h.SampleRate /= 4
	}
	h.Padding = b[2]&2 != 0
	h.Mode = int(b[3] >> 6)
	h.ModeExt = int(b[3] >> 4 & 3)
	h.Channels = 2
	if h.Mode == 3 {
		h.Channels = 1
	}
	if b[3]&3 == 2 { // reserved emphasis
		return Header{}, ErrNoSync
	}
	if bi == 0 {
		return h, ErrFreeFormat
	}
	return h, nil
}

// SamplesPerFrame reports the number of samples per channel a frame holds.
func (h Header) SamplesPerFrame() int {
	if h.Version == MPEG1 {
		return 1152
	}
	return 576
}

// FrameSize reports the frame's length in bytes, header included.
func (h Header) FrameSize() int {
	n := h.SamplesPerFrame() / 8 * h.Bitrate * 1000 / h.SampleRate
	if h.Padding {
		n++
	}
	return n
}

// SideInfoSize reports the length of the side information after the header
// (and after the CRC, if any).
func (h Header) SideInfoSize() int {
	switch {
	case h.Version == MPEG1 && h.Channels == 1:
		return 17
	case h.Version == MPEG1:
		return 32
	case h.Channels == 1:
		return 9
	default:
		return 17
	}
}

// MainDataBegin reads the side information's back pointer into the bit
// reservoir: how many bytes of this frame's audio data sit in earlier
// frames. frame must start with the header h was parsed from.
func (h Header) MainDataBegin(frame []byte) int {
	o := 4
	if h.CRC {
		o += 2
	}
	if len(frame) < o+2 {
		return 0
	}
	if h.Version == MPEG1 {
		return int(frame[o])<<1 | int(frame[o+1])>>7
	}
	return int(frame[o])
}

// MainDataSize reports how many bytes of the frame follow its side
// information: what it adds to the bit reservoir.
func (h Header) MainDataSize() int {
	n := h.FrameSize() - 4 - h.SideInfoSize()
	if h.CRC {
		n -= 2
	}
	return max(n, 0)
}

// Sync finds the first offset at or after from where a frame header starts
// that is followed, if the data reaches that far, by another valid header
// of the same version and sample rate. The check of the following frame
// avoids locking onto a stray 0xFF in tags or junk. It returns -1 if there
// is none.
func Sync(b []byte, from int) int {
	for i := from; i+4 <= len(b); i++ {
		if b[i] != 0xFF {
			continue
		}
		h, err := ParseHeader(b[i:])
		if err == ErrFreeFormat {
			// Accept it only if a header with the same fields recurs
			// within a free-format frame's reach.
			if FreeFormatSize(b, i) > 0 {
				return i
			}
			continue
		}
		if err != nil {
			continue
		}
		next := i + h.FrameSize()
		if next+4 > len(b) {
			return i // last frame, or truncated: accept
		}
		h2, err := ParseHeader(b[next:])
		if err == nil && h2.Version == h.Version && h2.SampleRate == h.SampleRate {
			return i
		}
	}
	return -1
}

// FreeFormatSize finds the length, less padding, of the free-format
// frame at b[at:]: the distance to the next header with the same version,
// layer, rate and bitrate fields, confirmed by the one after it where the
// data reaches. It returns 0 if there is none within 8 kB.
func FreeFormatSize(b []byte, at int) int {
	if at+4 > len(b) {
		return 0
	}
	pad := int(b[at+2] >> 1 & 1)
	same := func(j int) bool {
		return j+3 < len(b) && b[j] == 0xFF && b[j+1] == b[at+1] && b[j+2]&0xFD == b[at+2]&0xFD
	}
	for j := at + 24; j+3 < len(b) && j < at+8192; j++ {
		if !same(j) {
			continue
		}
		n := j - at - pad
		next := j + n + int(b[j+2]>>1&1)
		if next+3 >= len(b) || same(next) {
			return n
		}
	}
	return 0
}

// ID3v2Size reports the length of an ID3v2 tag at the start of b (header,
// body and footer), or 0 if b does not start with one.
func ID3v2Size(b []byte) int {
	if len(b) < 10 || string(b[:3]) != "ID3" || b[3] == 0xFF || b[4] == 0xFF {
		return 0
	}
	var size int
	for _, c := range b[6:10] {
		if c&0x80 != 0 {
			return 0
		}
		size = size<<7 | int(c)
	}
	size += 10
	if b[5]&0x10 != 0 { // footer present
		size += 10
	}
	return size
}

// Tag is the content of a Xing/Info tag and its LAME extension.
type Tag struct {
	VBR      bool // "Xing" rather than "Info"
	Frames   int  // audio frames after the tag frame; 0 if absent
	Bytes    int  // bytes of the stream including the tag frame; 0 if absent
	HasLAME  bool // the encoder delay and padding below are valid
	Encoder  string
	Delay    int // encoder delay in samples, before the decoder's own delay
	Padding  int // samples appended at the end to fill the last frame
	MusicLen int // LAME's music length field, bytes; 0 if absent
}

// xingOffset is where the tag would start within the frame.
func xingOffset(h Header) int { return 4 + h.SideInfoSize() }

// ParseTag reads a Xing or Info tag from frame, which must hold one whole
// frame starting with its header. ok is false if the frame carries none.
func ParseTag(frame []byte) (t Tag, ok bool) {
	h, err := ParseHeader(frame)
	if err != nil {
		return Tag{}, false
	}
	if len(frame) > h.FrameSize() {
		frame = frame[:h.FrameSize()]
	}
	// Some encoders count a CRC before the side info, some do not.
	for _, off := range []int{xingOffset(h), xingOffset(h) + 2} {
		if off+8 > len(frame) {
			continue
		}
		id := string(frame[off : off+4])
		if id != "Xing" && id != "Info" {
			continue
		}
		t.VBR = id == "Xing"
		flags := binary.BigEndian.Uint32(frame[off+4:])
		p := off + 8
		field := func(bit uint32, n int) (int, bool) {
			if flags&bit == 0 {
				return 0, true
			}
			if p+n > len(frame) {
				return 0, false
			}
			v := 0
			if n == 4 {
				v = int(binary.BigEndian.Uint32(frame[p:]))
			}
			p += n
			return v, true
		}
		var okf, okb, okt, okq bool
		t.Frames, okf = field(1, 4)
		t.Bytes, okb = field(2, 4)
		_, okt = field(4, 100)
		_, okq = field(8, 4)
		if !okf || !okb || !okt || !okq {
			return Tag{}, false
		}
		if p+36 <= len(frame) {
			enc := frame[p : p+9]
			if isEncoderString(enc) {
				t.Encoder = trimZero(enc)
				d := frame[p+21:]
				t.Delay = int(d[0])<<4 | int(d[1])>>4
				t.Padding = int(d[1]&0x0F)<<8 | int(d[2])
				t.MusicLen = int(binary.BigEndian.Uint32(frame[p+28:]))
				t.HasLAME = true
			}
		}
		return t, true
	}
	return Tag{}, false
}

// isEncoderString accepts the version strings encoders that write the LAME
// extension put there: LAME itself and FFmpeg's libavformat/libavcodec.
func isEncoderString(b []byte) bool {
	s := string(b[:4])
	if s != "LAME" && s != "Lavf" && s != "Lavc" && s != "GOGO" {
		return false
	}
	for _, c := range b {
		if c != 0 && (c < 0x20 || c > 0x7E) {
			return false
		}
	}
	return true
}

func trimZero(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// BuildInfoFrame returns a complete frame carrying an Info tag (CBR) with
// the LAME extension for a stream of frames audio frames totalling
// musicBytes bytes, encoder delay delay and padding padding, in the format
// of h4 (the first audio frame's header bytes; the bitrate is raised if
// its frames are too small to hold the tag). musicCRC is the
// CRC-16 of the audio frames. The frame decodes as silence: its side
// information is all zero.
func BuildInfoFrame(h4 []byte, frames, musicBytes, delay, padding int, musicCRC uint16) ([]byte, error) {
	h, err := ParseHeader(h4)
	if err != nil {
		return nil, err
	}
	hb := [4]byte{h4[0], h4[1] | 1, h4[2] &^ 2, h4[3]} // no CRC, no padding
	h.Padding, h.CRC = false, false
	off := xingOffset(h)
	// Low-bitrate frames are too small for the tag; like LAME, use the
	// smallest bitrate of the same version and rate whose frame holds it.
	for h.FrameSize() < off+120+36 {
		bi := hb[2] >> 4
		if bi >= 14 {
			return nil, errors.New("mpa: no frame size holds an Info tag")
		}
		hb[2] = (bi+1)<<4 | hb[2]&0x0F
		if h, err = ParseHeader(hb[:]); err != nil {
			return nil, err
		}
	}
	f := make([]byte, h.FrameSize())
	copy(f, hb[:])
	if delay < 0 || delay > 4095 || padding < 0 || padding > 4095 {
		return nil, errors.New("mpa: delay or padding out of range")
	}
	copy(f[off:], "Info")
	binary.BigEndian.PutUint32(f[off+4:], 1|2|4|8)
	binary.BigEndian.PutUint32(f[off+8:], uint32(frames))
	total := musicBytes + len(f)
	binary.BigEndian.PutUint32(f[off+12:], uint32(total))
	// TOC: for CBR the byte offset is proportional to time.
	for i := range 100 {
		f[off+16+i] = byte(i * 256 / 100)
	}
	// The quality field (off+116) stays 0: it describes VBR settings.
	p := off + 120
	copy(f[p:], "LAME3.100")
	f[p+9] = 0x00  // tag revision 0, CBR
	f[p+10] = 0xFF // lowpass unknown: /100 Hz, 0xFF = not given
	// Peak amplitude and replay gain left zero (not computed).
	f[p+19] = 0 // encoding flags / ATH type
	br := h.Bitrate
	if br > 255 {
		br = 255
	}
	f[p+20] = byte(br)
	f[p+21] = byte(delay >> 4)
	f[p+22] = byte(delay<<4) | byte(padding>>8)
	f[p+23] = byte(padding)
	binary.BigEndian.PutUint32(f[p+28:], uint32(total))
	binary.BigEndian.PutUint16(f[p+32:], musicCRC)
	binary.BigEndian.PutUint16(f[p+34:], CRC16(0, f[:p+34]))
	return f, nil
}

// CRC16 updates crc with b using the CRC-16 (polynomial 0x8005, reflected)
// that the LAME tag uses for its music and tag checksums.
func CRC16(crc uint16, b []byte) uint16 {
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
