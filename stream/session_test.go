package stream

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestSessionReportsWhereTheConnectionBegan(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, 8*time.Second, ts.batch()) // more than the burst holds
	l := ts.listen(t, "/all.mp3?sid=page-1", nil, false)
	body := l.waitBytes(t, 1)
	first, err := strconv.ParseInt(l.header.Get("X-Stream-Frame"), 10, 64)
	if err != nil || first <= 0 {
		t.Fatalf("X-Stream-Frame %q", l.header.Get("X-Stream-Frame"))
	}
	if body[0] != 0xff {
		t.Errorf("stream starts % x", body[:2])
	}

	get := func(url string) Status {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := get(ts.srv.URL + "/all.json?sid=page-1")
	si := st.Session
	if si == nil {
		t.Fatal("no session in /all.json?sid=page-1")
	}
	if si.SID != "page-1" || si.Output != "all" || si.StartFrame != first || si.StartSample != first*FrameSamples {
		t.Errorf("session %+v, want start frame %d", si, first)
	}
	if want := float64(first*FrameSamples) / SampleRate; fmt.Sprintf("%.6f", si.Start) != fmt.Sprintf("%.6f", want) {
		t.Errorf("session start %v s, want %v", si.Start, want)
	}
	// The connection began a burst behind the live edge.
	if si.Start >= st.Position || st.Position-si.Start > 5 {
		t.Errorf("session starts at %.2f s with the stream at %.2f s", si.Start, st.Position)
	}
	if st := get(ts.srv.URL + "/all.json?sid=other"); st.Session != nil {
		t.Errorf("unknown sid reported %+v", st.Session)
	}
	if st := get(ts.srv.URL + "/all.json"); st.Session != nil {
		t.Errorf("no sid, yet session %+v", st.Session)
	}
}

func TestSessionsBounded(t *testing.T) {
	var ss sessions
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * maxSessions {
		// One sid reconnecting all along, the others once each.
		ss.record(SessionInfo{SID: "again", Connected: t0.Add(time.Duration(i) * time.Millisecond)})
		ss.record(SessionInfo{SID: fmt.Sprint("s", i), StartFrame: int64(i), Connected: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	if len(ss.m) > maxSessions || len(ss.order) > 2*maxSessions+1 {
		t.Errorf("%d sessions, %d keys kept", len(ss.m), len(ss.order))
	}
	now := t0.Add(3 * maxSessions * time.Millisecond)
	if _, ok := ss.get("again", now); !ok {
		t.Error("the sid recorded last was forgotten")
	}
	if si, ok := ss.get(fmt.Sprint("s", 3*maxSessions-1), now); !ok || si.StartFrame != 3*maxSessions-1 {
		t.Errorf("newest session %+v %v", si, ok)
	}
	if _, ok := ss.get("s0", now); ok {
		t.Error("the oldest session is still there")
	}
	if _, ok := ss.get("again", now.Add(sessionTTL+time.Second)); ok {
		t.Error("a session older than a day is still reported")
	}
	for _, bad := range []string{"", "a b", "x/y", string(make([]byte, 65))} {
		if validSID(bad) {
			t.Errorf("sid %q accepted", bad)
		}
	}
}
