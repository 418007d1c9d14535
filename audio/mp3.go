package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/foreverfm/forever/audio/internal/mpa"
	"github.com/hajimehoshi/go-mp3"
)

// mp3DecoderDelay is the delay, in samples, between a Layer III stream's
// frames and go-mp3's output: the hybrid filterbank's 528 samples plus one,
// the figure LAME and every gapless player use. The round-trip test in
// audio/lame measures it.
const mp3DecoderDelay = 529

// mp3Stream is an MP3 file taken apart: where the audio frames are and
// what its tags say.
type mp3Stream struct {
	audio     []byte // from the first audio frame to the end of the last
	first     mpa.Header
	tag       mpa.Tag
	hasTag    bool
	frames    int  // complete audio frames counted
	truncated bool // the last frame is cut short
	// starved lists the frames (by index) whose data begins in earlier
	// frames that are not there: the first frames of a stream cut from a
	// longer one. Decoders cannot reconstruct them; their output is
	// dropped, as minimp3 and the ISO reference decoder do.
	starved []int
	// missized counts frames whose length go-mp3 v0.3.4 gets wrong: it
	// computes MPEG-2 frame lengths as (144*bitrate/rate + padding) >> 1
	// rather than 72*bitrate/rate + padding, one byte short for some
	// padded frames (22.05 kHz at 8, 16, 24, 32, 80, 96, 144 or 160 kb/s),
	// and from there it decodes garbage.
	missized int
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
	if err != nil {
		if errors.Is(err, mpa.ErrFreeFormat) {
			return nil, fmt.Errorf("free-format bitrate streams are not supported: %w", ErrFormat)
		}
		return nil, err
	}
	s.first = h
	if fs := h.FrameSize(); start+fs <= end {
		if t, ok := mpa.ParseTag(data[start : start+fs]); ok {
			s.tag, s.hasTag = t, true
			start += fs
		}
	}
	// Walk the frames to count them and to see whether the last one is
	// whole. Junk between frames is skipped the way a decoder resyncs.
	p := start
	reservoir := 0
	for p < end {
		fh, err := mpa.ParseHeader(data[p:end])
		if err != nil {
			q := mpa.Sync(data[:end], p+1)
			if q < 0 {
				break
			}
			p = q
			continue
		}
		if p+fh.FrameSize() > end {
			s.truncated = true
			break
		}
		if fh.Version == mpa.MPEG2 && (144*fh.Bitrate*1000/fh.SampleRate+boolInt(fh.Padding))>>1 != fh.FrameSize() {
			s.missized++
		}
		if fh.MainDataBegin(data[p:end]) > reservoir {
			s.starved = append(s.starved, s.frames)
		}
		reservoir += fh.MainDataSize()
		p += fh.FrameSize()
		s.frames++
	}
	s.audio = data[start:end]
	if s.frames == 0 && !s.truncated {
		if s.hasTag {
			return nil, fmt.Errorf("no audio frames after the Xing/Info tag: %w", ErrNoAudio)
		}
		return nil, fmt.Errorf("no complete Layer III frame: %w", ErrNoAudio)
	}
	return s, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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

// decodeMP3 decodes an MP3 stream with go-mp3 and trims it to the samples
// the encoder was given: with a LAME tag, the encoder delay plus
// mp3DecoderDelay at the start and the padding at the end; without one,
// only mp3DecoderDelay (the encoder's own delay is unknown and left in).
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
		return decodeFLAC(bytes.NewReader(data[off:]))
	}
	s, err := parseMP3(data)
	if err != nil {
		return nil, err
	}
	if s.missized > 0 {
		// Distorted audio is worse than none for a radio: refuse.
		return nil, fmt.Errorf("%d padded MPEG-2 frames at %d Hz that go-mp3 v0.3.4 cannot frame correctly: %w",
			s.missized, s.first.SampleRate, ErrFormat)
	}
	raw, rate, err := runGoMP3(s.audio, s.frames, s.first.SamplesPerFrame())
	if raw == nil {
		return nil, err
	}
	raw = dropFrames(raw, s.starved, s.first.SamplesPerFrame())
	n := &native{rate: rate, channels: 2}
	skip := mp3DecoderDelay
	keep := -1
	if !trim {
		skip = 0
	} else if s.hasTag && s.tag.HasLAME {
		skip += s.tag.Delay
		frames := s.frames
		if s.tag.Frames > 0 {
			frames = s.tag.Frames
		}
		keep = frames*s.first.SamplesPerFrame() - s.tag.Delay - s.tag.Padding
		if s.tag.Frames > s.frames && err == nil {
			err = fmt.Errorf("tag promises %d frames, stream has %d: %w", s.tag.Frames, s.frames, io.ErrUnexpectedEOF)
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

// dropFrames removes the output of the given frames (indices ascending)
// from interleaved stereo raw, spf frames each.
func dropFrames(raw []float32, frames []int, spf int) []float32 {
	if len(frames) == 0 {
		return raw
	}
	out := raw[:0]
	next := 0
	for f := 0; f*spf*2 < len(raw); f++ {
		seg := raw[f*spf*2 : min(len(raw), (f+1)*spf*2)]
		if next < len(frames) && frames[next] == f {
			next++
			continue
		}
		out = append(out, seg...)
	}
	return out
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

// unbias converts one of go-mp3's 16-bit samples back to float. go-mp3
// scales by 32767 and truncates toward zero, so its output is on average
// half a step nearer zero than the signal; adding that half step back
// halves the RMS error (+6 dB against the ISO references, which turns
// 92-94 dB into a pass).
func unbias(s int16) float32 {
	x := float32(s)
	switch {
	case s > 0:
		x += 0.5
	case s < 0:
		x -= 0.5
	}
	return x / 32767
}

// runGoMP3 decodes Layer III frames to interleaved stereo float32 at the
// stream's rate. On a mid-stream error it returns what decoded before it
// together with the error.
func runGoMP3(frames []byte, count, samplesPerFrame int) (out []float32, rate int, err error) {
	// Hide Seek: go-mp3 would otherwise pre-scan the whole stream for its
	// length, which parseMP3 has already done.
	d, err := mp3.NewDecoder(struct{ io.Reader }{bytes.NewReader(frames)})
	if err != nil {
		return nil, 0, err
	}
	rate = d.SampleRate()
	if rate <= 0 {
		return nil, 0, fmt.Errorf("sample rate %d: %w", rate, ErrFormat)
	}
	limit := maxFrames(rate)
	// The frame count parseMP3 found sizes the output, bounded so that a
	// lying stream cannot make it allocate much before decoding anything.
	est := (count + 1) * samplesPerFrame * 2
	out = make([]float32, 0, min(est, 2*limit, 1<<25))
	buf := make([]byte, 1152*4*8)
	for {
		n, rerr := d.Read(buf)
		n &^= 3
		for i := 0; i < n; i += 2 {
			out = append(out, unbias(int16(binary.LittleEndian.Uint16(buf[i:]))))
		}
		if len(out)/2 > limit {
			return nil, 0, ErrTooLong
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return out, rate, nil
			}
			return out, rate, fmt.Errorf("corrupt frame after %d samples: %w", len(out)/2, rerr)
		}
	}
}
