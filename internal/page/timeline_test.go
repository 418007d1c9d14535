package page

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix"
)

func TestPeaks(t *testing.T) {
	// One second: silence, then a half-scale tenth, then full scale.
	p := &audio.PCM{Samples: make([]float32, audio.SampleRate*audio.Channels)}
	per := audio.SampleRate / PeaksPerSecond
	p.Samples[(per+7)*2+1] = -0.25
	p.Samples[(2*per)*2] = 1
	got := Peaks(p)
	if len(got) != PeaksPerSecond || got[0] != 0 || got[1] != 128 || got[2] != 255 || got[3] != 0 {
		t.Fatalf("peaks %v", got)
	}
}

func TestKeyColourRelativeMinorSharesHue(t *testing.T) {
	// A minor (9, 0) is C major's relative minor: same hue, darker.
	if c, a := KeyColour(0, 1), KeyColour(9, 0); c != "hsl(0 70% 62%)" || a != "hsl(0 70% 48%)" {
		t.Fatalf("C major %s, A minor %s", c, a)
	}
	if g := KeyColour(7, 1); g != "hsl(30 70% 62%)" {
		t.Fatalf("G major %s, want the next hue round the circle of fifths", g)
	}
}

func TestTimelineServes(t *testing.T) {
	tr := &mix.Track{ID: "dir/a.mp3", Title: "A",
		Audio:    &audio.PCM{Samples: make([]float32, 2*audio.SampleRate*audio.Channels)},
		Analysis: &analysis.Analysis{Key: 2, Mode: 1, Beats: []analysis.Quantum{{Start: 0.5}, {Start: 1}}, Bars: []analysis.Quantum{{Start: 0.5}}}}
	var tl Timeline
	tl.Record(mix.Info{Kind: mix.KindCrossmatch, StartTime: 10, Duration: 2,
		Tracks: []mix.Span{{ID: tr.ID, Title: "A", Start: 1, Duration: 1, Fade: "out", Track: tr}}})
	srv := httptest.NewServer(&tl)
	defer srv.Close()

	var tlj struct{ Actions []TimelineAction }
	getJSON(t, srv.URL+"/timeline.json", &tlj)
	if len(tlj.Actions) != 1 || tlj.Actions[0].Kind != "crossmatch" || tlj.Actions[0].Spans[0].Fade != "out" {
		t.Fatalf("timeline %+v", tlj)
	}
	var d TrackData
	for deadline := time.Now().Add(5 * time.Second); ; {
		if resp, err := http.Get(srv.URL + "/track/dir%2Fa.mp3.json"); err == nil {
			ok := resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&d) == nil
			resp.Body.Close()
			if ok {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("track data never served")
		}
		time.Sleep(10 * time.Millisecond)
	}
	peaks, _ := base64.StdEncoding.DecodeString(d.Peaks)
	if d.ID != tr.ID || d.Duration != 2 || len(peaks) != 2*PeaksPerSecond || len(d.Beats) != 2 || len(d.Bars) != 1 || d.Colour != KeyColour(2, 1) {
		t.Fatalf("track data %+v (%d peaks)", d, len(peaks))
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
