package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foreverfm/forever/audio"
)

// tiny is a catalogue track cut to one bar a section: enough to exercise
// every code path in well under a second.
func tiny() Spec { return Catalogue()[0].Short(1) }

var tinyRender = sync.OnceValue(func() *audio.PCM { return tiny().Render() })

func testSource(t *testing.T) (Source, *bytes.Buffer) {
	var log bytes.Buffer
	return Source{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&log, nil))}, &log
}

func TestLoadCaches(t *testing.T) {
	ctx := context.Background()
	src, log := testSource(t)
	sp := tiny()
	p, err := src.Load(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	if hashPCM(p) != hashPCM(tinyRender()) {
		t.Fatal("Load differs from Render")
	}
	path := src.path(sp)
	if !strings.HasPrefix(path, src.Dir) || !strings.Contains(filepath.Base(path), "-v") {
		t.Errorf("cache path %s: want a versioned name under %s", path, src.Dir)
	}
	cached, err := readCache(path, fingerprint(sp))
	if err != nil {
		t.Fatalf("cache file after Load: %v", err)
	}
	if hashPCM(cached) != hashPCM(p) {
		t.Fatal("cache file holds other samples")
	}
	// A second Load reads the file rather than rendering: make the file
	// hold (valid) other audio and see it come back.
	other := audio.NewPCM(100)
	other.Samples[7] = 0.5
	if err := writeCache(path, fingerprint(sp), other); err != nil {
		t.Fatal(err)
	}
	got, err := src.Load(ctx, sp)
	if err != nil || got.Frames() != 100 || got.Samples[7] != 0.5 {
		t.Fatalf("second Load: %d frames, %v; want the cached file's 100", got.Frames(), err)
	}
	if log.Len() != 0 {
		t.Errorf("logged on a clean path: %s", log)
	}
	if entries, _ := os.ReadDir(src.Dir); len(entries) != 1 {
		t.Errorf("cache dir holds %d entries, want 1 (no temp files left)", len(entries))
	}
}

func TestLoadRecoversFromDamage(t *testing.T) {
	ctx := context.Background()
	sp := tiny()
	want := hashPCM(tinyRender())
	damage := map[string]func(b []byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)-100] },
		"extended":    func(b []byte) []byte { return append(b, 0, 0, 0, 0) },
		"empty":       func(b []byte) []byte { return nil },
		"short head":  func(b []byte) []byte { return b[:20] },
		"flipped bit": func(b []byte) []byte { b[len(b)/2] ^= 4; return b },
		"bad magic":   func(b []byte) []byte { b[0] = 'X'; return b },
		"other spec":  func(b []byte) []byte { b[8]++; return b },
		"huge frames": func(b []byte) []byte { binary.LittleEndian.PutUint64(b[16:], 1<<62); return b },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			src, log := testSource(t)
			path := src.path(sp)
			if err := writeCache(path, fingerprint(sp), tinyRender()); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, f(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := readCache(path, fingerprint(sp)); err == nil {
				t.Fatal("readCache accepted a damaged file")
			} else if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			p, err := src.Load(ctx, sp)
			if err != nil {
				t.Fatal(err)
			}
			if hashPCM(p) != want {
				t.Fatal("Load returned other audio than a fresh render")
			}
			if !strings.Contains(log.String(), "unusable") {
				t.Errorf("damage not logged: %q", log)
			}
			if _, err := readCache(path, fingerprint(sp)); err != nil {
				t.Errorf("cache not repaired: %v", err)
			}
		})
	}
}

func TestLoadWithoutCacheDir(t *testing.T) {
	// A cache directory that cannot be created costs the cache, not the audio.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	src := Source{Dir: filepath.Join(blocker, "cache"), Logger: slog.New(slog.NewTextHandler(&log, nil))}
	p, err := src.Load(context.Background(), tiny())
	if err != nil {
		t.Fatal(err)
	}
	if hashPCM(p) != hashPCM(tinyRender()) {
		t.Fatal("wrong audio")
	}
	if !strings.Contains(log.String(), "cannot cache") {
		t.Errorf("failure to cache not logged: %q", log.String())
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src, _ := testSource(t)
	if _, err := src.Load(ctx, tiny()); !errors.Is(err, context.Canceled) {
		t.Errorf("Load: %v, want context.Canceled", err)
	}
	if err := src.Prepare(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Prepare: %v, want context.Canceled", err)
	}
	if _, err := tiny().render(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("render: %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(src.Dir); len(entries) != 0 {
		t.Errorf("cancelled work left %d files", len(entries))
	}
}

func TestTracks(t *testing.T) {
	src, _ := testSource(t)
	tracks, err := src.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	specs := Catalogue()
	if len(tracks) != len(specs) {
		t.Fatalf("%d tracks, catalogue has %d", len(tracks), len(specs))
	}
	for i, tr := range tracks {
		s := specs[i]
		if tr.ID != s.ID || tr.Title != s.Title || tr.Artist != s.Artist || tr.Duration != s.Duration() || tr.Open == nil {
			t.Errorf("track %d: %+v does not match spec %s", i, tr, s.ID)
		}
		if filepath.Dir(tr.Source) != src.Dir {
			t.Errorf("track %s: source %s, want its cache file in %s", tr.ID, tr.Source, src.Dir)
		}
	}
	if testing.Short() {
		t.Skip("opening a full track renders it")
	}
	start := time.Now()
	p, err := tracks[3].Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Seconds() != tracks[3].Duration {
		t.Errorf("opened %.3f s, listed as %.3f s", p.Seconds(), tracks[3].Duration)
	}
	var peak float64
	for _, v := range p.Samples {
		peak = max(peak, math.Abs(float64(v)))
	}
	if l := loudness(p.Samples); peak >= 1 || l < -14 || l > -10 {
		t.Errorf("full track: peak %.3f, %.1f LUFS", peak, l)
	}
	t.Logf("rendered %s (%.0f s) in %v", tracks[3].ID, p.Seconds(), time.Since(start).Round(time.Millisecond))
}

func FuzzReadCache(f *testing.F) {
	p := audio.NewPCM(3)
	p.Samples[1] = -0.25
	var buf bytes.Buffer
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.f32")
	if err := writeCache(path, 42, p); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	buf.Write(b)
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:headerSize])
	f.Add([]byte("FVRDEMO1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "x.f32")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		print := uint64(42)
		if len(data) >= 16 {
			print = binary.LittleEndian.Uint64(data[8:])
		}
		p, err := readCache(path, print)
		if err != nil {
			return
		}
		if len(data) != headerSize+8*p.Frames() {
			t.Fatalf("accepted %d bytes as %d frames", len(data), p.Frames())
		}
	})
}

// pinnedHash is the SHA-256 of the hashes of every catalogue track cut to
// one bar a section, rendered on amd64 at synthVersion. If this test
// fails, the synthesiser's output changed: bump synthVersion (so users'
// caches are invalidated) and update the hash.
const pinnedHash = "3ad461a753168da447b01dae1cc41bcbf167daf09ed89e8d5a5786e2a0792e09"

func TestSynthVersionPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the pinned hash is for amd64; other architectures may fuse floating-point operations")
	}
	specs := Catalogue()
	hashes := make([][32]byte, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() { hashes[i] = hashPCM(s.Short(1).Render()) })
	}
	wg.Wait()
	h := sha256.New()
	for _, x := range hashes {
		h.Write(x[:])
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != pinnedHash {
		t.Fatalf("synthVersion %d renders %s, pinned %s: if the change is intended, bump synthVersion and update pinnedHash", synthVersion, got, pinnedHash)
	}
}
