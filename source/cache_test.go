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
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// counter is an Analyzer that counts its calls and returns a hand-made
// analysis whose duration is the audio's and whose tempo identifies the
// audio (its first sample), so tests can tell which audio was analysed.
type counter struct {
	calls atomic.Int32
	delay time.Duration
	err   error
}

func (c *counter) analyze(ctx context.Context, p *audio.PCM) (*analysis.Analysis, error) {
	c.calls.Add(1)
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	return &analysis.Analysis{
		Version:    analysis.Version,
		Duration:   p.Seconds(),
		SampleRate: audio.SampleRate,
		Tempo:      float64(p.Samples[0]) * 1000,
		Beats:      []analysis.Quantum{{Start: 0, Duration: 0.5, Confidence: 1}},
	}, nil
}

// memTrack is a track without a file, whose audio is a constant level for
// a number of seconds; opens counts its decodes.
func memTrack(id string, level float32, seconds float64, opens *atomic.Int32) Track {
	return Track{
		ID:     id,
		Source: "mem:" + id,
		Open: func(ctx context.Context) (*audio.PCM, error) {
			if opens != nil {
				opens.Add(1)
			}
			p := audio.NewPCM(int(seconds * audio.SampleRate))
			for i := range p.Samples {
				p.Samples[i] = level
			}
			return p, nil
		},
	}
}

func TestCacheFingerprint(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	var an counter
	var opens atomic.Int32
	tr := memTrack("a", 0.1, 1, &opens)
	tr.Fingerprint = "api:a:2024-01-01"
	ctx := context.Background()

	a, p, err := c.Analysis(ctx, tr, an.analyze)
	if err != nil {
		t.Fatal(err)
	}
	if p.Frames() != audio.SampleRate || a.Duration != 1 || an.calls.Load() != 1 {
		t.Fatalf("first Analysis: %d frames, %+v, %d calls", p.Frames(), a, an.calls.Load())
	}
	// Hit: Ensure neither decodes nor analyses; a new Cache on the same
	// directory (a restart) still hits.
	c2 := &Cache{Dir: c.Dir}
	a2, err := c2.Ensure(ctx, tr, an.analyze)
	if err != nil || a2.Tempo != a.Tempo || an.calls.Load() != 1 || opens.Load() != 1 {
		t.Fatalf("Ensure after restart: %+v, %v; %d analyses, %d opens", a2, err, an.calls.Load(), opens.Load())
	}
	if got, err := c2.Lookup(ctx, tr); err != nil || got == nil || got.Tempo != a.Tempo {
		t.Fatalf("Lookup: %+v, %v", got, err)
	}
	// A new fingerprint is new audio.
	tr.Fingerprint = "api:a:2025-01-01"
	if got, _ := c2.Lookup(ctx, tr); got != nil {
		t.Fatal("Lookup found an analysis for a new fingerprint")
	}
	if _, err := c2.Ensure(ctx, tr, an.analyze); err != nil || an.calls.Load() != 2 {
		t.Fatalf("new fingerprint: %v, %d analyses", err, an.calls.Load())
	}
}

func TestCacheFile(t *testing.T) {
	dir := t.TempDir()
	c := &Cache{Dir: filepath.Join(dir, "cache")}
	var an counter
	ctx := context.Background()
	path := writeFile(t, dir, "music/song.wav", makeWAV(44100, 44100, 2))
	tr, err := FileTrack(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Lookup(ctx, tr); got != nil {
		t.Fatal("Lookup hit in an empty cache")
	}
	if _, err := c.Ensure(ctx, tr, an.analyze); err != nil || an.calls.Load() != 1 {
		t.Fatalf("miss: %v, %d calls", err, an.calls.Load())
	}
	a, p, err := c.Analysis(ctx, tr, an.analyze)
	if err != nil || an.calls.Load() != 1 || p.Frames() != 44100 || a.Duration != 1 {
		t.Fatalf("hit: %+v %v, %d calls", a, err, an.calls.Load())
	}

	// The same bytes under another name are the same music.
	copyPath := writeFile(t, dir, "elsewhere/copy.wav", makeWAV(44100, 44100, 2))
	cp, _ := FileTrack(copyPath)
	if got, _ := c.Lookup(ctx, cp); got == nil {
		t.Error("a copy of an analysed file was not recognised")
	}

	// Changed content, even of the same size, is new music.
	b := makeWAV(44100, 44100, 2)
	b[len(b)-1] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Make sure the modification time moves even on coarse clocks.
	future := time.Now().Add(time.Minute)
	os.Chtimes(path, future, future)
	if got, _ := c.Lookup(ctx, tr); got != nil {
		t.Error("Lookup hit for a changed file")
	}
	if _, err := c.Ensure(ctx, tr, an.analyze); err != nil || an.calls.Load() != 2 {
		t.Fatalf("changed file: %v, %d calls", err, an.calls.Load())
	}
}

func TestCacheUnfingerprinted(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	var an counter
	var opens atomic.Int32
	ctx := context.Background()
	tr := memTrack("x", 0.25, 0.5, &opens)
	if got, err := c.Lookup(ctx, tr); got != nil || err != nil {
		t.Fatalf("Lookup of an unkeyable track: %v, %v", got, err)
	}
	for range 3 {
		a, err := c.Ensure(ctx, tr, an.analyze)
		if err != nil || a.Tempo != 250 {
			t.Fatalf("%+v, %v", a, err)
		}
	}
	// Keyed by the decoded audio: decoded each time, analysed once.
	if an.calls.Load() != 1 || opens.Load() != 3 {
		t.Errorf("%d analyses, %d decodes; want 1, 3", an.calls.Load(), opens.Load())
	}
	// Other audio under the same ID is analysed anew.
	if a, err := c.Ensure(ctx, memTrack("x", 0.5, 0.5, nil), an.analyze); err != nil || a.Tempo != 500 || an.calls.Load() != 2 {
		t.Errorf("other audio, same ID: %+v, %v, %d calls", a, err, an.calls.Load())
	}
}

func entryFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf("v%d", analysis.Version), "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestCacheCorruptEntries(t *testing.T) {
	ctx := context.Background()
	for name, damage := range map[string]func(path string) error{
		"garbage":   func(p string) error { return os.WriteFile(p, []byte("{not json"), 0o644) },
		"truncated": func(p string) error { return os.Truncate(p, 20) },
		"empty":     func(p string) error { return os.Truncate(p, 0) },
		"null":      func(p string) error { return os.WriteFile(p, []byte("null"), 0o644) },
		"old version": func(p string) error {
			b, _ := os.ReadFile(p)
			b = []byte(strings.Replace(string(b), fmt.Sprintf(`"analysis_version":%d`, analysis.Version), `"analysis_version":-1`, 1))
			return os.WriteFile(p, b, 0o644)
		},
		"tempo 1e308": editEntry(func(a *analysis.Analysis) { a.Tempo = 1e308 }),
		"beats backwards": editEntry(func(a *analysis.Analysis) {
			a.Beats = []analysis.Quantum{{Start: 0.5, Duration: 0.1}, {Start: 0.2, Duration: 0.1}}
		}),
		"negative duration": editEntry(func(a *analysis.Analysis) { a.Duration = -1 }),
		"key 40":            editEntry(func(a *analysis.Analysis) { a.Key = 40 }),
		"wrong key": func(p string) error {
			b, _ := os.ReadFile(p)
			b = []byte(strings.Replace(string(b), `"key":"`, `"key":"0`, 1))
			return os.WriteFile(p, b, 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			log, logs := newLogger()
			c := &Cache{Dir: t.TempDir(), Logger: log}
			var an counter
			tr := memTrack("c", 0.1, 1, nil)
			tr.Fingerprint = "fp"
			if _, err := c.Ensure(ctx, tr, an.analyze); err != nil {
				t.Fatal(err)
			}
			files := entryFiles(t, c.Dir)
			if len(files) != 1 {
				t.Fatalf("entries: %q", files)
			}
			if err := damage(files[0]); err != nil {
				t.Fatal(err)
			}
			a, err := c.Ensure(ctx, tr, an.analyze)
			if err != nil || a == nil || a.Duration != 1 || an.calls.Load() != 2 {
				t.Fatalf("after damage: %+v, %v, %d calls", a, err, an.calls.Load())
			}
			if !strings.Contains(logs.String(), files[0]) {
				t.Errorf("no warning naming the entry:\n%s", logs)
			}
			// Rewritten: the next lookup hits without analysing.
			if _, err := c.Ensure(ctx, tr, an.analyze); err != nil || an.calls.Load() != 2 {
				t.Fatalf("entry not rewritten: %v, %d calls", err, an.calls.Load())
			}
		})
	}
}

// editEntry returns a damage that rewrites the analysis in an entry.
func editEntry(edit func(*analysis.Analysis)) func(path string) error {
	return func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return err
		}
		edit(e.Analysis)
		if b, err = json.Marshal(e); err != nil {
			return err
		}
		return os.WriteFile(path, b, 0o644)
	}
}

func TestCacheStaleDuration(t *testing.T) {
	ctx := context.Background()
	c := &Cache{Dir: t.TempDir(), Logger: discardLogger()}
	var an counter
	tr := memTrack("s", 0.1, 1, nil)
	tr.Fingerprint = "same"
	if _, _, err := c.Analysis(ctx, tr, an.analyze); err != nil {
		t.Fatal(err)
	}
	// A source that reuses a fingerprint for different audio: Analysis
	// sees the decoded length disagree and analyses again.
	longer := memTrack("s", 0.1, 3, nil)
	longer.Fingerprint = "same"
	a, _, err := c.Analysis(ctx, longer, an.analyze)
	if err != nil || a.Duration != 3 || an.calls.Load() != 2 {
		t.Fatalf("%+v, %v, %d calls", a, err, an.calls.Load())
	}
}

func discardLogger() *slog.Logger { l, _ := newLogger(); return l }

func TestCacheErrors(t *testing.T) {
	ctx := context.Background()
	c := &Cache{Dir: t.TempDir()}
	an := counter{err: errors.New("boom")}
	tr := memTrack("e", 0.1, 1, nil)
	tr.Fingerprint = "e"
	_, err := c.Ensure(ctx, tr, an.analyze)
	if err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), tr.Source) {
		t.Fatalf("err = %v, want the analyzer's, naming the track", err)
	}
	if len(entryFiles(t, c.Dir)) != 0 {
		t.Error("a failed analysis was cached")
	}

	broken := Track{ID: "b", Source: "/nowhere/b.mp3", Open: func(context.Context) (*audio.PCM, error) {
		return nil, errors.New("source: /nowhere/b.mp3: bad frame")
	}}
	var ok counter
	if _, _, err := c.Analysis(ctx, broken, ok.analyze); err == nil || !strings.Contains(err.Error(), "/nowhere/b.mp3") || ok.calls.Load() != 0 {
		t.Errorf("undecodable track: %v, %d analyses", err, ok.calls.Load())
	}
	if _, _, err := c.Analysis(ctx, Track{ID: "noopen"}, ok.analyze); err == nil || !strings.Contains(err.Error(), "noopen") {
		t.Errorf("track without Open: %v", err)
	}
	empty := memTrack("empty", 0, 0, nil)
	if _, _, err := c.Analysis(ctx, empty, ok.analyze); err == nil || !strings.Contains(err.Error(), "no audio") {
		t.Errorf("empty audio: %v", err)
	}
}

func TestCacheUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "not-a-dir", []byte("x"))
	log, logs := newLogger()
	c := &Cache{Dir: file, Logger: log}
	var an counter
	tr := memTrack("u", 0.1, 1, nil)
	tr.Fingerprint = "u"
	a, p, err := c.Analysis(context.Background(), tr, an.analyze)
	if err != nil || a == nil || p == nil {
		t.Fatalf("an unwritable cache must not stop a track: %v", err)
	}
	if !strings.Contains(logs.String(), "cannot cache") {
		t.Errorf("no warning:\n%s", logs)
	}
}

func TestCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	c := &Cache{Dir: t.TempDir()}
	an := counter{delay: 20 * time.Millisecond}
	var opens atomic.Int32
	same := memTrack("same", 0.3, 0.2, &opens)
	same.Fingerprint = "same"
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			a, err := c.Ensure(ctx, same, an.analyze)
			if err == nil && math.Abs(a.Tempo-300) > 1e-3 {
				err = fmt.Errorf("wrong analysis %+v", a)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			tr := memTrack(fmt.Sprint(i), float32(i)/100, 0.1, nil)
			tr.Fingerprint = tr.ID
			a, _, err := c.Analysis(ctx, tr, an.analyze)
			if err == nil && math.Abs(a.Tempo-float64(i)*10) > 1e-3 {
				err = fmt.Errorf("track %d: wrong analysis %+v", i, a)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// One analysis and one decode for the 32 requests of the same track,
	// one each for the others.
	if got := an.calls.Load(); got != 33 {
		t.Errorf("%d analyses, want 33", got)
	}
	if got := opens.Load(); got != 1 {
		t.Errorf("%d decodes of the shared track, want 1", got)
	}
	if got := len(entryFiles(t, c.Dir)); got != 33 {
		t.Errorf("%d entries, want 33", got)
	}
	leftovers, _ := filepath.Glob(filepath.Join(c.Dir, "*", "*", ".tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %q", leftovers)
	}
}

func TestCacheCancelledLeader(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	an := counter{delay: 200 * time.Millisecond}
	tr := memTrack("l", 0.1, 0.1, nil)
	tr.Fingerprint = "l"
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error)
	go func() {
		_, err := c.Ensure(leaderCtx, tr, an.analyze)
		leaderDone <- err
	}()
	for an.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	follower := make(chan error)
	go func() {
		_, err := c.Ensure(context.Background(), tr, an.analyze)
		follower <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: %v", err)
	}
	if err := <-follower; err != nil {
		t.Errorf("follower failed with its leader: %v", err)
	}
	if got := an.calls.Load(); got != 2 {
		t.Errorf("%d analyses, want 2", got)
	}
}

func TestCachePrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// An entry of another analysis version goes first.
	old := writeFile(t, dir, fmt.Sprintf("v%d/ab/old.json", analysis.Version+1000), make([]byte, 100))
	var an counter
	probe := &Cache{Dir: dir}
	tr := memTrack("0", 0.1, 0.1, nil)
	tr.Fingerprint = "0"
	if _, err := probe.Ensure(ctx, tr, an.analyze); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(entryFiles(t, dir)[0])
	if err != nil {
		t.Fatal(err)
	}
	per := fi.Size()
	c := &Cache{Dir: dir, MaxBytes: 5 * per, Logger: discardLogger()}
	for i := 1; i < 20; i++ {
		tr := memTrack(fmt.Sprint(i), 0.1, 0.1, nil)
		tr.Fingerprint = fmt.Sprintf("%02d", i) // same length, same entry size
		if _, err := c.Ensure(ctx, tr, an.analyze); err != nil {
			t.Fatal(err)
		}
		// Distinct modification times for the LRU order.
		time.Sleep(2 * time.Millisecond)
	}
	var total int64
	for _, f := range entryFiles(t, dir) {
		fi, _ := os.Stat(f)
		total += fi.Size()
	}
	if total > c.MaxBytes {
		t.Errorf("%d bytes of entries, bound %d", total, c.MaxBytes)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Error("entry of another analysis version survived pruning")
	}
	last := memTrack("19", 0.1, 0.1, nil)
	last.Fingerprint = "19"
	if got, _ := c.Lookup(ctx, last); got == nil {
		t.Error("the most recent entry was pruned")
	}
}

// TestCacheRoundTrip checks that an analysis comes back from disk exactly
// as it went in, every field and float.
func TestCacheRoundTrip(t *testing.T) {
	ctx := context.Background()
	rich := func(ctx context.Context, p *audio.PCM) (*analysis.Analysis, error) {
		a := &analysis.Analysis{
			Version: analysis.Version, Duration: p.Seconds(), SampleRate: audio.SampleRate,
			Tempo: 123.456789012345, TempoConfidence: 0.1 + 0.2, TimeSignature: 4, TimeSignatureConfidence: 1. / 3,
			Key: 7, KeyConfidence: 0.5, Mode: 1, ModeConfidence: 0.25,
			Loudness: -9.87654321, TruePeak: -0.1, Energy: 0.7, Danceability: 0.8,
			EndOfFadeIn: 0.01, StartOfFadeOut: p.Seconds() - 0.01,
		}
		for i := range 8 {
			q := analysis.Quantum{Start: float64(i) * 0.125, Duration: 0.125, Confidence: float64(i) / 7}
			a.Beats = append(a.Beats, q)
			a.Tatums = append(a.Tatums, q)
			seg := analysis.Segment{Start: q.Start, Duration: q.Duration, Confidence: 0.9, LoudnessStart: -60, LoudnessMax: -12.5, LoudnessMaxTime: 0.01}
			for k := range 12 {
				seg.Pitches[k] = math.Sqrt(float64(k*i+1)) / 10
				seg.Timbre[k] = math.Pi * float64(k-i)
			}
			a.Segments = append(a.Segments, seg)
		}
		a.Bars = []analysis.Quantum{{Start: 0, Duration: 0.5, Confidence: 1}, {Start: 0.5, Duration: 0.5, Confidence: 0.5}}
		a.Sections = []analysis.Section{{Start: 0, Duration: 1, Confidence: 1, Loudness: -10, Tempo: 123.4, Key: 7, Mode: 1, TimeSignature: 4, Label: "intro"}}
		return a, nil
	}
	tr := memTrack("rt", 0.1, 1, nil)
	tr.Fingerprint = "rt"
	want, _, err := (&Cache{Dir: t.TempDir()}).Analysis(ctx, tr, rich)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: t.TempDir()}
	if _, err := c.Ensure(ctx, tr, rich); err != nil {
		t.Fatal(err)
	}
	got, err := c.Lookup(ctx, tr)
	if err != nil || got == nil {
		t.Fatalf("Lookup: %v, %v", got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the analysis:\n got %+v\nwant %+v", got, want)
	}
}

func TestCacheEnsureAll(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i := range 6 {
		writeFile(t, dir, fmt.Sprintf("%d.wav", i), makeWAV(4410*(i+1), 44100, 2))
	}
	// Passes the listing's header check, fails to decode.
	writeFile(t, dir, "3.wav", makeWAV(44100, 44100, 2)[:44])
	tracks, err := Folder{Dir: dir}.Tracks(ctx)
	if err != nil || len(tracks) != 6 {
		t.Fatalf("%d tracks, %v", len(tracks), err)
	}
	log, logs := newLogger()
	c := &Cache{Dir: t.TempDir(), Logger: log}
	var an counter
	ok, as, err := c.EnsureAll(ctx, tracks, an.analyze, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := trackIDs(ok), []string{"0.wav", "1.wav", "2.wav", "4.wav", "5.wav"}; !slices.Equal(got, want) {
		t.Fatalf("IDs = %q, want %q", got, want)
	}
	for i, a := range as {
		if want := ok[i].Duration; math.Abs(a.Duration-want) > 1e-9 {
			t.Errorf("%s: analysis of %v s, track of %v s", ok[i].ID, a.Duration, want)
		}
	}
	if !strings.Contains(logs.String(), filepath.Join(dir, "3.wav")) {
		t.Errorf("bad track not logged by name:\n%s", logs)
	}
	// Again: all hits.
	if _, _, err := c.EnsureAll(ctx, tracks, an.analyze, 0); err != nil || an.calls.Load() != 5 {
		t.Errorf("second pass: %v, %d analyses, want 5", err, an.calls.Load())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := c.EnsureAll(cctx, tracks, an.analyze, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCacheKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := &Cache{Dir: filepath.Join(dir, "cache")}
	path := writeFile(t, dir, "k.wav", makeWAV(4410, 44100, 1))
	tr, _ := FileTrack(path)
	k1, err := c.Key(ctx, tr)
	if err != nil || k1 == "" {
		t.Fatalf("%q, %v", k1, err)
	}
	// A new Cache (a restart) finds the same key through the disk memo.
	if k, _ := (&Cache{Dir: c.Dir}).Key(ctx, tr); k != k1 {
		t.Errorf("key changed across caches: %q, %q", k, k1)
	}
	writeFile(t, dir, "k.wav", makeWAV(4411, 44100, 1))
	if k2, _ := c.Key(ctx, tr); k2 == k1 || k2 == "" {
		t.Errorf("key did not change with the file: %q", k2)
	}
	fp := memTrack("m", 0, 1, nil)
	if k, err := c.Key(ctx, fp); k != "" || err != nil {
		t.Errorf("unkeyable track: %q, %v", k, err)
	}
	fp.Fingerprint = "x"
	if k, err := c.Key(ctx, fp); k == "" || err != nil {
		t.Errorf("fingerprinted track: %q, %v", k, err)
	}
	// A deleted file has no key, and Ensure says which file is missing.
	os.Remove(path)
	if k, _ := c.Key(ctx, tr); k != "" {
		t.Errorf("key of a deleted file: %q", k)
	}
	var an counter
	if _, err := c.Ensure(ctx, tr, an.analyze); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Ensure of a deleted file: %v", err)
	}
}
