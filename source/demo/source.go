package demo

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source"
)

// synthVersion changes whenever the synthesiser's output changes, so that
// stale cache files are never mistaken for current ones. Any change to a
// Spec changes its fingerprint as well.
const synthVersion = 5

// Source offers the demo catalogue as a source.Source. Tracks are
// rendered on first Open and cached on disk as raw float32, so later runs
// load them in a fraction of the render time.
//
// The zero value is ready to use. A Source holds no mutable state and may
// be used from several goroutines; two concurrent Opens of one uncached
// track both render it, and the cache keeps whichever finishes last.
type Source struct {
	// Dir is the cache directory. Empty means os.UserCacheDir()/forever/demo
	// (or the system temporary directory when there is no user cache dir).
	Dir string
	// Logger receives cache misses, write failures and corrupt files.
	// Nil means slog.Default().
	Logger *slog.Logger
}

var _ source.Source = Source{}

// Tracks lists the catalogue. It renders nothing.
func (s Source) Tracks(ctx context.Context) ([]source.Track, error) {
	specs := Catalogue()
	tracks := make([]source.Track, len(specs))
	for i, sp := range specs {
		tracks[i] = source.Track{
			ID:       sp.ID,
			Title:    sp.Title,
			Artist:   sp.Artist,
			Source:   s.path(sp),
			Duration: sp.Duration(),
			Tags:     []string{"demo"},
			// The render is a pure function of the Spec, so its
			// fingerprint names the audio before it exists: the
			// analysis cache finds it without rendering.
			Fingerprint: fmt.Sprintf("demo:v%d:%016x", synthVersion, fingerprint(sp)),
			Open:        func(ctx context.Context) (*audio.PCM, error) { return s.Load(ctx, sp) },
		}
	}
	return tracks, nil
}

func (s Source) dir() string {
	if s.Dir != "" {
		return s.Dir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "forever", "demo")
	}
	return filepath.Join(os.TempDir(), "forever-demo")
}

func (s Source) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// fingerprint identifies a Spec's exact output: the synthesiser version
// and every field, the unexported style included.
func fingerprint(sp Spec) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "v%d %#v", synthVersion, sp)
	return h.Sum64()
}

func (s Source) path(sp Spec) string {
	name := strings.TrimPrefix(sp.ID, "demo:")
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, name)
	return filepath.Join(s.dir(), fmt.Sprintf("%s-v%d-%016x.f32", name, synthVersion, fingerprint(sp)))
}

// Load returns the audio of sp from the cache, rendering and caching it
// when the cache lacks it or holds a damaged copy. Failing to write the
// cache is logged, not returned: the audio is still good.
func (s Source) Load(ctx context.Context, sp Spec) (*audio.PCM, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := s.path(sp)
	p, err := readCache(path, fingerprint(sp))
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		s.logger().Warn("demo: cache file unusable, rendering again", "path", path, "err", err)
	}
	p, err = sp.render(ctx)
	if err != nil {
		return nil, err
	}
	if err := writeCache(path, fingerprint(sp), p); err != nil {
		s.logger().Warn("demo: cannot cache render", "track", sp.ID, "err", err)
	}
	return p, nil
}

// Prepare renders every track missing from the cache, in parallel across
// the available cores, so that later Opens only read files.
func (s Source) Prepare(ctx context.Context) error {
	specs := Catalogue()
	work := make(chan Spec)
	errs := make(chan error, len(specs))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(specs)) {
		wg.Go(func() {
			for sp := range work {
				if _, err := os.Stat(s.path(sp)); err == nil {
					continue
				}
				if _, err := s.Load(ctx, sp); err != nil {
					errs <- fmt.Errorf("demo: %s: %w", sp.ID, err)
				}
			}
		})
	}
feed:
	for _, sp := range specs {
		select {
		case work <- sp:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := ctx.Err(); err != nil {
		return err
	}
	return <-errs // nil when the channel is empty
}

// The cache file: a 32-byte header, then the interleaved samples as
// little-endian float32.
//
//	magic [8]byte  "FVRDEMO1"
//	print uint64   fingerprint of the Spec
//	frames uint64
//	crc uint32     CRC-32C of the sample bytes
//	_ uint32
const (
	cacheMagic  = "FVRDEMO1"
	headerSize  = 32
	maxCacheLen = 30 * 60 * audio.SampleRate // frames; far beyond any demo track
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func readCache(path string, print uint64) (*audio.PCM, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	le := binary.LittleEndian
	if string(h[:8]) != cacheMagic {
		return nil, fmt.Errorf("%s: not a demo cache file", path)
	}
	if got := le.Uint64(h[8:]); got != print {
		return nil, fmt.Errorf("%s: fingerprint %016x, want %016x", path, got, print)
	}
	frames := le.Uint64(h[16:])
	if frames > maxCacheLen {
		return nil, fmt.Errorf("%s: header claims %d frames", path, frames)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if want := headerSize + int64(frames)*8; st.Size() != want {
		return nil, fmt.Errorf("%s: %d bytes, header implies %d", path, st.Size(), want)
	}
	b := make([]byte, frames*8)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: samples: %w", path, err)
	}
	if crc32.Checksum(b, castagnoli) != le.Uint32(h[24:]) {
		return nil, fmt.Errorf("%s: checksum mismatch", path)
	}
	p := audio.NewPCM(int(frames))
	for i := range p.Samples {
		p.Samples[i] = math.Float32frombits(le.Uint32(b[4*i:]))
	}
	return p, nil
}

// writeCache writes atomically: a reader sees the old file, no file, or
// the whole new one, never a partial write.
func writeCache(path string, print uint64, p *audio.PCM) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".demo-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	b := make([]byte, len(p.Samples)*4)
	le := binary.LittleEndian
	for i, v := range p.Samples {
		le.PutUint32(b[4*i:], math.Float32bits(v))
	}
	var h [headerSize]byte
	copy(h[:], cacheMagic)
	le.PutUint64(h[8:], print)
	le.PutUint64(h[16:], uint64(p.Frames()))
	le.PutUint32(h[24:], crc32.Checksum(b, castagnoli))
	w := bufio.NewWriter(f)
	w.Write(h[:])
	w.Write(b)
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
