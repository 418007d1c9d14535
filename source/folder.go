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
	"strings"
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
}

// Tracks lists the folder's audio files in a stable order: sorted by path
// relative to Dir, which is also each track's ID (with forward slashes).
// Title, artist, genre and duration come from the files' tags where they
// have them, and otherwise the title and artist from a file name of the
// form "Artist - Title.mp3". Files that cannot be read, or whose bytes are
// not WAV, MP3, FLAC or Ogg, are skipped with a warning naming them. An
// error is returned only if Dir itself cannot be listed or ctx ends.
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
	var tracks []Track
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if path == root {
			return err
		}
		if err != nil {
			log.Warn("source: skipping unreadable entry", "path", path, "err", err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || (d.IsDir() && !f.Recursive) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if FormatOf(path) == "" {
			return nil
		}
		if f.Settle > 0 {
			if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) < f.Settle {
				log.Debug("source: file still settling", "path", path)
				return nil
			}
		}
		t, err := fileTrack(path, log)
		if err != nil {
			log.Warn("source: skipping file", "path", path, "err", err)
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		t.ID = filepath.ToSlash(rel)
		tracks = append(tracks, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source: folder %s: %w", f.Dir, err)
	}
	slices.SortFunc(tracks, func(a, b Track) int { return strings.Compare(a.ID, b.ID) })
	return tracks, nil
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
	fh, err := os.Open(abs)
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
