package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/foreverfm/forever/audio/internal/mp3"
	"github.com/foreverfm/forever/audio/internal/mpa"
)

// mp3DecoderDelay is the delay, in samples, between a Layer III stream's
// frames and the decoder's output: the hybrid filterbank's 528 samples
// plus one, the figure LAME and every gapless player use. The round-trip
// test in audio/lame measures it.
const mp3DecoderDelay = 529

// mp3Stream is an MP3 file taken apart: where the audio frames are and
// what its tags say.
type mp3Stream struct {
	first     mpa.Header
	tag       mpa.Tag
	hasTag    bool
	truncated bool  // the last frame is cut short
	offsets   []int // of each complete frame, within the file
	sizes     []int // of each complete frame
	// freeSize is a free-format stream's frame length without padding.
	freeSize int
	// resyncs counts the places where junk or an unusable frame sat
	// between frames and was skipped.
	resyncs int
}

// frameSize is the length of the frame with header h, whose parse
// returned err.
func (s *mp3Stream) frameSize(h mpa.Header, err error) int {
	switch {
	case err == nil:
		return h.FrameSize()
	case errors.Is(err, mpa.ErrFreeFormat) && s.freeSize > 0:
		if h.Padding {
			return s.freeSize + 1
		}
		return s.freeSize
	}
	return 0
}

// parseMP3 finds the audio frames in data, skipping ID3v2, ID3v1 and APE
// tags and a Xing/Info frame.
func parseMP3(data []byte) (*mp3Stream, error) {
	off := 0
	for {
		n := mpa.ID3v2Size(data[off:])
		if n == 0 {
			break
		}
		if n > len(data)-off {
			return nil, fmt.Errorf("ID3v2 tag of %d bytes overruns the file: %w", n, io.ErrUnexpectedEOF)
		}
		off += n
	}
	end := len(data)
	end = trimTrailingTags(data[:end], off)
	start := mpa.Sync(data[:end], off)
	if start < 0 {
		return nil, fmt.Errorf("no MPEG Layer III frames found: %w", ErrFormat)
	}
	s := &mp3Stream{}
	h, err := mpa.ParseHeader(data[start:])
	if errors.Is(err, mpa.ErrFreeFormat) {
		if s.freeSize = mpa.FreeFormatSize(data[:end], start); s.freeSize == 0 {
			return nil, fmt.Errorf("free-format frame without a following frame: %w", ErrFormat)
		}
	} else if err != nil {
		return nil, err
	}
	s.first = h
	if fs := s.frameSize(h, err); start+fs <= end {
		if t, ok := mpa.ParseTag(data[start : start+fs]); ok {
			s.tag, s.hasTag = t, true
			start += fs
		}
	}
	// Walk the frames. Junk between frames is skipped the way a decoder
	// resyncs.
	p := start
	for p < end {
		fh, err := mpa.ParseHeader(data[p:end])
		size := s.frameSize(fh, err)
		if size == 0 {
			q := mpa.Sync(data[:end], p+1)
			if q < 0 {
				break
			}
			s.resyncs++
			p = q
			continue
		}
		if p+size > end {
			s.truncated = true
			break
		}
		s.offsets = append(s.offsets, p)
		s.sizes = append(s.sizes, size)
		p += size
	}
	if len(s.offsets) == 0 && !s.truncated {
		if s.hasTag {
			return nil, fmt.Errorf("no audio frames after the Xing/Info tag: %w", ErrNoAudio)
		}
		return nil, fmt.Errorf("no complete Layer III frame: %w", ErrNoAudio)
	}
	return s, nil
}

// trimTrailingTags returns the end of the data before any ID3v1 and APEv2
// tags at the end of the file.
func trimTrailingTags(b []byte, floor int) int {
	end := len(b)
	for {
		switch {
		case end-floor >= 128 && string(b[end-128:end-125]) == "TAG":
			end -= 128
		case end-floor >= 32 && string(b[end-32:end-24]) == "APETAGEX":
			size := int(binary.LittleEndian.Uint32(b[end-20:])) // footer + items
			flags := binary.LittleEndian.Uint32(b[end-12:])
			if flags&(1<<31) != 0 { // also has a header
				size += 32
			}
			if size < 32 || size > end-floor {
				return end
			}
			end -= size
		default:
			return end
		}
	}
}

// decodeMP3 decodes an MP3 stream and trims it to the samples the encoder
// was given: with a LAME tag, the encoder delay plus mp3DecoderDelay at
// the start and the padding at the end; without one, only mp3DecoderDelay
// (the encoder's own delay is unknown and left in).
func decodeMP3(r io.Reader) (*native, error) {
	data, err := readAllLimited(r, maxInputBytes)
	if err != nil {
		return nil, err
	}
	return decodeMP3Bytes(data, true)
}

// decodeMP3Bytes decodes a whole MP3 file. Without trim it keeps the
// decoder and encoder delay: the conformance references do.
func decodeMP3Bytes(data []byte, trim bool) (*native, error) {
	if off := id3v2End(data); off+4 <= len(data) && string(data[off:off+4]) == "fLaC" {
		return decodeFLAC(bytes.NewReader(data[off:]), int64(len(data)-off))
	}
	s, err := parseMP3(data)
	if err != nil {
		return nil, err
	}
	if len(s.offsets) == 0 {
		return nil, fmt.Errorf("the only frame is cut short: %w", io.ErrUnexpectedEOF)
	}
	raw, err := decodeFrames(data, s)
	if err != nil {
		return nil, err
	}
	n := &native{rate: s.first.SampleRate, channels: 2}
	skip := mp3DecoderDelay
	keep := -1
	if !trim {
		skip = 0
	} else if s.hasTag && s.tag.HasLAME {
		skip += s.tag.Delay
		frames := len(s.offsets)
		if s.tag.Frames > 0 {
			frames = s.tag.Frames
		}
		keep = frames*s.first.SamplesPerFrame() - s.tag.Delay - s.tag.Padding
		if s.tag.Frames > len(s.offsets) {
			err = fmt.Errorf("tag promises %d frames, stream has %d: %w", s.tag.Frames, len(s.offsets), io.ErrUnexpectedEOF)
		}
	}
	if s.truncated && err == nil {
		err = fmt.Errorf("last frame cut short: %w", io.ErrUnexpectedEOF)
	}
	total := len(raw) / 2
	skip = min(skip, total)
	if keep < 0 || skip+keep > total {
		keep = total - skip
	}
	n.samples = raw[2*skip : 2*(skip+keep)]
	return n, err
}

func id3v2End(data []byte) int {
	off := 0
	for {
		n := mpa.ID3v2Size(data[off:])
		if n == 0 || n > len(data)-off {
			return off
		}
		off += n
	}
}

// maxCorrupt is the share of frames (1 in maxCorrupt) that may be corrupt
// before a damaged stream is rejected.
const maxCorrupt = 100

// decodeFrames decodes the stream's frames to interleaved stereo at its
// sample rate. As in the reference decoders, a corrupt frame is dropped
// (and the frame after it, whose data began in it), so one bad frame in
// an old file costs 26 ms of sound rather than the track; so are frames
// whose data begins before the stream does. More than 1% of frames
// corrupt or skipped as junk (at least 3), and the stream is rejected.
func decodeFrames(data []byte, s *mp3Stream) ([]float32, error) {
	limit := maxFrames(s.first.SampleRate)
	// The frames parseMP3 found in the data size the output: each is
	// there, so the estimate is what decoding them yields, and a long
	// track is decoded into one allocation rather than grown by append.
	est := (len(s.offsets) + 1) * s.first.SamplesPerFrame() * 2
	out := make([]float32, 0, min(est, 2*limit))
	var d mp3.Decoder
	corrupt := s.resyncs
	var last error
	if corrupt > 0 {
		last = fmt.Errorf("%d stretches of junk between frames: %w", corrupt, ErrFormat)
	}
	for k, off := range s.offsets {
		var err error
		out, err = d.DecodeFrame(data[off:off+s.sizes[k]], out)
		if err != nil && !errors.Is(err, mp3.ErrReservoir) {
			corrupt++
			last = fmt.Errorf("frame %d: %w", k, err)
		}
		if corrupt > max(2, len(s.offsets)/maxCorrupt) {
			return nil, fmt.Errorf("%d frames corrupt or skipped, the last: %w", corrupt, last)
		}
		if len(out)/2 > limit {
			return nil, ErrTooLong
		}
	}
	if len(out) == 0 {
		if last == nil {
			last = ErrNoAudio
		}
		return nil, fmt.Errorf("no decodable frames: %w", last)
	}
	return out, nil
}
