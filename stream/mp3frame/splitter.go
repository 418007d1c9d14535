package mp3frame

// maxFrame bounds the length of any frame this package accepts (Layer II at
// 384 kb/s and 32 kHz is the longest, 1729 bytes), and so the buffer a
// Splitter needs to look one frame ahead.
const maxFrame = 2048

// A Splitter cuts a byte stream into whole MPEG audio frames. Write the
// stream in pieces of any size, then call Next until it reports no frame.
//
// Until it has found two consecutive frames (or one frame that ends exactly
// where the input ends, after Close), the Splitter does not trust a sync
// word: junk and ID3 tags often contain 0xFFE. Once locked, each frame must
// start where the last ended; when one does not, the Splitter drops bytes
// until it locks again. Junk is never buffered beyond a few kilobytes.
//
// The zero value is ready to use. A Splitter is not safe for concurrent use.
type Splitter struct {
	buf    []byte
	start  int  // first unconsumed byte in buf
	skip   int  // bytes of an ID3v2 tag still to drop
	locked bool // the previous frame ended where the next begins
	last   Header
	closed bool

	// Skipped counts the bytes dropped as junk or tags.
	Skipped int64
}

// Write appends p to the stream. Frames returned by Next before the call
// stay valid only until Write is called again.
func (s *Splitter) Write(p []byte) (int, error) {
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:])
		s.buf = s.buf[:n]
		s.start = 0
	}
	n := len(p)
	if s.skip > 0 {
		k := min(s.skip, len(p))
		s.skip -= k
		s.Skipped += int64(k)
		p = p[k:]
	}
	s.buf = append(s.buf, p...)
	return n, nil
}

// Close marks the end of the stream, so that a last frame is returned by
// Next without the next frame's header to confirm it.
func (s *Splitter) Close() error {
	s.closed = true
	return nil
}

// Next returns the next whole frame, or false when more input is needed.
// The frame aliases the Splitter's buffer until the next Write.
func (s *Splitter) Next() ([]byte, bool) {
	for {
		b := s.buf[s.start:]
		if len(b) < HeaderSize {
			return nil, false
		}
		if !s.locked && b[0] == 'I' && b[1] == 'D' && b[2] == '3' {
			if len(b) < 10 {
				return nil, false
			}
			if n, ok := id3Size(b); ok {
				k := min(n, len(b))
				s.start += k
				s.skip = n - k
				s.Skipped += int64(k)
				continue
			}
		}
		h, err := ParseHeader(b)
		if err != nil || (s.locked && !compatible(h, s.last)) {
			s.drop(b)
			continue
		}
		size := h.Size()
		if len(b) < size {
			return nil, false
		}
		if !s.locked {
			// Confirm the sync with the header that should follow.
			if len(b) < size+HeaderSize {
				if !s.closed || len(b) != size {
					return nil, false
				}
			} else if h2, err := ParseHeader(b[size:]); err != nil || !compatible(h, h2) {
				s.drop(b)
				continue
			}
		}
		s.locked = true
		s.last = h
		s.start += size
		return b[:size:size], true
	}
}

// drop discards the byte at the front (it did not start a frame) and every
// byte up to the next possible sync word.
func (s *Splitter) drop(b []byte) {
	s.locked = false
	i := 1
	for i < len(b) && b[i] != 0xFF && b[i] != 'I' {
		i++
	}
	s.start += i
	s.Skipped += int64(i)
}

// id3Size reports the total length of the ID3v2 tag at the start of b.
func id3Size(b []byte) (int, bool) {
	if b[3] == 0xFF || b[4] == 0xFF {
		return 0, false
	}
	n := 0
	for _, c := range b[6:10] {
		if c&0x80 != 0 {
			return 0, false
		}
		n = n<<7 | int(c)
	}
	n += 10
	if b[5]&0x10 != 0 {
		n += 10 // footer
	}
	return n, true
}

// Frames returns the whole frames in b, in order, as sub-slices of b. It is
// a convenience for data held entirely in memory; the final frame is
// accepted without a following header.
func Frames(b []byte) [][]byte {
	var s Splitter
	s.buf = b
	s.closed = true
	var out [][]byte
	for {
		f, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, f)
	}
}
