package forever

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio/lame"
	"github.com/foreverfm/forever/internal/page"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/source"
	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/hls"
	"github.com/foreverfm/forever/stream/icecast"
	"github.com/foreverfm/forever/tsp/order"
)

// Config configures a Radio. Only Source is required.
type Config struct {
	// Source lists the music, e.g. source.Folder{Dir: "music"} or the
	// built-in demo.Source{}.
	Source source.Source
	// CacheDir keeps the analyses, so that each piece of music is
	// analysed once; default source.DefaultCacheDir().
	CacheDir string
	// Rescan is how often the Source is listed again; default 1 minute.
	Rescan time.Duration

	// Bitrate is the MP3 bitrate, in kb/s, of the one output "all"
	// (served at all.mp3); default 128.
	Bitrate int
	// Name and Description are told to players (icy-name,
	// icy-description); default "forever" and "an endless, beat-matched
	// mix".
	Name, Description string

	// Mixer configures the mixer; its Policy decides each transition
	// (nil: mix.DefaultPolicy). A nil Mixer.Logger gets Logger.
	Mixer mix.Options

	// Logger receives the radio's log lines; nil means quiet.
	Logger *slog.Logger
	// Registry, if set, receives the radio's and the station's
	// Prometheus collectors, and /metrics serves it; nil registers
	// nothing and /metrics answers 404.
	Registry *prometheus.Registry
	// MonitorToken, if set, opens /monitor to requests that carry it;
	// without it /monitor answers loopback clients only.
	MonitorToken string
	// Stream holds the station's further options (listener limits,
	// trusted proxies, CORS, ...). Its NewEncoder, Outputs, Name,
	// Description, Logger, Registry and MonitorToken are set from the
	// fields above.
	Stream stream.Options

	// IcecastURL, if set, is an Icecast2 mount the stream is also pushed
	// to (e.g. http://localhost:8001/forever.mp3), with IcecastPassword.
	IcecastURL      string
	IcecastPassword string
	// HLSDir, if set, is a folder the radio writes an HLS playlist and
	// segments into; Handler serves them at hls/.
	HLSDir string

	// OnEvent, if set, is told of each track made ready or skipped, each
	// transition planned and each action going on air. It is called from
	// the radio's goroutines and must not block.
	OnEvent func(Event)
}

// EventKind says what an Event reports.
type EventKind string

const (
	TrackReady        EventKind = "track ready"        // analysed, can be played
	TrackFailed       EventKind = "track failed"       // skipped: Err says why
	TransitionPlanned EventKind = "transition planned" // the mixer made an action: Info, with its Reason
	OnAir             EventKind = "on air"             // an action is heard: Info
)

// An Event is something the radio did, for a program that follows it.
type Event struct {
	Kind EventKind
	// Track is the track made ready or skipped.
	Track source.Track
	// Info describes the action planned or on air; Info.Reason says why
	// the policy chose the transition.
	Info mix.Info
	Err  error
}

// A Radio is a whole station: it keeps its Source's music analysed,
// orders it, mixes it without end and broadcasts the mix. Make it with
// New, start it with Run and serve it with Handler.
type Radio struct {
	cfg     Config
	log     *slog.Logger
	lib     *library
	order   *order.Generator
	mixer   *mix.Mixer
	station *stream.Station
	pcm     *pcmPipe

	mu     sync.Mutex
	queue  []mix.Span // tracks given to the mixer and not yet on air, in order
	onAir  mix.Info
	onAirT time.Time
}

// New makes a Radio. It checks the configuration and makes the station,
// so that Handler can be mounted before Run.
func New(cfg Config) (*Radio, error) {
	if cfg.Source == nil {
		return nil, errors.New("forever: Config.Source is nil")
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = source.DefaultCacheDir()
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = time.Minute
	}
	if cfg.Bitrate == 0 {
		cfg.Bitrate = 128
	}
	if cfg.Name == "" {
		cfg.Name = "forever"
	}
	if cfg.Description == "" {
		cfg.Description = "an endless, beat-matched mix"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Radio{cfg: cfg, log: log, pcm: newPCMPipe()}

	so := cfg.Stream
	so.NewEncoder = func(w io.Writer, bitrate int) (stream.Encoder, error) {
		return lame.NewEncoder(w, lame.Options{Bitrate: bitrate})
	}
	so.Outputs = []stream.Output{{Name: "all", Bitrate: cfg.Bitrate}}
	so.Name, so.Description = cfg.Name, cfg.Description
	so.Logger, so.Registry, so.MonitorToken = log, cfg.Registry, cfg.MonitorToken
	st, err := stream.New(r.pcm, so)
	if err != nil {
		return nil, fmt.Errorf("forever: %w", err)
	}
	r.station = st

	var reg prometheus.Registerer
	if cfg.Registry != nil {
		reg = cfg.Registry
	}
	m := newMetrics(reg)
	r.order = &order.Generator{
		Logger:  log,
		OnSolve: func(n int, took time.Duration) { m.solve.Observe(took.Seconds()) },
	}
	r.lib = &library{
		src:    cfg.Source,
		cache:  &source.Cache{Dir: cfg.CacheDir, Logger: log},
		order:  r.order,
		rescan: cfg.Rescan,
		log:    log,
		m:      m,
		event:  cfg.OnEvent,
	}
	mo := cfg.Mixer
	if mo.Logger == nil {
		mo.Logger = log
	}
	r.mixer = mix.New(mo)
	return r, nil
}

func (r *Radio) emit(e Event) {
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(e)
	}
}

// Run plays until ctx is done, then stops everything it started and
// returns. The station sends silence until the first tracks are ready,
// so a listener who connects early is not turned away. Run returns nil
// when ctx ends, else the error that stopped the station.
func (r *Radio) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	goRun := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	stationDone := make(chan error, 1)
	goRun(func() { stationDone <- r.station.Run(ctx) })
	goRun(func() { r.lib.run(ctx) })
	if err := r.relays(ctx, goRun); err != nil {
		return err
	}

	tracks := make(chan *mix.Track, 1)
	goRun(func() { r.feed(ctx, tracks) })

	player := mix.NewPlayer(ctx, r.planned(r.mixer.Actions(ctx, mix.Tracks(ctx, tracks))), mix.PlayerOptions{
		Live:    true,
		Logger:  r.log,
		OnStart: r.started,
	})
	r.pcm.set(player)
	// The player's planner stops only once the mixer sees ctx done: cancel
	// before waiting for it, whichever way Run returns.
	defer func() {
		cancel()
		player.Close()
	}()
	err := <-stationDone
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// planned reports each action the mixer makes as it is made.
func (r *Radio) planned(actions func(yield func(mix.Action) bool)) func(yield func(mix.Action) bool) {
	return func(yield func(mix.Action) bool) {
		for a := range actions {
			r.emit(Event{Kind: TransitionPlanned, Info: a.Info()})
			if !yield(a) {
				return
			}
		}
	}
}

// started is the player's OnStart: the action is heard now.
func (r *Radio) started(info mix.Info) {
	r.station.Announce(stationAction(info))
	r.mu.Lock()
	// The queue's tracks up to the last one of this action are on air.
	if n := len(info.Tracks); n > 0 {
		id := info.Tracks[n-1].ID
		for i, s := range r.queue {
			if s.ID == id {
				r.queue = r.queue[i+1:]
				break
			}
		}
	}
	r.onAir, r.onAirT = info, time.Now()
	r.mu.Unlock()
	r.emit(Event{Kind: OnAir, Info: info})
}

// relays starts the outputs that hand the stream on to other servers.
func (r *Radio) relays(ctx context.Context, goRun func(func())) error {
	if r.cfg.IcecastURL != "" {
		sub, err := r.station.Subscribe("all")
		if err != nil {
			return err
		}
		ic := &icecast.Source{
			URL:         r.cfg.IcecastURL,
			Password:    r.cfg.IcecastPassword,
			Name:        r.cfg.Name,
			Description: r.cfg.Description,
			Bitrate:     r.cfg.Bitrate,
			Logger:      r.log,
			Report:      r.station.Relay("icecast"),
		}
		goRun(func() { ic.Run(ctx, sub) })
	}
	if r.cfg.HLSDir != "" {
		if err := os.MkdirAll(r.cfg.HLSDir, 0o755); err != nil {
			return fmt.Errorf("forever: HLS: %w", err)
		}
		sub, err := r.station.Subscribe("all")
		if err != nil {
			return err
		}
		w := &hls.Writer{Dir: r.cfg.HLSDir, Logger: r.log, Report: r.station.Relay("hls")}
		goRun(func() { w.Run(ctx, sub) })
	}
	return nil
}

// feed sends the mixer one decoded, analysed track at a time, in the order
// the generator chooses. A track that cannot be decoded is dropped and
// the next one taken: one bad file never stops the radio.
func (r *Radio) feed(ctx context.Context, out chan<- *mix.Track) {
	defer close(out)
	for {
		if err := r.lib.waitReady(ctx); err != nil {
			return
		}
		next, err := r.order.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("choosing the next track", "err", err)
			sleepOrDone(ctx, time.Second)
			continue
		}
		t, ok := r.lib.track(next.ID)
		if !ok {
			continue
		}
		a, pcm, err := r.lib.cache.Analysis(ctx, t, analysis.Analyze)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("skipping track", "track", t.Source, "err", err)
			r.emit(Event{Kind: TrackFailed, Track: t, Err: err})
			r.lib.drop(t.ID)
			continue
		}
		mt := &mix.Track{ID: t.ID, Title: t.Title, Artist: t.Artist, Source: t.Source, Analysis: a, Audio: pcm}
		select {
		case out <- mt:
			r.mu.Lock()
			r.queue = append(r.queue, mix.Span{ID: t.ID, Title: t.Title, Artist: t.Artist, Source: t.Source,
				Tempo: a.Tempo, Key: a.Key, Mode: a.Mode})
			r.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// Handler serves the radio: the page at /, the stream at all.mp3, its
// description at all.json, the websocket at info, next.json, /monitor,
// /metrics and, with HLSDir, hls/. Its links are relative, so it can be
// mounted under a prefix with http.StripPrefix.
func (r *Radio) Handler() http.Handler {
	mux := http.NewServeMux()
	st := r.station.Handler()
	for _, p := range []string{"/all.mp3", "/all.json", "/info", "/monitor", "/metrics"} {
		mux.Handle(p, st)
	}
	mux.HandleFunc("GET /next.json", r.serveNext)
	if r.cfg.HLSDir != "" {
		mux.Handle("/hls/", http.StripPrefix("/hls", hls.Handler(r.cfg.HLSDir)))
	}
	mux.Handle("/", page.Handler())
	return mux
}

// State is a snapshot of a Radio, for pages and tests.
type State struct {
	// Ready is whether enough tracks are analysed for the mix to play.
	Ready bool `json:"ready"`
	// Listed counts the tracks of the latest listing, Playable those
	// analysed and playable.
	Listed   int `json:"listed"`
	Playable int `json:"playable"`
	// OnAir is the action heard now (zero before the first).
	OnAir mix.Info `json:"on_air"`
	// Next is what will air after it, in order: the tracks the mixer has
	// already been given, then the order's plan.
	Next []stream.TrackInfo `json:"next"`
}

// State returns a snapshot of the radio. Asking the order for its plan
// may take a solve: ctx bounds it (the plan is then left out).
func (r *Radio) State(ctx context.Context) State {
	s := State{Ready: r.lib.isReady()}
	s.Listed, s.Playable = r.lib.counts()
	r.mu.Lock()
	s.OnAir = r.onAir
	queued := make([]stream.TrackInfo, 0, len(r.queue))
	for _, q := range r.queue {
		queued = append(queued, spanInfo(q))
	}
	r.mu.Unlock()
	s.Next = queued
	seen := map[string]bool{}
	for _, q := range queued {
		seen[q.ID] = true
	}
	if plan, err := r.order.Upcoming(ctx, 10); err == nil {
		for _, p := range plan {
			t, ok := r.lib.track(p.ID)
			if !ok || seen[p.ID] {
				continue
			}
			s.Next = append(s.Next, trackInfo(t, p.Analysis))
		}
	}
	return s
}

// serveNext lists what will air, in order, for the page's "coming up".
func (r *Radio) serveNext(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(r.State(ctx).Next)
}

// stationAction describes a mixer action for the station.
func stationAction(info mix.Info) stream.Action {
	a := stream.Action{Kind: string(info.Kind), Start: info.Start, Frames: int64(info.Frames)}
	for _, s := range info.Tracks {
		a.Tracks = append(a.Tracks, spanInfo(s))
	}
	return a
}

// spanInfo describes a span's track for listeners: a span carries its
// track's tempo and key from the analysis.
func spanInfo(s mix.Span) stream.TrackInfo {
	return stream.TrackInfo{
		ID: s.ID, Title: s.Title, Artist: s.Artist, Source: publicSource(s.ID, s.Source),
		Tempo: s.Tempo, Key: analysis.KeyName(s.Key, s.Mode),
	}
}

func trackInfo(t source.Track, a *analysis.Analysis) stream.TrackInfo {
	ti := stream.TrackInfo{ID: t.ID, Title: t.Title, Artist: t.Artist, Source: publicSource(t.ID, t.Source)}
	if a != nil {
		ti.Tempo = a.Tempo
		ti.Key = analysis.KeyName(a.Key, a.Mode)
	}
	return ti
}

// pcmPipe lets the station be made, and its handlers mounted, before the
// player that feeds it exists: Read waits for the player.
type pcmPipe struct {
	once  sync.Once
	ready chan struct{}
	p     *mix.Player
}

func newPCMPipe() *pcmPipe { return &pcmPipe{ready: make(chan struct{})} }

func (pp *pcmPipe) set(p *mix.Player) {
	pp.once.Do(func() {
		pp.p = p
		close(pp.ready)
	})
}

func (pp *pcmPipe) Read(dst []float32) (int, error) {
	<-pp.ready
	return pp.p.Read(dst)
}

// publicSource is what listeners are told of where a track came from: a
// URL as it is, but for a local file only its ID (its path inside the
// music folder), never where the server keeps it.
func publicSource(id, src string) string {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return src
	}
	return id
}
