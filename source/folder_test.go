package source

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever/audio"
)

func trackIDs(ts []Track) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b/Artist B - Song B.wav", makeWAV(4410, 44100, 2))
	writeFile(t, dir, "b/c/deep.flac", flacHeader(44100, 44100))
	writeFile(t, dir, "A.WAV", makeWAV(44100, 22050, 1, "INAM", "Tagged A", "IART", "Tagger"))
	writeFile(t, dir, "03. Zed - Last.mp3", concat(id3v2(4, "TCON", "Dub"), mp3Silence(10)))
	writeFile(t, dir, "notes.txt", []byte("not audio"))
	writeFile(t, dir, ".hidden.mp3", mp3Silence(2))
	writeFile(t, dir, ".git/x.wav", makeWAV(100, 44100, 1))
	writeFile(t, dir, "broken.mp3", []byte("<html>an error page saved as mp3</html>"))
	writeFile(t, dir, "empty.ogg", nil)

	log, logs := newLogger()
	f := Folder{Dir: dir, Recursive: true, Logger: log}
	ts, err := f.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"03. Zed - Last.mp3", "A.WAV", "b/Artist B - Song B.wav", "b/c/deep.flac"}
	if got := trackIDs(ts); !slices.Equal(got, want) {
		t.Fatalf("IDs = %q, want %q", got, want)
	}
	for _, name := range []string{"broken.mp3", "empty.ogg"} {
		if !strings.Contains(logs.String(), filepath.Join(dir, name)) {
			t.Errorf("no warning naming %s in log:\n%s", name, logs)
		}
	}
	if strings.Contains(logs.String(), "notes.txt") || strings.Contains(logs.String(), "hidden") {
		t.Errorf("log mentions files that are not audio:\n%s", logs)
	}

	byID := map[string]Track{}
	for _, tr := range ts {
		byID[tr.ID] = tr
		if !filepath.IsAbs(tr.Source) || tr.Open == nil {
			t.Errorf("%s: Source %q, Open set %v", tr.ID, tr.Source, tr.Open != nil)
		}
	}
	check := func(id, artist, title string, dur float64, tags ...string) {
		t.Helper()
		tr := byID[id]
		if tr.Artist != artist || tr.Title != title || math.Abs(tr.Duration-dur) > 0.01 || !slices.Equal(tr.Tags, tags) {
			t.Errorf("%s: got %q / %q / %v / %q, want %q / %q / %v / %q", id, tr.Artist, tr.Title, tr.Duration, tr.Tags, artist, title, dur, tags)
		}
	}
	check("A.WAV", "Tagger", "Tagged A", 2)
	check("b/Artist B - Song B.wav", "Artist B", "Song B", 0.1)
	check("03. Zed - Last.mp3", "Zed", "Last", 10*1152.0/44100, "Dub")
	check("b/c/deep.flac", "", "deep", 1)

	flat, err := Folder{Dir: dir, Logger: log}.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := trackIDs(flat); !slices.Equal(got, want[:2]) {
		t.Errorf("non-recursive IDs = %q, want %q", got, want[:2])
	}
}

func TestFolderRelists(t *testing.T) {
	dir := t.TempDir()
	f := Folder{Dir: dir}
	ts, err := f.Tracks(context.Background())
	if err != nil || len(ts) != 0 {
		t.Fatalf("empty folder: %d tracks, %v", len(ts), err)
	}
	writeFile(t, dir, "one.wav", makeWAV(100, 44100, 1))
	writeFile(t, dir, "two.wav", makeWAV(100, 44100, 1))
	if ts, _ = f.Tracks(context.Background()); len(ts) != 2 {
		t.Fatalf("after adding two files: %q", trackIDs(ts))
	}
	os.Remove(filepath.Join(dir, "one.wav"))
	if ts, _ = f.Tracks(context.Background()); !slices.Equal(trackIDs(ts), []string{"two.wav"}) {
		t.Fatalf("after removing one: %q", trackIDs(ts))
	}
}

func TestFolderSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "disk/music/a.wav", makeWAV(100, 44100, 1))
	writeFile(t, dir, "disk/other/b.wav", makeWAV(100, 44100, 1))
	link := filepath.Join(dir, "Music")
	if err := os.Symlink(filepath.Join(dir, "disk", "music"), link); err != nil {
		t.Skip(err)
	}
	// A linked file is listed; a linked directory is not entered.
	os.Symlink(filepath.Join(dir, "disk", "other", "b.wav"), filepath.Join(dir, "disk", "music", "b-link.wav"))
	os.Symlink(filepath.Join(dir, "disk", "other"), filepath.Join(dir, "disk", "music", "other"))
	ts, err := Folder{Dir: link, Recursive: true}.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := trackIDs(ts), []string{"a.wav", "b-link.wav"}; !slices.Equal(got, want) {
		t.Errorf("IDs = %q, want %q", got, want)
	}
}

func TestFolderSettle(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "old.wav", makeWAV(100, 44100, 1))
	hourAgo := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "old.wav"), hourAgo, hourAgo)
	writeFile(t, dir, "new.wav", makeWAV(100, 44100, 1))
	ts, err := Folder{Dir: dir, Settle: time.Minute}.Tracks(context.Background())
	if err != nil || !slices.Equal(trackIDs(ts), []string{"old.wav"}) {
		t.Errorf("%q, %v", trackIDs(ts), err)
	}
}

func TestFolderErrors(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "x.wav", makeWAV(10, 44100, 1))
	for _, d := range []string{filepath.Join(dir, "missing"), file} {
		if _, err := (Folder{Dir: d}).Tracks(context.Background()); err == nil || !strings.Contains(err.Error(), d) {
			t.Errorf("Folder{%s}: err = %v, want one naming it", d, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Folder{Dir: dir}).Tracks(ctx); err == nil {
		t.Error("cancelled listing succeeded")
	}
}

func TestFolderOpen(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mono22k.wav", makeWAV(22050, 22050, 1))
	writeFile(t, dir, "silence.mp3", mp3Silence(40))
	// The decoder trusts content over names: a WAV named .ogg plays.
	writeFile(t, dir, "misnamed.ogg", makeWAV(44100, 44100, 2))
	// Passes the header check, fails to decode: the error must say which file.
	bad := writeFile(t, dir, "bad.wav", makeWAV(44100, 44100, 2)[:44])

	ts, err := Folder{Dir: dir}.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seconds := map[string]float64{"mono22k.wav": 1, "misnamed.ogg": 1, "silence.mp3": 40 * 1152.0 / 44100}
	for _, tr := range ts {
		p, err := tr.Open(context.Background())
		if tr.ID == "bad.wav" {
			if err == nil || !strings.Contains(err.Error(), bad) {
				t.Errorf("bad.wav: err = %v, want one naming %s", err, bad)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tr.ID, err)
			continue
		}
		// MP3 decoders trim encoder delay and padding, so allow a frame or two.
		if got, want := p.Seconds(), seconds[tr.ID]; math.Abs(got-want) > 0.06 {
			t.Errorf("%s: %v s decoded, want %v", tr.ID, got, want)
		}
		if tr.ID == "mono22k.wav" {
			var peak float32
			for _, v := range p.Samples {
				peak = max(peak, v)
			}
			if peak < 0.2 || peak > 0.3 { // 8000/32768
				t.Errorf("%s: peak %v", tr.ID, peak)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ts[0].Open(ctx); err == nil {
		t.Error("Open with a cancelled context succeeded")
	}
}

func TestFileTrack(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "Band - Tune.wav", makeWAV(441, 44100, 2))
	tr, err := FileTrack(path)
	if err != nil {
		t.Fatal(err)
	}
	if tr.ID != path || tr.Source != path || tr.Artist != "Band" || tr.Title != "Tune" {
		t.Errorf("%+v", tr)
	}
	var p *audio.PCM
	if p, err = tr.Open(context.Background()); err != nil || p.Frames() != 441 {
		t.Errorf("Open: %v", err)
	}
	if _, err := FileTrack(filepath.Join(dir, "nope.wav")); err == nil || !strings.Contains(err.Error(), "nope.wav") {
		t.Errorf("missing file: %v", err)
	}
}

func TestSplitName(t *testing.T) {
	for _, tt := range []struct{ name, artist, title string }{
		{"Artist - Title.mp3", "Artist", "Title"},
		{"03. Artist - Title.flac", "Artist", "Title"},
		{"12 - Artist - Title - Remix.ogg", "Artist", "Title - Remix"},
		{"808 State - Cubik.mp3", "808 State", "Cubik"},
		{"Just a title.wav", "", "Just a title"},
		{"under_scored_name.wav", "", "under scored name"},
		{" - odd.mp3", "", "- odd"},
	} {
		a, ti := splitName(tt.name)
		if a != tt.artist || ti != tt.title {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", tt.name, a, ti, tt.artist, tt.title)
		}
	}
}

// TestFolderSharedMusic lists and plays the real recordings in ../shared.
func TestFolderSharedMusic(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "testdata", "music")
	ts, err := Folder{Dir: dir}.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) == 0 {
		t.Skip("no music in", dir)
	}
	shortest := ts[0]
	for _, tr := range ts {
		if tr.Title == "" || tr.Artist == "" || tr.Duration <= 0 {
			t.Errorf("%s: %+v", tr.ID, tr)
		}
		if tr.Duration < shortest.Duration {
			shortest = tr
		}
	}
	if testing.Short() {
		return
	}
	p, err := shortest.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.Seconds()-shortest.Duration) > 0.05 {
		t.Errorf("%s: decoded %.3f s, tags say %.3f s", shortest.ID, p.Seconds(), shortest.Duration)
	}
}

// TestFolderFFmpeg reads the tags that another program writes: ffmpeg's
// ID3v2.4 for MP3, Vorbis comments for FLAC and Ogg, LIST/INFO for WAV,
// and decodes what it encodes.
func TestFolderFFmpeg(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	exts := []string{"flac", "mp3", "ogg", "wav"}
	for _, ext := range exts {
		out, err := exec.Command(ffmpeg, "-loglevel", "error", "-y",
			"-f", "lavfi", "-i", "sine=frequency=440:duration=2.5:sample_rate=48000", "-ac", "2",
			"-metadata", "title=Tïtle "+ext, "-metadata", "artist=Ärtist", "-metadata", "genre=Techno",
			filepath.Join(dir, "file."+ext)).CombinedOutput()
		if err != nil {
			t.Skipf("ffmpeg cannot write %s: %v\n%s", ext, err, out)
		}
	}
	ts, err := Folder{Dir: dir}.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != len(exts) {
		t.Fatalf("IDs = %q", trackIDs(ts))
	}
	for i, tr := range ts {
		ext := exts[i]
		if tr.Title != "Tïtle "+ext || tr.Artist != "Ärtist" || !slices.Equal(tr.Tags, []string{"Techno"}) {
			t.Errorf("%s: %q by %q, tags %q", tr.ID, tr.Title, tr.Artist, tr.Tags)
		}
		// The MP3 estimate is exact for ffmpeg's Xing header, less its
		// encoder delay and padding.
		if math.Abs(tr.Duration-2.5) > 0.06 {
			t.Errorf("%s: Duration %v, want 2.5", tr.ID, tr.Duration)
		}
		p, err := tr.Open(context.Background())
		if err != nil {
			t.Errorf("%s: %v", tr.ID, err)
			continue
		}
		if math.Abs(p.Seconds()-2.5) > 0.06 {
			t.Errorf("%s: decoded %v s, want 2.5", tr.ID, p.Seconds())
		}
	}
}
