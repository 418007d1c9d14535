package stream

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/coder/websocket"
)

// TrackInfo describes a track for listeners.
type TrackInfo struct {
	ID     string  `json:"id,omitempty"`
	Title  string  `json:"title"`
	Artist string  `json:"artist,omitempty"`
	Source string  `json:"source,omitempty"`
	Tempo  float64 `json:"tempo,omitempty"` // beats per minute
	Key    string  `json:"key,omitempty"`
}

// An Action is a span of the mix as the mixer describes it: a track playing
// on its own, a transition between two, and so on. Start and Frames are on
// the PCM timeline: Start counts the stereo frames the station has read
// from its PCMReader before the action begins.
type Action struct {
	Kind   string
	Tracks []TrackInfo
	Start  int64
	Frames int64
	// Title is what players show while the action is on air; by default
	// "Artist - Title" of the last of Tracks (for a transition, the
	// incoming track).
	Title string
}

func (a *Action) title() string {
	if a.Title != "" || len(a.Tracks) == 0 {
		return a.Title
	}
	t := a.Tracks[len(a.Tracks)-1]
	if t.Artist == "" {
		return t.Title
	}
	return t.Artist + " - " + t.Title
}

type action struct {
	Action
	at      int64 // stream sample where it starts; estimated until fixed
	fixed   bool
	started bool
}

// ActionInfo is an Action placed on the stream clock, as /all.json and the
// websockets report it.
type ActionInfo struct {
	Kind     string      `json:"kind"`
	Tracks   []TrackInfo `json:"tracks"`
	Title    string      `json:"title"`
	Start    float64     `json:"start"`    // seconds since the stream started
	Duration float64     `json:"duration"` // seconds
	Time     time.Time   `json:"time"`     // wall-clock time of Start
	State    string      `json:"state"`    // "played", "playing" or "upcoming"
}

// OutputStatus describes one output.
type OutputStatus struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Bitrate   int    `json:"bitrate"`
	Listeners int    `json:"listeners"`
	Frames    int64  `json:"frames"`
}

// Status is the station's state as /all.json serves it.
type Status struct {
	Name      string         `json:"name"`
	Started   time.Time      `json:"started"`
	Now       time.Time      `json:"now"`
	Position  float64        `json:"position"` // seconds on air
	Samples   int64          `json:"samples"`  // samples per channel sent
	Listeners int            `json:"listeners"`
	Starving  bool           `json:"starving"`
	OnAir     OnAir          `json:"on_air"` // music, silence or fallback, and why
	Title     string         `json:"title"`
	Outputs   []OutputStatus `json:"outputs"`
	Actions   []ActionInfo   `json:"actions"`
	// Session is where the stream connection named by the request's
	// ?sid= began, when there was one (see SessionInfo).
	Session *SessionInfo `json:"session,omitempty"`
}

// Announce tells the station about an action, usually before its audio is
// read, so that listeners can see what is coming. Actions may be announced
// in any order; the station keeps them sorted by Start.
func (s *Station) Announce(a Action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	na := &action{Action: a}
	na.Tracks = slices.Clone(a.Tracks)
	na.at = a.Start + s.offset
	i := sort.Search(len(s.actions), func(i int) bool { return s.actions[i].Start > a.Start })
	s.actions = slices.Insert(s.actions, i, na)
	// Bound memory against a runaway caller: keep the newest.
	if over := len(s.actions) - (s.opt.History + 4096); over > 0 {
		s.actions = slices.Delete(s.actions, 0, over)
	}
}

// fixActions pins the stream position of actions whose first PCM sample is
// being fed now. Called with s.mu held.
func (s *Station) fixActions(pcmPos, offset int64) {
	for _, a := range s.actions {
		if a.fixed {
			continue
		}
		if a.Start >= pcmPos+FrameSamples {
			a.at = a.Start + offset // estimate from the latest offset
			continue
		}
		a.at, a.fixed = a.Start+offset, true
	}
}

// startActions marks the actions that reach listeners by stream sample
// onAir, updates the title and forgets old actions. Called with s.mu held.
func (s *Station) startActions(onAir int64) []ActionInfo {
	var out []ActionInfo
	for _, a := range s.actions {
		if a.started || a.at > onAir {
			continue
		}
		a.started = true
		s.title = a.title()
		s.titleMeta = icyBlock(s.title)
		out = append(out, s.info(a, onAir))
	}
	// Keep History actions that have ended.
	ended := 0
	for _, a := range s.actions {
		if a.started && a.at+a.Frames <= onAir {
			ended++
		}
	}
	if drop := ended - s.opt.History; drop > 0 {
		s.actions = slices.DeleteFunc(s.actions, func(a *action) bool {
			if drop > 0 && a.started && a.at+a.Frames <= onAir {
				drop--
				return true
			}
			return false
		})
	}
	return out
}

// info describes a for listeners. Called with s.mu held.
func (s *Station) info(a *action, onAir int64) ActionInfo {
	state := "upcoming"
	switch {
	case a.started && a.at+a.Frames <= onAir:
		state = "played"
	case a.started:
		state = "playing"
	}
	start := float64(a.at) / SampleRate
	return ActionInfo{
		Kind:     a.Kind,
		Tracks:   a.Tracks,
		Title:    a.title(),
		Start:    start,
		Duration: float64(a.Frames) / SampleRate,
		Time:     s.start.Add(sampleTime(a.at)),
		State:    state,
	}
}

// Status reports the station's state: what has played, what is playing and
// what is coming, the stream clock and the listeners.
func (s *Station) Status() Status {
	s.mu.Lock()
	onAir := s.released * FrameSamples
	st := Status{
		Name:     s.opt.Name,
		Started:  s.start,
		Now:      s.opt.Clock.Now(),
		Position: float64(onAir) / SampleRate,
		Samples:  onAir,
		Starving: s.starving,
		OnAir:    s.onAirLocked(),
		Title:    s.title,
		Actions:  make([]ActionInfo, 0, len(s.actions)),
	}
	for _, a := range s.actions {
		st.Actions = append(st.Actions, s.info(a, onAir))
	}
	s.mu.Unlock()
	for _, o := range s.outputs {
		n := int(o.nlisten.Load())
		st.Listeners += n
		st.Outputs = append(st.Outputs, OutputStatus{
			Name: o.Name, Path: "/" + o.Name + ".mp3", Bitrate: o.Bitrate,
			Listeners: n, Frames: o.ring.headFrames(),
		})
	}
	return st
}

// statusFor is Status with the outputs' paths under r's mount prefix.
func (s *Station) statusFor(r *http.Request) Status {
	st := s.Status()
	s.sessionFor(r, &st)
	if p := mountPrefix(r); p != "" {
		for i := range st.Outputs {
			st.Outputs[i].Path = p + st.Outputs[i].Path
		}
	}
	return st
}

// JSONHandler serves Status as JSON (/all.json). The outputs' paths carry
// the prefix the handler is mounted under.
func (s *Station) JSONHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := json.Marshal(s.statusFor(r))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(b)
	})
}

type infoMessage struct {
	Type   string      `json:"type"` // "status" or "action"
	Status *Status     `json:"status,omitempty"`
	Action *ActionInfo `json:"action,omitempty"`
}

// notify pushes a started action to the /info websockets. A client too slow
// to take it is dropped rather than allowed to hold up the clock.
func (s *Station) notify(a ActionInfo) {
	b, err := json.Marshal(infoMessage{Type: "action", Action: &a})
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- b:
		default:
			close(ch)
			delete(s.subs, ch)
		}
	}
}

func (s *Station) accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	return websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.origins})
}

// InfoHandler serves the /info websocket: the Status on connect, then each
// action as it reaches listeners.
func (s *Station) InfoHandler() http.Handler {
	return s.track(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.accept(w, r)
		if err != nil {
			return // Accept has answered
		}
		defer c.CloseNow()
		ch := make(chan []byte, 16)
		s.mu.Lock()
		if s.started.Load() && !s.running.Load() {
			s.mu.Unlock()
			c.Close(websocket.StatusGoingAway, "station stopped")
			return
		}
		s.subs[ch] = struct{}{}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			if _, ok := s.subs[ch]; ok {
				delete(s.subs, ch)
			}
			s.mu.Unlock()
		}()
		ctx := c.CloseRead(r.Context())
		st := s.statusFor(r)
		if err := s.wsWrite(ctx, c, infoMessage{Type: "status", Status: &st}); err != nil {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case b, ok := <-ch:
				if !ok {
					c.Close(websocket.StatusGoingAway, "too slow or station stopped")
					return
				}
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := c.Write(wctx, websocket.MessageText, b)
				cancel()
				if err != nil {
					return
				}
			}
		}
	}))
}

func (s *Station) wsWrite(ctx context.Context, c *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b)
}
