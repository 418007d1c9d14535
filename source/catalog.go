package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/fsnotify/fsnotify"
)

// Catalog keeps a radio's catalogue analysed: it lists its Source on a
// period and whenever a watched folder changes in between, analyses what
// is new through the Cache, and hands out the tracks that can be mixed
// with a compact summary of each, so that a large library does not keep
// every full analysis in memory.
//
// What fails is remembered with its reason and the state of its content
// (a local file's size and modification time, or a Fingerprint) and tried
// again as soon as the content changes, or after a backoff that doubles
// up to MaxBackoff, MaxRetries times. A track that leaves the listing is
// forgotten, so one that comes back (a remounted disk, a folder moved
// away and back) is a candidate again at once. Each failure is logged
// once, and again only when its reason changes.
//
// Rescanning an unchanged folder costs the listing and a stat per file.
//
// Set the fields before Run; a Catalog must not be copied after first use.
type Catalog struct {
	Source  Source
	Cache   *Cache
	Analyze Analyzer // nil means analysis.Analyze

	// Rescan is the period between listings (default 1 minute). Changes in
	// the watched folders trigger a listing in between.
	Rescan time.Duration
	// Watch names folders watched with fsnotify; a Folder or *Folder
	// Source's Dir is watched too, with the folders its tracks are in.
	Watch []string
	// MinSeconds is the shortest track worth mixing: shorter ones are
	// skipped (and not counted as ready) until their file changes.
	MinSeconds float64
	// MemoryBudget bounds the estimated memory of the analyses running at
	// once, in bytes (default 512 MiB). An analysis is estimated from the
	// track's duration, or its file's size, as its decoded float32 audio
	// twice over; one that alone exceeds the budget runs by itself.
	MemoryBudget int64
	// Backoff is the wait before a failed track is tried again (default
	// 30 s), doubled at each further failure up to MaxBackoff (default 1
	// hour). After MaxRetries retries (default 6) the track waits for its
	// content to change or for it to leave the listing and come back.
	Backoff    time.Duration
	MaxBackoff time.Duration
	MaxRetries int
	// Logger receives a line per track made ready and per failure; nil
	// means quiet.
	Logger *slog.Logger
	// OnChange, if set, is called (from the catalogue's goroutines, never
	// under its lock) after the set of ready tracks changes.
	OnChange func()

	mu        sync.Mutex
	inited    bool
	src       Source
	memo      *FolderMemo // the Folder source's, when it is one
	listed    map[string]Track
	order     []string // listing order
	entries   map[string]*catEntry
	queue     []string
	queued    map[string]bool
	running   int
	used      int64
	kick      chan struct{} // wakes the dispatcher
	rescanNow chan struct{}
	readyCh   chan struct{}
	readyN    int
	waiters   []waiter
	scans     int
	lastScan  time.Time
	scanTook  time.Duration
	listErr   string
	analysed  int
}

type waiter struct {
	n  int
	ch chan struct{}
}

// catEntry is what the catalogue knows of one listed track.
type catEntry struct {
	stat     string // content state when last tried
	summary  *Summary
	failure  *Failure
	inflight bool
}

// Failure says why a track is not ready.
type Failure struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	Reason   string    `json:"reason"`
	Since    time.Time `json:"since"`    // first failure with this reason
	Attempts int       `json:"attempts"` // failures with this reason in a row
	// Retry is when the track will be tried again; zero means only when
	// its content changes.
	Retry time.Time `json:"retry,omitzero"`
}

// Summary is what an order needs of a track's analysis: a few hundred
// bytes in place of the analysis's hundreds of kilobytes.
type Summary struct {
	Key           string      `json:"key,omitempty"` // the Cache key of the full analysis
	Duration      float64     `json:"duration"`
	SampleRate    int         `json:"sample_rate"`
	Tempo         float64     `json:"tempo"`
	TimeSignature int         `json:"time_signature"`
	Key12         int         `json:"key12"`
	KeyConfidence float64     `json:"key_confidence"`
	Mode          int         `json:"mode"`
	Loudness      float64     `json:"loudness"`
	Energy        float64     `json:"energy"`
	Danceability  float64     `json:"danceability"`
	TimbreMean    [12]float64 `json:"timbre_mean"`
	TimbreSD      [12]float64 `json:"timbre_sd"`
	Tags          []string    `json:"tags,omitempty"`
}

// Summarize reduces a to its Summary.
func Summarize(a *analysis.Analysis, tags []string) Summary {
	s := Summary{
		Duration: a.Duration, SampleRate: a.SampleRate, Tempo: a.Tempo, TimeSignature: a.TimeSignature,
		Key12: a.Key, KeyConfidence: a.KeyConfidence, Mode: a.Mode,
		Loudness: a.Loudness, Energy: a.Energy, Danceability: a.Danceability, Tags: tags,
	}
	var total float64
	for _, g := range a.Segments {
		if w := g.Duration; w > 0 {
			total += w
			for k, v := range g.Timbre {
				s.TimbreMean[k] += w * v
			}
		}
	}
	if total > 0 && !math.IsInf(total, 0) {
		for k := range s.TimbreMean {
			s.TimbreMean[k] /= total
		}
		for _, g := range a.Segments {
			if w := g.Duration; w > 0 {
				for k, v := range g.Timbre {
					d := v - s.TimbreMean[k]
					s.TimbreSD[k] += w * d * d
				}
			}
		}
		for k := range s.TimbreSD {
			s.TimbreSD[k] = math.Sqrt(s.TimbreSD[k] / total)
		}
	}
	return s
}

// Analysis returns a compact analysis carrying the summary, for code that
// orders by *analysis.Analysis (tsp/order): no beats, bars or sections,
// and two segments of equal length whose timbres are the mean plus and
// minus the standard deviation, so that their duration-weighted mean and
// standard deviation are the track's.
func (s Summary) Analysis() *analysis.Analysis {
	a := &analysis.Analysis{
		Version: analysis.Version, Duration: s.Duration, SampleRate: s.SampleRate,
		Tempo: s.Tempo, TimeSignature: s.TimeSignature, Key: s.Key12, KeyConfidence: s.KeyConfidence,
		Mode: s.Mode, Loudness: s.Loudness, Energy: s.Energy, Danceability: s.Danceability,
	}
	if s.Duration > 0 {
		var lo, hi [12]float64
		for k := range lo {
			lo[k] = s.TimbreMean[k] - s.TimbreSD[k]
			hi[k] = s.TimbreMean[k] + s.TimbreSD[k]
		}
		half := s.Duration / 2
		a.Segments = []analysis.Segment{
			{Start: 0, Duration: half, Timbre: lo},
			{Start: half, Duration: half, Timbre: hi},
		}
	}
	return a
}

// ReadyTrack is a ready track and its summary.
type ReadyTrack struct {
	Track   Track
	Summary Summary
}

// CatalogState is a snapshot of the catalogue for monitoring.
type CatalogState struct {
	Listed    int       `json:"listed"`
	Ready     int       `json:"ready"`
	Pending   int       `json:"pending"`   // waiting for an analysis
	Analysing int       `json:"analysing"` // analyses running now
	Failed    int       `json:"failed"`
	Analysed  int       `json:"analysed"` // analyses completed since start
	Scans     int       `json:"scans"`
	LastScan  time.Time `json:"last_scan,omitzero"`
	ScanTook  float64   `json:"scan_seconds"`
	ListError string    `json:"list_error,omitempty"`
	// MemoryInUse is the estimated memory of the running analyses.
	MemoryInUse int64     `json:"memory_in_use"`
	Failures    []Failure `json:"failures,omitempty"`
	// Skipped names the entries a Folder source left out of its latest
	// listing, by path, with the reason.
	Skipped map[string]string `json:"skipped,omitempty"`
}

func (c *Catalog) init() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inited {
		return
	}
	c.inited = true
	c.src = c.Source
	// A Folder relisted with a memo costs a stat per unchanged file and
	// names each skipped entry once.
	switch f := c.Source.(type) {
	case Folder:
		if f.Memo == nil {
			f.Memo = &FolderMemo{}
		}
		c.src, c.memo = f, f.Memo
	case *Folder:
		if f.Memo == nil {
			g := *f
			g.Memo = &FolderMemo{}
			f = &g
		}
		c.src, c.memo = f, f.Memo
	}
	c.listed = map[string]Track{}
	c.entries = map[string]*catEntry{}
	c.queued = map[string]bool{}
	c.kick = make(chan struct{}, 1)
	c.rescanNow = make(chan struct{}, 1)
	c.readyCh = make(chan struct{})
}

func (c *Catalog) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault[T int | int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// Run lists, watches and analyses until ctx ends, and returns ctx.Err().
func (c *Catalog) Run(ctx context.Context) error {
	c.init()
	if c.Source == nil || c.Cache == nil {
		return errors.New("source: catalog needs a Source and a Cache")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); c.dispatch(ctx, &wg) }()

	w, err := fsnotify.NewWatcher()
	var events <-chan fsnotify.Event
	var werrs <-chan error
	if err != nil {
		c.log().Warn("source: cannot watch folders; rescanning on a period only", "err", err)
	} else {
		defer w.Close()
		events, werrs = w.Events, w.Errors
	}
	period := orDefault(c.Rescan, time.Minute)
	var debounce <-chan time.Time
	for {
		c.scan(ctx, w)
		wait := period
		if c.readyCount() == 0 {
			wait = min(wait, 2*time.Second) // a listener may be waiting
		}
		timer := time.NewTimer(wait)
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			case <-timer.C:
				break wait
			case <-c.rescanNow:
				timer.Stop()
				break wait
			case <-debounce:
				timer.Stop()
				debounce = nil
				break wait
			case ev := <-events:
				// Files are written in many steps; list once they pause.
				if ev.Op != fsnotify.Chmod && debounce == nil {
					debounce = time.After(300 * time.Millisecond)
				}
			case err := <-werrs:
				c.log().Debug("source: folder watch", "err", err)
			}
		}
	}
}

// RescanNow asks Run to list the source again at once.
func (c *Catalog) RescanNow() {
	c.init()
	select {
	case c.rescanNow <- struct{}{}:
	default:
	}
}

// statOf is the cheap state of t's content: a local file's size and
// modification time, else its Fingerprint. "" means it cannot be told
// without decoding, and the track is taken as unchanged once tried.
func statOf(t Track) string {
	if filepath.IsAbs(t.Source) {
		if fi, err := os.Stat(t.Source); err == nil && fi.Mode().IsRegular() {
			return "f" + strconv.FormatInt(fi.Size(), 10) + ":" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
		} else if err != nil {
			return "missing"
		}
	}
	if t.Fingerprint != "" {
		return "p" + t.Fingerprint
	}
	return ""
}

func (c *Catalog) watchDirs(list []Track) []string {
	dirs := slices.Clone(c.Watch)
	// The folder's parent too, so that the folder itself coming back
	// (a remounted disk) is seen at once.
	switch f := c.src.(type) {
	case Folder:
		dirs = append(dirs, f.Dir, filepath.Dir(filepath.Clean(f.Dir)))
	case *Folder:
		dirs = append(dirs, f.Dir, filepath.Dir(filepath.Clean(f.Dir)))
	default:
		return dirs
	}
	for _, t := range list {
		if filepath.IsAbs(t.Source) {
			dirs = append(dirs, filepath.Dir(t.Source))
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

func (c *Catalog) scan(ctx context.Context, w *fsnotify.Watcher) {
	start := time.Now()
	list, err := c.src.Tracks(ctx)
	if ctx.Err() != nil {
		return
	}
	if w != nil {
		// Adding is idempotent, and re-adds a folder that was removed and
		// made again.
		watched := map[string]bool{}
		for _, d := range w.WatchList() {
			watched[d] = true
		}
		for _, d := range c.watchDirs(list) {
			if abs, err := filepath.Abs(d); err == nil && !watched[abs] && !watched[d] {
				_ = w.Add(abs)
			}
		}
	}
	c.mu.Lock()
	c.scans++
	c.lastScan = start
	if err != nil {
		if c.listErr != err.Error() {
			c.log().Warn("source: listing tracks", "err", err)
		}
		c.listErr = err.Error()
		c.scanTook = time.Since(start)
		c.mu.Unlock()
		return
	}
	c.listErr = ""
	now := time.Now()
	seen := make(map[string]bool, len(list))
	c.order = c.order[:0]
	changed := false
	for _, t := range list {
		if seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		c.order = append(c.order, t.ID)
		c.listed[t.ID] = t
		e := c.entries[t.ID]
		if e == nil {
			e = &catEntry{}
			c.entries[t.ID] = e
		}
		if e.inflight || c.queued[t.ID] {
			continue
		}
		st := statOf(t)
		switch {
		case e.summary == nil && e.failure == nil: // new
		case st != e.stat && !(st == "" && e.stat == ""): // changed
		case e.failure != nil && !e.failure.Retry.IsZero() && !now.Before(e.failure.Retry):
		default:
			if e.summary != nil {
				e.summary.Tags = t.Tags
			}
			continue
		}
		c.queue = append(c.queue, t.ID)
		c.queued[t.ID] = true
	}
	for id := range c.entries {
		if !seen[id] {
			if c.entries[id].summary != nil {
				changed = true
			}
			delete(c.entries, id)
			delete(c.listed, id)
		}
	}
	c.scanTook = time.Since(start)
	c.mu.Unlock()
	if changed {
		c.changed()
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// estimate is the memory an analysis of t is expected to take.
func estimate(t Track) int64 {
	const perSecond = 44100 * 2 * 4 // stereo float32
	secs := t.Duration
	if !(secs > 0) && filepath.IsAbs(t.Source) {
		if fi, err := os.Stat(t.Source); err == nil {
			// WAV is about 1:1 with 16-bit PCM (2:1 as float32), lossy
			// formats about 11:1.
			ratio := 22.0
			if FormatOf(t.Source) == "wav" {
				ratio = 2
			}
			return 2 * int64(float64(fi.Size())*ratio)
		}
	}
	if !(secs > 0) || secs > 1e6 {
		secs = 600
	}
	return 2 * int64(secs*perSecond)
}

// dispatch starts the queued analyses in listing order as the memory
// budget allows.
func (c *Catalog) dispatch(ctx context.Context, wg *sync.WaitGroup) {
	budget := orDefault(c.MemoryBudget, 512<<20)
	for {
		c.mu.Lock()
		for len(c.queue) > 0 {
			id := c.queue[0]
			t, ok := c.listed[id]
			e := c.entries[id]
			if !ok || e == nil {
				c.queue = c.queue[1:]
				delete(c.queued, id)
				continue
			}
			need := min(estimate(t), budget)
			if c.running > 0 && c.used+need > budget {
				break
			}
			c.queue = c.queue[1:]
			delete(c.queued, id)
			e.inflight = true
			c.running++
			c.used += need
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.analyse(ctx, t)
				c.mu.Lock()
				c.running--
				c.used -= need
				if e := c.entries[t.ID]; e != nil {
					e.inflight = false
				}
				c.mu.Unlock()
				select {
				case c.kick <- struct{}{}:
				default:
				}
			}()
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
	}
}

func (c *Catalog) analyse(ctx context.Context, t Track) {
	st := statOf(t)
	start := time.Now()
	s, err := c.summary(ctx, t)
	if ctx.Err() != nil {
		return
	}
	if err == nil && c.MinSeconds > 0 && s.Duration < c.MinSeconds {
		err = fmt.Errorf("source: %s: too short to mix (%.1f s, the least is %.1f s)", t.Source, s.Duration, c.MinSeconds)
		err = permanent{err}
	}
	c.mu.Lock()
	e := c.entries[t.ID]
	if e == nil { // left the listing meanwhile
		c.mu.Unlock()
		return
	}
	e.stat = st
	c.analysed++
	if err != nil {
		wasReady := e.summary != nil
		e.summary = nil
		c.fail(e, t, err)
		c.mu.Unlock()
		if wasReady {
			c.changed()
		}
		return
	}
	if e.failure != nil {
		c.log().Info("source: track recovered", "track", t.Source, "was", e.failure.Reason)
	}
	e.failure = nil
	s.Tags = t.Tags
	e.summary = &s
	c.mu.Unlock()
	c.log().Info("source: track ready", "track", t.Source, "tempo", math.Round(s.Tempo*10)/10,
		"key", analysis.KeyName(s.Key12, s.Mode), "took", time.Since(start).Round(time.Millisecond))
	c.changed()
}

// permanent marks failures that only a change of content can mend.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// fail records err for e; c.mu is held.
func (c *Catalog) fail(e *catEntry, t Track, err error) {
	now := time.Now()
	reason := err.Error()
	f := e.failure
	if f == nil || f.Reason != reason {
		f = &Failure{ID: t.ID, Source: t.Source, Reason: reason, Since: now}
		c.log().Warn("source: skipping track", "track", t.Source, "err", err)
	}
	f.Attempts++
	f.Retry = time.Time{}
	var p permanent
	if !errors.As(err, &p) && f.Attempts <= orDefault(c.MaxRetries, 6) {
		d := orDefault(c.Backoff, 30*time.Second) << (f.Attempts - 1)
		if maxB := orDefault(c.MaxBackoff, time.Hour); d > maxB || d <= 0 {
			d = maxB
		}
		f.Retry = now.Add(d)
	}
	e.failure = f
}

// summary returns t's summary: from the cache's summary file when there,
// else from the full analysis (made if need be), which is then dropped.
func (c *Catalog) summary(ctx context.Context, t Track) (Summary, error) {
	key, err := c.Cache.Key(ctx, t)
	if err != nil {
		return Summary{}, err
	}
	if key != "" {
		if s, ok := c.Cache.readSummary(key); ok {
			return s, nil
		}
	}
	analyze := c.Analyze
	if analyze == nil {
		analyze = analysis.Analyze
	}
	a, err := c.Cache.Ensure(ctx, t, analyze)
	if err != nil {
		return Summary{}, err
	}
	s := Summarize(a, nil)
	if key == "" {
		key, _ = c.Cache.Key(ctx, t)
	}
	s.Key = key
	if key != "" {
		c.Cache.writeSummary(key, s)
	}
	return s, nil
}

func (c *Cache) summaryPath(key string) string {
	k := key[max(0, len(key)-64):]
	return filepath.Join(c.Dir, "summaries", k[:2], k+".json")
}

func (c *Cache) readSummary(key string) (Summary, bool) {
	b, err := os.ReadFile(c.summaryPath(key))
	if err != nil {
		return Summary{}, false
	}
	var s Summary
	if json.Unmarshal(b, &s) != nil || s.Key != key || s.check() != nil {
		return Summary{}, false
	}
	return s, true
}

func (c *Cache) writeSummary(key string, s Summary) {
	s.Tags = nil
	b, err := json.Marshal(s)
	if err == nil {
		err = writeAtomic(c.summaryPath(key), b)
	}
	if err != nil {
		c.log().Warn("source: writing track summary", "key", key, "err", err)
	}
}

func (c *Catalog) readyCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readyLocked()
}

func (c *Catalog) readyLocked() int {
	n := 0
	for _, e := range c.entries {
		if e.summary != nil {
			n++
		}
	}
	return n
}

func (c *Catalog) changed() {
	c.mu.Lock()
	n := c.readyLocked()
	tried := true
	for _, e := range c.entries {
		if e.summary == nil && e.failure == nil {
			tried = false
			break
		}
	}
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if n >= w.n || (n > 0 && tried) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	c.mu.Unlock()
	if c.OnChange != nil {
		c.OnChange()
	}
}

// Wait blocks until n tracks are ready, or until every listed track has
// been tried and at least one is ready, or ctx ends.
func (c *Catalog) Wait(ctx context.Context, n int) error {
	c.init()
	c.mu.Lock()
	w := waiter{n: max(n, 1), ch: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	c.changed()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ready returns the ready tracks, in listing order.
func (c *Catalog) Ready() []ReadyTrack {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ReadyTrack, 0, len(c.order))
	for _, id := range c.order {
		if e := c.entries[id]; e != nil && e.summary != nil {
			out = append(out, ReadyTrack{Track: c.listed[id], Summary: *e.summary})
		}
	}
	return out
}

// Track returns the ready track with the given ID.
func (c *Catalog) Track(id string) (Track, bool) {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[id]; e != nil && e.summary != nil {
		return c.listed[id], true
	}
	return Track{}, false
}

// Analysis returns the full analysis of a ready track, from the cache (it
// analyses again only if the cache lost it), for the tracks being mixed.
func (c *Catalog) Analysis(ctx context.Context, id string) (*analysis.Analysis, error) {
	t, ok := c.Track(id)
	if !ok {
		return nil, fmt.Errorf("source: track %q is not in the catalogue", id)
	}
	analyze := c.Analyze
	if analyze == nil {
		analyze = analysis.Analyze
	}
	return c.Cache.Ensure(ctx, t, analyze)
}

// Fail takes a track that failed to play out of the ready set, with the
// same retries as a failed analysis.
func (c *Catalog) Fail(id string, err error) {
	c.init()
	c.mu.Lock()
	e := c.entries[id]
	if e == nil {
		c.mu.Unlock()
		return
	}
	e.summary = nil
	// A file that vanished is taken back as soon as it is there again.
	e.stat = statOf(c.listed[id])
	c.fail(e, c.listed[id], err)
	c.mu.Unlock()
	c.changed()
}

// State returns a snapshot for monitoring, failures sorted by ID.
func (c *Catalog) State() CatalogState {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := CatalogState{
		Listed: len(c.entries), Pending: len(c.queue), Analysing: c.running, Analysed: c.analysed,
		Scans: c.scans, LastScan: c.lastScan, ScanTook: c.scanTook.Seconds(), ListError: c.listErr,
		MemoryInUse: c.used,
	}
	if c.memo != nil {
		s.Skipped = c.memo.Skipped()
	}
	for _, e := range c.entries {
		switch {
		case e.summary != nil:
			s.Ready++
		case e.failure != nil:
			s.Failed++
			s.Failures = append(s.Failures, *e.failure)
		}
	}
	slices.SortFunc(s.Failures, func(a, b Failure) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return s
}
