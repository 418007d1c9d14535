package source

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// audioServer serves test audio on loopback under a few paths.
func audioServer(t *testing.T) *httptest.Server {
	t.Helper()
	wav := makeWAV(44100, 44100, 2)
	mp3 := mp3Silence(40)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /music/Band%20-%20Tune.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav)
	})
	// Served with a generic type and no extension: the bytes tell.
	mux.HandleFunc("GET /stream/42", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(mp3)
	})
	mux.HandleFunc("GET /moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/stream/42", http.StatusFound)
	})
	mux.HandleFunc("GET /page.mp3", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Please log in</body></html>"))
	})
	mux.HandleFunc("GET /slow.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav[:100])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("GET /truncated.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Write(wav[:44])
	})
	// An HLS media playlist of MP3 segments, each with an ID3 timestamp
	// tag as raw-audio HLS segments carry.
	mux.HandleFunc("GET /hls/track.m3u8", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Write([]byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n" +
			"#EXTINF:0.26,\nseg/0.mp3\n#EXTINF:0.26,\nseg/1.mp3?sig=x\n#EXTINF:0.26,\n/hls/seg/2.mp3\n#EXTINF:0.26,\nseg/3.mp3\n#EXT-X-ENDLIST\n"))
	})
	mux.HandleFunc("GET /hls/seg/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(concat(id3v2(4, "PRIV", "com.apple.streaming.transportStreamTimestamp"), mp3Silence(10)))
	})
	mux.HandleFunc("GET /hls/encrypted.m3u8", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"key\"\n#EXTINF:1,\nseg/0.mp3\n"))
	})
	mux.HandleFunc("GET /hls/master.m3u8", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=128000\ntrack.m3u8\n"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPDecodeHLS(t *testing.T) {
	srv := audioServer(t)
	h := &HTTP{Client: srv.Client()}
	p, err := h.Decode(context.Background(), srv.URL+"/hls/track.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	if want := 40 * 1152.0 / 44100; math.Abs(p.Seconds()-want) > 0.06 {
		t.Errorf("%v s, want %v", p.Seconds(), want)
	}
	for path, want := range map[string]string{"/hls/encrypted.m3u8": "encrypted", "/hls/master.m3u8": "master"} {
		if _, err := h.Decode(context.Background(), srv.URL+path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", path, err)
		}
	}
	small := &HTTP{Client: srv.Client(), MaxBytes: 3 * 417 * 10}
	if _, err := small.Decode(context.Background(), srv.URL+"/hls/track.m3u8"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("HLS past the size limit: %v", err)
	}
}

func TestHTTPDecode(t *testing.T) {
	srv := audioServer(t)
	ctx := context.Background()
	h := &HTTP{Client: srv.Client()}

	tr, err := h.Track(srv.URL + "/music/Band%20-%20Tune.wav")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Artist != "Band" || tr.Title != "Tune" || tr.ID != srv.URL+"/music/Band%20-%20Tune.wav" {
		t.Errorf("track %+v", tr)
	}
	p, err := tr.Open(ctx)
	if err != nil || p.Frames() != 44100 {
		t.Fatalf("wav: %v", err)
	}
	for _, path := range []string{"/stream/42", "/moved"} {
		p, err := h.Decode(ctx, srv.URL+path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if want := 40 * 1152.0 / 44100; math.Abs(p.Seconds()-want) > 0.06 {
			t.Errorf("%s: %v s, want %v", path, p.Seconds(), want)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	srv := audioServer(t)
	ctx := context.Background()
	h := &HTTP{Client: srv.Client(), Timeout: 300 * time.Millisecond}
	for _, tt := range []struct{ path, want string }{
		{"/missing.mp3?client_id=SECRET", "404"},
		{"/page.mp3", "text/html"},
		{"/slow.wav", "deadline"},
		{"/truncated.wav", "truncated.wav"},
	} {
		_, err := h.Decode(ctx, srv.URL+tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("%s: err = %v, want one naming the URL and %q", tt.path, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error shows the query: %v", tt.path, err)
		}
	}
	small := &HTTP{Client: srv.Client(), MaxBytes: 1000}
	if _, err := small.Decode(ctx, srv.URL+"/stream/42"); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized body: %v", err)
	}
	for _, bad := range []string{"ftp://example.com/a.mp3", "/local/path.mp3", "http://", "::"} {
		if _, err := h.Track(bad); err == nil {
			t.Errorf("Track(%q) accepted", bad)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Decode(cctx, srv.URL+"/stream/42"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestFormatOfMIME(t *testing.T) {
	for ct, want := range map[string]string{
		"audio/mpeg":               "mp3",
		"audio/MPEG; charset=x":    "mp3",
		"audio/x-wav":              "wav",
		"audio/flac":               "flac",
		"application/ogg":          "ogg",
		"audio/ogg; codecs=vorbis": "ogg",
		"text/html; charset=utf-8": "",
		"application/octet-stream": "",
		"":                         "",
	} {
		if got := formatOfMIME(ct); got != want {
			t.Errorf("formatOfMIME(%q) = %q, want %q", ct, got, want)
		}
	}
}

func TestURLs(t *testing.T) {
	log, logs := newLogger()
	ts, err := URLs{URLs: []string{"http://a.example/x.mp3", "gopher://b/y", "https://c.example/Some%20One%20-%20Thing.ogg"}, Logger: log}.Tracks(context.Background())
	if err != nil || len(ts) != 2 || ts[1].Artist != "Some One" || ts[1].Title != "Thing" {
		t.Fatalf("%+v, %v", ts, err)
	}
	if !strings.Contains(logs.String(), "gopher://b/y") {
		t.Errorf("no warning naming the bad URL:\n%s", logs)
	}
}

// A fetch that fails for a passing reason is sent again, after the
// server's Retry-After when it gives one; a 404 is not.
func TestHTTPRetries(t *testing.T) {
	wav := makeWAV(8000, 8000, 1)
	var busy, missing atomic.Int32
	busy.Store(2)
	var times []time.Time
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		switch r.URL.Path {
		case "/busy.wav":
			if busy.Add(-1) >= 0 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write(wav)
		default:
			missing.Add(1)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	h := &HTTP{Client: srv.Client(), RetryWait: 10 * time.Millisecond}
	p, err := h.Decode(context.Background(), srv.URL+"/busy.wav")
	if err != nil || p.Seconds() != 1 {
		t.Fatalf("after two 503s: %v", err)
	}
	if len(times) != 3 {
		t.Errorf("%d requests, want 3", len(times))
	}
	if _, err := h.Decode(context.Background(), srv.URL+"/gone.wav"); err == nil || missing.Load() != 1 {
		t.Errorf("404: %v after %d requests, want an error after 1", err, missing.Load())
	}
	busy.Store(5)
	if _, err := h.Decode(context.Background(), srv.URL+"/busy.wav"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("retries do not end: %v", err)
	}
}

// A Catalog takes a URL track that failed back once its server recovers,
// after the backoff.
func TestCatalogRetriesURL(t *testing.T) {
	wav := makeWAV(8000, 8000, 1)
	var down atomic.Bool
	down.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Write(wav)
	}))
	defer srv.Close()
	an := &durationAnalyzer{}
	c := &Catalog{
		Source:  URLs{URLs: []string{srv.URL + "/a.wav"}, HTTP: &HTTP{Client: srv.Client(), Retries: -1}},
		Cache:   &Cache{Dir: t.TempDir()},
		Analyze: an.analyze, Rescan: 20 * time.Millisecond, Backoff: 200 * time.Millisecond,
	}
	startCatalog(t, c)
	s := waitState(t, c, "the failure", func(s CatalogState) bool { return s.Failed == 1 })
	if !strings.Contains(s.Failures[0].Reason, "502") || s.Failures[0].Retry.IsZero() {
		t.Fatalf("failure %+v", s.Failures[0])
	}
	down.Store(false)
	waitState(t, c, "the track back", func(s CatalogState) bool { return s.Ready == 1 })
}
