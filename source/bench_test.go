package source

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// BenchmarkFolderTracks lists a folder of 200 tagged files: the cost of
// a radio's re-listing, per file.
func BenchmarkFolderTracks(b *testing.B) {
	dir := b.TempDir()
	for i := range 100 {
		writeFile(b, dir, fmt.Sprintf("mp3/%03d.mp3", i), concat(id3v2(4, "TIT2", "Title", "TPE1", "Artist"), mp3Silence(100)))
		writeFile(b, dir, fmt.Sprintf("wav/Artist - %03d.wav", i), makeWAV(44100, 44100, 2))
	}
	f := Folder{Dir: dir, Recursive: true}
	b.ResetTimer()
	for b.Loop() {
		ts, err := f.Tracks(context.Background())
		if err != nil || len(ts) != 200 {
			b.Fatal(len(ts), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200, "ns/file")
}

// BenchmarkFolderTracksMemo is BenchmarkFolderTracks relisting with a
// FolderMemo, as a Catalog does: a stat per unchanged file.
func BenchmarkFolderTracksMemo(b *testing.B) {
	dir := b.TempDir()
	for i := range 100 {
		writeFile(b, dir, fmt.Sprintf("mp3/%03d.mp3", i), concat(id3v2(4, "TIT2", "Title", "TPE1", "Artist"), mp3Silence(100)))
		writeFile(b, dir, fmt.Sprintf("wav/Artist - %03d.wav", i), makeWAV(44100, 44100, 2))
	}
	f := Folder{Dir: dir, Recursive: true, Memo: &FolderMemo{}}
	f.Tracks(context.Background())
	b.ResetTimer()
	for b.Loop() {
		ts, err := f.Tracks(context.Background())
		if err != nil || len(ts) != 200 {
			b.Fatal(len(ts), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/200, "ns/file")
}

// BenchmarkCatalogLibrary builds a library of FOREVER_CATALOG_TRACKS short
// WAV files (default 1,000; scripts/catalog-scale runs 10,000), each with
// distinct bytes, fills a cache with a stand-in analysis of each (it
// measures the catalogue, not the analyser), and then reports what a
// radio restarting on that library pays: the warm start (a new Catalog
// and Cache on the same folder until every track is ready), the rescan of
// the unchanged folder, and the heap and resident memory held after.
func BenchmarkCatalogLibrary(b *testing.B) {
	n := 1000
	if v := os.Getenv("FOREVER_CATALOG_TRACKS"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir, cacheDir := b.TempDir(), b.TempDir()
	if d := os.Getenv("FOREVER_CATALOG_DIR"); d != "" {
		dir = d // an existing library, kept between runs
	}
	for i := range n {
		path := filepath.Join(dir, fmt.Sprintf("%02d/Artist %d - Track %d.wav", i%100, i%97, i))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		writeFile(b, dir, filepath.ToSlash(path[len(dir)+1:]), makeWAV(2000, 8000, 1, "INAM", fmt.Sprint("Track ", i)))
	}
	an := &durationAnalyzer{}
	run := func(c *Catalog) (time.Duration, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		start := time.Now()
		go func() { c.Run(ctx); close(done) }()
		for c.State().Ready < n {
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(start), func() { cancel(); <-done }
	}
	newCatalog := func() *Catalog {
		return &Catalog{
			Source: Folder{Dir: dir, Recursive: true, Logger: slog.New(slog.DiscardHandler)},
			Cache:  &Cache{Dir: cacheDir}, Analyze: an.analyze, Rescan: time.Hour,
		}
	}
	cold, stop := run(newCatalog())
	stop()
	for b.Loop() {
		runtime.GC()
		c := newCatalog()
		warm, stop := run(c)
		if got := an.calls.Load(); got != int32(n) {
			b.Fatalf("%d analyses for %d tracks: the warm start analysed again", got, n)
		}
		before := c.State().Scans
		c.RescanNow()
		for c.State().Scans == before {
			time.Sleep(time.Millisecond)
		}
		rescan := c.State().ScanTook
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(warm.Seconds(), "warm-start-s")
		b.ReportMetric(rescan, "rescan-s")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(rssKiB())/1024, "rss-MiB")
		b.ReportMetric(float64(len(c.Ready())), "tracks")
		stop()
	}
}

// rssKiB reads this process's resident set from /proc, or 0.
func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kib int
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kib)
			return kib
		}
	}
	return 0
}

// BenchmarkCache compares, for a one-minute WAV, a cache hit (Ensure,
// which neither decodes nor rehashes an unchanged file), hashing the file
// as on its first lookup, and decoding it, which a miss adds to the
// analysis itself.
func BenchmarkCache(b *testing.B) {
	dir := b.TempDir()
	path := writeFile(b, dir, "minute.wav", makeWAV(60*44100, 44100, 2))
	tr, err := FileTrack(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var an counter
	c := &Cache{Dir: b.TempDir()}
	if _, err := c.Ensure(ctx, tr, an.analyze); err != nil {
		b.Fatal(err)
	}
	b.Run("hit", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Ensure(ctx, tr, an.analyze); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hash", func(b *testing.B) {
		for b.Loop() {
			os.RemoveAll(c.Dir + "/files")
			fresh := &Cache{Dir: c.Dir} // remembers no hashes
			if _, err := fresh.fileSHA256(ctx, path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := tr.Open(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReadTags(b *testing.B) {
	data := concat(id3v2(3, "TIT2", "Title", "TPE1", "Artist", "TCON", "(17)"), xingFrame(10000), mp3Silence(100))
	r := bytes.NewReader(data)
	for b.Loop() {
		if _, err := ReadTags(r, int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodedLongFile measures what holding a long track costs once
// decoded: the resident memory added by keeping it as PCM, against
// keeping it as a Decoded (16-bit on disk, read by window) and reading it
// through. FOREVER_LONG_MINUTES sets its length (default 10;
// scripts/catalog-scale runs 120).
func BenchmarkDecodedLongFile(b *testing.B) {
	minutes := 10
	if v := os.Getenv("FOREVER_LONG_MINUTES"); v != "" {
		fmt.Sscan(v, &minutes)
	}
	dir := b.TempDir()
	path := writeFile(b, dir, "long.wav", makeWAV(minutes*60*8000, 8000, 1))
	tr, err := FileTrack(path)
	if err != nil {
		b.Fatal(err)
	}
	settle := func() float64 {
		debug.FreeOSMemory()
		return float64(rssKiB()) / 1024
	}
	for b.Loop() {
		base := settle()
		d, err := Decode(context.Background(), tr, dir)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]float32, 2*4096)
		for at := 0; at < d.Frames(); at += 4096 {
			d.ReadFramesAt(buf, at)
		}
		held := settle() - base
		d.Close()
		base = settle()
		p, err := tr.Open(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		whole := settle() - base
		runtime.KeepAlive(p)
		b.ReportMetric(held, "decoded-held-MiB")
		b.ReportMetric(whole, "pcm-held-MiB")
	}
}
