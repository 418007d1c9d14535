package source

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseM3U(t *testing.T) {
	in := "\ufeff#EXTM3U\r\n" +
		"#EXTINF:123,Artist One - Title, with comma\r\n" +
		"one.mp3\r\n" +
		"\r\n" +
		"# a comment\n" +
		`#EXTINF:-1 tvg-id="x,y" group-title="Radio",Just Title` + "\n" +
		"http://example.com/stream.ogg\n" +
		"sub/two.flac\n" +
		"#extinf:4.5,Lower - Case\n" +
		"/abs/three.wav\n" +
		"caf\xe9.mp3\n" // Latin-1
	got, err := ParseM3U(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Location: "one.mp3", Artist: "Artist One", Title: "Title, with comma", Duration: 123},
		{Location: "http://example.com/stream.ogg", Title: "Just Title"},
		{Location: "sub/two.flac"},
		{Location: "/abs/three.wav", Artist: "Lower", Title: "Case", Duration: 4.5},
		{Location: "café.mp3"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParsePLS(t *testing.T) {
	in := "[playlist]\n" +
		"NumberOfEntries=3\n" +
		"File2=http://example.com/b.mp3\n" +
		"Title2=Band - Bee\n" +
		"Length2=-1\n" +
		"File1=a.ogg\n" +
		"Title1=Ay\n" +
		"Length1=61\n" +
		"Title9=entry without a file\n" +
		"file10 = c.wav\n" +
		"Version=2\n" +
		"[other]\nFile3=ignored.mp3\n"
	got, err := ParsePLS(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Location: "a.ogg", Title: "Ay", Duration: 61},
		{Location: "http://example.com/b.mp3", Artist: "Band", Title: "Bee"},
		{Location: "c.wav"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParsePlaylistBounds(t *testing.T) {
	long := strings.Repeat("x", maxPlaylistLine+1)
	if _, err := ParseM3U(strings.NewReader(long)); !errors.Is(err, ErrPlaylist) {
		t.Errorf("long line: %v", err)
	}
	if _, err := ParsePLS(strings.NewReader("[playlist]\nFile1=" + long)); !errors.Is(err, ErrPlaylist) {
		t.Errorf("long PLS line: %v", err)
	}
	big := strings.Repeat("a.mp3\n", maxPlaylistEntries+1)
	if _, err := ParseM3U(strings.NewReader(big)); !errors.Is(err, ErrPlaylist) {
		t.Errorf("too many entries: %v", err)
	}
	huge := strings.Repeat("#"+strings.Repeat("c", 1000)+"\n", maxPlaylistBytes/1000+10)
	if _, err := ParseM3U(strings.NewReader(huge)); !errors.Is(err, ErrPlaylist) {
		t.Errorf("oversized playlist: %v", err)
	}
}

func TestParsePlaylistByContent(t *testing.T) {
	got, err := ParsePlaylist(strings.NewReader("[Playlist]\nFile1=x.mp3\n"), "noext")
	if err != nil || len(got) != 1 || got[0].Location != "x.mp3" {
		t.Errorf("PLS without extension: %+v, %v", got, err)
	}
	got, err = ParsePlaylist(strings.NewReader("#EXTM3U\nx.mp3\n"), "list.txt")
	if err != nil || len(got) != 1 {
		t.Errorf("M3U without extension: %+v, %v", got, err)
	}
}

func TestPlaylistLocal(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "music/a.wav", makeWAV(4410, 44100, 1, "INAM", "Tag Title", "IART", "Tag Artist"))
	abs := writeFile(t, dir, "elsewhere/b.wav", makeWAV(4410, 44100, 1))
	writeFile(t, dir, "music/not-audio.mp3", []byte("nope nope nope nope"))
	list := writeFile(t, dir, "lists/mix.m3u8", []byte("#EXTM3U\n"+
		"../music/a.wav\n"+
		"#EXTINF:99,Listed Artist - Listed Title\n"+
		abs+"\n"+
		"../music/missing.wav\n"+
		"../music/not-audio.mp3\n"+
		"file://"+abs+"\n"+
		`..\music\a.wav`+"\n"+
		"rtmp://host/live\n"+
		"http://example.com/remote.mp3\n"))
	log, logs := newLogger()
	ts, err := Playlist{Path: list, Logger: log}.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "music", "a.wav")
	want := []string{a, abs, abs, a, "http://example.com/remote.mp3"}
	if got := trackIDs(ts); !slices.Equal(got, want) {
		t.Fatalf("IDs = %q\nwant %q", got, want)
	}
	if ts[0].Title != "Tag Title" || ts[0].Artist != "Tag Artist" {
		t.Errorf("tags not read: %+v", ts[0])
	}
	if ts[1].Title != "Listed Title" || ts[1].Artist != "Listed Artist" || ts[1].Duration != 99 {
		t.Errorf("EXTINF not applied: %+v", ts[1])
	}
	if p, err := ts[0].Open(context.Background()); err != nil || p.Frames() != 4410 {
		t.Errorf("Open: %v", err)
	}
	for _, s := range []string{"missing.wav", "not-audio.mp3", "rtmp://host/live"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("no warning naming %s:\n%s", s, logs)
		}
	}
	if _, err := (Playlist{Path: filepath.Join(dir, "none.m3u")}).Tracks(context.Background()); err == nil || !strings.Contains(err.Error(), "none.m3u") {
		t.Errorf("missing playlist: %v", err)
	}
}

func TestPlaylistRemote(t *testing.T) {
	wav := makeWAV(2205, 44100, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /lists/radio.pls", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-scpls")
		w.Write([]byte("[playlist]\nFile1=../tracks/one.wav\nTitle1=DJ - One\nFile2=/tracks/two.wav\nFile3=file:///etc/passwd\nNumberOfEntries=3\n"))
	})
	mux.HandleFunc("GET /tracks/", func(w http.ResponseWriter, r *http.Request) {
		w.Write(wav)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ts, err := Playlist{Path: srv.URL + "/lists/radio.pls", HTTP: &HTTP{Client: srv.Client()}}.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{srv.URL + "/tracks/one.wav", srv.URL + "/tracks/two.wav"}
	if got := trackIDs(ts); !slices.Equal(got, want) {
		t.Fatalf("IDs = %q, want %q", got, want)
	}
	if ts[0].Artist != "DJ" || ts[0].Title != "One" {
		t.Errorf("%+v", ts[0])
	}
	for _, tr := range ts {
		if p, err := tr.Open(context.Background()); err != nil || p.Frames() != 2205 {
			t.Errorf("%s: %v", tr.ID, err)
		}
	}
	if _, err := (Playlist{Path: srv.URL + "/lists/gone.m3u"}).Tracks(context.Background()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing remote playlist: %v", err)
	}
}

func FuzzParsePlaylist(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXTINF:10,A - B\na.mp3\n"), false)
	f.Add([]byte(`#EXTINF:-1 x="a,b",T`+"\r\nhttp://h/x.ogg\r\n"), false)
	f.Add([]byte("[playlist]\nFile1=a.mp3\nTitle1=A - B\nLength1=3\nNumberOfEntries=1\n"), true)
	f.Add([]byte("[playlist]\nFile99999999999999999999=x\nfile-1=y\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, pls bool) {
		parse := ParseM3U
		if pls {
			parse = ParsePLS
		}
		es, err := parse(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		if len(es) > len(data) {
			t.Fatalf("%d entries from %d bytes", len(es), len(data))
		}
		for _, e := range es {
			if e.Location == "" || e.Duration < 0 || e.Duration > 1e7 {
				t.Errorf("bad entry %+v", e)
			}
			for _, s := range []string{e.Location, e.Title, e.Artist} {
				if !utf8.ValidString(s) {
					t.Errorf("invalid UTF-8 %q", s)
				}
			}
		}
	})
}
