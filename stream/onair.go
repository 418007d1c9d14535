package stream

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// What the station is sending, as OnAir.State says it.
const (
	StateMusic    = "music"    // the source's audio
	StateSilence  = "silence"  // silence, for want of audio from the source
	StateFallback = "fallback" // the source's audio, but by its own account a stand-in (see SetFallback)
)

// OnAir says what the station is sending and, when it is not music, why:
// /all.json and /monitor carry it as "on_air", /metrics as
// forever_stream_on_air{state} and forever_stream_silence_seconds_total.
// A readiness check (a /readyz) wants State == StateMusic.
type OnAir struct {
	State  string    `json:"state"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"` // when State began
	// SilenceSeconds is the silence sent since the station started,
	// in seconds of stream.
	SilenceSeconds float64 `json:"silence_seconds"`
}

// Reasons the station gives for silence.
const (
	ReasonStarving = "the source has no audio ready"
	ReasonEnded    = "the source has ended"
	ReasonStarting = "the source has not sent audio yet"
)

// OnAir reports what the station is sending now.
func (s *Station) OnAir() OnAir {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.onAirLocked()
}

func (s *Station) onAirLocked() OnAir {
	oa := OnAir{State: StateMusic, Since: s.stateSince, SilenceSeconds: float64(s.silent*FrameSamples) / SampleRate}
	switch {
	case s.starving || s.fed == 0:
		oa.State = StateSilence
		switch {
		case s.srcEnded.Load():
			oa.Reason = ReasonEnded
		case s.everFed:
			oa.Reason = ReasonStarving
		default:
			oa.Reason = ReasonStarting
		}
	case s.fallback != "":
		oa.State, oa.Reason = StateFallback, s.fallback
	}
	if oa.Since.IsZero() {
		oa.Since = s.start
	}
	return oa
}

// SetFallback tells the station that the audio its source sends is a
// stand-in (a fallback playlist, the demo catalogue) and why; OnAir then
// reports StateFallback while that audio is on air. An empty reason says
// the source is back to its proper music.
func (s *Station) SetFallback(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reason == s.fallback {
		return
	}
	before := s.onAirLocked().State
	s.fallback = reason
	if after := s.onAirLocked().State; after != before {
		s.stateSince = s.opt.Clock.Now()
		s.setStateGauge(after)
	}
	if reason != "" {
		s.log.Warn("stream: on air from a fallback source", "reason", reason)
	} else {
		s.log.Info("stream: fallback over; music on air")
	}
}

// setStateGauge marks state as the one on air. Called with s.mu held.
func (s *Station) setStateGauge(state string) {
	for _, st := range []string{StateMusic, StateSilence, StateFallback} {
		v := 0.0
		if st == state {
			v = 1
		}
		s.m.onAir.WithLabelValues(st).Set(v)
	}
}

func onAirMetrics() (*prometheus.GaugeVec, prometheus.Counter) {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "forever_stream_on_air", Help: "1 for what the station sends now (music, silence or fallback), 0 for the others.",
		}, []string{"state"}), prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_stream_silence_seconds_total", Help: "Seconds of silence sent for want of audio from the source.",
		})
}
