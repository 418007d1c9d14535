package stream

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	listeners      *prometheus.GaugeVec
	frames         *prometheus.CounterVec
	bytes          *prometheus.CounterVec
	disconnects    *prometheus.CounterVec
	drift          prometheus.Gauge
	driftEvents    prometheus.Counter
	starvation     prometheus.Counter
	silence        prometheus.Counter
	encode         prometheus.Histogram
	encodeErrors   prometheus.Counter
	refused        prometheus.Counter
	relayUp        *prometheus.GaugeVec
	relayErrors    *prometheus.CounterVec
	onAir          *prometheus.GaugeVec
	silenceSeconds prometheus.Counter
}

// newMetrics makes the station's collectors and, when reg is not nil,
// registers them there labelled with the station's name.
func newMetrics(reg *prometheus.Registry, s *Station) (*metrics, error) {
	m := &metrics{
		listeners: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "forever_stream_listeners", Help: "Listeners connected, per output.",
		}, []string{"output"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forever_stream_frames_total", Help: "MP3 frames released to listeners, per output.",
		}, []string{"output"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forever_stream_sent_bytes_total", Help: "Bytes of MP3 written to listeners, per output.",
		}, []string{"output"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forever_stream_disconnects_total", Help: "Listeners gone, per output and reason (gone, slow, stopped).",
		}, []string{"output", "reason"}),
		drift: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forever_stream_drift_seconds", Help: "How far the clock was behind the wall clock at its last tick, beyond one batch.",
		}),
		driftEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_stream_drift_compensations_total", Help: "Times the clock was late beyond the drift limit and caught up at once.",
		}),
		starvation: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_stream_starvation_events_total", Help: "Times the PCM source ran dry and silence was sent.",
		}),
		silence: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_stream_silence_frames_total", Help: "Frames of silence encoded for lack of PCM.",
		}),
		encode: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "forever_stream_encode_seconds", Help: "Time to encode one frame's worth of PCM for every output.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 12),
		}),
		encodeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_stream_encode_errors_total", Help: "Encoder failures and stalls bridged with silent frames.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_stream_refused_total", Help: "Listeners turned away because the station had MaxListeners.",
		}),
	}
	m.relayUp, m.relayErrors = relayMetrics()
	m.onAir, m.silenceSeconds = onAirMetrics()
	for _, st := range []string{StateMusic, StateSilence, StateFallback} {
		m.onAir.WithLabelValues(st)
	}
	m.onAir.WithLabelValues(StateSilence).Set(1)
	for _, o := range s.opt.Outputs {
		m.listeners.WithLabelValues(o.Name)
		m.frames.WithLabelValues(o.Name)
	}
	if reg == nil {
		return m, nil
	}
	r := prometheus.WrapRegistererWith(prometheus.Labels{"station": s.opt.Name}, reg)
	cs := []prometheus.Collector{m.listeners, m.frames, m.bytes, m.disconnects, m.drift, m.driftEvents, m.starvation, m.silence, m.encode, m.encodeErrors, m.refused, m.relayUp, m.relayErrors, m.onAir, m.silenceSeconds}
	for i, c := range cs {
		if err := r.Register(c); err != nil {
			for _, done := range cs[:i] {
				r.Unregister(done)
			}
			return nil, fmt.Errorf("stream: station %q: registering metrics: %w (two stations on one registry need distinct names)", s.opt.Name, err)
		}
	}
	return m, nil
}

// MetricsHandler serves the station's registry in the Prometheus text
// format (/metrics), including whatever the application registered in it.
// Without Options.Registry it answers 404.
func (s *Station) MetricsHandler() http.Handler {
	if s.opt.Registry == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(s.opt.Registry, promhttp.HandlerOpts{})
}
