package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio/lame"
	"github.com/foreverfm/forever/internal/page"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/source"
	"github.com/foreverfm/forever/source/demo"
	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/hls"
	"github.com/foreverfm/forever/stream/icecast"
	"github.com/foreverfm/forever/tsp/order"
)

func init() {
	commands["serve"] = command{
		summary: "serve the radio (the default command)",
		run:     runServe,
	}
}

type serveConfig struct {
	music        string
	recursive    bool
	addr         string
	bitrate      int
	cacheDir     string
	monitorToken string
	rescan       time.Duration
	icecast      string
	icecastPass  string
	hlsDir       string
}

func runServe(ctx context.Context, args []string) error {
	var c serveConfig
	fl := flag.NewFlagSet("radio serve", flag.ContinueOnError)
	fl.StringVar(&c.music, "music", "", "play the audio files of this `folder` (default: the built-in demo catalogue)")
	fl.BoolVar(&c.recursive, "r", true, "include the folder's subfolders")
	fl.StringVar(&c.addr, "addr", "localhost:8000", "listen on `host:port`")
	fl.IntVar(&c.bitrate, "bitrate", 128, "MP3 bitrate in `kb/s`")
	fl.StringVar(&c.cacheDir, "cache", source.DefaultCacheDir(), "keep analyses in `dir`")
	fl.StringVar(&c.monitorToken, "monitor-token", os.Getenv("FOREVER_MONITOR_TOKEN"), "require this `token` for /monitor (default: loopback clients only)")
	fl.DurationVar(&c.rescan, "rescan", time.Minute, "look for new music this often")
	fl.StringVar(&c.icecast, "icecast", "", "also push the stream to this Icecast2 mount `URL` (e.g. http://localhost:8001/forever.mp3)")
	fl.StringVar(&c.icecastPass, "icecast-password", os.Getenv("FOREVER_ICECAST_PASSWORD"), "Icecast source `password`")
	fl.StringVar(&c.hlsDir, "hls", "", "also write an HLS playlist and segments into `dir`, served at /hls/")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}

	var src source.Source = demo.Source{}
	if c.music != "" {
		if fi, err := os.Stat(c.music); err != nil {
			return err
		} else if !fi.IsDir() {
			return fmt.Errorf("-music %s: not a folder", c.music)
		}
		// Settle: a file still being copied in is picked up at a later scan.
		src = source.Folder{Dir: c.music, Recursive: c.recursive, Settle: 10 * time.Second}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	r, err := newRadio(src, c)
	if err != nil {
		ln.Close()
		return err
	}
	srv := stream.NewServer(c.addr, r.handler())

	errc := make(chan error, 2)
	go func() { errc <- r.run(ctx) }()
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("forever is on air: open http://%s/\n", displayAddr(ln.Addr()))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	if runErr != nil && !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, http.ErrServerClosed) {
		return runErr
	}
	return nil
}

// displayAddr is addr as a person would type it in a browser: a wildcard
// listen address is reachable as localhost.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// radio is the whole chain: a library of analysed tracks, the order that
// picks the next one, the mixer and its player, and the station.
type radio struct {
	cfg     serveConfig
	lib     *library
	order   *order.Generator
	mixer   *mix.Mixer
	station *stream.Station
	pcm     *pcmPipe
	log     *slog.Logger
}

func newRadio(src source.Source, c serveConfig) (*radio, error) {
	log := slog.Default()
	r := &radio{cfg: c, log: log, pcm: newPCMPipe()}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st, err := stream.New(r.pcm, stream.Options{
		Registry: reg,
		NewEncoder: func(w io.Writer, bitrate int) (stream.Encoder, error) {
			return lame.NewEncoder(w, lame.Options{Bitrate: bitrate})
		},
		Outputs:      []stream.Output{{Name: "all", Bitrate: c.bitrate}},
		Description:  "an endless, beat-matched mix",
		MonitorToken: c.monitorToken,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	r.station = st
	m := newMetrics(reg)
	r.order = &order.Generator{
		Logger:  log,
		OnSolve: func(n int, took time.Duration) { m.solve.Observe(took.Seconds()) },
	}
	r.lib = &library{
		src:    src,
		cache:  &source.Cache{Dir: c.cacheDir, Logger: log},
		order:  r.order,
		rescan: c.rescan,
		log:    log,
		m:      m,
	}
	r.mixer = mix.New(mix.Options{Logger: log})
	return r, nil
}

// run plays until ctx is done. The station starts at once and sends
// silence until the first track is ready, so a listener who connects early
// is not turned away.
func (r *radio) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stationDone := make(chan error, 1)
	go func() { stationDone <- r.station.Run(ctx) }()
	go r.lib.run(ctx)
	if err := r.relays(ctx); err != nil {
		return err
	}

	tracks := make(chan *mix.Track, 1)
	go r.feed(ctx, tracks)

	player := mix.NewPlayer(ctx, r.mixer.Actions(ctx, mix.Tracks(ctx, tracks)), mix.PlayerOptions{
		Live:    true,
		Logger:  r.log,
		OnStart: func(info mix.Info) { r.station.Announce(stationAction(info)) },
	})
	r.pcm.set(player)
	// The player's planner stops only once the mixer sees ctx done: cancel
	// before waiting for it, whichever way run returns.
	defer func() {
		cancel()
		player.Close()
	}()
	return <-stationDone
}

// relays starts the outputs that hand the stream on to other servers.
func (r *radio) relays(ctx context.Context) error {
	if r.cfg.icecast != "" {
		sub, err := r.station.Subscribe("all")
		if err != nil {
			return err
		}
		ic := &icecast.Source{
			URL:         r.cfg.icecast,
			Password:    r.cfg.icecastPass,
			Name:        "forever",
			Description: "an endless, beat-matched mix",
			Bitrate:     r.cfg.bitrate,
			Logger:      r.log,
			Report:      r.station.Relay("icecast"),
		}
		go ic.Run(ctx, sub)
	}
	if r.cfg.hlsDir != "" {
		if err := os.MkdirAll(r.cfg.hlsDir, 0o755); err != nil {
			return err
		}
		sub, err := r.station.Subscribe("all")
		if err != nil {
			return err
		}
		go (&hls.Writer{Dir: r.cfg.hlsDir, Logger: r.log, Report: r.station.Relay("hls")}).Run(ctx, sub)
	}
	return nil
}

// feed sends the mixer one decoded, analysed track at a time, in the order
// the generator chooses. A track that cannot be decoded is blacklisted and
// the next one taken: one bad file never stops the radio.
func (r *radio) feed(ctx context.Context, out chan<- *mix.Track) {
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
			r.lib.drop(t.ID)
			continue
		}
		mt := &mix.Track{ID: t.ID, Title: t.Title, Artist: t.Artist, Source: t.Source, Analysis: a, Audio: pcm}
		select {
		case out <- mt:
		case <-ctx.Done():
			return
		}
	}
}

func (r *radio) handler() http.Handler {
	mux := http.NewServeMux()
	st := r.station.Handler()
	for _, p := range []string{"/all.mp3", "/all.json", "/info", "/monitor", "/metrics"} {
		mux.Handle(p, st)
	}
	mux.HandleFunc("GET /next.json", r.serveNext)
	if r.cfg.hlsDir != "" {
		mux.Handle("/hls/", http.StripPrefix("/hls", hls.Handler(r.cfg.hlsDir)))
	}
	mux.Handle("/", page.Handler())
	return mux
}

// serveNext lists the tracks the order will play next, for the page's
// "coming up": the station knows actions only once the mixer has made them.
func (r *radio) serveNext(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	plan, err := r.order.Upcoming(ctx, 10)
	if err != nil && !errors.Is(err, order.ErrNoTracks) {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	out := make([]stream.TrackInfo, 0, len(plan))
	for _, p := range plan {
		t, ok := r.lib.track(p.ID)
		if !ok {
			continue
		}
		out = append(out, trackInfo(t.ID, t.Title, t.Artist, t.Source, p.Analysis))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// stationAction describes a mixer action for the station.
func stationAction(info mix.Info) stream.Action {
	a := stream.Action{
		Kind:   string(info.Kind),
		Start:  info.Start,
		Frames: int64(info.Frames),
	}
	for _, s := range info.Tracks {
		// A span carries its track's tempo and key from the analysis.
		a.Tracks = append(a.Tracks, stream.TrackInfo{
			ID: s.ID, Title: s.Title, Artist: s.Artist, Source: publicSource(s.ID, s.Source),
			Tempo: s.Tempo, Key: analysis.KeyName(s.Key, s.Mode),
		})
	}
	return a
}

func trackInfo(id, title, artist, src string, a *analysis.Analysis) stream.TrackInfo {
	ti := stream.TrackInfo{ID: id, Title: title, Artist: artist, Source: publicSource(id, src)}
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
