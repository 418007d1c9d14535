package page

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix"
)

// PeaksPerSecond is the waveform's resolution: the page scrolls at a few
// pixels a second, so a tenth of a second is finer than a pixel.
const PeaksPerSecond = 10

// Peaks reports the loudest sample of each tenth of a second of r, on
// either channel, as one byte each: 0 is silence, 255 full scale. The
// scale is the square root of the amplitude, so that quiet passages stay
// visible next to loud ones, as an eye reads a waveform.
func Peaks(r audio.FrameReader) []byte {
	per := audio.SampleRate / PeaksPerSecond
	n := (r.Frames() + per - 1) / per
	out := make([]byte, n)
	buf := make([]float32, per*audio.Channels)
	for i := range out {
		m := r.ReadFramesAt(buf, i*per)
		var peak float32
		for _, v := range buf[:m*audio.Channels] {
			if v < 0 {
				v = -v
			}
			peak = max(peak, v)
		}
		out[i] = byte(math.Round(255 * math.Sqrt(min(float64(peak), 1))))
	}
	return out
}

// TrackData is what the page draws of one track, as /track/ID.json
// serves it: the track's whole waveform and its beat grid, in the track's
// own time.
type TrackData struct {
	ID       string  `json:"id"`
	Duration float64 `json:"duration"` // seconds
	// Peaks is base64 of one byte per 1/Rate seconds (see Peaks).
	Rate  int       `json:"rate"`
	Peaks string    `json:"peaks"`
	Beats []float64 `json:"beats"` // seconds
	Bars  []float64 `json:"bars"`  // seconds
	// Colour is a CSS colour for the track, from its key: neighbours on
	// the circle of fifths (the keys that mix well) get neighbouring hues,
	// and a minor key is darker than its relative major.
	Colour string `json:"colour"`
}

// NewTrackData shapes a track for the page.
func NewTrackData(t *mix.Track) TrackData {
	d := TrackData{ID: t.ID, Rate: PeaksPerSecond, Beats: []float64{}, Bars: []float64{}, Colour: "hsl(0 0% 60%)"}
	if t.Audio != nil {
		d.Duration = float64(t.Audio.Frames()) / audio.SampleRate
		d.Peaks = base64.StdEncoding.EncodeToString(Peaks(t.Audio))
	}
	if a := t.Analysis; a != nil {
		for _, q := range a.Beats {
			d.Beats = append(d.Beats, round3(q.Start))
		}
		for _, q := range a.Bars {
			d.Bars = append(d.Bars, round3(q.Start))
		}
		d.Colour = KeyColour(a.Key, a.Mode)
	}
	return d
}

// KeyColour is the colour of a key (pitch class 0-11 from C, mode 1 major
// and 0 minor, as analysis reports them); grey when the key is unknown.
func KeyColour(key, mode int) string {
	if key < 0 || key > 11 {
		return "hsl(0 0% 60%)"
	}
	if mode == 0 {
		key = (key + 3) % 12 // a minor key sits with its relative major
	}
	fifths := key * 7 % 12 // steps around the circle of fifths from C
	light := 62
	if mode == 0 {
		light = 48
	}
	return fmt.Sprintf("hsl(%d 70%% %d%%)", fifths*30, light)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// TimelineAction is one action of the mix as the page draws it: where it
// sits on the mixer's output (in seconds) and which part of which track
// sounds in it, with how its level moves.
type TimelineAction struct {
	Kind     string  `json:"kind"`
	Start    float64 `json:"start"`
	Duration float64 `json:"duration"`
	Spans    []Span  `json:"spans"`
}

// Span is the part of a track an action plays: Start and Duration in the
// track's own seconds (a crossmatch stretches Duration to the action's).
type Span struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Start    float64 `json:"start"`
	Duration float64 `json:"duration"`
	Gain     float64 `json:"gain_db"`
	Fade     string  `json:"fade,omitempty"` // "", "in" or "out"
}

// Timeline remembers the last actions of a mix and the tracks they play,
// and serves them to the page: /timeline.json lists the actions, and
// /track/{id}.json each track's TrackData. Record it from a
// mix.PlayerOptions.OnStart. The zero Timeline is ready to use.
type Timeline struct {
	// Keep is how many actions and tracks it remembers; default 24.
	Keep int

	mu      sync.Mutex
	actions []TimelineAction
	tracks  map[string]*TrackData
	order   []string // track IDs, oldest first
}

func (tl *Timeline) keep() int {
	if tl.Keep > 0 {
		return tl.Keep
	}
	return 24
}

// Record adds an action as it starts playing. It does not block: the
// waveforms of tracks not seen before are computed in the background,
// and the action keeps no reference to their audio.
func (tl *Timeline) Record(info mix.Info) {
	a := TimelineAction{Kind: string(info.Kind), Start: info.StartTime, Duration: info.Duration, Spans: []Span{}}
	var todo []*mix.Track
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.tracks == nil {
		tl.tracks = map[string]*TrackData{}
	}
	for _, s := range info.Tracks {
		a.Spans = append(a.Spans, Span{ID: s.ID, Title: s.Title, Start: s.Start, Duration: s.Duration, Gain: s.Gain, Fade: s.Fade})
		if s.Track == nil || s.ID == "" {
			continue
		}
		if _, ok := tl.tracks[s.ID]; !ok {
			tl.tracks[s.ID] = nil // being computed
			tl.order = append(tl.order, s.ID)
			todo = append(todo, s.Track)
		}
	}
	tl.actions = append(tl.actions, a)
	if over := len(tl.actions) - tl.keep(); over > 0 {
		tl.actions = append(tl.actions[:0:0], tl.actions[over:]...)
	}
	for len(tl.order) > tl.keep() {
		delete(tl.tracks, tl.order[0])
		tl.order = tl.order[1:]
	}
	for _, t := range todo {
		go func() {
			d := NewTrackData(t)
			tl.mu.Lock()
			defer tl.mu.Unlock()
			if v, ok := tl.tracks[t.ID]; ok && v == nil {
				tl.tracks[t.ID] = &d
			}
		}()
	}
}

// Actions returns the remembered actions, oldest first.
func (tl *Timeline) Actions() []TimelineAction {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return append([]TimelineAction{}, tl.actions...)
}

// Track returns a remembered track's data; ok is false while it is being
// computed or when the track is not (or no longer) remembered.
func (tl *Timeline) Track(id string) (TrackData, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	d := tl.tracks[id]
	if d == nil {
		return TrackData{}, false
	}
	return *d, true
}

// ServeHTTP serves GET /timeline.json and GET /track/{id}.json (the
// track's ID path-escaped, as the page's encodeURIComponent makes it).
func (tl *Timeline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /timeline.json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"rate": audio.SampleRate, "actions": tl.Actions()})
	})
	mux.HandleFunc("GET /track/{id...}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if len(id) < 5 || id[len(id)-5:] != ".json" {
			http.NotFound(w, r)
			return
		}
		d, ok := tl.Track(id[:len(id)-5])
		if !ok {
			http.Error(w, "track not known (yet)", http.StatusNotFound)
			return
		}
		// A track's data never changes while the track is remembered.
		w.Header().Set("Cache-Control", "max-age=3600")
		writeJSON(w, d)
	})
	mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	json.NewEncoder(w).Encode(v)
}
