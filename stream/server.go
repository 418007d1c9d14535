package stream

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Handler serves all the station's endpoints:
//
//	GET /NAME.mp3  each output's stream (/all.mp3 by default)
//	GET /all.json  Status
//	/info          websocket: actions as they start
//	/monitor       websocket: listeners and queues (loopback or token only)
//	GET /metrics   Prometheus metrics
//
// Every other path is 404: the station serves no files. Streams and
// websockets count against MaxConnsPerAddr. Every endpoint answers
// cross-origin requests from Options.AllowOrigins, preflights included.
//
// The handler may be mounted under a prefix (with http.StripPrefix, or a
// pattern such as "/radio/" in a mux that passes the full path): the paths
// it reports, such as the outputs' in /all.json, carry that prefix.
func (s *Station) Handler() http.Handler {
	return s.cors(s.routes())
}

// track counts h's requests as active, so that Run waits for them.
func (s *Station) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.active.Add(1)
		defer s.active.Add(-1)
		h.ServeHTTP(w, r)
	})
}

func (s *Station) routes() http.Handler {
	mux := http.NewServeMux()
	for _, o := range s.outputs {
		h, _ := s.MP3Handler(o.Name)
		mux.Handle("GET /"+o.Name+".mp3", s.limiter.wrap(h))
	}
	mux.Handle("GET /all.json", s.JSONHandler())
	mux.Handle("GET /info", s.limiter.wrap(s.InfoHandler()))
	mux.Handle("GET /monitor", s.limiter.wrap(s.MonitorHandler()))
	mux.Handle("GET /metrics", s.MetricsHandler())
	return mux
}

// cors answers preflights and marks responses readable by the origins in
// Options.AllowOrigins. Headers set here survive into the stream, which is
// written through the ResponseWriter.
func (s *Station) cors(h http.Handler) http.Handler {
	if len(s.opt.AllowOrigins) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allow := ""
		for _, o := range s.opt.AllowOrigins {
			if o == "*" {
				allow = "*"
				break
			}
			if strings.EqualFold(o, origin) {
				allow = origin
				break
			}
		}
		if origin == "" || allow == "" {
			h.ServeHTTP(w, r)
			return
		}
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", allow)
		hd.Add("Vary", "Origin")
		hd.Set("Access-Control-Expose-Headers", "X-Stream-Frame, Icy-Metaint, Icy-Name, Icy-Br, Icy-Description")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", "GET, HEAD")
			hd.Set("Access-Control-Allow-Headers", "Icy-MetaData, Authorization")
			hd.Set("Access-Control-Max-Age", "3600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// originPatterns is what the websockets accept: OriginPatterns and the
// hosts of AllowOrigins.
func (o *Options) originPatterns() []string {
	out := slices.Clone(o.OriginPatterns)
	for _, a := range o.AllowOrigins {
		if a == "*" {
			out = append(out, "*")
			continue
		}
		if u, err := url.Parse(a); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

// mountPrefix is the part of the path the request arrived with that was
// stripped before it reached the station (by http.StripPrefix, say).
func mountPrefix(r *http.Request) string {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil || r.URL == nil {
		return ""
	}
	p, ok := strings.CutSuffix(u.Path, r.URL.Path)
	if !ok {
		return ""
	}
	return strings.TrimSuffix(p, "/")
}

// LimitPerAddr wraps h so that each client IP address has at most n
// requests in h at once; others get 429 Too Many Requests. It suits
// long-lived requests such as streams, where one address could otherwise
// hold every file descriptor. n <= 0 means no limit.
// It counts the connection's peer address; a Station's own limit
// (Options.MaxConnsPerAddr) counts Station.ClientAddr instead.
func LimitPerAddr(h http.Handler, n int) http.Handler {
	return newAddrLimiter(n, func(r *http.Request) string {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}).wrap(h)
}

// A hold is a limiter's count for one request. A handler that hands the
// connection on to a goroutine of its own takes the hold, and releases it
// when the connection ends.
type hold struct {
	release func()
	taken   bool
}

type holdKey struct{}

// takeHold takes r's limiter count, if any, and returns its release.
func takeHold(r *http.Request) func() {
	if h, ok := r.Context().Value(holdKey{}).(*hold); ok && !h.taken {
		h.taken = true
		return h.release
	}
	return func() {}
}

type addrLimiter struct {
	max  int
	addr func(*http.Request) string
	mu   sync.Mutex
	n    map[string]int
}

func newAddrLimiter(max int, addr func(*http.Request) string) *addrLimiter {
	return &addrLimiter{max: max, addr: addr, n: map[string]int{}}
}

func (l *addrLimiter) wrap(h http.Handler) http.Handler {
	if l.max <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := l.addr(r)
		l.mu.Lock()
		if l.n[host] >= l.max {
			l.mu.Unlock()
			http.Error(w, "too many connections from your address", http.StatusTooManyRequests)
			return
		}
		l.n[host]++
		l.mu.Unlock()
		release := func() {
			l.mu.Lock()
			if l.n[host]--; l.n[host] == 0 {
				delete(l.n, host)
			}
			l.mu.Unlock()
		}
		hd := &hold{release: release}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), holdKey{}, hd)))
		if !hd.taken {
			release()
		}
	})
}

// NewServer returns an http.Server for h on addr with the timeouts a public
// streaming server needs: request headers must arrive within 10 s
// (slowloris), idle keep-alive connections close after 2 minutes, headers
// are capped at 64 KiB. There is deliberately no WriteTimeout: streams are
// endless, and set a deadline per write instead.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
