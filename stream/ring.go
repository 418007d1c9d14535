package stream

import (
	"sync"
	"time"
)

// A Chunk is a run of whole MP3 frames released together: one write to
// every listener. Chunks are immutable once published and shared by all
// readers; do not modify Data.
type Chunk struct {
	Seq    int64  // index, on the output, of the first frame
	Frames int    // number of frames in Data
	Data   []byte // the frames, back to back
	Title  string // what was on air when the chunk began
	// Time is where the chunk starts on the stream clock, Duration how
	// long it plays.
	Time, Duration time.Duration

	starts []int32 // offset of each frame in Data
	meta   []byte  // Title as an ICY metadata block
}

// A ring holds the last chunks of one output. Readers hold an index into
// the sequence of chunks ever published; the ring keeps only the newest
// ones, so a reader that falls too far behind finds its chunks gone.
type ring struct {
	mu     sync.RWMutex
	chunks []*Chunk // circular; chunk i lives at i % len
	head   int64    // chunks ever published
	frames int64    // frames ever published
	wake   chan struct{}
	closed bool
}

func newRing(n int) *ring {
	return &ring{chunks: make([]*Chunk, n), wake: make(chan struct{})}
}

// publish appends c and wakes every waiting reader.
func (r *ring) publish(c *Chunk) {
	r.mu.Lock()
	r.chunks[r.head%int64(len(r.chunks))] = c
	r.head++
	r.frames += int64(c.Frames)
	close(r.wake)
	r.wake = make(chan struct{})
	r.mu.Unlock()
}

func (r *ring) close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.wake)
	}
	r.mu.Unlock()
}

// since appends to dst the chunks from index pos to the head. It reports
// the head, a channel closed at the next publish, and whether pos has
// already been overwritten (the reader fell off the ring) or the ring is
// closed.
func (r *ring) since(dst []*Chunk, pos int64) (_ []*Chunk, head int64, wake <-chan struct{}, lost, closed bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return dst, r.head, r.wake, false, true
	}
	n := int64(len(r.chunks))
	if pos < r.head-n {
		return dst, r.head, r.wake, true, false
	}
	for i := pos; i < r.head; i++ {
		dst = append(dst, r.chunks[i%n])
	}
	return dst, r.head, r.wake, false, false
}

// burst finds where a new reader starts: the oldest frame boundary such
// that at most limit bytes lie between it and the head, never further back
// than maxChunks. It returns the chunk index, the byte offset in it, the
// index of the frame there and that frame's time on the stream clock.
func (r *ring) burst(limit, maxChunks int) (pos int64, off int, frame int64, at time.Duration) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := int64(len(r.chunks))
	total := 0
	pos, frame = r.head, r.frames
	if r.head > 0 {
		last := r.chunks[(r.head-1)%n]
		at = last.Time + last.Duration
	}
	for i := r.head - 1; i >= 0 && i >= r.head-n && r.head-i <= int64(maxChunks); i-- {
		c := r.chunks[i%n]
		if total+len(c.Data) <= limit {
			total += len(c.Data)
			pos, off, frame, at = i, 0, c.Seq, c.Time
			continue
		}
		// Take the tail of this chunk from the first frame that fits.
		// The frames of one chunk have one length.
		for j, s := range c.starts {
			if total+len(c.Data)-int(s) <= limit {
				pos, off, frame = i, int(s), c.Seq+int64(j)
				at = c.Time + c.Duration*time.Duration(j)/time.Duration(c.Frames)
				break
			}
		}
		break
	}
	return pos, off, frame, at
}

// wait reports the head, a channel closed at the next publish, and
// whether the ring is closed.
func (r *ring) wait() (head int64, wake <-chan struct{}, closed bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.head, r.wake, r.closed
}

func (r *ring) headIndex() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.head
}

func (r *ring) headFrames() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.frames
}
