package stream

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOnAirReportsSilenceAndFallback(t *testing.T) {
	src := newFeed()
	ts := start(t, src, Options{})
	if oa := ts.OnAir(); oa.State != StateSilence || oa.Reason != ReasonStarting {
		t.Errorf("before any audio: %+v", oa)
	}
	ts.clock.Step(t, 2*time.Second, ts.batch()) // nothing to read: silence
	oa := ts.OnAir()
	if oa.State != StateSilence || oa.Reason != ReasonStarting || oa.SilenceSeconds < 1.9 {
		t.Errorf("after 2 s without audio: %+v", oa)
	}
	src.give(440, 3*time.Second)
	ts.waitPCM(t, 60)
	ts.clock.Step(t, time.Second, ts.batch())
	music := ts.OnAir()
	if music.State != StateMusic || music.Reason != "" || math.Abs(music.SilenceSeconds-oa.SilenceSeconds) > 0.1 {
		t.Errorf("with audio: %+v (before: %+v)", music, oa)
	}
	ts.SetFallback("catalogue empty; playing the demo")
	if fb := ts.OnAir(); fb.State != StateFallback || fb.Reason != "catalogue empty; playing the demo" {
		t.Errorf("after SetFallback: %+v", fb)
	}
	ts.SetFallback("")
	ts.clock.Step(t, 4*time.Second, ts.batch()) // the tone runs out
	starved := ts.OnAir()
	if starved.State != StateSilence || starved.Reason != ReasonStarving || starved.SilenceSeconds < oa.SilenceSeconds+1 {
		t.Errorf("after the tone ran out: %+v", starved)
	}
	ts.SetFallback("demo") // a fallback that sends nothing is still silence
	if s := ts.OnAir(); s.State != StateSilence {
		t.Errorf("fallback without audio: %+v", s)
	}

	// /all.json and /metrics say the same.
	resp, err := http.Get(ts.srv.URL + "/all.json")
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.OnAir.State != StateSilence || st.OnAir.Reason != ReasonStarving || st.OnAir.SilenceSeconds < 3 {
		t.Errorf("/all.json on_air %+v", st.OnAir)
	}
	resp, err = http.Get(ts.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`forever_stream_on_air{state="silence",station="forever"} 1`, `forever_stream_on_air{state="music",station="forever"} 0`, "forever_stream_silence_seconds_total{station=\"forever\"} "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
