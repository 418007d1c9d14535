package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/foreverfm/forever/audio"
)

// Defaults of HTTP.
const (
	DefaultMaxBytes     = 200 << 20 // over an hour of 320 kb/s MP3, or 20 min of CD-quality WAV
	DefaultFetchTimeout = 2 * time.Minute
	userAgent           = "forever (github.com/foreverfm/forever)"
)

// HTTP fetches audio over HTTP and HTTPS. The zero value is ready to use.
// An HTTP may be shared by many goroutines.
type HTTP struct {
	// Client makes the requests; nil means a client of its own with the
	// standard transport. Redirects are followed as the client does.
	Client *http.Client
	// MaxBytes bounds the size of one response body; 0 means
	// DefaultMaxBytes. Larger responses fail rather than fill memory.
	MaxBytes int64
	// Timeout bounds one fetch, from request to last byte; 0 means
	// DefaultFetchTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request; "" means forever's own.
	UserAgent string
	// Retries is how many times a request that failed for a passing
	// reason (a network error, 408, 429 or a 5xx status) is sent again,
	// after RetryWait, then twice that, and so on, or after the server's
	// Retry-After up to 30 s. 0 means 2; a negative value means none. A
	// Catalog retries failed tracks again later, with a longer backoff.
	Retries   int
	RetryWait time.Duration // 0 means 1 s
}

func (h *HTTP) retries() (int, time.Duration) {
	n, wait := 2, time.Second
	if h != nil {
		if h.Retries != 0 {
			n = max(h.Retries, 0)
		}
		if h.RetryWait > 0 {
			wait = h.RetryWait
		}
	}
	return n, wait
}

// transient reports whether a response status may well differ on retry.
func transient(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// retryAfter reads a Retry-After header in seconds, up to 30 s.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || secs < 0 {
		return 0, false
	}
	return min(time.Duration(secs)*time.Second, 30*time.Second), true
}

var defaultClient = &http.Client{Transport: http.DefaultTransport}

func (h *HTTP) client() *http.Client {
	if h != nil && h.Client != nil {
		return h.Client
	}
	return defaultClient
}

func (h *HTTP) maxBytes() int64 {
	if h != nil && h.MaxBytes > 0 {
		return h.MaxBytes
	}
	return DefaultMaxBytes
}

func (h *HTTP) timeout() time.Duration {
	if h != nil && h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultFetchTimeout
}

// Track returns a track for the audio at rawURL, an http or https URL. Its
// ID and Source are the URL; its title and artist are guessed from the last
// element of the URL's path ("Artist - Title.mp3"). Nothing is fetched
// until Open.
func (h *HTTP) Track(rawURL string) (Track, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return Track{}, err
	}
	name, _ := url.PathUnescape(path.Base(u.Path))
	if name == "/" || name == "." {
		name = u.Host
	}
	artist, title := splitName(name)
	s := u.String()
	return Track{
		ID:     s,
		Title:  title,
		Artist: artist,
		Source: s,
		Open:   func(ctx context.Context) (*audio.PCM, error) { return h.Decode(ctx, s) },
	}, nil
}

func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("source: %s: not an http or https URL", redact(u))
	}
	return u, nil
}

// Decode fetches the audio at rawURL and decodes it. The format is taken
// from the bytes themselves, or failing that from the Content-Type, or
// from the URL's extension. Errors name the URL, less its query, which may
// hold credentials.
func (h *HTTP) Decode(ctx context.Context, rawURL string) (*audio.PCM, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("source: %s: %w", redact(u), err)
	}
	return h.decodeRequest(req)
}

// decodeRequest sends req (whose context bounds the fetch), reads the body
// and decodes it.
func (h *HTTP) decodeRequest(req *http.Request) (*audio.PCM, error) {
	body, resp, err := h.get(req, h.maxBytes())
	if err != nil {
		return nil, err
	}
	name := redact(resp.Request.URL)
	if isHLS(body, resp.Header.Get("Content-Type")) {
		if body, err = h.hlsSegments(req.Context(), body, resp.Request.URL); err != nil {
			return nil, err
		}
	}
	format := sniffFormat(body)
	if format == "" {
		format = formatOfMIME(resp.Header.Get("Content-Type"))
	}
	if format == "" && !isDocument(resp.Header.Get("Content-Type")) {
		format = FormatOf(resp.Request.URL.Path)
	}
	if format == "" {
		return nil, fmt.Errorf("source: %s: not audio forever can decode (Content-Type %q)", name, resp.Header.Get("Content-Type"))
	}
	p, err := audio.Decode(bytes.NewReader(body), format)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && p != nil && p.Seconds() >= minPartial {
			slog.Default().Warn("source: playing the decodable part of a truncated download", "url", name, "seconds", p.Seconds(), "err", err)
			return p, nil
		}
		return nil, fmt.Errorf("source: %s: %w", name, err)
	}
	return p, nil
}

// get sends req and returns the body of a 2xx response, at most limit
// bytes of it, retrying what failed for a passing reason. Errors name the
// URL without its query.
func (h *HTTP) get(req *http.Request, limit int64) ([]byte, *http.Response, error) {
	retries, wait := h.retries()
	for attempt := 0; ; attempt++ {
		body, resp, again, err := h.getOnce(req.Clone(req.Context()), limit)
		if err == nil || !again || attempt >= retries || req.Context().Err() != nil {
			return body, resp, err
		}
		d := wait << attempt
		if ra, ok := retryAfter(resp); ok {
			d = ra
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return nil, nil, err
		}
	}
}

// getOnce is one attempt of get; again says whether a retry may succeed.
// On a failed status the response is returned (closed) for its headers.
func (h *HTTP) getOnce(req *http.Request, limit int64) (body []byte, resp *http.Response, again bool, err error) {
	if req.Header.Get("User-Agent") == "" {
		ua := userAgent
		if h != nil && h.UserAgent != "" {
			ua = h.UserAgent
		}
		req.Header.Set("User-Agent", ua)
	}
	resp, err = h.client().Do(req)
	if err != nil {
		// The client's errors quote the whole URL; say it again without
		// the query.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, nil, true, fmt.Errorf("source: GET %s: %w", redact(req.URL), err)
	}
	defer resp.Body.Close()
	name := redact(resp.Request.URL)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp, transient(resp.StatusCode), fmt.Errorf("source: GET %s: %s", name, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, nil, false, fmt.Errorf("source: GET %s: %d bytes, more than the limit of %d", name, resp.ContentLength, limit)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, true, fmt.Errorf("source: GET %s: %w", name, err)
	}
	if int64(len(body)) > limit {
		return nil, nil, false, fmt.Errorf("source: GET %s: more than the limit of %d bytes", name, limit)
	}
	return body, resp, false, nil
}

// maxHLSSegments bounds the segments fetched for one HLS track.
const maxHLSSegments = 5000

// isHLS reports whether a response is an HLS media playlist.
func isHLS(body []byte, contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl":
		return true
	}
	return bytes.HasPrefix(bytes.TrimLeft(body, "\ufeff \r\n\t"), []byte("#EXTM3U"))
}

// hlsSegments fetches the segments of the HLS media playlist pl, fetched
// from base, and returns them joined, which for MP3 segments (SoundCloud's
// HLS streams) is one MP3 stream. Encrypted streams and master playlists
// are refused. The joined size is bounded like any one download.
func (h *HTTP) hlsSegments(ctx context.Context, pl []byte, base *url.URL) ([]byte, error) {
	name := redact(base)
	if bytes.Contains(pl, []byte("#EXT-X-STREAM-INF")) {
		return nil, fmt.Errorf("source: %s: an HLS master playlist, not a media playlist", name)
	}
	if bytes.Contains(pl, []byte("#EXT-X-KEY")) && !bytes.Contains(pl, []byte("METHOD=NONE")) {
		return nil, fmt.Errorf("source: %s: encrypted HLS is not supported", name)
	}
	entries, err := ParseM3U(bytes.NewReader(pl))
	if err != nil {
		return nil, fmt.Errorf("source: %s: %w", name, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("source: %s: an HLS playlist without segments", name)
	}
	if len(entries) > maxHLSSegments {
		return nil, fmt.Errorf("source: %s: more than %d HLS segments", name, maxHLSSegments)
	}
	var out []byte
	for _, e := range entries {
		ref, err := url.Parse(e.Location)
		if err != nil {
			return nil, fmt.Errorf("source: %s: segment: %w", name, err)
		}
		u := base.ResolveReference(ref)
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("source: %s: segment %s is not http or https", name, redact(u))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("source: %s: %w", redact(u), err)
		}
		seg, _, err := h.get(req, h.maxBytes()-int64(len(out)))
		if err != nil {
			return nil, err
		}
		// Raw audio segments may each start with an ID3 tag (a timestamp);
		// inside one joined stream they would be garbage.
		if len(seg) >= 10 && string(seg[:3]) == "ID3" {
			if n, ok := syncsafe(seg[6:10]); ok && 10+n <= int64(len(seg)) {
				seg = seg[10+n:]
			}
		}
		out = append(out, seg...)
	}
	return out, nil
}

// formatOfMIME maps the media types that audio servers use to a format.
func formatOfMIME(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	switch mt {
	case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg", "audio/x-mp3":
		return "mp3"
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return "wav"
	case "audio/flac", "audio/x-flac":
		return "flac"
	case "audio/ogg", "application/ogg", "audio/vorbis", "audio/x-vorbis+ogg":
		return "ogg"
	}
	return ""
}

// isDocument reports whether a Content-Type says the body is a page or a
// message (a login page, an API's error) rather than a file.
func isDocument(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml")
}

// redact returns u without user information and query, which may hold
// credentials (a client_id, a signed URL's signature), for messages.
func redact(u *url.URL) string {
	v := *u
	v.User = nil
	if v.RawQuery != "" {
		v.RawQuery = "…"
	}
	v.Fragment = ""
	return v.String()
}

// URLs is a Source of a fixed list of http and https URLs of audio files.
// Malformed URLs are skipped with a warning.
type URLs struct {
	URLs   []string
	HTTP   *HTTP        // nil means the zero HTTP
	Logger *slog.Logger // nil means slog.Default()
}

// Tracks returns a track for each well-formed URL, in order.
func (s URLs) Tracks(ctx context.Context) ([]Track, error) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	var ts []Track
	for _, raw := range s.URLs {
		t, err := s.HTTP.Track(raw)
		if err != nil {
			log.Warn("source: skipping URL", "err", err)
			continue
		}
		ts = append(ts, t)
	}
	return ts, ctx.Err()
}
