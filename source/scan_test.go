//go:build unix

package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Entries that are not regular files once links are resolved are skipped,
// the listing ends, and each is named once over several listings.
func TestFolderHostileEntries(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "good.wav", makeWAV(800, 8000, 1))
	fifo := filepath.Join(dir, "pipe.mp3")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no named pipes here:", err)
	}
	outside := filepath.Join(t.TempDir(), "elsewhere")
	if err := syscall.Mkfifo(outside, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"link-to-pipe.ogg": outside,
		"loop-a.flac":      filepath.Join(dir, "loop-b.flac"),
		"loop-b.flac":      filepath.Join(dir, "loop-a.flac"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "x.mp3"), 0o755); err != nil {
		t.Fatal(err)
	}
	log, buf := newLogger()
	f := Folder{Dir: dir, Logger: log, Memo: &FolderMemo{}}
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		tracks, err := f.Tracks(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if ids := trackIDs(tracks); len(ids) != 1 || ids[0] != "good.wav" {
			t.Fatalf("tracks = %v", ids)
		}
	}
	out := buf.String()
	for name, reason := range map[string]string{
		"pipe.mp3":         "named pipe",
		"link-to-pipe.ogg": "named pipe",
		"loop-a.flac":      "too many levels of symbolic links",
		"loop-b.flac":      "too many levels of symbolic links",
		"x.mp3":            "a directory",
	} {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "level=WARN") && strings.Contains(l, filepath.Join(dir, name)+" ") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], reason) {
			t.Errorf("%s named %d times in 3 listings, want once with %q: %q", name, len(lines), reason, lines)
		}
	}
	if s := f.Memo.Skipped(); len(s) != 5 {
		t.Errorf("skipped = %v, want the 5 entries", s)
	}
}
