package source

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// scTrackJSON is a track object as SoundCloud's API returns it, with the
// fields this package ignores kept in, so that the decoder meets the real
// shape. streamable, access, stream_url and media vary per test track.
func scTrackJSON(api string, id int, title, user, genre, tags string, extra map[string]any) map[string]any {
	t := map[string]any{
		"kind":              "track",
		"id":                id,
		"urn":               fmt.Sprintf("soundcloud:tracks:%d", id),
		"created_at":        "2013/02/18 10:43:28 +0000",
		"last_modified":     "2024/05/01 12:00:00 +0000",
		"user_id":           3699101,
		"duration":          7250,
		"commentable":       true,
		"comment_count":     3,
		"sharing":           "public",
		"tag_list":          tags,
		"permalink":         strings.ToLower(strings.ReplaceAll(title, " ", "-")),
		"streamable":        true,
		"embeddable_by":     "all",
		"purchase_url":      nil,
		"purchase_title":    nil,
		"genre":             genre,
		"title":             title,
		"description":       "",
		"label_name":        nil,
		"release":           nil,
		"key_signature":     nil,
		"isrc":              nil,
		"bpm":               nil,
		"release_year":      nil,
		"release_month":     nil,
		"release_day":       nil,
		"license":           "cc-by",
		"uri":               fmt.Sprintf("%s/tracks/%d", api, id),
		"permalink_url":     fmt.Sprintf("https://soundcloud.com/%s/track-%d", user, id),
		"artwork_url":       nil,
		"stream_url":        fmt.Sprintf("%s/tracks/%d/stream", api, id),
		"download_url":      nil,
		"downloadable":      false,
		"playback_count":    1234,
		"favoritings_count": 12,
		"reposts_count":     1,
		"access":            "playable",
		"user": map[string]any{
			"id":            3699101,
			"kind":          "user",
			"permalink":     strings.ToLower(user),
			"username":      user,
			"uri":           api + "/users/3699101",
			"permalink_url": "https://soundcloud.com/" + strings.ToLower(user),
			"avatar_url":    "https://i1.sndcdn.com/avatars-000-large.jpg",
		},
	}
	for k, v := range extra {
		t[k] = v
	}
	return t
}

// fakeSoundCloud serves /tracks, stream URLs and progressive transcodings
// like SoundCloud's API, and the audio from a separate "CDN" server that
// must never see the API credentials.
type fakeSoundCloud struct {
	api, cdn  *httptest.Server
	queries   []string
	cdnLeaks  atomic.Int32
	arrayForm bool
}

func newFakeSoundCloud(t *testing.T) *fakeSoundCloud {
	f := &fakeSoundCloud{}
	mp3 := mp3Silence(40)
	f.cdn = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("client_id") != "" || r.Header.Get("Authorization") != "" {
			f.cdnLeaks.Add(1)
		}
		if strings.HasPrefix(r.URL.Path, "/playlist/") {
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.5,\n%s/audio/7.0.mp3\n#EXTINF:0.5,\n/audio/7.1.mp3\n#EXT-X-ENDLIST\n", f.cdn.URL)
			return
		}
		if strings.Contains(r.URL.Path, "/7.") { // HLS segments of 20 frames
			w.Write(mp3[:20*417])
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(mp3)
	}))
	t.Cleanup(f.cdn.Close)
	mux := http.NewServeMux()
	f.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("client_id") != "cid" && r.Header.Get("Authorization") != "OAuth tok" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"code":401,"message":"invalid client_id"}`))
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.api.Close)
	api := f.api.URL
	mux.HandleFunc("GET /tracks", func(w http.ResponseWriter, r *http.Request) {
		f.queries = append(f.queries, r.URL.RawQuery)
		q := r.URL.Query()
		var page []map[string]any
		next := ""
		switch q.Get("offset") {
		case "":
			page = []map[string]any{
				scTrackJSON(api, 1, "First Light", "Alice", "Deep House", `house "deep house" soundcloud:source=web-record`, nil),
				scTrackJSON(api, 2, "Preview Only", "Bob", "Techno", "", map[string]any{"access": "preview"}),
				scTrackJSON(api, 3, "Via Transcoding", "Carol", "", "ambient", map[string]any{
					"stream_url": nil,
					"media": map[string]any{"transcodings": []any{
						map[string]any{"url": api + "/media/3/hls", "preset": "mp3_0_1", "snipped": false,
							"format": map[string]any{"protocol": "hls", "mime_type": "audio/mpeg"}, "quality": "sq"},
						map[string]any{"url": api + "/media/3/progressive", "preset": "mp3_0_1", "snipped": false,
							"format": map[string]any{"protocol": "progressive", "mime_type": "audio/mpeg"}, "quality": "sq"},
					}},
				}),
			}
			next = api + "/tracks?" + q.Encode() + "&offset=3"
			next = strings.Replace(next, "client_id=cid", "", 1) // the API does not always repeat it
		case "3":
			page = []map[string]any{
				scTrackJSON(api, 4, "Not Streamable", "Dan", "", "", map[string]any{"streamable": false}),
				scTrackJSON(api, 5, "Second Wind", "Eve", "Drum & Bass", "", nil),
				scTrackJSON(api, 6, "Third Eye", "Fay", "Drum & Bass", "", nil),
			}
			page = append(page, scTrackJSON(api, 7, "HLS Only", "Gus", "", "", map[string]any{
				"stream_url": nil,
				"media": map[string]any{"transcodings": []any{
					map[string]any{"url": api + "/media/7/opus", "preset": "opus_0_0", "snipped": false,
						"format": map[string]any{"protocol": "hls", "mime_type": "audio/ogg; codecs=\"opus\""}, "quality": "sq"},
					map[string]any{"url": api + "/media/7/hls", "preset": "mp3_0_0", "snipped": false,
						"format": map[string]any{"protocol": "hls", "mime_type": "audio/mpeg"}, "quality": "sq"},
				}},
			}))
			next = "https://elsewhere.example/tracks?offset=6" // must not be followed
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if f.arrayForm {
			json.NewEncoder(w).Encode(page)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"collection": page, "next_href": next})
	})
	mux.HandleFunc("GET /tracks/{id}/stream", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.cdn.URL+"/audio/"+r.PathValue("id")+".128.mp3?Policy=abc&Signature=def", http.StatusFound)
	})
	mux.HandleFunc("GET /media/7/hls", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"url":%q}`, f.cdn.URL+"/playlist/7.m3u8?Policy=x")
	})
	mux.HandleFunc("GET /media/3/progressive", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"url":%q}`, f.cdn.URL+"/audio/3.128.mp3?Policy=x")
	})
	return f
}

func TestSoundCloud(t *testing.T) {
	f := newFakeSoundCloud(t)
	log, _ := newLogger()
	sc := &SoundCloud{
		BaseURL:  f.api.URL,
		ClientID: "cid",
		Query:    "sunrise",
		Genres:   []string{"house", "techno"},
		Limit:    10,
		Logger:   log,
	}
	ts, err := sc.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"soundcloud:1", "soundcloud:3", "soundcloud:5", "soundcloud:6", "soundcloud:7"}; !slices.Equal(trackIDs(ts), want) {
		t.Fatalf("IDs = %q, want %q", trackIDs(ts), want)
	}
	if len(f.queries) != 2 {
		t.Fatalf("%d pages fetched, want 2 (the third is on another host): %q", len(f.queries), f.queries)
	}
	for _, want := range []string{"q=sunrise", "genres=house%2Ctechno", "limit=10", "linked_partitioning=true", "client_id=cid"} {
		if !strings.Contains(f.queries[0], want) {
			t.Errorf("query %q lacks %q", f.queries[0], want)
		}
	}
	first := ts[0]
	if first.Title != "First Light" || first.Artist != "Alice" || first.Duration != 7.25 ||
		first.Source != "https://soundcloud.com/Alice/track-1" ||
		!slices.Equal(first.Tags, []string{"Deep House", "house"}) ||
		first.Fingerprint != "soundcloud:1@2024/05/01 12:00:00 +0000" {
		t.Errorf("first track: %+v", first)
	}
	// stream_url with a redirect; progressive transcoding; HLS in MP3.
	for _, tr := range []Track{ts[0], ts[1], ts[4]} {
		p, err := tr.Open(context.Background())
		if err != nil {
			t.Errorf("%s: %v", tr.ID, err)
			continue
		}
		if want := 40 * 1152.0 / 44100; math.Abs(p.Seconds()-want) > 0.06 {
			t.Errorf("%s: %v s", tr.ID, p.Seconds())
		}
	}
	if n := f.cdnLeaks.Load(); n > 0 {
		t.Errorf("API credentials sent to the audio host %d times", n)
	}

	// Limit stops early; the older array form of the answer also works.
	f.arrayForm = true
	sc.Limit = 1
	ts, err = sc.Tracks(context.Background())
	if err != nil || !slices.Equal(trackIDs(ts), []string{"soundcloud:1"}) {
		t.Errorf("array form with limit 1: %q, %v", trackIDs(ts), err)
	}
}

func TestSoundCloudToken(t *testing.T) {
	f := newFakeSoundCloud(t)
	sc := &SoundCloud{BaseURL: f.api.URL, Token: "tok", Limit: 2}
	ts, err := sc.Tracks(context.Background())
	if err != nil || len(ts) != 2 {
		t.Fatalf("%d tracks, %v", len(ts), err)
	}
	if _, err := ts[0].Open(context.Background()); err != nil {
		t.Error(err)
	}
	if n := f.cdnLeaks.Load(); n > 0 {
		t.Errorf("token sent to the audio host %d times", n)
	}
}

func TestSoundCloudErrors(t *testing.T) {
	f := newFakeSoundCloud(t)
	_, err := (&SoundCloud{BaseURL: f.api.URL, ClientID: "wrong-secret"}).Tracks(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("bad credentials: %v", err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"collection": [{"id": "not a number"`))
	}))
	defer bad.Close()
	if _, err := (&SoundCloud{BaseURL: bad.URL}).Tracks(context.Background()); err == nil {
		t.Error("malformed JSON accepted")
	}
	if _, err := (&SoundCloud{BaseURL: "ftp://x"}).Tracks(context.Background()); err == nil {
		t.Error("ftp base URL accepted")
	}
}

func TestSplitTagList(t *testing.T) {
	got := splitTagList(`electronic "deep house"  chill "unterminated soundcloud:source=x`)
	want := []string{"electronic", "deep house", "chill", "unterminated soundcloud:source=x"}
	want = want[:3] // the unterminated one holds '=' and is dropped as a machine tag
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzSoundCloudPage(f *testing.F) {
	one, _ := json.Marshal(scTrackJSON("https://api.example", 1, "T", "U", "G", `a "b c" d=e`, nil))
	f.Add([]byte(`{"collection":[` + string(one) + `],"next_href":"https://api.example/tracks?offset=1"}`))
	f.Add([]byte(`[` + string(one) + `]`))
	f.Add([]byte(`{"collection":[{"id":2,"media":{"transcodings":[{"url":"/x","format":{"protocol":"hls","mime_type":"audio/mpeg"}}]}}]}`))
	api, _ := parseHTTPURL("https://api.example")
	sc := &SoundCloud{BaseURL: api.String()}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parsePage(raw)
		if err != nil {
			return
		}
		for _, st := range p.Collection {
			tr, ok := sc.track(st, api)
			if !ok {
				continue
			}
			if tr.Open == nil || !strings.HasPrefix(tr.ID, "soundcloud:") || tr.Duration < 0 || math.IsNaN(tr.Duration) || len(tr.Tags) > 65 {
				t.Errorf("bad track %+v", tr)
			}
		}
	})
}
