package stream

import "io"

// ChanReader adapts a channel of PCM blocks to a PCMReader, for producers
// that push: a mixer goroutine sends interleaved stereo blocks of any
// length and closes the channel when it ends for good (Read then reports
// io.EOF). The reader owns each block once sent.
func ChanReader(ch <-chan []float32) PCMReader {
	return &chanReader{ch: ch}
}

type chanReader struct {
	ch   <-chan []float32
	rest []float32
}

func (c *chanReader) Read(dst []float32) (int, error) {
	for len(c.rest) == 0 {
		b, ok := <-c.ch
		if !ok {
			return 0, io.EOF
		}
		c.rest = b
	}
	n := copy(dst[:len(dst)&^1], c.rest[:len(c.rest)&^1])
	if n == 0 {
		// A block of one sample has no frame.
		c.rest = nil
		return 0, nil
	}
	c.rest = c.rest[n:]
	return n / 2, nil
}
