package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/foreverfm/forever/audio"
)

// SoundCloudAPI is the base URL of SoundCloud's public API.
const SoundCloudAPI = "https://api.soundcloud.com"

// Bounds on what a SoundCloud-style API may send back.
const (
	maxAPIBytes = 16 << 20
	maxAPIPages = 20
)

// SoundCloud is a Source of the tracks that a SoundCloud-style REST API
// finds for a search, as Forever.fm found its music on SoundCloud.
//
// It relies on these parts of the API, and no others:
//
//	GET {BaseURL}/tracks?q=&genres=&tags=&limit=&linked_partitioning=true
//	    → either a JSON array of track objects, or
//	      {"collection": [track, ...], "next_href": URL of the next page}
//	track object fields:
//	    id (number), title, user.username, duration (milliseconds), genre,
//	    tag_list (space separated, multi-word tags in double quotes),
//	    permalink_url, last_modified, streamable (bool, optional),
//	    access ("playable", "preview" or "blocked"; optional),
//	    stream_url (optional), media.transcodings (optional list of
//	    {url, snipped, format: {protocol, mime_type}})
//	GET stream_url → 302 redirect to the audio (MP3), or to an HLS playlist
//	GET a transcoding's url → {"url": URL of the audio, or of an HLS
//	    media playlist of MP3 segments for protocol "hls"}
//
// Credentials go with the API's requests only, never to the hosts that
// serve the audio: ClientID as the client_id query parameter, Token as an
// "Authorization: OAuth" header. Tracks that cannot be played whole
// (streamable false, access "preview" or "blocked", or no way to stream)
// are left out.
type SoundCloud struct {
	// BaseURL is the API's root; "" means SoundCloudAPI.
	BaseURL  string
	ClientID string
	Token    string

	// The search. Genres and Tags match any of their values.
	Query  string
	Genres []string
	Tags   []string
	// Limit is the most tracks returned; 0 means 50.
	Limit int

	// HTTP makes the requests; nil means the zero HTTP.
	HTTP *HTTP
	// Logger receives a note of the tracks left out; nil means
	// slog.Default().
	Logger *slog.Logger
}

// scTrack is the part of the API's track object that SoundCloud uses.
type scTrack struct {
	Kind  string `json:"kind"`
	ID    int64  `json:"id"`
	Title string `json:"title"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	Duration     float64 `json:"duration"` // milliseconds
	Genre        string  `json:"genre"`
	TagList      string  `json:"tag_list"`
	PermalinkURL string  `json:"permalink_url"`
	LastModified string  `json:"last_modified"`
	Streamable   *bool   `json:"streamable"`
	Access       string  `json:"access"`
	StreamURL    string  `json:"stream_url"`
	Media        struct {
		Transcodings []struct {
			URL     string `json:"url"`
			Snipped bool   `json:"snipped"`
			Format  struct {
				Protocol string `json:"protocol"`
				MimeType string `json:"mime_type"`
			} `json:"format"`
		} `json:"transcodings"`
	} `json:"media"`
}

type scPage struct {
	Collection []scTrack `json:"collection"`
	NextHref   string    `json:"next_href"`
}

func (s *SoundCloud) base() (*url.URL, error) {
	b := s.BaseURL
	if b == "" {
		b = SoundCloudAPI
	}
	u, err := parseHTTPURL(b)
	if err != nil {
		return nil, fmt.Errorf("source: SoundCloud base URL: %w", err)
	}
	return u, nil
}

// request builds a request to the API, with credentials, if u is on the
// API's host; a URL elsewhere gets none.
func (s *SoundCloud) request(ctx context.Context, u *url.URL, api *url.URL) (*http.Request, error) {
	u = cloneURL(u)
	sameHost := u.Host == api.Host
	if sameHost && s.ClientID != "" {
		q := u.Query()
		if q.Get("client_id") == "" {
			q.Set("client_id", s.ClientID)
			u.RawQuery = q.Encode()
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("source: %s: %w", redact(u), err)
	}
	if sameHost && s.Token != "" {
		req.Header.Set("Authorization", "OAuth "+s.Token)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// apiHTTP returns s.HTTP with a client that drops the Authorization header
// on redirects away from the API's host (host and port): the standard
// client keeps it for any port of the same host name.
func (s *SoundCloud) apiHTTP(api *url.URL) *HTTP {
	var h HTTP
	if s.HTTP != nil {
		h = *s.HTTP
	}
	c := *h.client()
	check := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != api.Host {
			req.Header.Del("Authorization")
		}
		if check != nil {
			return check(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	h.Client = &c
	return &h
}

func cloneURL(u *url.URL) *url.URL {
	v := *u
	return &v
}

// getJSON fetches u from the API and decodes its JSON into v.
func (s *SoundCloud) getJSON(ctx context.Context, u, api *url.URL, v any) error {
	ctx, cancel := context.WithTimeout(ctx, s.HTTP.timeout())
	defer cancel()
	req, err := s.request(ctx, u, api)
	if err != nil {
		return err
	}
	body, _, err := s.apiHTTP(api).get(req, maxAPIBytes)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("source: SoundCloud %s: %w", redact(u), err)
	}
	return nil
}

// Tracks runs the search and returns up to Limit playable tracks, in the
// API's order, following its pages.
func (s *SoundCloud) Tracks(ctx context.Context) ([]Track, error) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	api, err := s.base()
	if err != nil {
		return nil, err
	}
	limit := s.Limit
	if limit <= 0 {
		limit = 50
	}
	u := api.JoinPath("tracks")
	q := url.Values{}
	if s.Query != "" {
		q.Set("q", s.Query)
	}
	if len(s.Genres) > 0 {
		q.Set("genres", strings.Join(s.Genres, ","))
	}
	if len(s.Tags) > 0 {
		q.Set("tags", strings.Join(s.Tags, ","))
	}
	q.Set("limit", strconv.Itoa(min(limit, 200)))
	q.Set("linked_partitioning", "true")
	u.RawQuery = q.Encode()

	var tracks []Track
	skipped := 0
	for page := 0; page < maxAPIPages && u != nil && len(tracks) < limit; page++ {
		var raw json.RawMessage
		if err := s.getJSON(ctx, u, api, &raw); err != nil {
			return nil, err
		}
		p, err := parsePage(raw)
		if err != nil {
			return nil, fmt.Errorf("source: SoundCloud %s: %w", redact(u), err)
		}
		for _, st := range p.Collection {
			t, ok := s.track(st, api)
			if !ok {
				skipped++
				continue
			}
			if len(tracks) < limit {
				tracks = append(tracks, t)
			}
		}
		u = nil
		if p.NextHref != "" {
			next, err := api.Parse(p.NextHref)
			// Follow pages on the API's own host only: credentials go there.
			if err == nil && next.Host == api.Host && next.Scheme == api.Scheme {
				u = next
			}
		}
	}
	if skipped > 0 {
		log.Info("source: SoundCloud tracks left out as not playable whole", "count", skipped)
	}
	return tracks, nil
}

// parsePage reads one answer of GET /tracks: a page object or, from older
// versions of the API, a bare array of tracks.
func parsePage(raw []byte) (scPage, error) {
	var p scPage
	var err error
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		err = json.Unmarshal(raw, &p.Collection)
	} else {
		err = json.Unmarshal(raw, &p)
	}
	return p, err
}

func (s *SoundCloud) track(st scTrack, api *url.URL) (Track, bool) {
	if (st.Kind != "" && st.Kind != "track") || st.ID == 0 ||
		(st.Streamable != nil && !*st.Streamable) || st.Access == "preview" || st.Access == "blocked" {
		return Track{}, false
	}
	open := s.opener(st, api)
	if open == nil {
		return Track{}, false
	}
	id := strconv.FormatInt(st.ID, 10)
	src := st.PermalinkURL
	if src == "" {
		src = api.JoinPath("tracks", id).String()
	}
	t := Track{
		ID:          "soundcloud:" + id,
		Title:       clean(st.Title),
		Artist:      clean(st.User.Username),
		Source:      src,
		Fingerprint: "soundcloud:" + id + "@" + st.LastModified,
		Open:        open,
	}
	if d := st.Duration / 1000; d > 0 && d < 1e7 {
		t.Duration = d
	}
	if g := clean(st.Genre); g != "" {
		t.Tags = append(t.Tags, g)
	}
	for _, tag := range splitTagList(st.TagList) {
		if !strings.EqualFold(tag, st.Genre) {
			t.Tags = append(t.Tags, tag)
		}
	}
	if t.Title == "" {
		t.Title = t.ID
	}
	return t, true
}

// opener returns how to fetch a track's audio: a progressive (whole-file)
// transcoding when the API offers one, else an HLS one in MP3, else the
// stream URL; nil if none.
func (s *SoundCloud) opener(st scTrack, api *url.URL) func(context.Context) (*audio.PCM, error) {
	var pick *url.URL
	for _, protocol := range []string{"progressive", "hls"} {
		for _, tc := range st.Media.Transcodings {
			if pick != nil || tc.Format.Protocol != protocol || tc.Snipped || tc.URL == "" {
				continue
			}
			// HLS segments are joined into one stream, which works for MP3
			// and not for the fragmented MP4 of AAC and Opus.
			if mt, _, _ := mime.ParseMediaType(tc.Format.MimeType); protocol == "hls" && mt != "audio/mpeg" {
				continue
			}
			if u, err := api.Parse(tc.URL); err == nil {
				pick = u
			}
		}
	}
	if u := pick; u != nil {
		return func(ctx context.Context) (*audio.PCM, error) {
			var loc struct {
				URL string `json:"url"`
			}
			if err := s.getJSON(ctx, u, api, &loc); err != nil {
				return nil, err
			}
			if loc.URL == "" {
				return nil, fmt.Errorf("source: SoundCloud %s: no url in the answer", redact(u))
			}
			return s.HTTP.Decode(ctx, loc.URL)
		}
	}
	if st.StreamURL == "" {
		return nil
	}
	u, err := api.Parse(st.StreamURL)
	if err != nil {
		return nil
	}
	return func(ctx context.Context) (*audio.PCM, error) {
		ctx, cancel := context.WithTimeout(ctx, s.HTTP.timeout())
		defer cancel()
		req, err := s.request(ctx, u, api)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "audio/*")
		return s.apiHTTP(api).decodeRequest(req)
	}
}

// splitTagList splits SoundCloud's tag_list: words separated by spaces,
// multi-word tags in double quotes. Machine tags ("ns:key=value") are
// dropped.
func splitTagList(s string) []string {
	var tags []string
	for len(s) > 0 && len(tags) < 64 {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		var tag string
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				tag, s = s[1:], ""
			} else {
				tag, s = s[1:1+end], s[2+end:]
			}
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			tag, s = s[:end], s[end:]
		}
		if tag = clean(tag); tag != "" && !strings.Contains(tag, "=") {
			tags = append(tags, tag)
		}
	}
	return tags
}
