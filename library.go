package forever

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/source"
	"github.com/foreverfm/forever/tsp/order"
	"github.com/prometheus/client_golang/prometheus"
)

// library keeps the radio's catalogue analysed: it lists the source now and
// then, analyses what is new (through the cache, so each piece of music is
// analysed once), and hands the analysed tracks to the order.
type library struct {
	src    source.Source
	cache  *source.Cache
	order  *order.Generator
	rescan time.Duration
	log    *slog.Logger
	m      *metrics
	// event, if set, is told of each track made ready or skipped.
	event func(Event)

	mu       sync.Mutex
	listed   int                     // tracks in the latest listing
	tried    map[string]string       // cache key of what was analysed or failed, by ID
	tracks   map[string]source.Track // playable, by ID
	analyses map[string]*analysis.Analysis
	ready    chan struct{} // closed once enough tracks can be played
}

// readyTracks is how many analysed tracks the radio waits for before it
// starts to play, so that the first transitions have a real choice instead
// of repeating the first track while the rest are being analysed.
const readyTracks = 4

func (l *library) init() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready == nil {
		l.ready = make(chan struct{})
		l.tried = map[string]string{}
		l.tracks = map[string]source.Track{}
		l.analyses = map[string]*analysis.Analysis{}
	}
}

// run lists and analyses until ctx is done.
func (l *library) run(ctx context.Context) {
	l.init()
	warned := false
	for {
		l.scan(ctx)
		// Until something can play, look again soon: files still being
		// copied in are left out of a listing until they settle, and a
		// listener is waiting.
		wait := l.rescan
		select {
		case <-l.ready:
		default:
			wait = min(wait, 2*time.Second)
			if !warned {
				l.log.Warn("no playable tracks yet; looking again every 2 s")
				warned = true
			}
		}
		if !sleepOrDone(ctx, wait) {
			return
		}
	}
}

func (l *library) scan(ctx context.Context) {
	list, err := l.src.Tracks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("listing tracks", "err", err)
		}
		return
	}
	// A track is (re)analysed when it is new or its audio changed, which
	// its cache key tells without reading it again. Tracks that left the
	// listing leave the catalogue.
	listed := make(map[string]bool, len(list))
	var todo []source.Track
	for _, t := range list {
		listed[t.ID] = true
		l.mu.Lock()
		prev, seen := l.tried[t.ID]
		l.mu.Unlock()
		if !seen {
			// New: no key needed yet (the first one hashes the whole
			// file, which analysis does anyway).
			todo = append(todo, t)
			continue
		}
		// An empty key means only the decoded audio could tell: such
		// tracks (streams, renders) are taken as unchanged once seen.
		if key, err := l.cache.Key(ctx, t); err != nil || (prev != "" && key != prev) {
			todo = append(todo, t)
		}
	}
	l.mu.Lock()
	l.listed = len(list)
	gone := 0
	for id := range l.tried {
		if !listed[id] {
			delete(l.tried, id)
			delete(l.tracks, id)
			delete(l.analyses, id)
			gone++
		}
	}
	l.mu.Unlock()
	if gone > 0 {
		l.log.Info("tracks gone from the source", "count", gone)
		l.publish()
	}
	if len(todo) > 0 {
		l.log.Info("analysing tracks", "new", len(todo), "listed", len(list))
	}

	work := make(chan source.Track)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				l.analyse(ctx, t)
			}
		}()
	}
	for _, t := range todo {
		select {
		case work <- t:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	l.checkReady()
}

func (l *library) analyse(ctx context.Context, t source.Track) {
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	a, err := l.cache.Ensure(ctx, t, analysis.Analyze)
	if ctx.Err() != nil {
		return
	}
	key, _ := l.cache.Key(ctx, t) // after Ensure, a local file's key costs a stat
	l.mu.Lock()
	l.tried[t.ID] = key
	l.mu.Unlock()
	if err != nil {
		l.log.Warn("skipping track", "track", t.Source, "err", err)
		l.m.failed.Inc()
		l.emit(Event{Kind: TrackFailed, Track: t, Err: err})
		l.mu.Lock()
		delete(l.tracks, t.ID)
		delete(l.analyses, t.ID)
		l.mu.Unlock()
		l.publish()
		l.checkReady()
		return
	}
	l.m.analysed.Inc()
	l.emit(Event{Kind: TrackReady, Track: t})
	l.log.Info("track ready", "track", t.Source, "tempo", round1(a.Tempo), "key", analysis.KeyName(a.Key, a.Mode),
		"took", time.Since(start).Round(time.Millisecond))
	l.mu.Lock()
	l.tracks[t.ID] = t
	l.analyses[t.ID] = a
	l.mu.Unlock()
	l.publish()
	l.checkReady()
}

func (l *library) emit(e Event) {
	if l.event != nil {
		l.event(e)
	}
}

// counts returns how many tracks were listed and how many can play.
func (l *library) counts() (listed, ready int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.listed, len(l.tracks)
}

// isReady reports whether the radio has enough tracks to play.
func (l *library) isReady() bool {
	l.init()
	select {
	case <-l.ready:
		return true
	default:
		return false
	}
}

// publish gives the order the current set of playable tracks.
func (l *library) publish() {
	l.mu.Lock()
	cands := make([]order.Track, 0, len(l.tracks))
	for id, t := range l.tracks {
		cands = append(cands, order.Track{ID: id, Analysis: l.analyses[id], Tags: t.Tags})
	}
	l.mu.Unlock()
	l.order.SetCandidates(cands)
}

// checkReady opens the gate once enough tracks are playable, or once every
// listed track has been tried and at least one can play.
func (l *library) checkReady() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.ready:
		return
	default:
	}
	n := len(l.tracks)
	if n >= readyTracks || (n > 0 && len(l.tried) >= l.listed) {
		close(l.ready)
	}
}

// waitReady blocks until the library can feed the mixer.
func (l *library) waitReady(ctx context.Context) error {
	l.init()
	select {
	case <-l.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// track returns the playable track with the given ID.
func (l *library) track(id string) (source.Track, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.tracks[id]
	return t, ok
}

// drop takes a track that failed to play out of the catalogue until it
// changes (its key stays tried, so it is not analysed again before then).
func (l *library) drop(id string) {
	l.mu.Lock()
	delete(l.tracks, id)
	delete(l.analyses, id)
	l.mu.Unlock()
	l.publish()
}

func sleepOrDone(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }

// metrics are the radio's own Prometheus metrics, beside the station's.
type metrics struct {
	analysed prometheus.Counter
	failed   prometheus.Counter
	solve    prometheus.Histogram
}

// newMetrics makes the metrics and registers them on reg unless it is nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		analysed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_tracks_analysed_total",
			Help: "Tracks analysed (or found in the analysis cache) and ready to play.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forever_tracks_failed_total",
			Help: "Tracks skipped because they could not be decoded or analysed.",
		}),
		solve: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "forever_tsp_solve_seconds",
			Help:    "Time taken to order the catalogue (travelling-salesman solve).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.analysed, m.failed, m.solve)
	}
	return m
}
