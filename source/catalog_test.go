package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// durationAnalyzer analyses audio as far as the catalogue needs: its
// length, with a tempo and one segment; it counts its calls.
type durationAnalyzer struct {
	calls atomic.Int32
	fail  func(p *audio.PCM) error
}

func (d *durationAnalyzer) analyze(_ context.Context, p *audio.PCM) (*analysis.Analysis, error) {
	d.calls.Add(1)
	if d.fail != nil {
		if err := d.fail(p); err != nil {
			return nil, err
		}
	}
	s := p.Seconds()
	return &analysis.Analysis{
		Version: analysis.Version, Duration: s, SampleRate: audio.SampleRate, Tempo: 120, Key: 2, Mode: 1,
		Segments: []analysis.Segment{{Duration: s, Timbre: [12]float64{1, 2}}},
	}, nil
}

func startCatalog(t *testing.T, c *Catalog) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitState polls c until ok holds, or fails t after 10 s.
func waitState(t *testing.T, c *Catalog, what string, ok func(CatalogState) bool) CatalogState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := c.State()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: state %+v", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCatalogFolderMovedAwayAndBack(t *testing.T) {
	dir, away := t.TempDir(), t.TempDir()
	names := []string{"a.wav", "b.wav", "c.wav"}
	for _, n := range names {
		writeFile(t, dir, n, makeWAV(8000, 8000, 1, "INAM", n))
	}
	an := &durationAnalyzer{}
	c := &Catalog{
		Source: Folder{Dir: dir}, Cache: &Cache{Dir: t.TempDir()}, Analyze: an.analyze,
		Rescan: time.Hour, // only fsnotify events may bring the tracks back
	}
	startCatalog(t, c)
	if err := c.Wait(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	ready := c.Ready()
	if len(ready) != 3 || ready[0].Summary.Tempo != 120 || ready[0].Summary.Duration != 1 || ready[0].Summary.TimbreMean[1] != 2 {
		t.Fatalf("ready = %+v", ready)
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(dir, n), filepath.Join(away, n)); err != nil {
			t.Fatal(err)
		}
	}
	waitState(t, c, "the tracks to leave", func(s CatalogState) bool { return s.Ready == 0 && s.Listed == 0 })
	time.Sleep(200 * time.Millisecond)
	for _, n := range names {
		if err := os.Rename(filepath.Join(away, n), filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	s := waitState(t, c, "the tracks to come back", func(s CatalogState) bool { return s.Ready == 3 })
	if s.Failed != 0 {
		t.Errorf("failures after the folder came back: %+v", s.Failures)
	}
	if n := an.calls.Load(); n != 3 {
		t.Errorf("%d analyses, want 3: tracks that came back unchanged are found in the cache", n)
	}
	a, err := c.Analysis(context.Background(), "b.wav")
	if err != nil || len(a.Segments) != 1 {
		t.Fatalf("full analysis of b.wav: %v, %v", a, err)
	}
}

func TestCatalogFailingFileChanges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ok.wav", makeWAV(24000, 8000, 1))
	bad := writeFile(t, dir, "bad.wav", makeWAV(8000, 8000, 1))
	an := &durationAnalyzer{fail: func(p *audio.PCM) error {
		if p.Seconds() < 2 {
			return errors.New("under 2 s is refused")
		}
		return nil
	}}
	log, buf := newLogger()
	c := &Catalog{
		Source: Folder{Dir: dir}, Cache: &Cache{Dir: t.TempDir()}, Analyze: an.analyze,
		Rescan: 100 * time.Millisecond, Backoff: time.Hour, Logger: log,
	}
	startCatalog(t, c)
	s := waitState(t, c, "one failure", func(s CatalogState) bool { return s.Ready == 1 && s.Failed == 1 })
	f := s.Failures[0]
	if f.ID != "bad.wav" || !strings.Contains(f.Reason, "under 2 s is refused") || f.Attempts != 1 || f.Retry.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("failure = %+v", f)
	}
	waitState(t, c, "rescans", func(s CatalogState) bool { return s.Scans >= 5 })
	if n := strings.Count(buf.String(), "under 2 s is refused"); n != 1 {
		t.Errorf("the failure is logged %d times over 5 rescans, want once:\n%s", n, buf)
	}
	if n := an.calls.Load(); n != 2 {
		t.Errorf("%d analyses before the file changed, want 2", n)
	}
	if err := os.WriteFile(bad, makeWAV(24000, 8000, 1, "INAM", "fixed"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = waitState(t, c, "the fixed file", func(s CatalogState) bool { return s.Ready == 2 })
	if s.Failed != 0 {
		t.Errorf("failures = %+v", s.Failures)
	}
	if !strings.Contains(buf.String(), "track recovered") {
		t.Errorf("no recovery logged:\n%s", buf)
	}
}

func TestCatalogBackoff(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "flaky.wav", makeWAV(8000, 8000, 1))
	var failures atomic.Int32
	failures.Store(2)
	an := &durationAnalyzer{fail: func(*audio.PCM) error {
		if failures.Add(-1) >= 0 {
			return errors.New("disk busy")
		}
		return nil
	}}
	c := &Catalog{
		Source: Folder{Dir: dir}, Cache: &Cache{Dir: t.TempDir()}, Analyze: an.analyze,
		Rescan: 50 * time.Millisecond, Backoff: 300 * time.Millisecond,
	}
	start := time.Now()
	startCatalog(t, c)
	s := waitState(t, c, "a second failure", func(s CatalogState) bool { return s.Failed == 1 && s.Failures[0].Attempts == 2 })
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("retried after %v, before the backoff of 300 ms", took)
	}
	if d := s.Failures[0].Retry.Sub(time.Now()); d < 300*time.Millisecond {
		t.Errorf("second retry in %v, want the backoff doubled to 600 ms", d)
	}
	waitState(t, c, "the track ready", func(s CatalogState) bool { return s.Ready == 1 })
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("ready after %v, before both backoffs (900 ms)", took)
	}

	// Retries end: with none left, only a change brings the track back.
	failures.Store(1 << 20)
	c2 := &Catalog{
		Source: Folder{Dir: dir}, Cache: &Cache{Dir: t.TempDir()}, Analyze: an.analyze,
		Rescan: 20 * time.Millisecond, Backoff: 10 * time.Millisecond, MaxRetries: 2,
	}
	an.calls.Store(0)
	startCatalog(t, c2)
	s = waitState(t, c2, "retries to end", func(s CatalogState) bool {
		return s.Failed == 1 && s.Failures[0].Retry.IsZero()
	})
	time.Sleep(200 * time.Millisecond)
	if n := an.calls.Load(); n != 3 {
		t.Errorf("%d analyses with 2 retries, want 3", n)
	}
}

func TestCatalogTooShort(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "short.wav", makeWAV(4000, 8000, 1))
	writeFile(t, dir, "long.wav", makeWAV(24000, 8000, 1))
	an := &durationAnalyzer{}
	c := &Catalog{
		Source: Folder{Dir: dir}, Cache: &Cache{Dir: t.TempDir()}, Analyze: an.analyze,
		Rescan: 50 * time.Millisecond, MinSeconds: 2,
	}
	startCatalog(t, c)
	if err := c.Wait(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	s := waitState(t, c, "both tried", func(s CatalogState) bool { return s.Ready+s.Failed == 2 })
	if s.Ready != 1 || s.Failed != 1 || !strings.Contains(s.Failures[0].Reason, "too short") || !s.Failures[0].Retry.IsZero() {
		t.Fatalf("state = %+v", s)
	}
	if _, ok := c.Track("short.wav"); ok {
		t.Error("a 0.5 s track is ready")
	}
}

// A summary's compact analysis gives an order the same timbre statistics
// as the full one.
func TestSummaryAnalysis(t *testing.T) {
	a := &analysis.Analysis{Duration: 10, Tempo: 100, Segments: []analysis.Segment{
		{Duration: 1, Timbre: [12]float64{1, -3}}, {Duration: 3, Timbre: [12]float64{5, 1}},
	}}
	s := Summarize(a, nil)
	back := Summarize(s.Analysis(), nil)
	for k := range 12 {
		if d := back.TimbreMean[k] - s.TimbreMean[k]; d > 1e-9 || d < -1e-9 {
			t.Errorf("mean[%d] %v, want %v", k, back.TimbreMean[k], s.TimbreMean[k])
		}
		if d := back.TimbreSD[k] - s.TimbreSD[k]; d > 1e-9 || d < -1e-9 {
			t.Errorf("sd[%d] %v, want %v", k, back.TimbreSD[k], s.TimbreSD[k])
		}
	}
	if s.TimbreMean[0] != 4 || s.TimbreSD[0] == 0 {
		t.Errorf("summary %+v", s)
	}
}

// A relisting of an unchanged file reads no tags: a file rewritten with
// its size and modification time kept keeps its old title.
func TestFolderMemoNoReread(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "a.wav", makeWAV(800, 8000, 1, "INAM", "First"))
	fi, _ := os.Stat(path)
	f := Folder{Dir: dir, Memo: &FolderMemo{}}
	tracks, err := f.Tracks(context.Background())
	if err != nil || len(tracks) != 1 || tracks[0].Title != "First" {
		t.Fatalf("tracks %+v, %v", tracks, err)
	}
	if err := os.WriteFile(path, makeWAV(800, 8000, 1, "INAM", "Other"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	if tracks, _ = f.Tracks(context.Background()); tracks[0].Title != "First" {
		t.Errorf("title %q: the unchanged file's tags were read again", tracks[0].Title)
	}
	os.Chtimes(path, fi.ModTime().Add(time.Second), fi.ModTime().Add(time.Second))
	if tracks, _ = f.Tracks(context.Background()); tracks[0].Title != "Other" {
		t.Errorf("title %q after the file changed", tracks[0].Title)
	}
}

// The whole folder moved away: the tracks that failed to play meanwhile
// are back as soon as the folder is.
func TestCatalogFolderItselfMovedAndBack(t *testing.T) {
	parent := t.TempDir()
	dir, away := filepath.Join(parent, "music"), filepath.Join(t.TempDir(), "music")
	writeFile(t, dir, "a.wav", makeWAV(8000, 8000, 1, "INAM", "a"))
	writeFile(t, dir, "b.wav", makeWAV(8000, 8000, 1, "INAM", "b"))
	an := &durationAnalyzer{}
	c := &Catalog{
		Source: Folder{Dir: dir}, Cache: &Cache{Dir: t.TempDir()}, Analyze: an.analyze,
		Rescan: time.Hour, Backoff: time.Hour,
	}
	startCatalog(t, c)
	if err := c.Wait(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, away); err != nil {
		t.Fatal(err)
	}
	// The radio fails to open them meanwhile.
	for _, id := range []string{"a.wav", "b.wav"} {
		c.Fail(id, errors.New("no such file"))
	}
	waitState(t, c, "the list error", func(s CatalogState) bool { return s.ListError != "" && s.Ready == 0 })
	if err := os.Rename(away, dir); err != nil {
		t.Fatal(err)
	}
	s := waitState(t, c, "the tracks back", func(s CatalogState) bool { return s.Ready == 2 })
	if s.ListError != "" || s.Failed != 0 {
		t.Errorf("state %+v", s)
	}
}
