package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/foreverfm/forever/audio"
)

// Folder is a Source of the audio files in a directory: files named .wav,
// .mp3, .flac, .ogg or .oga, in any letter case. Hidden files and
// directories (names starting with ".") are left out. The folder is listed
// afresh on each call to Tracks, so files added or removed while a radio
// runs are picked up at its next listing.
type Folder struct {
	Dir string
	// Recursive includes the files of subdirectories, at any depth.
	// Symbolic links to directories are not followed.
	Recursive bool
	// Settle leaves out files modified less than this long ago: they may
	// still be being copied in, and a later listing will find them whole.
	// 0 lists every file at once.
	Settle time.Duration
	// Logger receives a warning for each file skipped; nil means
	// slog.Default().
	Logger *slog.Logger
	// Memo, if set, remembers files across listings (see FolderMemo).
	Memo *FolderMemo
	// ReadTimeout bounds the reading of one file's tags (default 10 s).
	ReadTimeout time.Duration
}

// Tracks lists the folder's audio files in a stable order: sorted by path
// relative to Dir, which is also each track's ID (with forward slashes).
// Title, artist, genre and duration come from the files' tags where they
// have them, and otherwise the title and artist from a file name of the
// form "Artist - Title.mp3". Entries that cannot be read, that are not
// regular files once links are resolved (named pipes, devices, symbolic
// link loops, directories named like audio files), or whose bytes are not
// WAV, MP3, FLAC or Ogg, are skipped with a warning naming them (once per
// reason when Memo is set). Only regular files are opened, and a read that
// stalls (a hung network mount) is given up after ReadTimeout, so a
// listing always ends. An error is returned only if Dir itself cannot be
// listed or ctx ends.
func (f Folder) Tracks(ctx context.Context) ([]Track, error) {
	log := f.Logger
	if log == nil {
		log = slog.Default()
	}
	root, err := filepath.Abs(f.Dir)
	if err != nil {
		return nil, fmt.Errorf("source: folder %s: %w", f.Dir, err)
	}
	// A music folder is often a link to a disk elsewhere; WalkDir would
	// not enter it.
	if resolved, err := filepath.EvalSymlinks(root); err == nil {
		root = resolved
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("source: folder: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("source: folder %s: not a directory", f.Dir)
	}
	memo := f.Memo
	if memo == nil {
		memo = &FolderMemo{} // remembers nothing past this listing
	}
	memo.begin()
	var tracks []Track
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if path == root {
			return err
		}
		if err != nil {
			memo.skip(log, path, "", err.Error())
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if FormatOf(path) == "" {
			if d.IsDir() && !f.Recursive {
				return fs.SkipDir
			}
			return nil
		}
		// Follow links before opening anything: a link may lead to a pipe
		// that would block open for good, or round in a loop.
		fi, err := os.Stat(path)
		var reason string
		switch {
		case err != nil:
			reason = err.Error()
		case fi.IsDir():
			reason = "a directory, not an audio file"
		case !fi.Mode().IsRegular():
			reason = "not a regular file (" + fileKind(fi.Mode()) + ")"
		}
		if reason != "" {
			memo.skip(log, path, "", reason)
			if d.IsDir() && !f.Recursive {
				return fs.SkipDir
			}
			return nil
		}
		if f.Settle > 0 && time.Since(fi.ModTime()) < f.Settle {
			log.Debug("source: file still settling", "path", path)
			memo.keep(path)
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		state := strconv.FormatInt(fi.Size(), 10) + ":" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
		t, ok := memo.track(path, state)
		if !ok {
			if t, err = fileTrackTimeout(ctx, path, f.readTimeout(), log); err != nil {
				memo.skip(log, path, state, strings.TrimPrefix(err.Error(), "source: "))
				return nil
			}
			memo.store(path, state, t)
		}
		t.ID = filepath.ToSlash(rel)
		tracks = append(tracks, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source: folder %s: %w", f.Dir, err)
	}
	memo.end()
	slices.SortFunc(tracks, func(a, b Track) int { return strings.Compare(a.ID, b.ID) })
	return tracks, nil
}

func (f Folder) readTimeout() time.Duration {
	if f.ReadTimeout > 0 {
		return f.ReadTimeout
	}
	return 10 * time.Second
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return m.Type().String()
}

// FolderMemo remembers what a Folder found in each file, by the file's
// size and modification time, so that listing an unchanged folder again
// costs a stat per file (no tags read), and what it skipped, so that each
// skipped entry is logged once, and again only when its reason changes. A
// Catalog gives its Folder one. A FolderMemo is safe for concurrent use
// but suits one Folder.
type FolderMemo struct {
	mu    sync.Mutex
	files map[string]memoFile
	seen  map[string]bool
}

type memoFile struct {
	state  string // size and mtime when read; "" when skipped before reading
	track  Track
	reason string // why it was skipped, or ""
}

func (m *FolderMemo) begin() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string]memoFile{}
	}
	m.seen = map[string]bool{}
}

// end forgets the files this listing did not find, so that one that
// returns is read (and, if still bad, named) again.
func (m *FolderMemo) end() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.files {
		if !m.seen[p] {
			delete(m.files, p)
		}
	}
}

func (m *FolderMemo) keep(path string) {
	m.mu.Lock()
	m.seen[path] = true
	m.mu.Unlock()
}

func (m *FolderMemo) track(path, state string) (Track, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen[path] = true
	e, ok := m.files[path]
	return e.track, ok && e.reason == "" && e.state == state
}

func (m *FolderMemo) store(path, state string, t Track) {
	m.mu.Lock()
	m.files[path] = memoFile{state: state, track: t}
	m.mu.Unlock()
}

func (m *FolderMemo) skip(log *slog.Logger, path, state, reason string) {
	m.mu.Lock()
	m.seen[path] = true
	old, ok := m.files[path]
	m.files[path] = memoFile{state: state, reason: reason}
	m.mu.Unlock()
	if ok && old.reason == reason {
		log.Debug("source: skipping entry", "path", path, "reason", reason)
		return
	}
	log.Warn("source: skipping entry", "path", path, "reason", reason)
}

// Skipped returns the entries the latest listing skipped and why, by path.
func (m *FolderMemo) Skipped() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for p, e := range m.files {
		if e.reason != "" {
			out[p] = e.reason
		}
	}
	return out
}

// fileTrackTimeout is fileTrack given up after d: a file on a hung mount
// must not stall a listing. The abandoned read ends when the mount
// answers, or never; it holds one goroutine and one descriptor meanwhile.
func fileTrackTimeout(ctx context.Context, path string, d time.Duration, log *slog.Logger) (Track, error) {
	type result struct {
		t   Track
		err error
	}
	done := make(chan result, 1)
	go func() {
		t, err := fileTrack(path, log)
		done <- result{t, err}
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.t, r.err
	case <-timer.C:
		return Track{}, fmt.Errorf("source: %s: reading its tags took over %v", path, d)
	case <-ctx.Done():
		return Track{}, ctx.Err()
	}
}

// FormatOf names the audio format that a file name's extension promises
// ("wav", "mp3", "flac", "ogg"), or "" for other files.
func FormatOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".wav", ".wave":
		return "wav"
	case ".mp3":
		return "mp3"
	case ".flac":
		return "flac"
	case ".ogg", ".oga":
		return "ogg"
	}
	return ""
}

// FileTrack describes the audio file at path from its tags and name,
// reading only its headers. Its ID and Source are the absolute path; Open
// decodes the file. The error names the file and says what is wrong when
// the file cannot be read or is not audio forever can decode.
func FileTrack(path string) (Track, error) { return fileTrack(path, slog.Default()) }

func fileTrack(path string, log *slog.Logger) (Track, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Track{}, fmt.Errorf("source: %s: %w", path, err)
	}
	fh, err := openRegular(abs)
	if err != nil {
		return Track{}, fmt.Errorf("source: %w", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return Track{}, fmt.Errorf("source: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Track{}, fmt.Errorf("source: %s: not a regular file", abs)
	}
	tags, err := ReadTags(newHeadReader(fh, fi.Size()), fi.Size())
	if err != nil {
		return Track{}, fmt.Errorf("source: %s: %w", abs, err)
	}
	artist, title := splitName(filepath.Base(abs))
	t := Track{
		ID:       abs,
		Title:    tags.Title,
		Artist:   tags.Artist,
		Source:   abs,
		Duration: tags.Duration,
	}
	if t.Title == "" {
		t.Title = title
	}
	if t.Artist == "" {
		t.Artist = artist
	}
	if tags.Genre != "" {
		t.Tags = []string{tags.Genre}
	}
	t.Open = func(ctx context.Context) (*audio.PCM, error) {
		return decodeFile(ctx, abs, log)
	}
	return t, nil
}

// minPartial is the shortest part of a truncated file worth playing.
const minPartial = 10 // seconds

// decodeFile decodes the file at path. audio.DecodeFile decodes by content
// when the name says otherwise, and names the file in its errors. A
// truncated file still plays when enough of it decoded, since a cut last
// frame is common in real collections.
func decodeFile(ctx context.Context, path string, log *slog.Logger) (*audio.PCM, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The file may have become a pipe or a link to one since it was listed.
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("source: %s: not a regular file (%s)", path, fileKind(fi.Mode()))
	}
	p, err := audio.DecodeFile(path)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && p != nil && p.Seconds() >= minPartial {
			log.Warn("source: playing the decodable part of a truncated file", "path", path, "seconds", p.Seconds(), "err", err)
			return p, nil
		}
		return nil, fmt.Errorf("source: %w", err)
	}
	if p == nil || p.Frames() == 0 {
		return nil, fmt.Errorf("source: %s: no audio", path)
	}
	return p, nil
}

var trackNumber = regexp.MustCompile(`^\d{1,3}\s*[.-]\s+`)

// splitName guesses artist and title from a file name such as
// "Artist - Title.mp3" or "03. Artist - Title.flac". Without a " - " the
// whole name (less extension and track number) is the title.
func splitName(name string) (artist, title string) {
	name = strings.TrimSuffix(name, filepath.Ext(name))
	if !strings.Contains(name, " ") {
		name = strings.ReplaceAll(name, "_", " ")
	}
	name = strings.TrimSpace(trackNumber.ReplaceAllString(name, ""))
	if a, t, ok := strings.Cut(name, " - "); ok {
		a, t = strings.TrimSpace(a), strings.TrimSpace(t)
		if a != "" && t != "" {
			return a, t
		}
	}
	return "", name
}
