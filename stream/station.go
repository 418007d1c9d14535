package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foreverfm/forever/stream/mp3frame"
)

// SampleRate is the rate of the PCM a Station reads and of the MP3 it sends.
const SampleRate = 44100

// FrameSamples is the number of samples per channel in one MP3 frame.
const FrameSamples = 1152

// FrameDuration is how long one MP3 frame plays.
const FrameDuration = time.Duration(FrameSamples * int64(time.Second) / SampleRate)

// A PCMReader is the station's audio source: Read fills dst with
// interleaved stereo float32 samples at 44.1 kHz and reports how many
// frames (pairs of samples) it wrote, as mix.Player.Read does. Read may block, for instance while the mixer renders; the station
// reads ahead on its own goroutine so a slow Read never stalls listeners.
// io.EOF means the source has ended for good; the station then sends
// silence. Other errors are logged and Read is retried.
type PCMReader interface {
	Read(dst []float32) (int, error)
}

// An Encoder turns PCM into MP3 and writes the bytes to the io.Writer it was
// made with. Write takes interleaved stereo 44.1 kHz float32 of any length.
// audio/lame's *lame.Encoder is one.
type Encoder interface {
	Write(pcm []float32) error
	Flush() error
}

// NewEncoderFunc makes an Encoder writing MP3 at bitrate kb/s to w.
type NewEncoderFunc func(w io.Writer, bitrate int) (Encoder, error)

// Output is one MP3 rendition of the station, served at /NAME.mp3.
type Output struct {
	Name    string // path-safe; default "all"
	Bitrate int    // kb/s; default 128
}

// A Clock tells time for the station's pacing. Tests inject one to drive
// drift; the zero Options use the wall clock.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Station. The zero value of every field but NewEncoder
// is a sensible default.
type Options struct {
	NewEncoder NewEncoderFunc // required
	Outputs    []Output       // default: one Output{"all", 128}

	Name        string // icy-name; default "forever"
	Description string // icy-description

	// Logger receives the station's log lines; nil means none.
	Logger *slog.Logger
	// Registry, if set, receives the station's collectors, each labelled
	// station=Name so that several stations can share one registry, and
	// /metrics serves it (with whatever else the application put there).
	// Nil registers nothing anywhere and /metrics answers 404.
	Registry *prometheus.Registry
	Clock    Clock // default the wall clock

	// AllowOrigins lists the origins ("https://radio.example", or "*" for
	// any) whose pages may read every endpoint from script: the stream,
	// /all.json and /metrics get Access-Control-Allow-Origin for them, and
	// the websockets accept them. Nil allows no other origin.
	AllowOrigins []string

	BatchFrames int           // frames per write to listeners; default 8 (~0.2 s)
	Burst       int           // bytes a new listener gets at once; default 64 KiB
	Backlog     time.Duration // how far behind a listener may fall before it is cut; default 10 s
	DriftLimit  time.Duration // lateness tolerated before catching up at once; default 250 ms
	ReadAhead   time.Duration // PCM buffered ahead of the encoder; default 2 s
	MetaInt     int           // ICY metadata interval in bytes; default 16000
	History     int           // past actions kept for /all.json; default 16

	// WriteTimeout bounds one write to a listener; a listener whose socket
	// accepts nothing for this long is cut. Default: Backlog.
	WriteTimeout time.Duration
	// SendBuffer sets each listener socket's kernel send buffer, so that a
	// slow listener shows up as lag in the ring rather than hiding in the
	// kernel. Default 64 KiB; negative leaves the system default.
	SendBuffer int

	// MonitorToken, if set, is required (as "Authorization: Bearer TOKEN"
	// or ?token=TOKEN) to open /monitor, which otherwise answers only to
	// loopback clients.
	MonitorToken string
	// ShutdownTimeout bounds how long Run waits, once its context is done,
	// for listeners and websockets to be sent off; default 5 s.
	ShutdownTimeout time.Duration
	// MonitorInterval is how often /monitor pushes; default 5 s.
	MonitorInterval time.Duration
	// OriginPatterns are extra host patterns (path.Match syntax, as
	// github.com/coder/websocket's AcceptOptions) allowed to open the
	// websockets from a browser; the station's own host always is.
	OriginPatterns []string
	// TrustedProxies lists the reverse proxies (addresses, or CIDR ranges
	// such as "10.0.0.0/8") whose Forwarded or X-Forwarded-For headers name
	// the client: only from these are the headers believed. See
	// Station.ClientAddr. A request that comes through a proxy never opens
	// /monitor without the token, even from loopback.
	TrustedProxies []string
	// MaxConnsPerAddr caps the concurrent streams and websockets per client
	// address (after TrustedProxies); 0, the default, sets no cap, since
	// a NAT or a proxy puts many listeners behind one address.
	MaxConnsPerAddr int
	// MaxListeners caps the stream listeners of all outputs together; a
	// listener beyond it gets 503 Service Unavailable. 0: no cap (the
	// process's open-file limit is then the cap, and past it the accept
	// loop backs off).
	MaxListeners int
}

func (o *Options) setDefaults() error {
	if o.NewEncoder == nil {
		return errors.New("stream: Options.NewEncoder is required")
	}
	if len(o.Outputs) == 0 {
		o.Outputs = []Output{{Name: "all", Bitrate: 128}}
	}
	seen := map[string]bool{}
	for i := range o.Outputs {
		out := &o.Outputs[i]
		if out.Name == "" {
			out.Name = "all"
		}
		if out.Bitrate == 0 {
			out.Bitrate = 128
		}
		if seen[out.Name] || strings.ContainsAny(out.Name, "/?#% ") {
			return fmt.Errorf("stream: output name %q is repeated or not path-safe", out.Name)
		}
		seen[out.Name] = true
	}
	if o.Name == "" {
		o.Name = "forever"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.BatchFrames, 8)
	def(&o.Burst, 64<<10)
	def(&o.MetaInt, 16000)
	def(&o.History, 16)
	defDur(&o.Backlog, 10*time.Second)
	defDur(&o.DriftLimit, 250*time.Millisecond)
	defDur(&o.ReadAhead, 2*time.Second)
	defDur(&o.WriteTimeout, o.Backlog)
	defDur(&o.MonitorInterval, 5*time.Second)
	defDur(&o.ShutdownTimeout, 5*time.Second)
	if o.SendBuffer == 0 {
		o.SendBuffer = 64 << 10
	}
	return nil
}

// A Station is one endless broadcast. Make it with New, start it with Run,
// and serve it with Handler or the individual handlers.
type Station struct {
	opt     Options
	log     *slog.Logger
	src     PCMReader
	outputs []*output
	byName  map[string]*output
	m       *metrics
	queue   string // name used in log lines about the clock

	pcm  chan pcmBlock
	free chan []float32

	started atomic.Bool
	running atomic.Bool
	stopped chan struct{} // closed when Run ends
	active  atomic.Int64  // handlers serving streams and websockets

	mu         sync.Mutex
	start      time.Time // wall time of stream sample 0
	released   int64     // frames released per output so far
	starving   bool
	everFed    bool      // a real block has been fed
	silent     int64     // frames of silence fed for want of PCM
	fallback   string    // why the source's audio is a stand-in; "" if it is not
	stateSince time.Time // when the OnAir state last changed
	srcEnded   atomic.Bool
	offset     int64 // stream sample minus PCM sample, for audio fed now
	fed        int64 // PCM blocks (frames' worth) fed to the encoders
	starvedAt  int64 // stream sample where the current silence began
	actions    []*action
	titleMeta  []byte
	title      string
	subs       map[chan []byte]struct{} // /info websockets

	origins   []string // websocket origin patterns
	trusted   trusted
	nlisten   atomic.Int64 // listeners of all outputs
	sessions  sessions
	relaysMu  sync.Mutex
	relays    map[string]*Relay
	listeners sync.Map // *listener -> struct{}
	limiter   *addrLimiter
}

type pcmBlock struct {
	samples []float32 // FrameSamples stereo frames
	pos     int64     // PCM timeline position of the first frame
}

// output is one encoder and its ring.
type output struct {
	Output
	enc     Encoder
	split   mp3frame.Splitter
	pending [][]byte // encoded frames not yet released
	silent  []byte
	ring    *ring
	seq     int64        // frames released
	sent    int64        // ticks of audio released (see tickRate)
	dry     int          // feeds in a row that yielded no frame
	failing bool         // the encoder's last Write failed
	matched bool         // silent has the encoder's format
	queued  atomic.Int64 // len(pending), for the monitor
	writers writers      // serve hijacked listeners (Linux)
	nlisten atomic.Int64
}

// New makes a station reading PCM from src. It does nothing until Run.
func New(src PCMReader, opt Options) (*Station, error) {
	if err := opt.setDefaults(); err != nil {
		return nil, err
	}
	s := &Station{
		opt:     opt,
		log:     opt.Logger,
		src:     src,
		byName:  map[string]*output{},
		subs:    map[chan []byte]struct{}{},
		stopped: make(chan struct{}),
	}
	var err error
	s.trusted, err = parseTrusted(opt.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s.limiter = newAddrLimiter(opt.MaxConnsPerAddr, s.clientHost)
	s.origins = opt.originPatterns()
	blocks := int(opt.ReadAhead/FrameDuration) + 1
	s.pcm = make(chan pcmBlock, blocks)
	s.free = make(chan []float32, blocks+2)
	batchDur := time.Duration(opt.BatchFrames) * FrameDuration
	// The ring holds the backlog a listener may fall behind, plus the burst
	// it starts with (at the highest bitrate, an upper bound for others).
	var names []string
	for _, o := range opt.Outputs {
		burstDur := time.Duration(float64(opt.Burst*8) / float64(o.Bitrate*1000) * float64(time.Second))
		n := int((opt.Backlog+burstDur)/batchDur) + 2
		silent, err := mp3frame.Silent(mp3frame.MPEG1, o.Bitrate*1000, SampleRate, 1)
		if err != nil {
			return nil, fmt.Errorf("stream: output %s: %w", o.Name, err)
		}
		out := &output{Output: o, ring: newRing(n), silent: silent}
		enc, err := opt.NewEncoder(&out.split, o.Bitrate)
		if err != nil {
			return nil, fmt.Errorf("stream: output %s: encoder: %w", o.Name, err)
		}
		out.enc = enc
		s.outputs = append(s.outputs, out)
		s.byName[o.Name] = out
		names = append(names, o.Name)
	}
	s.queue = strings.Join(names, ",")
	m, err := newMetrics(opt.Registry, s)
	if err != nil {
		return nil, err
	}
	s.m = m
	s.titleMeta = icyBlock("")
	return s, nil
}

// Registry returns Options.Registry (nil if none was given).
func (s *Station) Registry() *prometheus.Registry { return s.opt.Registry }

// Outputs lists the station's outputs.
func (s *Station) Outputs() []Output {
	out := make([]Output, len(s.outputs))
	for i, o := range s.outputs {
		out[i] = o.Output
	}
	return out
}

// Run broadcasts until ctx is done, then ends every listener cleanly and
// returns ctx's error. It never returns early: a source that ends or fails
// is replaced by silence. Run may be called once.
//
// On the way out each stream ends after a whole frame with the
// connection closed in order (FIN, not a reset), each websocket gets a
// close frame (1001, going away), subscriptions end with ErrStopped, and
// Run waits for all that, at most ShutdownTimeout. So a program that stops
// on SIGTERM cancels Run's context, waits for Run, and then shuts its
// http.Server down (which does not wait for streams, since they are
// hijacked connections).
//
// Run does not wait for a Read in progress on the source: that goroutine
// ends at the Read's return.
func (s *Station) Run(ctx context.Context) error {
	if s.started.Swap(true) {
		return errors.New("stream: Station.Run called twice")
	}
	s.running.Store(true)
	defer func() {
		s.running.Store(false)
		close(s.stopped)
		for _, o := range s.outputs {
			o.ring.close()
		}
		s.mu.Lock()
		for ch := range s.subs {
			close(ch)
			delete(s.subs, ch)
		}
		s.mu.Unlock()
		// Polled rather than a WaitGroup: requests keep arriving (to be
		// refused) while Run waits.
		deadline := time.Now().Add(s.opt.ShutdownTimeout)
		for s.active.Load() > 0 {
			if time.Now().After(deadline) {
				s.log.Warn("stream: listeners still connected at the end of the shutdown timeout",
					"timeout", s.opt.ShutdownTimeout, "connections", s.active.Load())
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	go s.readLoop(ctx)

	clock := s.opt.Clock
	batch := int64(s.opt.BatchFrames)
	s.mu.Lock()
	s.start = clock.Now()
	start := s.start
	s.mu.Unlock()
	var sent int64
	var lastDriftLog time.Time
	quiet := 0 // drift compensations since the last log line
	for {
		elapsed := clock.Now().Sub(start)
		due := samplesIn(elapsed) / FrameSamples
		behind := due - sent
		if late := time.Duration(behind-batch) * FrameDuration; late > s.opt.Backlog {
			// Stopped for longer than listeners can be behind (the
			// machine slept, say): catching up would only cut them all.
			// Move the clock instead.
			s.log.Warn(fmt.Sprintf("Queue %s stalled for %d ms; skipping ahead", s.queue, late.Milliseconds()), "queue", s.queue)
			start = start.Add(late)
			s.mu.Lock()
			s.start = s.start.Add(late)
			s.mu.Unlock()
			behind = batch
		}
		if behind > 0 {
			n := min(behind, batch)
			late := time.Duration(behind-batch) * FrameDuration
			if late > s.opt.DriftLimit {
				// On an overloaded machine this happens every few
				// ticks; say so at most every ten seconds.
				if now := clock.Now(); now.Sub(lastDriftLog) >= 10*time.Second || quiet == 0 {
					s.log.Warn(fmt.Sprintf("Queue %s drifting by %d ms. Compensating...", s.queue, late.Milliseconds()),
						"queue", s.queue, "drift", late, "since_last_log", quiet)
					lastDriftLog, quiet = now, 0
				}
				quiet++
				s.m.driftEvents.Inc()
				n = behind
			}
			s.m.drift.Set(max(late, 0).Seconds())
			s.release(int(n))
			sent += n
		}
		next := start.Add(sampleTime((sent + batch) * FrameSamples))
		wait := next.Sub(clock.Now())
		if wait < 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(wait):
		}
	}
}

// readLoop moves PCM from the source into s.pcm in whole frames' worth.
func (s *Station) readLoop(ctx context.Context) {
	var pos int64
	backoff := 100 * time.Millisecond
	for {
		var buf []float32
		select {
		case buf = <-s.free:
		default:
			buf = make([]float32, FrameSamples*2)
		}
		n, empty := 0, 0
		for n < len(buf) {
			k, err := s.src.Read(buf[n:])
			n += 2 * max(k, 0)
			if err == nil {
				backoff = 100 * time.Millisecond
				if k > 0 {
					empty = 0
				} else if empty++; empty > 100 {
					// A source that keeps returning nothing must not spin.
					select {
					case <-ctx.Done():
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
				continue
			}
			if errors.Is(err, io.EOF) {
				s.srcEnded.Store(true)
				s.log.Warn("stream: PCM source ended; sending silence", "queue", s.queue)
				if n > 0 {
					clear(buf[n:])
					select {
					case s.pcm <- pcmBlock{buf, pos}:
					case <-ctx.Done():
					}
				}
				return
			}
			s.log.Error("stream: reading PCM", "queue", s.queue, "err", err, "retry", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		select {
		case s.pcm <- pcmBlock{buf, pos}:
			pos += FrameSamples
		case <-ctx.Done():
			return
		}
	}
}

var silence = make([]float32, FrameSamples*2)

// release moves the stream clock on by n frames' worth (of 44.1 kHz
// audio) and sends every output's frames up to that time to its listeners.
// Outputs whose encoder chose another sample rate (LAME does below 96
// kb/s) have frames of other lengths; each releases the frames that end
// by the new time, so all outputs keep the same clock.
func (s *Station) release(n int) {
	s.mu.Lock()
	s.released += int64(n)
	onAir := s.released * FrameSamples
	started := s.startActions(onAir)
	meta, title := s.titleMeta, s.title
	s.mu.Unlock()
	for _, a := range started {
		s.notify(a)
	}
	end := onAir * (tickRate / SampleRate)
	for _, o := range s.outputs {
		c := &Chunk{Seq: o.seq, Title: title, meta: meta, Time: tickTime(o.sent)}
		k := 0
		size := 0
		for t := o.sent; ; k++ {
			for len(o.pending) <= k {
				s.feed()
			}
			d := frameTicks(o.pending[k])
			if t+d > end {
				break
			}
			t += d
			size += len(o.pending[k])
		}
		if k == 0 {
			continue
		}
		c.Data = make([]byte, 0, size)
		c.starts = make([]int32, 0, k)
		for _, f := range o.pending[:k] {
			c.starts = append(c.starts, int32(len(c.Data)))
			c.Data = append(c.Data, f...)
			o.sent += frameTicks(f)
		}
		c.Frames = k
		c.Duration = tickTime(o.sent) - c.Time
		clear(o.pending[:k])
		o.pending = append(o.pending[:0], o.pending[k:]...)
		o.seq += int64(k)
		o.queued.Store(int64(len(o.pending)))
		o.ring.publish(c)
		s.m.frames.WithLabelValues(o.Name).Add(float64(k))
	}
}

// The stream clock counts in integers, so that it does not drift from the
// audio however long the station runs: samples at 44.1 kHz for the PCM,
// and for the outputs (whose encoders may choose another MPEG sample rate)
// ticks at tickRate, a multiple of every MPEG sample rate, so that any
// frame lasts a whole number of ticks.
const tickRate = 14_112_000 // lcm(44100, 48000, 32000); MPEG-2 and 2.5 rates divide it

// samplesIn is how many whole 44.1 kHz samples d holds.
func samplesIn(d time.Duration) int64 {
	sec, ns := int64(d/time.Second), int64(d%time.Second)
	return sec*SampleRate + ns*SampleRate/int64(time.Second)
}

// sampleTime is the time n 44.1 kHz samples play, rounded down to the
// nanosecond.
func sampleTime(n int64) time.Duration { return ratTime(n, SampleRate) }

// tickTime is the time n ticks play.
func tickTime(n int64) time.Duration { return ratTime(n, tickRate) }

// ratTime is n/rate seconds without overflow for any n a station reaches.
func ratTime(n, rate int64) time.Duration {
	return time.Duration(n/rate)*time.Second + time.Duration(n%rate*int64(time.Second)/rate)
}

// frameTicks is how long a frame plays; frames are checked when queued.
func frameTicks(f []byte) int64 {
	h, err := mp3frame.ParseHeader(f)
	if err != nil || h.SampleRate <= 0 || tickRate%h.SampleRate != 0 {
		return FrameSamples * (tickRate / SampleRate)
	}
	return int64(h.Samples()) * int64(tickRate/h.SampleRate)
}

// feed encodes one frame's worth of PCM into every output: the next block
// from the source, or silence when it has none ready. Silence goes through
// the encoder like music, rather than as ready-made silent frames, so that
// the encoder's bit reservoir stays continuous and the first frames after
// the music returns decode cleanly.
func (s *Station) feed() {
	var blk pcmBlock
	real := false
	select {
	case blk = <-s.pcm:
		real = true
	default:
		blk.samples = silence
	}
	s.mu.Lock()
	inPos := s.fed * FrameSamples
	if real {
		s.offset = inPos - blk.pos
		s.fixActions(blk.pos, s.offset)
	}
	before := s.onAirLocked().State
	if real {
		s.everFed = true
	} else {
		s.silent++
	}
	if real == s.starving {
		s.starving = !real
		if s.starving {
			s.m.starvation.Inc()
			s.starvedAt = inPos
			s.log.Warn(fmt.Sprintf("Queue %s starving; sending silence", s.queue), "queue", s.queue)
		} else {
			s.log.Info(fmt.Sprintf("Queue %s recovered", s.queue), "queue", s.queue,
				"silence", time.Duration(float64(inPos-s.starvedAt)/SampleRate*float64(time.Second)))
		}
	}
	s.fed++
	if after := s.onAirLocked().State; after != before || s.fed == 1 {
		s.stateSince = s.opt.Clock.Now()
		s.setStateGauge(after)
	}
	s.mu.Unlock()
	if !real {
		s.m.silence.Inc()
		s.m.silenceSeconds.Add(float64(FrameSamples) / SampleRate)
	}
	t0 := time.Now()
	for _, o := range s.outputs {
		s.encode(o, blk.samples)
	}
	s.m.encode.Observe(time.Since(t0).Seconds())
	if real {
		select {
		case s.free <- blk.samples:
		default:
		}
	}
}

// encode runs one output's encoder over pcm and queues the frames it
// yields. A failing encoder is replaced, and one that stops producing is
// bypassed; meanwhile the output gets ready-made silent frames, so that
// listeners never see the stream stop.
func (s *Station) encode(o *output, pcm []float32) {
	err := o.enc.Write(pcm)
	if err == nil {
		// Encoders buffer their output (LAME's Go wrapper by 4 KiB, most
		// of a second at low bitrates); take every frame now.
		err = o.enc.Flush()
	}
	got := 0
	for {
		f, ok := o.split.Next()
		if !ok {
			break
		}
		if mp3frame.IsInfo(f) {
			continue
		}
		if !o.matched {
			// Silence must be in the encoder's format: LAME lowers the
			// sample rate below 96 kb/s.
			o.matched = true
			if h, err := mp3frame.ParseHeader(f); err == nil && h.Layer == 3 {
				if sf, err := mp3frame.Silent(h.Version, h.Bitrate, h.SampleRate, h.Mode); err == nil {
					o.silent = sf
				}
			}
		}
		o.pending = append(o.pending, append([]byte(nil), f...))
		got++
	}
	switch {
	case err != nil:
		if !o.failing {
			// Logged once per outage: a dead encoder fails every frame.
			s.log.Error("stream: encoder failed; restarting it and sending silence", "output", o.Name, "err", err)
		}
		o.failing = true
		s.m.encodeErrors.Inc()
		if c, ok := o.enc.(io.Closer); ok {
			c.Close()
		}
		o.split = mp3frame.Splitter{}
		if enc, err := s.opt.NewEncoder(&o.split, o.Bitrate); err == nil {
			o.enc = enc
		}
		o.pending = append(o.pending, o.silent)
		o.dry = 0
	case got > 0:
		o.dry = 0
		if o.failing {
			o.failing = false
			s.log.Info("stream: encoder recovered", "output", o.Name)
		}
	default:
		// An encoder holds back a frame or two; much more means it is
		// not producing at all.
		o.dry++
		if o.dry >= 32 {
			s.m.encodeErrors.Inc()
			o.pending = append(o.pending, o.silent)
		}
	}
}
