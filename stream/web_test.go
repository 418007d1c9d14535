package stream

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func wsURL(ts *testStation, path string) string {
	return "ws" + strings.TrimPrefix(ts.srv.URL, "http") + path
}

func TestMonitorAccess(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{MonitorInterval: 50 * time.Millisecond})
	ts.waitPCM(t, 10)
	ts.clock.Step(t, time.Second, ts.batch())
	l := ts.listen(t, "/all.mp3", nil, false)
	l.waitBytes(t, 1)

	// Loopback without a token: allowed, and it lists the listener.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(ts, "/monitor"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m Monitor
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "monitor" || len(m.Listeners) != 1 || m.Listeners[0].UserAgent != "test" || m.Listeners[0].Addr != l.conn.LocalAddr().String() {
		t.Errorf("monitor %+v", m)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Errorf("second push: %v", err)
	}

	// From elsewhere: refused.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/monitor", nil)
	req.RemoteAddr = "203.0.113.7:4000"
	ts.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("monitor from a remote address: %d, want 403", rec.Code)
	}
}

func TestMonitorToken(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{MonitorToken: "s3cret"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tt := range []struct {
		url  string
		hdr  http.Header
		code int
	}{
		{wsURL(ts, "/monitor"), nil, http.StatusForbidden}, // even from loopback
		{wsURL(ts, "/monitor?token=wrong"), nil, http.StatusForbidden},
		{wsURL(ts, "/monitor?token=s3cret"), nil, http.StatusSwitchingProtocols},
		{wsURL(ts, "/monitor"), http.Header{"Authorization": {"Bearer s3cret"}}, http.StatusSwitchingProtocols},
	} {
		c, resp, err := websocket.Dial(ctx, tt.url, &websocket.DialOptions{HTTPHeader: tt.hdr})
		if resp == nil || resp.StatusCode != tt.code {
			t.Errorf("%s %v: response %v, err %v; want %d", tt.url, tt.hdr, resp, err, tt.code)
		}
		if c != nil {
			c.CloseNow()
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/monitor?token=s3cret", nil)
	req.RemoteAddr = "203.0.113.7:4000"
	if !ts.MonitorAllowed(req) {
		t.Error("token refused from a remote address")
	}
	_ = rec
}

func TestWebsocketOriginCheck(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{OriginPatterns: []string{"radio.example"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tt := range []struct {
		origin string
		code   int
	}{
		{"", http.StatusSwitchingProtocols}, // not a browser
		{ts.srv.URL, http.StatusSwitchingProtocols},
		{"https://radio.example", http.StatusSwitchingProtocols},
		{"https://evil.example", http.StatusForbidden},
	} {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		c, resp, err := websocket.Dial(ctx, wsURL(ts, "/info"), &websocket.DialOptions{HTTPHeader: h})
		if resp == nil || resp.StatusCode != tt.code {
			t.Errorf("origin %q: response %v, err %v; want %d", tt.origin, resp, err, tt.code)
		}
		if c != nil {
			c.CloseNow()
		}
	}
}

func TestInfoPushesActions(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 60)
	ts.Announce(Action{Kind: "playback", Tracks: []TrackInfo{{Title: "One"}}, Start: 0, Frames: SampleRate})
	ts.Announce(Action{Kind: "playback", Tracks: []TrackInfo{{Title: "Two"}}, Start: SampleRate, Frames: SampleRate})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(ts, "/info"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() infoMessage {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m infoMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := read(); m.Type != "status" || len(m.Status.Actions) != 2 || m.Status.Actions[0].State != "upcoming" {
		t.Fatalf("first message %+v", m)
	}
	ts.clock.Step(t, 1500*time.Millisecond, ts.batch())
	for _, want := range []string{"One", "Two"} {
		m := read()
		if m.Type != "action" || m.Action.Title != want || m.Action.State != "playing" {
			t.Errorf("got %+v, want action %s playing", m, want)
		}
	}
}

func TestConnectionCapPerAddress(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{MaxConnsPerAddr: 2})
	ts.waitPCM(t, 10)
	ts.clock.Step(t, time.Second, ts.batch())
	a := ts.listen(t, "/all.mp3", nil, false)
	b := ts.listen(t, "/all.mp3", nil, false)
	a.waitBytes(t, 1)
	b.waitBytes(t, 1)
	c := ts.listen(t, "/all.mp3", nil, false)
	if c.status != http.StatusTooManyRequests {
		t.Errorf("third stream from one address: %d, want 429", c.status)
	}
	// The JSON is not capped.
	resp, err := http.Get(ts.srv.URL + "/all.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/all.json: %d", resp.StatusCode)
	}
}

// The monitor token shows nowhere: not in the logs, /all.json, /monitor or
// /metrics, whichever way it was given.
func TestTokenNeverShown(t *testing.T) {
	const tok = "s3cret-Token-42"
	ts := start(t, &sine{freq: 440}, Options{MonitorToken: tok, MonitorInterval: 50 * time.Millisecond})
	ts.waitPCM(t, 10)
	ts.clock.Step(t, time.Second, ts.batch())
	l := ts.listen(t, "/all.mp3?token="+tok, map[string]string{"Authorization": "Bearer " + tok}, false)
	l.waitBytes(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(ts, "/monitor?token="+tok), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, mon, err := c.Read(ctx)
	c.CloseNow()
	if err != nil {
		t.Fatal(err)
	}
	seen := string(mon) + ts.logs.String()
	for _, p := range []string{"/all.json", "/metrics"} {
		resp, err := http.Get(ts.srv.URL + p + "?token=" + tok)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen += string(b)
	}
	if strings.Contains(seen, tok) {
		t.Errorf("the token shows in /monitor, /all.json, /metrics or the logs")
	}
}
