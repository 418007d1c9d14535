package stream

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// A listener is one client of an MP3 output.
type listener struct {
	addr      string
	agent     string
	output    *output
	connected time.Time
	icy       bool
	pos       atomic.Int64 // next chunk to send
	bytes     atomic.Int64
}

// icyBlock renders title as an ICY metadata block: a length byte counting
// 16-byte units, then StreamTitle='...'; padded with zeros.
func icyBlock(title string) []byte {
	title = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, title)
	// A quote followed by a semicolon would end the field early.
	title = strings.ReplaceAll(title, "';", "' ;")
	const max = 255*16 - len("StreamTitle='';")
	for len(title) > max {
		_, n := utf8.DecodeLastRuneInString(title)
		title = title[:len(title)-n]
	}
	text := "StreamTitle='" + title + "';"
	n := (len(text) + 15) / 16
	b := make([]byte, 1+n*16)
	b[0] = byte(n)
	copy(b[1:], text)
	return b
}

var icyNone = []byte{0}

// MP3Handler returns the MP3 stream of the named output (for /NAME.mp3).
func (s *Station) MP3Handler(name string) (http.Handler, error) {
	o := s.byName[name]
	if o == nil {
		return nil, fmt.Errorf("stream: no output named %q", name)
	}
	return s.track(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveMP3(w, r, o) })), nil
}

func (s *Station) serveMP3(w http.ResponseWriter, r *http.Request, o *output) {
	if s.started.Load() && !s.running.Load() {
		http.Error(w, "station stopped", http.StatusServiceUnavailable)
		return
	}
	if max := s.opt.MaxListeners; max > 0 {
		if s.nlisten.Add(1) > int64(max) {
			s.nlisten.Add(-1)
			s.m.refused.Inc()
			w.Header().Set("Retry-After", "10")
			http.Error(w, "the station is full", http.StatusServiceUnavailable)
			return
		}
	} else {
		s.nlisten.Add(1)
	}
	handedOff := false // to a goroutine of its own, which then counts it
	defer func() {
		if !handedOff {
			s.nlisten.Add(-1)
		}
	}()
	l := &listener{
		addr:      s.ClientAddr(r),
		agent:     r.UserAgent(),
		output:    o,
		connected: time.Now(),
		icy:       r.Header.Get("Icy-MetaData") == "1",
	}
	h := w.Header()
	h.Set("Content-Type", "audio/mpeg")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("icy-name", headerSafe(s.opt.Name))
	h.Set("icy-br", strconv.Itoa(o.Bitrate))
	if s.opt.Description != "" {
		h.Set("icy-description", headerSafe(s.opt.Description))
	}
	if l.icy {
		h.Set("icy-metaint", strconv.Itoa(s.opt.MetaInt))
	}
	// Where this listener joins the stream: after the burst, every
	// listener is at the head, so clients can compare positions.
	pos, off, first, at := o.ring.burst(s.opt.Burst, len(o.ring.chunks)-1)
	h.Set("X-Stream-Frame", strconv.FormatInt(first, 10))
	if r.Method == http.MethodHead {
		return
	}
	if sid := r.URL.Query().Get("sid"); validSID(sid) {
		s.sessions.record(SessionInfo{
			SID: sid, Output: o.Name, StartFrame: first, Connected: l.connected,
			StartSample: int64(math.Round(at.Seconds() * SampleRate)), Start: at.Seconds(),
		})
	}
	var sk sink
	if r.ProtoMajor == 1 {
		// The headers go out through net/http, so whatever middleware set
		// stays and the status line answers the client's protocol version.
		// "Transfer-Encoding: identity" is net/http's way to send an
		// HTTP/1.1 body unchunked, delimited by closing the connection
		// (server.go, chunkWriter.writeHeader), which old ICY players
		// need. Then the connection is taken over (Hijack flushes the
		// headers and frees the response's buffers), so that the stream
		// is written with one writev per batch straight from the shared
		// chunks and no per-listener buffer, and the handler returns:
		// net/http's goroutine for the connection ends, with its deep
		// stack, its read buffer and the request, and a goroutine of our
		// own, with a shallow stack, serves the listener.
		h.Set("Transfer-Encoding", "identity")
		w.WriteHeader(http.StatusOK)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			s.log.Debug("stream: cannot take the connection over; writing through net/http", "err", err)
			sk = &responseSink{w: w, rc: http.NewResponseController(w)}
		} else {
			if brw.Writer.Buffered() > 0 {
				if err := brw.Flush(); err != nil {
					conn.Close()
					return
				}
			}
			// Anything the client pipelined after its request is ignored.
			if tc, ok := conn.(*net.TCPConn); ok && s.opt.SendBuffer > 0 {
				tc.SetWriteBuffer(s.opt.SendBuffer)
			}
			handedOff = true
			s.active.Add(1)
			release := takeHold(r)
			detach := s.attach(l)
			end := func(reason string) {
				detach(reason)
				s.nlisten.Add(-1)
				release()
				s.active.Add(-1)
			}
			if s.handOff(l, conn, pos, off, end) {
				return // the output's writers serve it (Linux)
			}
			go func() {
				// Not the request's context: that ends with the handler.
				// The stream ends on a failed write or the station's stop.
				reason := s.stream(context.Background(), l, &connSink{conn: conn}, pos, off)
				if tc, ok := conn.(*net.TCPConn); ok && reason == "slow" {
					tc.SetLinger(0)
				}
				conn.Close()
				end(reason)
			}()
			return
		}
	} else {
		w.WriteHeader(http.StatusOK)
		sk = &responseSink{w: w, rc: http.NewResponseController(w)}
	}
	s.serveListener(r.Context(), l, sk, pos, off)
}

// serveListener streams to l until it goes, counted meanwhile.
func (s *Station) serveListener(ctx context.Context, l *listener, sk sink, pos int64, off int) {
	detach := s.attach(l)
	reason := s.stream(ctx, l, sk, pos, off)
	if reason == "slow" {
		// Drop what the kernel still holds for it: a reset frees the
		// socket's buffers now rather than after a slow drain.
		if cs, ok := sk.(*connSink); ok {
			if tc, ok := cs.conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
		}
	}
	detach(reason)
}

// attach counts l among the listeners; the function it returns, called
// once with the reason it went, counts it out.
func (s *Station) attach(l *listener) func(reason string) {
	o := l.output
	o.nlisten.Add(1)
	s.m.listeners.WithLabelValues(o.Name).Inc()
	s.listeners.Store(l, struct{}{})
	return func(reason string) {
		s.listeners.Delete(l)
		o.nlisten.Add(-1)
		s.m.listeners.WithLabelValues(o.Name).Dec()
		s.m.disconnects.WithLabelValues(o.Name, reason).Inc()
		if reason == "slow" {
			s.log.Info("stream: cut slow listener", "output", o.Name, "addr", l.addr, "agent", l.agent)
		}
	}
}

// stream sends the output to one listener until it goes away, falls behind
// or the station stops, and says which.
func (s *Station) stream(ctx context.Context, l *listener, sk sink, pos int64, off int) (reason string) {
	o := l.output
	maxLag := int64(len(o.ring.chunks) - 1)
	sent := s.m.bytes.WithLabelValues(o.Name) // looked up once, not per write
	l.pos.Store(pos)
	untilMeta := s.opt.MetaInt
	var lastMeta []byte
	var chunks []*Chunk
	var bufs net.Buffers
	for {
		var head int64
		var wake <-chan struct{}
		var lost, closed bool
		chunks, head, wake, lost, closed = o.ring.since(chunks[:0], pos)
		switch {
		case closed:
			return "stopped"
		case lost || head-pos > maxLag:
			return "slow"
		}
		if len(chunks) == 0 {
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return "gone"
			}
		}
		var n int
		bufs, n = s.gather(bufs[:0], chunks, off, l.icy, &untilMeta, &lastMeta)
		off = 0
		if err := sk.write(bufs, s.opt.WriteTimeout); err != nil {
			if errors.Is(err, errWriteTimeout) {
				return "slow"
			}
			return "gone"
		}
		l.bytes.Add(int64(n))
		sent.Add(float64(n))
		pos = head
		l.pos.Store(pos)
		clear(chunks) // let old chunks go
	}
}

// gather appends to bufs the data of chunks from byte off of the first,
// with ICY metadata blocks interleaved every MetaInt bytes when icy is
// set (untilMeta and lastMeta carry the interleaving from call to call),
// and returns the audio bytes it added. Nothing is copied.
func (s *Station) gather(bufs net.Buffers, chunks []*Chunk, off int, icy bool, untilMeta *int, lastMeta *[]byte) (net.Buffers, int) {
	n := 0
	for i, c := range chunks {
		data := c.Data
		if i == 0 {
			data = data[off:]
		}
		n += len(data)
		if !icy {
			bufs = append(bufs, data)
			continue
		}
		for len(data) >= *untilMeta {
			meta := icyNone
			if &c.meta[0] != lastMetaPtr(*lastMeta) {
				meta, *lastMeta = c.meta, c.meta
			}
			bufs = append(bufs, data[:*untilMeta], meta)
			data = data[*untilMeta:]
			*untilMeta = s.opt.MetaInt
		}
		if len(data) > 0 {
			bufs = append(bufs, data)
			*untilMeta -= len(data)
		}
	}
	return bufs, n
}

func lastMetaPtr(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

var errWriteTimeout = errors.New("stream: write timed out")

// A sink is where a listener's bytes go.
type sink interface {
	write(b net.Buffers, timeout time.Duration) error
}

type connSink struct{ conn net.Conn }

func (c *connSink) write(b net.Buffers, timeout time.Duration) error {
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err := b.WriteTo(c.conn)
	if errors.Is(err, errDeadline) {
		return errWriteTimeout
	}
	return err
}

var errDeadline = os.ErrDeadlineExceeded

type responseSink struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (r *responseSink) write(b net.Buffers, timeout time.Duration) error {
	r.rc.SetWriteDeadline(time.Now().Add(timeout))
	for _, p := range b {
		if _, err := r.w.Write(p); err != nil {
			if errors.Is(err, errDeadline) {
				return errWriteTimeout
			}
			return err
		}
	}
	if err := r.rc.Flush(); err != nil {
		if errors.Is(err, errDeadline) {
			return errWriteTimeout
		}
		return err
	}
	return nil
}

// ListenerInfo describes one connected listener for /monitor.
type ListenerInfo struct {
	Addr      string    `json:"addr"`
	UserAgent string    `json:"user_agent"`
	Output    string    `json:"output"`
	Connected time.Time `json:"connected"`
	Seconds   float64   `json:"seconds"`    // time connected
	LagFrames int64     `json:"lag_frames"` // frames released but not yet written to it
	Bytes     int64     `json:"bytes"`
	ICY       bool      `json:"icy"`
}

// Monitor is what /monitor pushes.
type Monitor struct {
	Type      string         `json:"type"` // "monitor"
	Status    Status         `json:"status"`
	Listeners []ListenerInfo `json:"listeners"`
	// PCMQueue is the PCM read ahead of the encoders, in frames' worth;
	// Encoded is the frames encoded but not yet released, per output.
	PCMQueue int            `json:"pcm_queue"`
	Encoded  map[string]int `json:"encoded"`
	// Relays are the outputs that carry the stream on (Icecast, HLS).
	Relays []RelayStatus `json:"relays"`
}

// Listeners describes the connected listeners.
func (s *Station) Listeners() []ListenerInfo {
	now := time.Now()
	var out []ListenerInfo
	s.listeners.Range(func(k, _ any) bool {
		l := k.(*listener)
		head := l.output.ring.headIndex()
		out = append(out, ListenerInfo{
			Addr: l.addr, UserAgent: l.agent, Output: l.output.Name, Connected: l.connected,
			Seconds:   now.Sub(l.connected).Seconds(),
			LagFrames: (head - l.pos.Load()) * int64(s.opt.BatchFrames),
			Bytes:     l.bytes.Load(), ICY: l.icy,
		})
		return true
	})
	return out
}

func (s *Station) monitor() Monitor {
	m := Monitor{Type: "monitor", Status: s.Status(), Listeners: s.Listeners(), PCMQueue: len(s.pcm), Encoded: map[string]int{}, Relays: s.Relays()}
	for _, o := range s.outputs {
		m.Encoded[o.Name] = int(o.queued.Load())
	}
	return m
}

// MonitorAllowed reports whether r may see /monitor: with a MonitorToken,
// whether r carries it; without, whether r comes from loopback directly,
// not through a proxy (one of TrustedProxies, or any request with
// forwarding headers).
func (s *Station) MonitorAllowed(r *http.Request) bool {
	if tok := s.opt.MonitorToken; tok != "" {
		got := r.URL.Query().Get("token")
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			got = strings.TrimPrefix(h, "Bearer ")
		}
		return subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1
	}
	if s.proxied(r) {
		return false // whoever is behind the proxy, it is not us
	}
	p, ok := peerAddr(r)
	return ok && p.IsLoopback()
}

// MonitorHandler serves the /monitor websocket: every MonitorInterval, the
// listeners (with their addresses) and the station's queues. See
// MonitorAllowed for who may connect.
func (s *Station) MonitorHandler() http.Handler {
	return s.track(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.MonitorAllowed(r) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		c, err := s.accept(w, r)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := c.CloseRead(r.Context())
		t := time.NewTicker(s.opt.MonitorInterval)
		defer t.Stop()
		for {
			b, err := json.Marshal(s.monitor())
			if err != nil {
				return
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = c.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-s.stopped:
				c.Close(websocket.StatusGoingAway, "station stopped")
				return
			case <-t.C:
			}
		}
	}))
}
