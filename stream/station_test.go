package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/stream/mp3frame"
)

// frames splits b into MP3 frames and fails unless b is whole frames and
// nothing else.
func frames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var s mp3frame.Splitter
	s.Write(b)
	s.Close()
	var out [][]byte
	n := 0
	for {
		f, ok := s.Next()
		if !ok {
			break
		}
		h, err := mp3frame.ParseHeader(f)
		if err != nil || h.SampleRate != SampleRate || h.Samples() != FrameSamples {
			t.Fatalf("frame %d: %+v %v", len(out), h, err)
		}
		out = append(out, f)
		n += len(f)
	}
	if s.Skipped != 0 || n != len(b) {
		t.Fatalf("stream of %d bytes: %d in frames, %d skipped: not whole frames", len(b), n, s.Skipped)
	}
	return out
}

// decode decodes MP3 bytes to mono float64 (left channel).
func decode(t *testing.T, b []byte) []float64 {
	t.Helper()
	p, err := audio.Decode(bytes.NewReader(b), "mp3")
	if err != nil && p == nil {
		t.Fatal(err)
	}
	out := make([]float64, p.Frames())
	for i := range out {
		out[i] = float64(p.Samples[2*i])
	}
	return out
}

func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

func TestListenersGetWholeFramesInStep(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, 6*time.Second, ts.batch()) // past the 64 KiB burst (4.1 s)
	a := ts.listen(t, "/all.mp3", nil, false)
	if a.status != 200 || a.header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("status %d, content type %q", a.status, a.header.Get("Content-Type"))
	}
	// Burst: with the clock stopped, the listener still gets ~64 KiB at once.
	burst := a.waitBytes(t, 60<<10)
	time.Sleep(100 * time.Millisecond)
	if n := len(a.bytes()); n > 64<<10 {
		t.Fatalf("burst of %d bytes, want at most 64 KiB", n)
	}
	frames(t, burst)
	b := ts.listen(t, "/all.mp3", nil, false)
	b.waitBytes(t, len(burst))

	ts.clock.Step(t, 3*time.Second, ts.batch())
	released := ts.outputs[0].ring.headFrames()
	// Both listeners end at the head, so their streams end with the same frames.
	var fa, fb [][]byte
	for i := 0; ; i++ {
		fa, fb = frames(t, a.bytes()), frames(t, b.bytes())
		if len(fa) > 0 && len(fb) > 0 && bytes.Equal(fa[len(fa)-1], fb[len(fb)-1]) && len(fa) >= len(burstFrames(t, burst))+int(3*time.Second/FrameDuration)-1 {
			break
		}
		if i > 1000 {
			t.Fatalf("listeners did not reach the head: %d and %d frames, %d released", len(fa), len(fb), released)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// X-Stream-Frame places each listener on the stream: both are at the head.
	for _, l := range []struct {
		c  *client
		fr [][]byte
	}{{a, fa}, {b, fb}} {
		first, err := strconv.ParseInt(l.c.header.Get("X-Stream-Frame"), 10, 64)
		if err != nil || first+int64(len(l.fr)) != ts.outputs[0].ring.headFrames() {
			t.Errorf("X-Stream-Frame %q + %d frames, want %d", l.c.header.Get("X-Stream-Frame"), len(l.fr), ts.outputs[0].ring.headFrames())
		}
	}
	// Audio decodes to the tone.
	pcm := decode(t, a.bytes())
	if r := rms(pcm[len(pcm)/2:]); math.Abs(r-0.5/math.Sqrt2) > 0.05 {
		t.Errorf("decoded tone RMS %.3f, want %.3f", r, 0.5/math.Sqrt2)
	}
	if got := value(t, ts.m.listeners.WithLabelValues("all")); got != 2 {
		t.Errorf("listeners gauge %v, want 2", got)
	}
}

func burstFrames(t *testing.T, b []byte) [][]byte { return frames(t, b) }

func TestSlowListenerCutFastOneUnaffected(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{Backlog: 3 * time.Second, WriteTimeout: 500 * time.Millisecond, SendBuffer: 8 << 10})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, time.Second, ts.batch())
	fast := ts.listen(t, "/all.mp3", nil, false)
	slow := ts.listen(t, "/all.mp3", nil, true)
	b0 := fast.waitBytes(t, 1)
	time.Sleep(50 * time.Millisecond)
	b0 = fast.bytes()
	f0 := len(frames(t, b0))
	start := ts.outputs[0].ring.headFrames()
	for range 20 {
		ts.clock.Step(t, time.Second, ts.batch())
		time.Sleep(20 * time.Millisecond) // let the slow listener's writes block
	}
	want := f0 + int(ts.outputs[0].ring.headFrames()-start)
	for i := 0; len(frames(t, fast.bytes())) < want; i++ {
		if i > 1000 {
			t.Fatalf("fast listener has %d frames, want %d", len(frames(t, fast.bytes())), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(frames(t, fast.bytes())); got != want {
		t.Errorf("fast listener has %d frames, want exactly %d", got, want)
	}
	for i := 0; value(t, ts.m.disconnects.WithLabelValues("all", "slow")) < 1; i++ {
		if i > 1000 {
			t.Fatal("slow listener was not cut")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ls := ts.Listeners(); len(ls) != 1 || ls[0].Addr != fast.conn.LocalAddr().String() || ls[0].Addr == slow.conn.LocalAddr().String() {
		t.Errorf("listeners left: %+v, want only the fast one", ls)
	}
	if !strings.Contains(ts.logs.String(), "cut slow listener") {
		t.Error("no log line for the cut")
	}
}

func TestStarvationSendsSilenceAndRecovers(t *testing.T) {
	src := newFeed()
	ts := start(t, src, Options{})
	l := ts.listen(t, "/all.mp3", nil, false)
	ts.clock.Step(t, 2*time.Second, ts.batch()) // nothing to read: silence
	if n := value(t, ts.m.starvation); n != 1 {
		t.Fatalf("starvation events %v, want 1", n)
	}
	if !strings.Contains(ts.logs.String(), "starving") {
		t.Error("no starving log line")
	}
	src.give(440, 3*time.Second)
	ts.waitPCM(t, 60)
	ts.clock.Step(t, 2*time.Second, ts.batch())
	if !strings.Contains(ts.logs.String(), "recovered") {
		t.Error("no recovered log line")
	}
	ts.clock.Step(t, 3*time.Second, ts.batch()) // tone runs out: silence again
	if n := value(t, ts.m.starvation); n != 2 {
		t.Errorf("starvation events %v, want 2", n)
	}
	want := int(ts.outputs[0].ring.headFrames())
	var b []byte
	for i := 0; len(frames(t, b)) < want; i++ {
		if i > 1000 {
			t.Fatalf("listener has %d frames, want %d", len(frames(t, b)), want)
		}
		time.Sleep(10 * time.Millisecond)
		b = l.bytes()
	}
	pcm := decode(t, b)
	sec := func(from, to float64) []float64 { return pcm[int(from*SampleRate):int(to*SampleRate)] }
	if r := rms(sec(0.2, 1.8)); r > 1e-3 {
		t.Errorf("starved stretch RMS %.4f, want silence", r)
	}
	if r := rms(sec(2.3, 3.8)); r < 0.3 {
		t.Errorf("recovered stretch RMS %.4f, want the tone (0.35)", r)
	}
	if r := rms(sec(5.5, 6.8)); r > 1e-3 {
		t.Errorf("second starved stretch RMS %.4f, want silence", r)
	}
	if ts.Status().Listeners != 1 {
		t.Error("listener lost during starvation")
	}
}

func TestDriftCompensation(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{DriftLimit: 250 * time.Millisecond})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, 2*time.Second, ts.batch())
	if strings.Contains(ts.logs.String(), "drifting") {
		t.Fatal("drift logged while on time")
	}
	// A small stall (one batch plus 100 ms) is caught up without fuss.
	ts.clock.Step(t, ts.batch()+100*time.Millisecond, time.Hour)
	ts.clock.Step(t, time.Second, ts.batch())
	if strings.Contains(ts.logs.String(), "drifting") {
		t.Fatal("drift logged for a stall within the limit")
	}
	// A long stall: the clock jumps 3 s in one tick.
	ts.clock.Step(t, 3*time.Second, time.Hour)
	logs := ts.logs.String()
	if !strings.Contains(logs, "Queue all drifting by") || !strings.Contains(logs, "Compensating...") {
		t.Fatalf("no drift log line in:\n%s", logs)
	}
	elapsed := ts.clock.Now().Sub(ts.Status().Started)
	due := int64(elapsed.Seconds() * SampleRate / FrameSamples)
	if got := ts.outputs[0].ring.headFrames(); got != due {
		t.Errorf("released %d frames after compensating, want %d", got, due)
	}
	if d := value(t, ts.m.drift); d < 2.5 {
		t.Errorf("drift gauge %.2f s, want about 2.8", d)
	}
	// A stall longer than the backlog moves the clock rather than
	// flooding listeners with audio they would be cut for.
	before := ts.outputs[0].ring.headFrames()
	ts.clock.Step(t, time.Minute, time.Hour)
	if !strings.Contains(ts.logs.String(), "skipping ahead") {
		t.Error("no log line for the long stall")
	}
	if got := ts.outputs[0].ring.headFrames() - before; got > int64(ts.opt.BatchFrames) {
		t.Errorf("released %d frames after a one-minute stall, want one batch", got)
	}
}

func TestActionsAndICYTitles(t *testing.T) {
	src := newFeed()
	ts := start(t, src, Options{MetaInt: 4000})
	// Half a second of silence on air before the music arrives shifts the
	// PCM timeline against the stream clock.
	ts.clock.Step(t, 500*time.Millisecond, ts.batch())
	fedSilence := ts.fed
	ts.Announce(Action{Kind: "playback", Tracks: []TrackInfo{{Title: "First", Artist: "Ann"}}, Start: 0, Frames: 2 * SampleRate})
	ts.Announce(Action{Kind: "crossfade", Tracks: []TrackInfo{{Title: "First", Artist: "Ann"}, {Title: "Second's", Artist: "Bob", Tempo: 120, Key: "A minor"}},
		Start: 2 * SampleRate, Frames: SampleRate})
	src.give(440, 6*time.Second)
	ts.waitPCM(t, 60)
	l := ts.listen(t, "/all.mp3", map[string]string{"Icy-MetaData": "1"}, false)
	if l.header.Get("icy-metaint") != "4000" {
		t.Fatalf("icy-metaint %q", l.header.Get("icy-metaint"))
	}
	ts.clock.Step(t, 2500*time.Millisecond, ts.batch())

	st := ts.Status()
	if len(st.Actions) != 2 {
		t.Fatalf("status has %d actions", len(st.Actions))
	}
	offset := float64(fedSilence*FrameSamples) / SampleRate
	if a := st.Actions[1]; math.Abs(a.Start-(2+offset)) > 1e-9 || a.Duration != 1 || a.State != "playing" || a.Title != "Bob - Second's" {
		t.Errorf("second action %+v, want start %.3f, playing", a, 2+offset)
	}
	if st.Actions[0].State != "played" {
		t.Errorf("first action state %q", st.Actions[0].State)
	}

	// Pull the audio and the titles apart.
	var want int64 = int64((2+offset)*SampleRate)/FrameSamples + 1
	var audio []byte
	var titles []string
	var titleAt []int
	for i := 0; ; i++ {
		b := l.bytes()
		audio, titles, titleAt = audio[:0], titles[:0], titleAt[:0]
		for len(b) > 4000 {
			audio = append(audio, b[:4000]...)
			n := int(b[4000]) * 16
			if len(b) < 4001+n {
				break
			}
			if n > 0 && b[4001] != 0 && string(b[4001:4001+n]) != string(icyBlock("")[1:]) {
				titles = append(titles, strings.TrimRight(string(b[4001:4001+n]), "\x00"))
				titleAt = append(titleAt, len(audio))
			}
			b = b[4001+n:]
		}
		if len(titles) >= 2 || i > 1000 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(titles) != 2 || titles[0] != "StreamTitle='Ann - First';" || titles[1] != "StreamTitle='Bob - Second's';" {
		t.Fatalf("ICY titles %q", titles)
	}
	// The audio between metadata blocks is whole frames (the last may be
	// cut short where reading stopped)...
	var sp mp3frame.Splitter
	sp.Write(audio)
	n := 0
	for f, ok := sp.Next(); ok; f, ok = sp.Next() {
		n += len(f)
	}
	if sp.Skipped != 0 || len(audio)-n > 418 {
		t.Fatalf("ICY stream audio: %d of %d bytes in frames, %d skipped", n, len(audio), sp.Skipped)
	}
	// ...and the second title arrives once its audio does: after the frame
	// where the action starts, within one chunk plus one metadata interval.
	burstStart := ts.outputs[0].ring.headFrames() - int64(len(frames(t, audioFrames(audio))))
	frameAt := burstStart + int64(countFrames(audio[:titleAt[1]]))
	if frameAt < want || frameAt > want+int64(ts.opt.BatchFrames)+4000/417+1 {
		t.Errorf("second title after frame %d, action starts at frame %d", frameAt, want)
	}
}

// audioFrames returns b cut to its whole frames.
func audioFrames(b []byte) []byte {
	fr := mp3frame.Frames(b)
	n := 0
	for _, f := range fr {
		n += len(f)
	}
	return b[:n]
}

func countFrames(b []byte) int { return len(mp3frame.Frames(b)) }

func TestJSONAndMetrics(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 60)
	ts.Announce(Action{Kind: "playback", Tracks: []TrackInfo{{Title: "Tone", Source: "demo"}}, Start: 0, Frames: 10 * SampleRate})
	ts.clock.Step(t, time.Second, ts.batch())
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
	if st.Samples != ts.outputs[0].ring.headFrames()*FrameSamples || len(st.Actions) != 1 || st.Actions[0].Tracks[0].Title != "Tone" || st.Title != "Tone" {
		t.Errorf("status %+v", st)
	}
	resp, err = http.Get(ts.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"forever_stream_listeners", "forever_stream_frames_total", "forever_stream_drift_seconds", "forever_stream_starvation_events_total", "forever_stream_encode_seconds"} {
		if !bytes.Contains(body, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	for _, p := range []string{"/", "/../../etc/passwd", "/all.mp3x", "/stream/station.go"} {
		resp, err := http.Get(ts.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestRunStopsAndDisconnects(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 10)
	ts.clock.Step(t, time.Second, ts.batch())
	l := ts.listen(t, "/all.mp3", nil, false)
	l.waitBytes(t, 1)
	ts.cancel()
	<-ts.done
	ts.done <- nil // for Cleanup
	for i := 0; l.closed() == nil; i++ {
		if i > 1000 {
			t.Fatal("listener still connected after Run returned")
		}
		time.Sleep(10 * time.Millisecond)
	}
	frames(t, l.bytes())
}

// broken fails every Write, like an encoder that has lost its library.
type broken struct{}

func (broken) Write([]float32) error { return io.ErrClosedPipe }
func (broken) Flush() error          { return nil }

func TestFailingEncoderBridgedWithSilentFrames(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{NewEncoder: func(io.Writer, int) (Encoder, error) { return broken{}, nil }})
	ts.waitPCM(t, 10)
	l := ts.listen(t, "/all.mp3", nil, false)
	ts.clock.Step(t, 2*time.Second, ts.batch())
	want := int(ts.outputs[0].ring.headFrames())
	var b []byte
	for i := 0; len(frames(t, b)) < want; i++ {
		if i > 1000 {
			t.Fatalf("listener has %d frames, want %d", len(frames(t, b)), want)
		}
		time.Sleep(10 * time.Millisecond)
		b = l.bytes()
	}
	if r := rms(decode(t, b)); r != 0 {
		t.Errorf("RMS %v, want silence", r)
	}
	if !strings.Contains(ts.logs.String(), "encoder failed") {
		t.Error("no log line for the failing encoder")
	}
}

// noHijack hides the connection, as HTTP/2 and some middleware do, but
// still lets the handler flush and set deadlines.
type noHijack struct{ w http.ResponseWriter }

func (n noHijack) Header() http.Header         { return n.w.Header() }
func (n noHijack) Write(b []byte) (int, error) { return n.w.Write(b) }
func (n noHijack) WriteHeader(code int)        { n.w.WriteHeader(code) }
func (n noHijack) Flush()                      { n.w.(http.Flusher).Flush() }
func (n noHijack) SetWriteDeadline(t time.Time) error {
	return http.NewResponseController(n.w).SetWriteDeadline(t)
}

func TestStreamWithoutHijack(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, 2*time.Second, ts.batch())
	h := ts.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(noHijack{w}, r)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/all.mp3")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	got := make(chan []byte)
	go func() {
		b := make([]byte, 0, 1<<20)
		buf := make([]byte, 8192)
		for {
			n, err := resp.Body.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				got <- b
				return
			}
		}
	}()
	for ts.Status().Listeners != 1 {
		time.Sleep(10 * time.Millisecond)
	}
	ts.clock.Step(t, 2*time.Second, ts.batch())
	for i := 0; value(t, ts.m.bytes.WithLabelValues("all")) < float64(ts.outputs[0].ring.headFrames()*417); i++ {
		if i > 1000 {
			t.Fatal("listener did not catch up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp.Body.Close()
	b := <-got
	var sp mp3frame.Splitter
	sp.Write(b)
	n := 0
	for f, ok := sp.Next(); ok; f, ok = sp.Next() {
		n += len(f)
	}
	if sp.Skipped != 0 || len(b)-n > 418 || n < 80*417 {
		t.Fatalf("%d bytes: %d in frames, %d skipped", len(b), n, sp.Skipped)
	}
}

func TestSeveralOutputsShareTheClock(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{Outputs: []Output{{Name: "all", Bitrate: 128}, {Name: "low", Bitrate: 48}}})
	ts.waitPCM(t, 60)
	hi := ts.listen(t, "/all.mp3", nil, false)
	lo := ts.listen(t, "/low.mp3", nil, false)
	ts.clock.Step(t, 10*time.Second, ts.batch())
	sum := func(c *client, want time.Duration) (time.Duration, int) {
		for i := 0; ; i++ {
			b := c.bytes()
			var d time.Duration
			rate := 0
			for _, f := range mp3frame.Frames(b) {
				h, _ := mp3frame.ParseHeader(f)
				d += h.Duration()
				rate = h.SampleRate
			}
			if d >= want || i > 1000 {
				return d, rate
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	dh, rh := sum(hi, 10*time.Second-FrameDuration*8)
	dl, rl := sum(lo, dh-40*time.Millisecond)
	t.Logf("128 kb/s: %v at %d Hz; 48 kb/s: %v at %d Hz", dh, rh, dl, rl)
	if diff := dh - dl; diff < -40*time.Millisecond || diff > 40*time.Millisecond {
		t.Errorf("outputs released %v and %v of audio: not in step", dh, dl)
	}
	for _, o := range ts.outputs {
		if n := o.queued.Load(); n > 4 {
			t.Errorf("output %s has %d frames queued", o.Name, n)
		}
	}
	pcm := decode(t, lo.bytes())
	if len(pcm) == 0 {
		t.Fatal("low output does not decode")
	}
	if rl != 22050 || strings.Contains(ts.logs.String(), "encoder") {
		t.Errorf("low output at %d Hz, logs:\n%s", rl, ts.logs.String())
	}
}

func TestHeadRequest(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	req, _ := http.NewRequest("HEAD", ts.srv.URL+"/all.mp3", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/mpeg" {
		t.Errorf("HEAD: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestLostConnectionFreed(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, time.Second, ts.batch())
	l := ts.listen(t, "/all.mp3", nil, false)
	l.waitBytes(t, 1)
	if n := ts.Status().Listeners; n != 1 {
		t.Fatalf("%d listeners", n)
	}
	l.conn.Close()
	for i := 0; ts.Status().Listeners != 0; i++ {
		if i > 100 {
			t.Fatal("closed listener still counted")
		}
		ts.clock.Step(t, ts.batch(), ts.batch())
		time.Sleep(10 * time.Millisecond)
	}
	if n := value(t, ts.m.disconnects.WithLabelValues("all", "gone")); n != 1 {
		t.Errorf("disconnects{gone} = %v, want 1", n)
	}
}

// BenchmarkRelease measures the station's own work per batch (encoding
// with LAME, framing, publishing) with no listeners. Compare ns/op with
// the batch's play time, 209 ms: the ratio is the share of one core the
// station needs.
func BenchmarkRelease(b *testing.B) {
	st, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.readLoop(ctx)
	b.ReportAllocs()
	for b.Loop() {
		for len(st.pcm) < 8 {
			runtime.Gosched()
		}
		st.release(st.opt.BatchFrames)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(8*FrameDuration.Nanoseconds()), "core-share")
}
