package forever

import (
	"context"
	"github.com/foreverfm/forever/audio"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/foreverfm/forever/source"
	"github.com/foreverfm/forever/tsp/order"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The library follows its folder: new files are analysed, a changed file
// is analysed again, a removed one leaves the catalogue, and a broken one
// is skipped without stopping the rest.
func TestLibraryFollowsFolder(t *testing.T) {
	dir := t.TempDir()
	writeClicks(t, filepath.Join(dir, "a.wav"), 120, 6)
	writeClicks(t, filepath.Join(dir, "b.wav"), 100, 6)
	if err := os.WriteFile(filepath.Join(dir, "broken.wav"), []byte("RIFF\x10\x00\x00\x00WAVEjunk"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	l := &library{
		src:   source.Folder{Dir: dir, Logger: log},
		cache: &source.Cache{Dir: t.TempDir(), Logger: log},
		order: &order.Generator{Logger: log},
		log:   log,
		m:     newMetrics(prometheus.NewRegistry()),
	}
	l.init()
	ctx := context.Background()

	l.scan(ctx)
	if n := testutil.ToFloat64(l.m.analysed); n != 2 {
		t.Fatalf("first scan analysed %v tracks, want 2", n)
	}
	if _, ok := l.track("a.wav"); !ok {
		t.Fatal("a.wav is not playable")
	}
	if _, ok := l.track("broken.wav"); ok {
		t.Fatal("broken.wav is playable")
	}
	if err := l.waitReady(ctx); err != nil {
		t.Fatal(err)
	}

	// Nothing changed: nothing is analysed again, the broken file included.
	failed := testutil.ToFloat64(l.m.failed)
	l.scan(ctx)
	if n := testutil.ToFloat64(l.m.analysed); n != 2 {
		t.Fatalf("an unchanged folder was analysed again: %v analyses", n)
	}
	if f := testutil.ToFloat64(l.m.failed); f != failed {
		t.Fatalf("the broken file was tried again: %v failures, was %v", f, failed)
	}

	// a.wav changes, b.wav goes.
	writeClicks(t, filepath.Join(dir, "a.wav"), 90, 6)
	later := time.Now().Add(time.Second)
	os.Chtimes(filepath.Join(dir, "a.wav"), later, later)
	if err := os.Remove(filepath.Join(dir, "b.wav")); err != nil {
		t.Fatal(err)
	}
	l.scan(ctx)
	if n := testutil.ToFloat64(l.m.analysed); n != 3 {
		t.Fatalf("after a change: %v analyses, want 3", n)
	}
	if _, ok := l.track("b.wav"); ok {
		t.Error("b.wav was removed but is still playable")
	}
	if _, ok := l.track("a.wav"); !ok {
		t.Error("a.wav is no longer playable")
	}
	if a := l.analyses["a.wav"]; a == nil || math.Abs(a.Tempo-90) > 90*0.04 {
		t.Errorf("a.wav's analysis was not renewed: %+v", a)
	}
}

// writeClicks writes a WAV of a click track at bpm, seconds long.
func writeClicks(t *testing.T, path string, bpm float64, seconds int) {
	t.Helper()
	p := audio.NewPCM(seconds * audio.SampleRate)
	period := int(60 / bpm * audio.SampleRate)
	for i := range p.Frames() {
		k := i % period
		v := float32(0.8 * math.Exp(-float64(k)/300) * math.Sin(float64(k)*0.3))
		p.Samples[2*i], p.Samples[2*i+1] = v, v
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := audio.WriteWAV(f, p); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
