package source

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// An Analyzer analyses decoded audio. analysis.Analyze is one.
type Analyzer func(ctx context.Context, p *audio.PCM) (*analysis.Analysis, error)

// Cache keeps track analyses on disk so that a radio analyses each piece of
// music once, not at every start.
//
// Entries are keyed by what the audio is, not where it lives, and by
// analysis.Version, so that an edited file or a new analysis algorithm
// means a new analysis while a renamed or copied file keeps its own:
//
//   - a track with a Fingerprint is keyed by it;
//   - a track whose Source is a local file is keyed by the SHA-256 of the
//     file's bytes. The hash of each file is remembered together with the
//     file's size and modification time, so an unchanged file is hashed
//     once, not at every lookup;
//   - any other track is keyed by the SHA-256 of its decoded samples, so it
//     must be decoded before its analysis can be found.
//
// Entries are written to a temporary file and renamed into place, so that
// readers, in this process or another, never see half an entry. An entry
// that cannot be read back (a crash, a full disk, a hand edit) is logged,
// ignored and rewritten. A cached analysis whose duration disagrees with
// the audio just decoded is treated as stale. Failing to write the cache
// is logged and otherwise ignored: the cache saves time, it is never the
// reason a track is not played.
//
// A Cache is safe for concurrent use; concurrent requests for the same
// audio analyse it once. Set the fields before first use.
type Cache struct {
	// Dir holds the entries: Dir/v<analysis version>/ab/<key>.json, and
	// Dir/files/ for the remembered hashes of local files.
	Dir string
	// MaxBytes bounds the size of the entries; when a write takes them
	// past it, the least recently used are removed, and with them the
	// entries of other analysis versions. 0 means no bound.
	MaxBytes int64
	// Logger receives warnings about corrupt entries and failed writes;
	// nil means slog.Default().
	Logger *slog.Logger

	mu      sync.Mutex
	flights map[string]*flight
	hashes  map[string]fileHash // by path: the disk memo, kept in memory too
	size    int64               // bytes of entries, once sized
	sized   bool
}

type flight struct {
	done chan struct{}
	a    *analysis.Analysis
	err  error
}

// entry is the JSON written for each cached analysis. The track fields are
// for people reading the cache, not for lookups.
type entry struct {
	Key             string             `json:"key"`
	AnalysisVersion int                `json:"analysis_version"`
	TrackID         string             `json:"track_id,omitempty"`
	Title           string             `json:"title,omitempty"`
	Source          string             `json:"source,omitempty"`
	Written         time.Time          `json:"written"`
	Analysis        *analysis.Analysis `json:"analysis"`
}

// fileHash is what the cache remembers about a local file.
type fileHash struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	SHA256  string `json:"sha256"`
}

func (c *Cache) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Analysis decodes t and returns its analysis, from the cache if there,
// otherwise by running analyze and storing the result. It returns the
// decoded audio too: a radio needs it to play the track.
//
// The returned Analysis may be shared with other callers and must not be
// modified.
func (c *Cache) Analysis(ctx context.Context, t Track, analyze Analyzer) (*analysis.Analysis, *audio.PCM, error) {
	p, err := open(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	key, err := c.key(ctx, t, p)
	if err != nil {
		return nil, nil, err
	}
	a, err := c.load(ctx, key, t, p, analyze)
	if err != nil {
		return nil, nil, err
	}
	return a, p, nil
}

// Ensure returns the analysis of t like Analysis, but decodes t only when
// its analysis is not cached (or when t has neither a Fingerprint nor a
// local file, so that its key needs the audio), and keeps no audio. It
// suits analysing a whole catalogue ahead of playing it.
func (c *Cache) Ensure(ctx context.Context, t Track, analyze Analyzer) (*analysis.Analysis, error) {
	key, err := c.key(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	if key == "" {
		a, _, err := c.Analysis(ctx, t, analyze)
		return a, err
	}
	return c.load(ctx, key, t, nil, analyze)
}

// Key returns the key under which t's analysis is stored: it changes
// exactly when the audio does (or analysis.Version does), so a radio that
// rescans its sources can compare keys to see which tracks changed,
// without reading any analysis. For a local file it costs a stat once the
// file has been hashed. It returns "" for tracks whose key needs their
// decoded audio (no Fingerprint and no local file).
func (c *Cache) Key(ctx context.Context, t Track) (string, error) {
	k, err := c.key(ctx, t, nil)
	if err != nil || k == "" {
		return "", err
	}
	return "v" + strconv.Itoa(analysis.Version) + ":" + k, nil
}

// Lookup returns the cached analysis of t, or nil if there is none or
// finding it would mean decoding t. It never analyses.
func (c *Cache) Lookup(ctx context.Context, t Track) (*analysis.Analysis, error) {
	key, err := c.key(ctx, t, nil)
	if err != nil || key == "" {
		return nil, err
	}
	return c.read(key, nil), nil
}

func open(ctx context.Context, t Track) (*audio.PCM, error) {
	if t.Open == nil {
		return nil, fmt.Errorf("source: track %q cannot be opened", t.ID)
	}
	p, err := t.Open(ctx)
	if err != nil {
		// Say which track, unless the source's error already does.
		if t.Source == "" || !strings.Contains(err.Error(), t.Source) {
			err = fmt.Errorf("source: track %q (%s): %w", t.ID, t.Source, err)
		}
		return nil, err
	}
	if p == nil || p.Frames() == 0 {
		return nil, fmt.Errorf("source: track %q (%s): no audio", t.ID, t.Source)
	}
	return p, nil
}

// load returns the analysis stored under key, or makes it: decoding t when
// p is nil, analysing, storing. Concurrent loads of one key share the work.
func (c *Cache) load(ctx context.Context, key string, t Track, p *audio.PCM, analyze Analyzer) (*analysis.Analysis, error) {
	if a := c.read(key, p); a != nil {
		return a, nil
	}
	for {
		c.mu.Lock()
		if f, ok := c.flights[key]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			// A leader that was cancelled says nothing about this caller's
			// chances: try again, leading if nobody else is.
			if f.err != nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue
			}
			return f.a, f.err
		}
		if c.flights == nil {
			c.flights = make(map[string]*flight)
		}
		f := &flight{done: make(chan struct{})}
		c.flights[key] = f
		c.mu.Unlock()

		f.a, f.err = c.make(ctx, key, t, p, analyze)

		c.mu.Lock()
		delete(c.flights, key)
		c.mu.Unlock()
		close(f.done)
		return f.a, f.err
	}
}

func (c *Cache) make(ctx context.Context, key string, t Track, p *audio.PCM, analyze Analyzer) (*analysis.Analysis, error) {
	// Another flight, or another process, may have finished meanwhile.
	if a := c.read(key, p); a != nil {
		return a, nil
	}
	if p == nil {
		var err error
		if p, err = open(ctx, t); err != nil {
			return nil, err
		}
	}
	a, err := analyze(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("source: analysing %s: %w", t.Source, err)
	}
	if err := CheckAnalysis(a); err != nil {
		return nil, fmt.Errorf("source: analysing %s: unusable analysis: %w", t.Source, err)
	}
	c.write(key, t, a)
	return a, nil
}

func (c *Cache) entryPath(key string) string {
	return filepath.Join(c.Dir, "v"+strconv.Itoa(analysis.Version), key[:2], key+".json")
}

// read returns the valid entry under key, or nil. With p, an entry whose
// duration disagrees with p's is stale.
func (c *Cache) read(key string, p *audio.PCM) *analysis.Analysis {
	path := c.entryPath(key)
	b, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log().Warn("source: unreadable analysis cache entry", "path", path, "err", err)
		}
		return nil
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		c.log().Warn("source: corrupt analysis cache entry, analysing again", "path", path, "err", err)
		return nil
	}
	if e.Key != key || e.AnalysisVersion != analysis.Version || e.Analysis == nil {
		c.log().Warn("source: invalid analysis cache entry, analysing again", "path", path)
		return nil
	}
	if err := CheckAnalysis(e.Analysis); err != nil {
		c.log().Warn("source: invalid analysis cache entry, analysing again", "path", path, "err", err)
		return nil
	}
	if p != nil && e.Analysis.Duration > 0 && math.Abs(e.Analysis.Duration-p.Seconds()) > 0.5 {
		c.log().Warn("source: cached analysis does not match the audio, analysing again",
			"path", path, "cached_seconds", e.Analysis.Duration, "audio_seconds", p.Seconds())
		return nil
	}
	// Recently used entries survive pruning.
	now := time.Now()
	_ = os.Chtimes(path, now, now)
	return e.Analysis
}

func (c *Cache) write(key string, t Track, a *analysis.Analysis) {
	b, err := json.Marshal(entry{
		Key:             key,
		AnalysisVersion: analysis.Version,
		TrackID:         t.ID,
		Title:           t.Title,
		Source:          t.Source,
		Written:         time.Now().UTC(),
		Analysis:        a,
	})
	if err == nil {
		err = writeAtomic(c.entryPath(key), b)
	}
	if err != nil {
		c.log().Warn("source: cannot cache analysis", "track", t.ID, "err", err)
		return
	}
	if c.MaxBytes > 0 {
		c.account(int64(len(b)))
	}
}

// writeAtomic writes b to path through a temporary file in the same
// directory and a rename, so that path holds either the old or the new
// contents, never a mix.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// account adds n bytes to the cache's size and prunes when past MaxBytes.
func (c *Cache) account(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.sized {
		c.size, c.sized = 0, true
		for _, e := range c.entries() {
			c.size += e.size
		}
	} else {
		c.size += n
	}
	if c.size > c.MaxBytes {
		c.prune()
	}
}

type cacheFile struct {
	path    string
	size    int64
	modTime time.Time
	current bool // of this analysis version
}

func (c *Cache) entries() []cacheFile {
	var out []cacheFile
	cur := "v" + strconv.Itoa(analysis.Version)
	vdirs, _ := os.ReadDir(c.Dir)
	for _, v := range vdirs {
		if !v.IsDir() || !strings.HasPrefix(v.Name(), "v") {
			continue
		}
		root := filepath.Join(c.Dir, v.Name())
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return nil
			}
			if fi, err := d.Info(); err == nil {
				out = append(out, cacheFile{path, fi.Size(), fi.ModTime(), v.Name() == cur})
			}
			return nil
		})
	}
	return out
}

// prune removes entries of other analysis versions, then the least
// recently used, until the cache is under nine tenths of MaxBytes. The
// caller holds c.mu.
func (c *Cache) prune() {
	es := c.entries()
	slices.SortFunc(es, func(a, b cacheFile) int {
		if a.current != b.current {
			if a.current {
				return 1
			}
			return -1
		}
		return a.modTime.Compare(b.modTime)
	})
	c.size = 0
	for _, e := range es {
		c.size += e.size
	}
	target := c.MaxBytes / 10 * 9
	for _, e := range es {
		if c.size <= target {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			c.size -= e.size
		}
	}
	c.log().Info("source: pruned analysis cache", "dir", c.Dir, "bytes", c.size)
}

// key returns the cache key of t: a hex SHA-256. Without p it returns ""
// for tracks that can only be keyed by their decoded audio.
func (c *Cache) key(ctx context.Context, t Track, p *audio.PCM) (string, error) {
	h := sha256.New()
	switch {
	case t.Fingerprint != "":
		io.WriteString(h, "fingerprint\x00"+t.Fingerprint)
	case isLocalFile(t.Source):
		sum, err := c.fileSHA256(ctx, t.Source)
		if err != nil {
			return "", err
		}
		return sum, nil
	case p != nil:
		io.WriteString(h, "pcm\x00")
		hashSamples(h, p.Samples)
	default:
		return "", nil
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isLocalFile(s string) bool {
	if !filepath.IsAbs(s) {
		return false
	}
	fi, err := os.Stat(s)
	return err == nil && fi.Mode().IsRegular()
}

func hashSamples(h hash.Hash, s []float32) {
	var buf [4096]byte
	for len(s) > 0 {
		n := min(len(s), len(buf)/4)
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		h.Write(buf[:4*n])
		s = s[n:]
	}
}

// fileSHA256 returns the hex SHA-256 of the file at path, from the
// remembered hashes when the file's size and modification time are those
// it had when hashed.
func (c *Cache) fileSHA256(ctx context.Context, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	current := func(m fileHash) bool {
		return m.Path == path && m.Size == fi.Size() && m.ModTime == fi.ModTime().UnixNano() && len(m.SHA256) == 64
	}
	c.mu.Lock()
	m, ok := c.hashes[path]
	c.mu.Unlock()
	if ok && current(m) {
		return m.SHA256, nil
	}
	id := sha256.Sum256([]byte(path))
	memo := filepath.Join(c.Dir, "files", hex.EncodeToString(id[:16])+".json")
	if b, err := os.ReadFile(memo); err == nil {
		var m fileHash
		if json.Unmarshal(b, &m) == nil && current(m) {
			c.remember(m)
			return m.SHA256, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", fmt.Errorf("source: hashing %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	// Remember the hash only if the file did not change while being read.
	if after, err := f.Stat(); err == nil && after.Size() == fi.Size() && after.ModTime().Equal(fi.ModTime()) {
		m := fileHash{path, fi.Size(), fi.ModTime().UnixNano(), sum}
		c.remember(m)
		b, _ := json.Marshal(m)
		if err := writeAtomic(memo, b); err != nil {
			c.log().Warn("source: cannot remember file hash", "path", path, "err", err)
		}
	}
	return sum, nil
}

// maxRemembered bounds the file hashes kept in memory; past it the map
// starts afresh (the disk memo still has them all).
const maxRemembered = 100_000

func (c *Cache) remember(m fileHash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hashes == nil || len(c.hashes) >= maxRemembered {
		c.hashes = make(map[string]fileHash)
	}
	c.hashes[m.Path] = m
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// DefaultCacheDir is where a program keeps its analysis cache unless told
// otherwise: forever/analysis under the user's cache directory
// (os.UserCacheDir), or under the system's temporary directory when there
// is none.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "forever", "analysis")
}

// EnsureAll makes sure every track has an analysis, running Ensure on up
// to workers tracks at once (0 means GOMAXPROCS), as a radio does for its
// catalogue before choosing an order. It returns the tracks that have one,
// in their original order, with their analyses. A track that cannot be
// decoded or analysed is logged with its ID and source and left out; the
// error is non-nil only when ctx ends first.
func (c *Cache) EnsureAll(ctx context.Context, tracks []Track, analyze Analyzer, workers int) ([]Track, []*analysis.Analysis, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]*analysis.Analysis, len(tracks))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(tracks)) {
		wg.Go(func() {
			for i := range next {
				a, err := c.Ensure(ctx, tracks[i], analyze)
				if err != nil {
					if ctx.Err() == nil {
						c.log().Warn("source: skipping track", "track", tracks[i].ID, "source", tracks[i].Source, "err", err)
					}
					continue
				}
				results[i] = a
			}
		})
	}
feed:
	for i := range tracks {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var ok []Track
	var as []*analysis.Analysis
	for i, a := range results {
		if a != nil {
			ok = append(ok, tracks[i])
			as = append(as, a)
		}
	}
	return ok, as, nil
}
