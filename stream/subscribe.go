package stream

import (
	"context"
	"errors"
	"fmt"
)

// ErrStopped is returned by Subscription.Next once the station has stopped.
var ErrStopped = errors.New("stream: station stopped")

// A Subscription follows one output from the station's side, for relays
// such as an Icecast source or an HLS writer: it is not a listener (no
// burst, not counted, never cut). If its reader falls further behind than
// the ring holds, it skips ahead to the newest chunk; Chunk.Seq shows the
// gap.
type Subscription struct {
	out    *output
	pos    int64
	chunks []*Chunk
}

// Subscribe follows the named output from the next chunk on.
func (s *Station) Subscribe(output string) (*Subscription, error) {
	o := s.byName[output]
	if o == nil {
		return nil, fmt.Errorf("stream: no output named %q", output)
	}
	return &Subscription{out: o, pos: o.ring.headIndex()}, nil
}

// Next waits for chunks released since the last call and returns them, in
// order. The slice is reused by the next call; the chunks themselves are
// immutable and may be kept.
func (sub *Subscription) Next(ctx context.Context) ([]*Chunk, error) {
	for {
		chunks, head, wake, lost, closed := sub.out.ring.since(sub.chunks[:0], sub.pos)
		sub.chunks = chunks
		switch {
		case closed:
			return nil, ErrStopped
		case lost:
			sub.pos = head - 1
			continue
		case len(chunks) > 0:
			sub.pos = head
			return chunks, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
