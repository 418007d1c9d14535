package icecast

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foreverfm/forever/audio/lame"
	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/mp3frame"
)

type sine struct{ n int64 }

func (s *sine) Read(dst []float32) (int, error) {
	for i := 0; i+1 < len(dst); i += 2 {
		v := float32(0.4 * math.Sin(2*math.Pi*440*float64(s.n)/stream.SampleRate))
		dst[i], dst[i+1] = v, v
		s.n++
	}
	return len(dst) / 2, nil
}

// icecastServer runs a real icecast2 on a loopback port until the test ends.
type icecastServer struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
}

func startIcecast(t *testing.T, port int, dir string) *icecastServer {
	t.Helper()
	bin, err := exec.LookPath("icecast2")
	if err != nil {
		t.Skip("icecast2 not installed")
	}
	if dir == "" {
		// Icecast drops root for its own user, who must be able to write
		// its logs: a world-writable directory outside the test's 0700 one.
		dir, err = os.MkdirTemp("", "forever-icecast")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o777)
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	owner := ""
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("icecast2"); err != nil {
			t.Skip("running as root and there is no icecast2 user for icecast to switch to")
		}
		owner = "<changeowner><user>icecast2</user><group>icecast</group></changeowner>"
	}
	conf := fmt.Sprintf(`<icecast>
  <location>test</location><admin>test@localhost</admin><hostname>127.0.0.1</hostname>
  <limits><clients>20</clients><sources>4</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout><source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect><burst-size>65535</burst-size></limits>
  <authentication><source-password>hackme</source-password><relay-password>hackme</relay-password>
    <admin-user>admin</admin-user><admin-password>adminpw</admin-password></authentication>
  <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>%s</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot><pidfile>%s/icecast.pid</pidfile></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>%s</security>
</icecast>
`, port, dir, dir, owner)
	path := filepath.Join(dir, "icecast.xml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", path)
	out, _ := os.Create(filepath.Join(dir, "stdout.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &icecastServer{t: t, dir: dir, port: port, cmd: cmd}
	t.Cleanup(s.stop)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", s.addr())
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			o, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			t.Fatalf("icecast2 did not start: %s\n%s", o, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

func (s *icecastServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *icecastServer) stop() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
}

// mountTitle reads the mount's title from Icecast's status-json.xsl.
func mountTitle(addr string) (string, bool) {
	resp, err := http.Get("http://" + addr + "/status-json.xsl")
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var st struct {
		Icestats struct {
			Source json.RawMessage `json:"source"`
		} `json:"icestats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || len(st.Icestats.Source) == 0 {
		return "", false
	}
	var src struct {
		Title     string `json:"title"`
		ListenURL string `json:"listenurl"`
	}
	if err := json.Unmarshal(st.Icestats.Source, &src); err != nil {
		var list []struct {
			Title string `json:"title"`
		}
		if json.Unmarshal(st.Icestats.Source, &list) != nil || len(list) == 0 {
			return "", false
		}
		return list[0].Title, true
	}
	return src.Title, true
}

// listenFrames reads about d of the mount as a listener and returns whole
// frames, failing if more than the first partial frame is junk.
func listenFrames(t *testing.T, addr string, d time.Duration) [][]byte {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/forever.mp3")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("listening to the mount: %s", resp.Status)
	}
	var sp mp3frame.Splitter
	var frames [][]byte
	br := bufio.NewReader(resp.Body)
	buf := make([]byte, 4096)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		n, err := br.Read(buf)
		sp.Write(buf[:n])
		for f, ok := sp.Next(); ok; f, ok = sp.Next() {
			frames = append(frames, append([]byte(nil), f...))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if sp.Skipped > 2000 {
		t.Errorf("listener stream had %d bytes that are not frames", sp.Skipped)
	}
	for i, f := range frames {
		h, _ := mp3frame.ParseHeader(f)
		if h.SampleRate != stream.SampleRate || h.Bitrate != 128000 {
			t.Fatalf("frame %d: %+v", i, h)
		}
	}
	return frames
}

func TestSourceAgainstIcecast2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs icecast2 for several seconds")
	}
	ice := startIcecast(t, 0, "")
	st, err := stream.New(&sine{}, stream.Options{
		NewEncoder: func(w io.Writer, kbps int) (stream.Encoder, error) {
			return lame.NewEncoder(w, lame.Options{Bitrate: kbps, Quality: 7})
		},
		Logger:   slog.New(slog.DiscardHandler),
		Registry: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.Run(ctx)
	relay := st.Relay("icecast")
	st.Announce(stream.Action{Kind: "playback", Tracks: []stream.TrackInfo{{Title: "Sine", Artist: "Test"}}, Start: 0, Frames: 600 * stream.SampleRate})
	sub, err := st.Subscribe("all")
	if err != nil {
		t.Fatal(err)
	}
	src := &Source{
		URL: "http://" + ice.addr() + "/forever.mp3", Password: "hackme", Name: "forever test", Bitrate: 128,
		// The default MaxBackoff of 30 s: a session that got through
		// starts the backoff over, so the reconnection comes soon.
		MinBackoff: 200 * time.Millisecond,
		Logger:     slog.New(slog.DiscardHandler),
		Report:     relay,
	}
	runErr := make(chan error, 1)
	go func() { runErr <- src.Run(ctx, sub) }()

	waitTitle := func(want string) {
		t.Helper()
		for i := 0; ; i++ {
			if title, ok := mountTitle(ice.addr()); ok && title == want {
				return
			}
			if i > 300 {
				title, ok := mountTitle(ice.addr())
				b, _ := os.ReadFile(filepath.Join(ice.dir, "error.log"))
				t.Fatalf("mount title %q (up %v), want %q; icecast log:\n%s", title, ok, want, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitTitle("Test - Sine")
	if fr := listenFrames(t, ice.addr(), 5*time.Second); len(fr) < 40 {
		t.Fatalf("listener got %d frames in 2 s", len(fr))
	}

	if rs := relay.Status(); !rs.Up || rs.Errors != 0 {
		t.Errorf("relay status while connected: %+v", rs)
	}

	// Icecast stops: the relay reports it down.
	ice.stop()
	for i := 0; relay.Status().Up; i++ {
		if i > 300 {
			t.Fatal("relay still reported up with icecast stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // a few failed reconnections
	down := relay.Status()
	if down.Errors == 0 || down.LastError == "" {
		t.Errorf("relay status with icecast stopped: %+v", down)
	}
	if rs := st.Relays(); len(rs) != 1 || rs[0].Name != "icecast" || rs[0].Up {
		t.Errorf("station's relays %+v", rs)
	}
	// ... and restarts on the same port: the source comes back.
	t0 := time.Now()
	ice2 := startIcecast(t, ice.port, ice.dir)
	waitTitle("Test - Sine")
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("source took %v to come back", took)
	}
	if rs := relay.Status(); !rs.Up {
		t.Errorf("relay status after the restart: %+v", rs)
	}
	if fr := listenFrames(t, ice2.addr(), 2*time.Second); len(fr) < 40 {
		t.Fatalf("after the restart, listener got %d frames in 2 s", len(fr))
	}
	cancel()
	if err := <-runErr; err != context.Canceled {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

func TestSourceRefusedPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("runs icecast2")
	}
	ice := startIcecast(t, 0, "")
	src := &Source{URL: "http://" + ice.addr() + "/forever.mp3", Password: "wrong"}
	_, err := src.session(context.Background(), mustURL(t, src.URL), nil, make(chan string, 1), slog.New(slog.DiscardHandler), noReport{})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("session with a wrong password: %v, want a 401 error", err)
	}
}

func TestSourceRefusesURLsItCannotServe(t *testing.T) {
	for _, u := range []string{"https://radio.example:8443/forever.mp3", "http://source:hunter2@radio.example/forever.mp3", "http://radio.example/"} {
		var logs strings.Builder
		var rep recorder
		src := &Source{URL: u, Password: "hunter2", Logger: slog.New(slog.NewTextHandler(&logs, nil)), Report: &rep}
		err := src.Run(context.Background(), nil)
		if err == nil || len(rep.failed) != 1 {
			t.Errorf("%s: Run returned %v, reported %v", u, err, rep.failed)
			continue
		}
		if !strings.Contains(logs.String(), "not starting") {
			t.Errorf("%s: nothing logged:\n%s", u, logs.String())
		}
		if strings.Contains(logs.String()+err.Error(), "hunter2") {
			t.Errorf("%s: the password shows: %v\n%s", u, err, logs.String())
		}
	}
}

type recorder struct{ failed []error }

func (r *recorder) Up()              {}
func (r *recorder) Failed(err error) { r.failed = append(r.failed, err) }

func mustURL(t *testing.T, s string) *urlT {
	u, err := parseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type urlT = url.URL

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
