// Package mp3frame finds MPEG audio frames in a byte stream.
//
// A broadcaster must cut an MP3 stream only between frames: a listener who
// joins in the middle of a frame hears a glitch, or worse, a decoder that
// never finds sync again. The Splitter turns whatever an encoder writes, in
// whatever pieces, into whole frames, skipping ID3v2 tags and junk between
// frames. Header parses and describes one frame header; Silent builds a
// Layer III frame that decodes to silence, for filling gaps without an
// encoder.
package mp3frame

import (
	"errors"
	"fmt"
	"time"
)

// Version is the MPEG audio version of a frame.
type Version int

// MPEG audio versions.
const (
	MPEG1  Version = 1
	MPEG2  Version = 2
	MPEG25 Version = 25
)

func (v Version) String() string {
	switch v {
	case MPEG1:
		return "MPEG-1"
	case MPEG2:
		return "MPEG-2"
	case MPEG25:
		return "MPEG-2.5"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// HeaderSize is the length of an MPEG audio frame header in bytes.
const HeaderSize = 4

// ErrHeader reports bytes that are not a valid MPEG audio frame header.
var ErrHeader = errors.New("mp3frame: invalid frame header")

// Header describes one MPEG audio frame.
type Header struct {
	Version    Version
	Layer      int  // 1, 2 or 3
	Protected  bool // a 16-bit CRC follows the header
	Bitrate    int  // bits per second
	SampleRate int  // Hz
	Padding    bool
	Mode       int // 0 stereo, 1 joint stereo, 2 dual channel, 3 mono
}

// Channels reports 1 for mono frames and 2 otherwise.
func (h Header) Channels() int {
	if h.Mode == 3 {
		return 1
	}
	return 2
}

var bitrates = [2][3][15]int{
	{ // MPEG-1: Layer I, II, III, in kb/s
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
	{ // MPEG-2 and 2.5
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
}

var sampleRates = map[Version][3]int{
	MPEG1:  {44100, 48000, 32000},
	MPEG2:  {22050, 24000, 16000},
	MPEG25: {11025, 12000, 8000},
}

// ParseHeader parses the four header bytes at the start of b. Free-format
// frames (bitrate index 0) are rejected: their length cannot be known from
// the header alone.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes, need %d", ErrHeader, len(b), HeaderSize)
	}
	if b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return Header{}, fmt.Errorf("%w: no sync word", ErrHeader)
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
		return Header{}, fmt.Errorf("%w: reserved version", ErrHeader)
	}
	layer := (b[1] >> 1) & 3
	if layer == 0 {
		return Header{}, fmt.Errorf("%w: reserved layer", ErrHeader)
	}
	h.Layer = int(4 - layer)
	h.Protected = b[1]&1 == 0
	bi := b[2] >> 4
	if bi == 0 || bi == 15 {
		return Header{}, fmt.Errorf("%w: bitrate index %d", ErrHeader, bi)
	}
	vi := 0
	if h.Version != MPEG1 {
		vi = 1
	}
	h.Bitrate = bitrates[vi][h.Layer-1][bi] * 1000
	si := (b[2] >> 2) & 3
	if si == 3 {
		return Header{}, fmt.Errorf("%w: reserved sample rate", ErrHeader)
	}
	h.SampleRate = sampleRates[h.Version][si]
	h.Padding = b[2]&2 != 0
	h.Mode = int(b[3] >> 6)
	if b[3]&3 == 2 {
		return Header{}, fmt.Errorf("%w: reserved emphasis", ErrHeader)
	}
	return h, nil
}

// Samples reports the number of samples per channel in the frame.
func (h Header) Samples() int {
	switch {
	case h.Layer == 1:
		return 384
	case h.Layer == 3 && h.Version != MPEG1:
		return 576
	}
	return 1152
}

// Duration reports how long the frame plays.
func (h Header) Duration() time.Duration {
	return time.Duration(h.Samples()) * time.Second / time.Duration(h.SampleRate)
}

// Size reports the length of the whole frame in bytes, header included.
func (h Header) Size() int {
	pad := 0
	if h.Padding {
		pad = 1
	}
	if h.Layer == 1 {
		return (12*h.Bitrate/h.SampleRate + pad) * 4
	}
	return h.Samples()/8*h.Bitrate/h.SampleRate + pad
}

// sideInfoSize is the length of Layer III side information.
func (h Header) sideInfoSize() int {
	switch {
	case h.Version == MPEG1 && h.Channels() == 1:
		return 17
	case h.Version == MPEG1:
		return 32
	case h.Channels() == 1:
		return 9
	}
	return 17
}

// compatible reports whether two headers can belong to the same stream.
func compatible(a, b Header) bool {
	return a.Version == b.Version && a.Layer == b.Layer && a.SampleRate == b.SampleRate
}

// IsInfo reports whether frame is a Xing, Info or VBRI tag frame: a silent
// frame that encoders put first to describe the whole file. It means nothing
// in the middle of a live stream, where it would mislead a decoder about
// the stream's length.
func IsInfo(frame []byte) bool {
	h, err := ParseHeader(frame)
	if err != nil || h.Layer != 3 {
		return false
	}
	off := HeaderSize + h.sideInfoSize()
	if h.Protected {
		off += 2
	}
	if off+4 <= len(frame) {
		if tag := string(frame[off : off+4]); tag == "Xing" || tag == "Info" {
			return true
		}
	}
	// VBRI sits at a fixed offset after the header.
	return 36+4 <= len(frame) && string(frame[36:40]) == "VBRI"
}

// Silent returns a Layer III frame with the given version, bitrate, sample
// rate and mode that decodes to silence on its own: its side information is
// all zero, so it borrows nothing from earlier frames' bit reservoir.
func Silent(version Version, bitrate, sampleRate, mode int) ([]byte, error) {
	var b [4]byte
	b[0] = 0xFF
	switch version {
	case MPEG1:
		b[1] = 0xE0 | 3<<3
	case MPEG2:
		b[1] = 0xE0 | 2<<3
	case MPEG25:
		b[1] = 0xE0
	default:
		return nil, fmt.Errorf("mp3frame: silent frame: unknown version %d", version)
	}
	b[1] |= 1<<1 | 1 // Layer III, no CRC
	vi := 0
	if version != MPEG1 {
		vi = 1
	}
	bi := -1
	for i, r := range bitrates[vi][2] {
		if i > 0 && r*1000 == bitrate {
			bi = i
		}
	}
	if bi < 0 {
		return nil, fmt.Errorf("mp3frame: silent frame: bitrate %d not allowed for %v Layer III", bitrate, version)
	}
	si := -1
	for i, r := range sampleRates[version] {
		if r == sampleRate {
			si = i
		}
	}
	if si < 0 {
		return nil, fmt.Errorf("mp3frame: silent frame: sample rate %d not allowed for %v", sampleRate, version)
	}
	if mode < 0 || mode > 3 {
		return nil, fmt.Errorf("mp3frame: silent frame: mode %d", mode)
	}
	b[2] = byte(bi<<4 | si<<2)
	b[3] = byte(mode << 6)
	h, err := ParseHeader(b[:])
	if err != nil {
		return nil, err
	}
	f := make([]byte, h.Size())
	copy(f, b[:])
	return f, nil
}
