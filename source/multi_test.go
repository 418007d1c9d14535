package source

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMulti(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.wav", makeWAV(100, 44100, 1))
	writeFile(t, dir, "b.wav", makeWAV(100, 44100, 1))
	log, logs := newLogger()
	missing := filepath.Join(dir, "missing.m3u")
	m := Multi{
		Sources: []Source{
			Tracks{{ID: "x"}, {ID: "a.wav", Title: "listed first"}},
			Playlist{Path: missing},
			Folder{Dir: dir},
		},
		Logger: log,
	}
	ts, err := m.Tracks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := trackIDs(ts), []string{"x", "a.wav", "b.wav"}; !slices.Equal(got, want) {
		t.Errorf("IDs = %q, want %q", got, want)
	}
	if ts[1].Title != "listed first" {
		t.Errorf("duplicate ID not resolved to the first source: %+v", ts[1])
	}
	if !strings.Contains(logs.String(), "missing.m3u") {
		t.Errorf("failed source not logged:\n%s", logs)
	}
	if _, err := (Multi{Sources: []Source{Playlist{Path: missing}}, Logger: log}).Tracks(context.Background()); err == nil {
		t.Error("all sources failed, no error")
	}
	if ts, err := (Multi{}).Tracks(context.Background()); err != nil || len(ts) != 0 {
		t.Errorf("empty Multi: %v, %v", ts, err)
	}
}

func TestFilter(t *testing.T) {
	src := Tracks{{ID: "1", Tags: []string{"house"}}, {ID: "2"}, {ID: "3", Tags: []string{"house"}}}
	ts, err := Filter(src, func(t Track) bool { return slices.Contains(t.Tags, "house") }).Tracks(context.Background())
	if err != nil || !slices.Equal(trackIDs(ts), []string{"1", "3"}) {
		t.Errorf("%q, %v", trackIDs(ts), err)
	}
	if len(src) != 3 || src[1].ID != "2" {
		t.Error("Filter changed its source's list")
	}
}
