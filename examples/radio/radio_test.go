package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source"
	"github.com/foreverfm/forever/source/demo"
	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/mp3frame"
)

// startRadio runs the whole chain on the demo catalogue behind a loopback
// HTTP server. The demo renders and their analyses are cached where the
// radio itself keeps them, so repeated runs start quickly.
func startRadio(t *testing.T, hlsDir ...string) (*httptest.Server, *forever.Radio) {
	t.Helper()
	c := serveConfig{
		bitrate:  128,
		cacheDir: source.DefaultCacheDir(),
		rescan:   time.Hour,
	}
	if len(hlsDir) > 0 {
		c.hlsDir = hlsDir[0]
	}
	r, err := newRadio(demo.Source{}, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("radio did not stop within 10 s of cancellation")
		}
	})
	return srv, r
}

// readICY reads an ICY stream, separating audio from metadata blocks, until
// it has at least minAudio bytes of audio and, if wantTitle, a StreamTitle
// naming a track.
func readICY(t *testing.T, br *bufio.Reader, metaint, minAudio int, wantTitle bool) (audioBytes []byte, title string) {
	t.Helper()
	chunk := make([]byte, metaint)
	for {
		if _, err := io.ReadFull(br, chunk); err != nil {
			t.Fatalf("reading stream: %v (after %d bytes, title %q)", err, len(audioBytes), title)
		}
		audioBytes = append(audioBytes, chunk...)
		n, err := br.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		meta := make([]byte, int(n)*16)
		if _, err := io.ReadFull(br, meta); err != nil {
			t.Fatal(err)
		}
		if m := string(bytes.TrimRight(meta, "\x00")); strings.HasPrefix(m, "StreamTitle='") {
			if s := strings.TrimSuffix(strings.TrimPrefix(m, "StreamTitle='"), "';"); s != "" {
				title = s
			}
		}
		if (title != "" || !wantTitle) && len(audioBytes) >= minAudio {
			return audioBytes, title
		}
	}
}

func TestRadioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses the demo catalogue")
	}
	srv, _ := startRadio(t)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/all.mp3", nil)
	req.Header.Set("Icy-MetaData", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "audio/mpeg" {
		t.Fatalf("Content-Type %q, want audio/mpeg", ct)
	}
	metaint, err := strconv.Atoi(resp.Header.Get("icy-metaint"))
	if err != nil || metaint <= 0 {
		t.Fatalf("icy-metaint %q: %v", resp.Header.Get("icy-metaint"), err)
	}

	// Until a title shows the mixer has started, then 12 s more of music:
	// past the first track's 10 s fade-in.
	body := bufio.NewReader(resp.Body)
	data, title := readICY(t, body, metaint, 0, true)
	t.Logf("on air: %s (after %d bytes of warm-up)", title, len(data))
	music, _ := readICY(t, body, metaint, 12*128000/8, false)

	// Every byte is whole MP3 frames: a listener can join or leave anywhere.
	all := append(data, music...)
	frames, rest, musicAt := 0, all, -1
	for len(rest) > 0 {
		if musicAt < 0 && len(all)-len(rest) >= len(data) {
			musicAt = len(all) - len(rest)
		}
		h, err := mp3frame.ParseHeader(rest)
		if err != nil {
			t.Fatalf("stream not frame-aligned after %d frames: %v", frames, err)
		}
		if h.Size() > len(rest) {
			break // the read stopped mid-frame
		}
		rest = rest[h.Size():]
		frames++
	}
	music = all[musicAt : len(all)-len(rest)]
	if len(music) < 11*128000/8 {
		t.Fatalf("only %d bytes of music", len(music))
	}
	pcm, err := audio.Decode(bytes.NewReader(music), "mp3")
	if err != nil {
		t.Fatalf("decoding the stream: %v", err)
	}
	// The last 3 s, after the fade-in: music, not near-silence.
	tail := pcm.Samples[max(0, len(pcm.Samples)-3*2*audio.SampleRate):]
	var sum float64
	for _, s := range tail {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(len(tail)))
	t.Logf("%d frames of music, RMS of the last 3 s %.4f", frames, rms)
	if rms < 0.02 {
		t.Fatalf("music RMS %.4f after the fade-in: the stream is (nearly) silent", rms)
	}

	// The JSON info agrees with what the listener was told.
	var st stream.Status
	getJSON(t, srv.URL+"/all.json", &st)
	if st.Listeners < 1 {
		t.Errorf("/all.json counts %d listeners with one connected", st.Listeners)
	}
	playing := 0
	for _, a := range st.Actions {
		if a.State == "playing" {
			playing++
			if len(a.Tracks) == 0 || a.Tracks[0].Tempo <= 0 || a.Tracks[0].Key == "" {
				t.Errorf("playing action lacks track details: %+v", a)
			}
		}
	}
	if playing != 1 {
		t.Errorf("/all.json has %d playing actions, want 1: %+v", playing, st.Actions)
	}
	// The plan is solved again as analysed tracks join the catalogue, and
	// is empty until then.
	var next []stream.TrackInfo
	for deadline := time.Now().Add(time.Minute); len(next) == 0 && time.Now().Before(deadline); time.Sleep(time.Second) {
		getJSON(t, srv.URL+"/next.json", &next)
	}
	if len(next) == 0 {
		t.Error("/next.json planned nothing within a minute")
	}

	metrics := get(t, srv.URL+"/metrics")
	for _, m := range []string{"forever_tracks_analysed_total", "forever_tsp_solve_seconds"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if page := get(t, srv.URL+"/"); !strings.Contains(page, `src="all.mp3"`) {
		t.Error("the page has no player for all.mp3")
	}
	if resp, err := http.Get(srv.URL + "/../go.mod"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("the server serves files outside its own")
		}
		resp.Body.Close()
	}
}

// With -hls, the radio writes a live playlist and serves it, with segments
// of whole MP3 frames, at /hls/.
func TestRadioHLS(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses the demo catalogue")
	}
	srv, _ := startRadio(t, t.TempDir())
	var playlist string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		resp, err := http.Get(srv.URL + "/hls/live.m3u8")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.Count(string(b), ".mp3") >= 2 {
			playlist = string(b)
			break
		}
	}
	if playlist == "" {
		t.Fatal("no playlist with two segments at /hls/live.m3u8 within two minutes")
	}
	if !strings.HasPrefix(playlist, "#EXTM3U") || !strings.Contains(playlist, "#EXT-X-PROGRAM-DATE-TIME:") {
		t.Fatalf("not a live HLS playlist:\n%s", playlist)
	}
	var seg string
	for _, line := range strings.Split(playlist, "\n") {
		if strings.HasSuffix(line, ".mp3") {
			seg = line
			break
		}
	}
	body := get(t, srv.URL+"/hls/"+seg)
	// A segment is an ID3 tag (timestamps, titles) and then whole frames.
	if !strings.HasPrefix(body, "ID3") || len(body) < 10 {
		t.Fatalf("segment %s does not start with an ID3 tag", seg)
	}
	b := []byte(body)
	size := int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9])
	frames := mp3frame.Frames(b[10+size:])
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	if len(frames) < 50 || n != len(b)-10-size {
		t.Fatalf("segment %s: %d frames covering %d of %d bytes after the tag", seg, len(frames), n, len(b)-10-size)
	}
	if resp, err := http.Get(srv.URL + "/hls/../serve.go"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("/hls/ serves files outside its directory")
		}
		resp.Body.Close()
	}
}

// TestPageInBrowser opens the radio's page in Debian's headless Chromium,
// driven by playwright-core, and waits until it shows a track on air.
func TestPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses the demo catalogue")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	if _, err := os.Stat("browsertest/node_modules/playwright-core"); err != nil {
		t.Skip("playwright-core not installed (cd examples/radio/browsertest && npm ci)")
	}
	srv, _ := startRadio(t)
	shot := filepath.Join(t.TempDir(), "page.png")
	if dir := os.Getenv("FOREVER_SCREENSHOT_DIR"); dir != "" {
		shot = filepath.Join(dir, "page.png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "browsertest/page.mjs", srv.URL+"/", shot)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("browser test: %v", err)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 1000 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(get(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, fmt.Errorf("decoding JSON: %w", err))
	}
}
