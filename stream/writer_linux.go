//go:build linux

package stream

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// On Linux, listeners are not a goroutine each: a few writer goroutines
// per output (one per CPU) take turns over their share of the listeners at
// every release and write to each what it has not had, with a
// non-blocking writev straight from the shared chunks. A listener is then
// its socket and a few hundred bytes of state, and every listener is
// written in the same pass, so they stay in step. One whose socket takes
// nothing keeps its unwritten slices (of chunks the ring may already have
// dropped, kept alive by them) and is cut when it falls Backlog behind or
// its socket has accepted nothing for WriteTimeout, alone.

// A fastListener is a listener served by the writers.
type fastListener struct {
	*listener
	conn      *net.TCPConn
	raw       syscall.RawConn
	pending   net.Buffers // gathered, not yet written
	next      int64       // next chunk to gather
	off       int         // byte offset in chunk next
	untilMeta int
	lastMeta  []byte
	progress  time.Time // last time the socket took bytes
	chunks    []*Chunk
	iov       []syscall.Iovec
	end       func(reason string)
}

// writers is an output's pool of writer goroutines.
type writers struct {
	once   sync.Once
	shards []*shard
	mu     sync.Mutex
	next   int // shard for the next listener
}

type shard struct {
	mu   sync.Mutex
	ls   []*fastListener
	kick chan struct{} // a listener joined
}

// handOff gives a hijacked TCP connection to the output's writers and
// reports whether it took it; end runs once when the listener is gone.
func (s *Station) handOff(l *listener, conn net.Conn, pos int64, off int, end func(reason string)) bool {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	o := l.output
	w := &o.writers
	w.once.Do(func() {
		n := max(1, runtime.GOMAXPROCS(0))
		for range n {
			sh := &shard{kick: make(chan struct{}, 1)}
			w.shards = append(w.shards, sh)
			go s.runShard(o, sh)
		}
	})
	fl := &fastListener{listener: l, conn: tc, raw: raw, next: pos, off: off,
		untilMeta: s.opt.MetaInt, progress: time.Now(), end: end}
	l.pos.Store(pos)
	w.mu.Lock()
	sh := w.shards[w.next%len(w.shards)]
	w.next++
	w.mu.Unlock()
	sh.mu.Lock()
	sh.ls = append(sh.ls, fl)
	sh.mu.Unlock()
	select {
	case sh.kick <- struct{}{}:
	default:
	}
	return true
}

// runShard serves the shard's listeners until the station stops.
func (s *Station) runShard(o *output, sh *shard) {
	maxLag := int64(len(o.ring.chunks) - 1)
	sent := s.m.bytes.WithLabelValues(o.Name)
	for {
		head, wake, closed := o.ring.wait()
		sh.mu.Lock()
		now := time.Now()
		keep := sh.ls[:0]
		for _, fl := range sh.ls {
			if closed {
				fl.finish("stopped")
				continue
			}
			if reason := s.writeTo(fl, head, maxLag, now, sent); reason != "" {
				fl.finish(reason)
				continue
			}
			keep = append(keep, fl)
		}
		clear(sh.ls[len(keep):])
		sh.ls = keep
		sh.mu.Unlock()
		if closed {
			return
		}
		select {
		case <-wake:
		case <-sh.kick:
		}
	}
}

func (fl *fastListener) finish(reason string) {
	if reason == "slow" {
		// Drop what the kernel still holds for it: a reset frees the
		// socket's buffers now rather than after a slow drain.
		fl.conn.SetLinger(0)
	}
	fl.conn.Close()
	fl.pending, fl.chunks = nil, nil
	fl.end(reason)
}

// writeTo writes what fl has not had, without waiting, and says why fl
// must go, if it must.
func (s *Station) writeTo(fl *fastListener, head, maxLag int64, now time.Time, sent interface{ Add(float64) }) string {
	if head-fl.next > maxLag {
		return "slow"
	}
	if len(fl.pending) == 0 && fl.next < head {
		chunks, h, _, lost, _ := fl.output.ring.since(fl.chunks[:0], fl.next)
		if lost {
			return "slow"
		}
		fl.pending, _ = s.gather(fl.pending[:0], chunks, fl.off, fl.icy, &fl.untilMeta, &fl.lastMeta)
		clear(chunks)
		fl.chunks = chunks[:0]
		fl.next, fl.off = h, 0
	}
	if len(fl.pending) == 0 {
		fl.progress = now
		return ""
	}
	n, err := fl.writev()
	if n > 0 {
		fl.progress = now
		fl.bytes.Add(int64(n))
		sent.Add(float64(n))
		consume(&fl.pending, n)
	}
	if len(fl.pending) == 0 {
		fl.pos.Store(fl.next)
	} else {
		fl.pos.Store(fl.next - 1)
	}
	switch {
	case err != nil:
		return "gone"
	case len(fl.pending) > 0 && now.Sub(fl.progress) > s.opt.WriteTimeout:
		return "slow"
	}
	return ""
}

// writev writes as much of fl.pending as the socket takes now.
func (fl *fastListener) writev() (int, error) {
	const maxIov = 1024 // IOV_MAX
	fl.iov = fl.iov[:0]
	for _, b := range fl.pending {
		if len(b) == 0 {
			continue
		}
		if len(fl.iov) == maxIov {
			break
		}
		v := syscall.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		fl.iov = append(fl.iov, v)
	}
	if len(fl.iov) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := fl.raw.Write(func(fd uintptr) bool {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&fl.iov[0])), uintptr(len(fl.iov)))
		n, errno = int(r), e
		return true // never wait: the next release tries again
	})
	clear(fl.iov) // no pointers into chunks kept past the call
	if err != nil {
		return 0, err
	}
	switch {
	case errno == 0:
		return n, nil
	case errno == syscall.EAGAIN || errno == syscall.EINTR:
		return 0, nil
	}
	return 0, errors.New(errno.Error())
}

// consume drops the first n bytes of *b.
func consume(b *net.Buffers, n int) {
	for len(*b) > 0 {
		if n < len((*b)[0]) {
			(*b)[0] = (*b)[0][n:]
			return
		}
		n -= len((*b)[0])
		(*b)[0] = nil
		*b = (*b)[1:]
	}
}
