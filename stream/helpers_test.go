package stream

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/foreverfm/forever/audio/lame"
)

func newLAME(w io.Writer, bitrate int) (Encoder, error) {
	return lame.NewEncoder(w, lame.Options{Bitrate: bitrate, Quality: 7})
}

// sine is an endless PCM source: a tone at freq Hz, both channels.
type sine struct {
	freq float64
	n    int64
}

func (s *sine) Read(dst []float32) (int, error) {
	for i := 0; i+1 < len(dst); i += 2 {
		v := float32(0.5 * math.Sin(2*math.Pi*s.freq*float64(s.n)/SampleRate))
		dst[i], dst[i+1] = v, v
		s.n++
	}
	return len(dst) / 2, nil
}

// feed is a PCM source that has only what the test gives it; Read blocks
// until then.
type feed struct {
	PCMReader
	ch chan []float32
}

func newFeed() *feed {
	ch := make(chan []float32, 1024)
	return &feed{PCMReader: ChanReader(ch), ch: ch}
}

// give queues d of a tone.
func (f *feed) give(freq float64, d time.Duration) {
	s := &sine{freq: freq}
	n := int(d.Seconds()*SampleRate) * 2
	for n > 0 {
		b := make([]float32, min(n, 4096))
		s.Read(b)
		f.ch <- b
		n -= len(b)
	}
}

// fakeClock moves only when told. Step advances it and waits until the
// station has acted on the new time and is waiting again.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	calls   int
	called  chan struct{}
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), called: make(chan struct{}, 1<<16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	c.calls++
	c.called <- struct{}{}
	return ch
}

// waitIdle waits until the station has called After n times in all.
func (c *fakeClock) waitCalls(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		k := c.calls
		c.mu.Unlock()
		if k >= n {
			return
		}
		select {
		case <-c.called:
		case <-deadline:
			t.Fatalf("station did not tick (%d of %d)", k, n)
		}
	}
}

// Step advances the clock by d, in ticks no longer than tick, letting the
// station act on each.
func (c *fakeClock) Step(t testing.TB, d, tick time.Duration) {
	t.Helper()
	for d > 0 {
		dt := min(d, tick)
		d -= dt
		c.mu.Lock()
		c.now = c.now.Add(dt)
		calls := c.calls
		var keep []fakeWaiter
		fired := false
		for _, w := range c.waiters {
			if !w.at.After(c.now) {
				w.ch <- c.now
				fired = true
			} else {
				keep = append(keep, w)
			}
		}
		c.waiters = keep
		c.mu.Unlock()
		if fired {
			c.waitCalls(t, calls+1)
		}
	}
}

type testStation struct {
	*Station
	clock  *fakeClock
	srv    *httptest.Server
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a station on a fake clock behind an httptest server.
func start(t *testing.T, src PCMReader, opt Options) *testStation {
	t.Helper()
	ts := &testStation{clock: newFakeClock(), logs: &syncBuffer{}, done: make(chan error, 1)}
	if opt.NewEncoder == nil {
		opt.NewEncoder = newLAME
	}
	if opt.Clock == nil {
		opt.Clock = ts.clock
	}
	opt.Logger = slog.New(slog.NewTextHandler(ts.logs, nil))
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	st, err := New(src, opt)
	if err != nil {
		t.Fatal(err)
	}
	ts.Station = st
	ts.srv = httptest.NewServer(st.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- st.Run(ctx) }()
	if opt.Clock == Clock(ts.clock) {
		ts.clock.waitCalls(t, 1)
	}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testStation) stop() {
	ts.cancel()
	<-ts.done
	ts.srv.Close()
}

// batch is the clock time of one release.
func (ts *testStation) batch() time.Duration {
	return time.Duration(float64(ts.opt.BatchFrames)*FrameSamples/SampleRate*float64(time.Second)) + time.Microsecond
}

// waitPCM waits until the station has at least n blocks of PCM read ahead.
func (ts *testStation) waitPCM(t testing.TB, n int) {
	t.Helper()
	for i := 0; len(ts.pcm) < n; i++ {
		if i > 3000 {
			t.Fatalf("source did not fill the read-ahead (%d of %d)", len(ts.pcm), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// client is a raw-TCP listener that records everything it reads.
type client struct {
	conn   net.Conn
	header http.Header
	status int
	mu     sync.Mutex
	body   []byte
	done   chan struct{}
	stop   chan struct{}
	err    error
}

// listen opens path on the test server; headers are extra request headers.
// rcvbuf > 0 shrinks the socket's receive buffer and makes the client read
// nothing, so it falls behind.
func (ts *testStation) listen(t *testing.T, path string, hdr map[string]string, stall bool) *client {
	t.Helper()
	d := net.Dialer{}
	conn, err := d.Dial("tcp", ts.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if stall {
		conn.(*net.TCPConn).SetReadBuffer(4096)
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + ts.srv.Listener.Addr().String() + "\r\nUser-Agent: test\r\n"
	for k, v := range hdr {
		req += k + ": " + v + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	c := &client{conn: conn, done: make(chan struct{}), stop: make(chan struct{})}
	t.Cleanup(func() { close(c.stop); conn.Close(); <-c.done })
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.header, c.status = resp.Header, resp.StatusCode
	go func() {
		defer close(c.done)
		if stall {
			<-c.stop
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := br.Read(buf)
			c.mu.Lock()
			c.body = append(c.body, buf[:n]...)
			c.mu.Unlock()
			if err != nil {
				c.mu.Lock()
				c.err = err
				c.mu.Unlock()
				return
			}
		}
	}()
	return c
}

func (c *client) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.body)
}

func (c *client) closed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// waitBytes waits until the client has read at least n bytes.
func (c *client) waitBytes(t testing.TB, n int) []byte {
	t.Helper()
	for i := 0; ; i++ {
		b := c.bytes()
		if len(b) >= n {
			return b
		}
		if i > 3000 {
			t.Fatalf("client has %d bytes, want %d", len(b), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// value reads the value of a single counter or gauge.
func value(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	t.Fatalf("metric %v is not a counter or gauge", m.Desc())
	return 0
}
