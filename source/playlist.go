package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on playlists, which may come from anywhere.
const (
	maxPlaylistBytes   = 8 << 20
	maxPlaylistEntries = 100_000
	maxPlaylistLine    = 64 << 10
)

// ErrPlaylist means that a playlist is malformed or too large.
var ErrPlaylist = errors.New("malformed playlist")

// An Entry is one item of a playlist, as written there.
type Entry struct {
	// Location is a path, relative to the playlist or absolute, or a URL.
	Location string
	Title    string
	Artist   string
	Duration float64 // seconds; 0 when the playlist does not say
}

// ParseM3U parses an M3U or M3U8 playlist: one location per line, with
// optional "#EXTINF:seconds,Artist - Title" lines before them. Other
// comment lines are ignored. Lines that are not UTF-8 are read as Latin-1,
// the encoding of old .m3u files.
func ParseM3U(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxPlaylistBytes+1))
	sc.Buffer(make([]byte, 4096), maxPlaylistLine)
	var entries []Entry
	var info Entry
	var read int
	for n := 1; sc.Scan(); n++ {
		raw := sc.Bytes()
		read += len(raw) + 1
		if n == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
		}
		line := strings.TrimSpace(text(raw))
		switch {
		case line == "":
		case hasPrefixFold(line, "#EXTINF:"):
			info = parseEXTINF(line[len("#EXTINF:"):])
		case strings.HasPrefix(line, "#"):
		default:
			if len(entries) == maxPlaylistEntries {
				return nil, fmt.Errorf("%w: more than %d entries", ErrPlaylist, maxPlaylistEntries)
			}
			info.Location = line
			entries = append(entries, info)
			info = Entry{}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: a line longer than %d bytes", ErrPlaylist, maxPlaylistLine)
		}
		return nil, err
	}
	if read > maxPlaylistBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrPlaylist, maxPlaylistBytes)
	}
	return entries, nil
}

// parseEXTINF reads "seconds[ attributes],Artist - Title". The title is
// everything after the first comma outside double quotes, so attribute
// values and titles may both hold commas.
func parseEXTINF(s string) Entry {
	var e Entry
	quoted := false
	comma := -1
	for i, r := range s {
		if r == '"' {
			quoted = !quoted
		} else if r == ',' && !quoted {
			comma = i
			break
		}
	}
	head, name := s, ""
	if comma >= 0 {
		head, name = s[:comma], s[comma+1:]
	}
	if f := strings.Fields(head); len(f) > 0 {
		e.Duration = parseSeconds(f[0])
	}
	e.Artist, e.Title = splitTitle(name)
	return e
}

// ParsePLS parses a PLS playlist: "FileN=", "TitleN=" and "LengthN=" keys
// in a [playlist] section. Entries are returned in the order of N.
func ParsePLS(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxPlaylistBytes+1))
	sc.Buffer(make([]byte, 4096), maxPlaylistLine)
	byN := map[int]*Entry{}
	var read int
	section := false
	for n := 1; sc.Scan(); n++ {
		raw := sc.Bytes()
		read += len(raw) + 1
		if n == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
		}
		line := strings.TrimSpace(text(raw))
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			section = strings.EqualFold(line, "[playlist]")
			continue
		}
		if !section {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		var field string
		for _, f := range []string{"file", "title", "length"} {
			if strings.HasPrefix(k, f) {
				field = f
				break
			}
		}
		if field == "" {
			continue
		}
		i, err := strconv.Atoi(k[len(field):])
		if err != nil || i < 0 {
			continue
		}
		e := byN[i]
		if e == nil {
			if len(byN) == maxPlaylistEntries {
				return nil, fmt.Errorf("%w: more than %d entries", ErrPlaylist, maxPlaylistEntries)
			}
			e = &Entry{}
			byN[i] = e
		}
		switch field {
		case "file":
			e.Location = v
		case "title":
			e.Artist, e.Title = splitTitle(v)
		case "length":
			e.Duration = parseSeconds(v)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: a line longer than %d bytes", ErrPlaylist, maxPlaylistLine)
		}
		return nil, err
	}
	if read > maxPlaylistBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrPlaylist, maxPlaylistBytes)
	}
	ns := make([]int, 0, len(byN))
	for i, e := range byN {
		if e.Location != "" {
			ns = append(ns, i)
		}
	}
	slices.Sort(ns)
	entries := make([]Entry, len(ns))
	for j, i := range ns {
		entries[j] = *byN[i]
	}
	return entries, nil
}

// ParsePlaylist parses an M3U, M3U8 or PLS playlist, telling which from
// name's extension or, failing that, from the content.
func ParsePlaylist(r io.Reader, name string) ([]Entry, error) {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".pls" {
		return ParsePLS(r)
	}
	if ext == ".m3u" || ext == ".m3u8" {
		return ParseM3U(r)
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	if bytes.Contains(bytes.ToLower(head), []byte("[playlist]")) {
		return ParsePLS(br)
	}
	return ParseM3U(br)
}

// text decodes a playlist line: UTF-8 if it is, else Latin-1.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func parseSeconds(s string) float64 {
	d, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(d > 0) || d > 1e7 {
		return 0 // -1 means unknown, and anything else odd is too
	}
	return d
}

// splitTitle splits a playlist's "Artist - Title".
func splitTitle(s string) (artist, title string) {
	s = clean(s)
	if a, t, ok := strings.Cut(s, " - "); ok {
		if a, t = strings.TrimSpace(a), strings.TrimSpace(t); a != "" && t != "" {
			return a, t
		}
	}
	return "", s
}

// Playlist is a Source of the tracks of an M3U, M3U8 or PLS playlist, a
// local file or an http(s) URL. Its entries may be local files (paths
// relative to the playlist, absolute, or file: URLs) or http(s) URLs;
// entries of a remote playlist resolve against its URL, and may not name
// local files. The playlist is
// read afresh on each call to Tracks.
type Playlist struct {
	Path string
	// HTTP fetches remote playlists and entries; nil means the zero HTTP.
	HTTP *HTTP
	// Logger receives a warning for each entry skipped; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Tracks reads the playlist and returns its tracks in order. Local files
// are checked as Folder checks them, and skipped with a warning naming
// them when missing or not audio; URLs are not fetched until opened. The
// playlist's titles and durations win over the files' own tags. An error
// is returned when the playlist itself cannot be read or parsed.
func (p Playlist) Tracks(ctx context.Context) ([]Track, error) {
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	var entries []Entry
	var base *url.URL // for a remote playlist
	var dir string    // for a local one
	if u, err := url.Parse(p.Path); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("source: playlist %s: %w", redact(u), err)
		}
		ctx, cancel := context.WithTimeout(ctx, p.HTTP.timeout())
		defer cancel()
		body, resp, err := p.HTTP.get(req.WithContext(ctx), maxPlaylistBytes)
		if err != nil {
			return nil, err
		}
		base = resp.Request.URL
		if entries, err = ParsePlaylist(bytes.NewReader(body), base.Path); err != nil {
			return nil, fmt.Errorf("source: playlist %s: %w", redact(base), err)
		}
	} else {
		path, err := filepath.Abs(p.Path)
		if err != nil {
			return nil, fmt.Errorf("source: playlist %s: %w", p.Path, err)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("source: playlist: %w", err)
		}
		entries, err = ParsePlaylist(f, path)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("source: playlist %s: %w", path, err)
		}
		dir = filepath.Dir(path)
	}
	var tracks []Track
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t, err := p.entryTrack(e, base, dir, log)
		if err != nil {
			log.Warn("source: skipping playlist entry", "playlist", p.Path, "entry", e.Location, "err", err)
			continue
		}
		if e.Title != "" {
			t.Title, t.Artist = e.Title, e.Artist
		}
		if e.Duration > 0 {
			t.Duration = e.Duration
		}
		tracks = append(tracks, t)
	}
	return tracks, nil
}

func (p Playlist) entryTrack(e Entry, base *url.URL, dir string, log *slog.Logger) (Track, error) {
	loc := e.Location
	u, err := url.Parse(loc)
	isURL := err == nil && len(u.Scheme) > 1 // "C:\music" is a path
	switch {
	case isURL && (u.Scheme == "http" || u.Scheme == "https"):
		return p.HTTP.Track(loc)
	case isURL && u.Scheme == "file" && base != nil:
		return Track{}, errors.New("a remote playlist may not name local files")
	case isURL && u.Scheme == "file":
		if u.Host != "" && u.Host != "localhost" {
			return Track{}, fmt.Errorf("file URL on another host %q", u.Host)
		}
		return fileTrack(u.Path, log)
	case isURL:
		return Track{}, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	case base != nil:
		ref, err := url.Parse(filepath.ToSlash(loc))
		if err != nil {
			return Track{}, err
		}
		return p.HTTP.Track(base.ResolveReference(ref).String())
	}
	path := loc
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if _, err := os.Stat(path); err != nil && strings.Contains(loc, `\`) {
		// Written on Windows.
		alt := strings.ReplaceAll(loc, `\`, "/")
		if !filepath.IsAbs(alt) {
			alt = filepath.Join(dir, alt)
		}
		if _, err := os.Stat(alt); err == nil {
			path = alt
		}
	}
	return fileTrack(path, log)
}
