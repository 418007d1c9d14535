package stream

import (
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A Relay is the station's record of an output that carries the stream on
// beyond its own listeners (stream/icecast's Source, stream/hls's Writer):
// the output reports how it fares, and the station logs its failures (the
// first at once, then at most once per backoff, doubling to 5 minutes
// while it keeps failing), counts them in /metrics and shows the state on
// /monitor. Get one from Station.Relay and hand it to the output.
type Relay struct {
	s    *Station
	name string

	mu       sync.Mutex
	st       RelayStatus
	lastLog  time.Time
	backoff  time.Duration
	unlogged int64 // failures since the last log line
}

// RelayStatus is a relay's state, as /monitor shows it.
type RelayStatus struct {
	Name      string    `json:"name"`
	Up        bool      `json:"up"`
	Since     time.Time `json:"since"`  // of the current state
	Errors    int64     `json:"errors"` // failures so far
	LastError string    `json:"last_error,omitempty"`
	ErrorTime time.Time `json:"error_time,omitzero"`
}

// Relay returns the station's record for the relay called name (for
// example "icecast" or "hls"), making it on first use.
func (s *Station) Relay(name string) *Relay {
	s.relaysMu.Lock()
	defer s.relaysMu.Unlock()
	if r := s.relays[name]; r != nil {
		return r
	}
	r := &Relay{s: s, name: name, st: RelayStatus{Name: name, Since: time.Now()}}
	if s.relays == nil {
		s.relays = map[string]*Relay{}
	}
	s.relays[name] = r
	s.m.relayUp.WithLabelValues(name).Set(0)
	s.m.relayErrors.WithLabelValues(name)
	return r
}

// Up reports that the relay works: connected, or writing.
func (r *Relay) Up() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st.Up {
		return
	}
	down := r.st.Errors > 0
	r.st.Up, r.st.Since = true, time.Now()
	r.backoff = 0
	r.s.m.relayUp.WithLabelValues(r.name).Set(1)
	if down {
		r.s.log.Info("stream: relay recovered", "relay", r.name, "failures_unlogged", r.unlogged)
	}
	r.unlogged = 0
}

// Failed reports an error of the relay; it is down until the next Up.
// The error's text is shown on /monitor, so it must hold no secret.
func (r *Relay) Failed(err error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st.Up {
		r.st.Up, r.st.Since = false, now
	}
	r.st.Errors++
	r.st.LastError, r.st.ErrorTime = err.Error(), now
	r.s.m.relayUp.WithLabelValues(r.name).Set(0)
	r.s.m.relayErrors.WithLabelValues(r.name).Inc()
	if r.backoff > 0 && now.Sub(r.lastLog) < r.backoff {
		r.unlogged++
		return
	}
	r.s.log.Error("stream: relay failing", "relay", r.name, "err", err, "errors", r.st.Errors, "failures_unlogged", r.unlogged, "next_log_in", max(r.backoff*2, time.Second))
	r.lastLog, r.unlogged = now, 0
	r.backoff = min(max(2*r.backoff, time.Second), 5*time.Minute)
}

// Status reports the relay's state.
func (r *Relay) Status() RelayStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// Relays reports every relay's state, by name.
func (s *Station) Relays() []RelayStatus {
	s.relaysMu.Lock()
	out := make([]RelayStatus, 0, len(s.relays))
	for _, r := range s.relays {
		out = append(out, r.Status())
	}
	s.relaysMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func relayMetrics() (*prometheus.GaugeVec, *prometheus.CounterVec) {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "forever_stream_relay_up", Help: "1 while a relay (Icecast, HLS) works, 0 while it fails.",
		}, []string{"relay"}), prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forever_stream_relay_errors_total", Help: "Failures reported by each relay (Icecast, HLS).",
		}, []string{"relay"})
}
