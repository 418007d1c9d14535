package source

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
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
