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
	offsets  []int // of each complete frame counted, within data
	// audioStart is where audio begins within data.
	audioStart int
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
		s.offsets = append(s.offsets, p)
		p += fh.FrameSize()
		s.frames++
	}
	s.audio = data[start:end]
	s.audioStart = start
	if s.frames == 0 && !s.truncated {
		if s.hasTag {
			return nil, fmt.Errorf("no audio frames after the Xing/Info tag: %w", ErrNoAudio)
		}
		return nil, fmt.Errorf("no complete Layer III frame: %w", ErrNoAudio)
	}
	return s, nil
}

// goMP3FrameSize is the frame length go-mp3 v0.3.4 computes for h.
func goMP3FrameSize(h mpa.Header) int {
	n := 144*h.Bitrate*1000/h.SampleRate + boolInt(h.Padding)
	if h.Version != mpa.MPEG1 {
		n >>= 1
	}
	return n
}

// reframeForGoMP3 rewrites an MPEG-2 stream so that go-mp3 v0.3.4, which
// reads some padded frames one byte short, frames it correctly. It works
// on the bit reservoir as one byte stream and changes only where frames
// cut it, never the bits any granule reads:
//
//   - If the reservoir has a spare (ancillary) byte right after the short
//     frame's own data, that byte is dropped and the frame is served one
//     byte shorter, as go-mp3 expects.
//   - Otherwise the frame gets a header with a larger bitrate (the field
//     only sets the frame length; decoding never uses it) whose length
//     go-mp3 computes right, and zero bytes fill the difference, spliced in
//     right after the frame's own data.
//   - A full frame at the top bitrate allows neither; it loses the last
//     byte of its own data (damaging it alone), up to 5% of the frames.
//
// Either way everything after the change moves by the same amount, so
// every later frame's main_data_begin still points at its data.
func reframeForGoMP3(data []byte, offsets []int) (out []byte, newOffsets []int, err error) {
	type frame struct {
		hdr       [4]byte
		start     int // offset of the main data section in data
		m         int // main data bytes in the section
		dataStart int // reservoir position of the frame's own data
		end       int // reservoir position just after it
		short     bool
		size      int
	}
	fs := make([]frame, len(offsets))
	var res int // reservoir position of the current section's start
	for i, off := range offsets {
		h, err := mpa.ParseHeader(data[off:])
		if err != nil {
			return nil, nil, err
		}
		if h.Version != mpa.MPEG2 {
			return nil, nil, fmt.Errorf("MPEG-1 and MPEG-2 frames mixed: %w", ErrFormat)
		}
		f := &fs[i]
		copy(f.hdr[:], data[off:off+4])
		o := 4 + h.SideInfoSize()
		if h.CRC {
			o += 2
		}
		f.start = off + o
		f.m = h.FrameSize() - o
		f.size = h.FrameSize()
		si := data[off+o-h.SideInfoSize() : off+o]
		// MPEG-2 side info: main_data_begin (8 bits), private bits (1 or
		// 2), then per channel 63 bits starting with part2_3_length (12).
		priv := 1
		if h.Channels == 2 {
			priv = 2
		}
		var bits int
		for ch := range h.Channels {
			bits += int(readBits(si, 8+priv+63*ch, 12))
		}
		f.dataStart = res - int(si[0])
		f.end = f.dataStart + (bits+7)/8
		res += f.m
		f.short = goMP3FrameSize(h) != h.FrameSize()
		if f.short && f.end > res {
			return nil, nil, fmt.Errorf("frame %d's data overruns its frame: %w", i, ErrFormat)
		}
	}
	type edit struct{ at, n int } // n > 0 inserts zeros, n < 0 deletes
	var edits []edit
	damaged := 0
	for i := range fs {
		f := &fs[i]
		if !f.short {
			continue
		}
		next := res // the reservoir's end
		if i+1 < len(fs) {
			next = fs[i+1].dataStart
		}
		if f.end < next {
			// A spare byte follows the frame's data: drop it.
			edits = append(edits, edit{f.end, -1})
			f.m--
			continue
		}
		best, bestHdr := 0, f.hdr
		for bi := byte(1); bi <= 14; bi++ {
			for pad := byte(0); pad <= 1; pad++ {
				hb := f.hdr
				hb[2] = bi<<4 | hb[2]&0x0D | pad<<1
				h2, err := mpa.ParseHeader(hb[:])
				if err != nil {
					continue
				}
				if g := goMP3FrameSize(h2); g >= f.size && (best == 0 || g < best) {
					best, bestHdr = g, hb
				}
			}
		}
		if best > 0 {
			f.hdr = bestHdr
			edits = append(edits, edit{f.end, best - f.size})
			f.m += best - f.size
			continue
		}
		// A full frame at the top bitrate: neither fix applies. Losing
		// the last byte of its own data damages this frame alone and
		// keeps the rest aligned.
		damaged++
		if damaged > max(2, len(fs)/20) {
			return nil, nil, fmt.Errorf("%d full top-bitrate frames cannot be reframed: %w", damaged, ErrFormat)
		}
		edits = append(edits, edit{f.end - 1, -1})
		f.m--
	}
	var reservoir []byte
	for i, off := range offsets {
		h, _ := mpa.ParseHeader(data[off:])
		reservoir = append(reservoir, data[fs[i].start:off+h.FrameSize()]...)
	}
	spliced := make([]byte, 0, len(reservoir)+len(edits)*64)
	prev := 0
	for _, e := range edits {
		at := min(max(e.at, prev), len(reservoir))
		spliced = append(spliced, reservoir[prev:at]...)
		if e.n > 0 {
			spliced = append(spliced, make([]byte, e.n)...)
			prev = at
		} else {
			prev = min(at-e.n, len(reservoir))
		}
	}
	spliced = append(spliced, reservoir[prev:]...)
	out = make([]byte, 0, len(data)+len(spliced)-len(reservoir))
	newOffsets = make([]int, len(fs))
	pos := 0
	for i, f := range fs {
		off := offsets[i]
		newOffsets[i] = len(out)
		if f.m < 0 || pos+f.m > len(spliced) {
			return nil, nil, fmt.Errorf("reframing ran out of data at frame %d: %w", i, ErrFormat)
		}
		out = append(out, f.hdr[:]...)
		out = append(out, data[off+4:f.start]...)
		out = append(out, spliced[pos:pos+f.m]...)
		pos += f.m
	}
	return out, newOffsets, nil
}

// readBits reads n bits (n <= 32) big-endian from b starting at bit off.
func readBits(b []byte, off, n int) uint32 {
	var v uint32
	for i := range n {
		bit := off + i
		v = v<<1 | uint32(b[bit/8]>>(7-bit%8)&1)
	}
	return v
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
	if s.frames == 0 {
		return nil, fmt.Errorf("the only frame is cut short: %w", io.ErrUnexpectedEOF)
	}
	frames := s.audio
	offsets := make([]int, len(s.offsets))
	for i, o := range s.offsets {
		offsets[i] = o - s.audioStart
	}
	if s.missized > 0 {
		if frames, offsets, err = reframeForGoMP3(data, s.offsets); err != nil {
			return nil, fmt.Errorf("%d padded MPEG-2 frames at %d Hz that go-mp3 v0.3.4 mis-sizes: %w", s.missized, s.first.SampleRate, err)
		}
	}
	raw, rate, err := decodeConcealing(frames, offsets, s.first.SamplesPerFrame())
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

// maxConcealed is the share of frames (1 in maxConcealed) that may be
// replaced by silence before a damaged stream is rejected.
const maxConcealed = 100

// decodeConcealing runs go-mp3 over frames (whose frame starts are
// offsets) and, where it stops on a corrupt frame, puts a frame of
// silence in its place and starts again after it, so that one bad frame
// in an old file costs 26 ms of sound rather than the track. The frame
// after a restart has lost its bit reservoir and is silenced too. More
// than 1% of frames concealed (at least 3), and the stream is rejected.
func decodeConcealing(frames []byte, offsets []int, spf int) (out []float32, rate int, err error) {
	concealed := 0
	var last error
	for k := 0; k < len(offsets); {
		part, r, perr := runGoMP3(frames[offsets[k]:], len(offsets)-k, spf)
		if rate == 0 {
			rate = r
		}
		if k > 0 && len(part) >= 2*spf {
			// Restarted without the reservoir the first frame may need.
			h, _ := mpa.ParseHeader(frames[offsets[k]:])
			if h.MainDataBegin(frames[offsets[k]:]) > 0 {
				clear(part[:2*spf])
			}
		}
		if perr == nil || errors.Is(perr, ErrTooLong) {
			return append(out, part...), rate, perr
		}
		last = perr
		good := len(part) / (2 * spf) // go-mp3 emits whole frames
		out = append(out, part[:2*spf*good]...)
		bad := k + good
		if bad >= len(offsets) {
			break // the error came after the last whole frame
		}
		concealed++
		if concealed > max(2, len(offsets)/maxConcealed) {
			return nil, 0, fmt.Errorf("%d corrupt frames, the last at frame %d: %w", concealed, bad, perr)
		}
		out = append(out, make([]float32, 2*spf)...)
		k = bad + 1
	}
	if rate == 0 {
		if last == nil {
			last = ErrNoAudio
		}
		return nil, 0, fmt.Errorf("no decodable frames: %w", last)
	}
	return out, rate, nil
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
