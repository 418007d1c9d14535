package stream

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// rawGet sends a request line and headers on a fresh connection and
// returns the status line, the parsed response and the connection.
func rawGet(t *testing.T, addr, reqLine string, hdr ...string) (string, *http.Response, *bufio.Reader, net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := reqLine + "\r\nHost: " + addr + "\r\n" + strings.Join(hdr, "")
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	line, err := br.Peek(16)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(line), resp, br, conn
}

// The stream answers in the client's HTTP version, unchunked, with the
// headers a middleware set, and its body is MP3 frames from the first byte.
func TestMP3KeepsMiddlewareHeadersAndProtocol(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, time.Second, ts.batch())
	mw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Middleware", "kept")
		ts.Handler().ServeHTTP(w, r)
	}))
	defer mw.Close()
	addr := mw.Listener.Addr().String()
	for _, proto := range []string{"HTTP/1.1", "HTTP/1.0"} {
		line, resp, br, _ := rawGet(t, addr, "GET /all.mp3 "+proto)
		if !strings.HasPrefix(line, proto+" 200") {
			t.Errorf("%s request answered %q", proto, line)
		}
		if resp.Header.Get("X-Middleware") != "kept" || resp.Header.Get("Content-Type") != "audio/mpeg" || resp.Header.Get("X-Stream-Frame") == "" {
			t.Errorf("%s: headers %v", proto, resp.Header)
		}
		if len(resp.TransferEncoding) != 0 || resp.Header.Get("Transfer-Encoding") != "" {
			t.Errorf("%s: body is %v-encoded; ICY players need it raw", proto, resp.TransferEncoding)
		}
		if !resp.Close {
			t.Errorf("%s: the response does not say the connection closes after it", proto)
		}
		b := make([]byte, 4096)
		if _, err := io.ReadFull(br, b); err != nil {
			t.Fatal(err)
		}
		if b[0] != 0xff || b[1]&0xe0 != 0xe0 {
			t.Errorf("%s: body starts % x, not a frame", proto, b[:4])
		}
	}
}

func TestCORSOnEveryEndpoint(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{AllowOrigins: []string{"https://player.example"}})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, time.Second, ts.batch())
	addr := ts.srv.Listener.Addr().String()
	for _, path := range []string{"/all.mp3", "/all.json", "/metrics"} {
		_, resp, _, conn := rawGet(t, addr, "GET "+path+" HTTP/1.1", "Origin: https://player.example\r\n")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://player.example" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", path, got)
		}
		conn.Close()
		_, resp, _, conn = rawGet(t, addr, "GET "+path+" HTTP/1.1", "Origin: https://evil.example\r\n")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s from another origin: Access-Control-Allow-Origin %q", path, got)
		}
		conn.Close()
	}
	req, _ := http.NewRequest("OPTIONS", ts.srv.URL+"/all.mp3", nil)
	req.Header.Set("Origin", "https://player.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "icy-metadata")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Icy-MetaData") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestPathsKnowTheMountPrefix(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	mux := http.NewServeMux()
	mux.Handle("/radio/", http.StripPrefix("/radio", ts.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for url, want := range map[string]string{srv.URL + "/radio/all.json": "/radio/all.mp3", ts.srv.URL + "/all.json": "/all.mp3"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var st Status
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Outputs) != 1 || st.Outputs[0].Path != want {
			t.Errorf("%s: outputs %+v, want path %s", url, st.Outputs, want)
		}
	}
}

func TestMetricsOptional(t *testing.T) {
	// Without a registry: nothing registered, /metrics is not there.
	st, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	st.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/metrics without a registry: %d", rec.Code)
	}
	// Two stations on one registry, told apart by name; the same name
	// twice is an error, not a panic.
	reg := prometheus.NewRegistry()
	for _, name := range []string{"one", "two"} {
		if _, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME, Name: name, Registry: reg}); err != nil {
			t.Fatalf("station %s: %v", name, err)
		}
	}
	if _, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME, Name: "one", Registry: reg}); err == nil {
		t.Error("a second station named one registered on the same registry")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	stations := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "forever_stream_listeners" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "station" {
					stations[l.GetValue()] = true
				}
			}
		}
	}
	if !stations["one"] || !stations["two"] || len(stations) != 2 {
		t.Errorf("listeners gauge labelled for stations %v", stations)
	}
}
