package mp3

import "encoding/binary"

// bitReader reads big-endian bit fields. Reading past the end yields zero
// bits rather than failing, so corrupt lengths cannot make it panic;
// callers compare pos with their limits to detect overruns.
type bitReader struct {
	buf []byte
	pos int // in bits
}

// peek returns the next n (<= 32) bits without consuming them.
func (r *bitReader) peek(n uint) uint32 {
	i := r.pos >> 3
	if i >= 0 && i+8 <= len(r.buf) {
		v := binary.BigEndian.Uint64(r.buf[i:]) << (r.pos & 7)
		return uint32(v >> (64 - n))
	}
	var v uint64
	for k := range 8 {
		v <<= 8
		if j := i + k; j >= 0 && j < len(r.buf) {
			v |= uint64(r.buf[j])
		}
	}
	v <<= r.pos & 7
	return uint32(v >> (64 - n))
}

func (r *bitReader) read(n uint) int {
	v := r.peek(n)
	r.pos += int(n)
	return int(v)
}

func (r *bitReader) bit() int { return r.read(1) }
