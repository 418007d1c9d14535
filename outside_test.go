package forever_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source"
	"github.com/foreverfm/forever/stream/mp3frame"
)

// outsideMain is a program in a module of its own: a radio on the demo
// catalogue with a policy of its own, in its own mux beside its own
// handler.
const outsideMain = `package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/foreverfm/forever"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/source/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	r, err := forever.New(forever.Config{
		Source:   demo.Source{},
		CacheDir: os.Args[1],
		Mixer: mix.Options{MaxStay: 15 * time.Second, Policy: mix.PolicyFunc(func(h mix.Handover) mix.Transition {
			t := mix.DefaultPolicy{}.Fallback(h)
			t.Reason = "my own policy"
			return t
		})},
		OnEvent: func(e forever.Event) {
			if e.Kind == forever.OnAir || e.Kind == forever.TransitionPlanned {
				fmt.Printf("%s %s %s\n", e.Kind, e.Info.Kind, e.Info.Reason)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hello") })
	mux.Handle("/radio/", http.StripPrefix("/radio", r.Handler()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("listening http://%s\n", ln.Addr())
	go http.Serve(ln, mux)
	if err := r.Run(ctx); err != nil {
		panic(err)
	}
	fmt.Println("stopped")
}
`

// A program outside the module runs a radio in its own mux, with a
// transition policy of its own, and its listener receives music.
func TestRadioOutsideModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program and plays the demo catalogue")
	}
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/myradio\n\ngo 1.24\n\nrequire github.com/foreverfm/forever v0.0.0\n\nreplace github.com/foreverfm/forever => " + repo + "\n"
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(outsideMain)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	tidy := exec.Command(gobin, "mod", "tidy")
	tidy.Dir, tidy.Env = dir, append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "myradio")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	build.Dir, build.Env = dir, append(os.Environ(), "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The cache where the radio keeps the demo's analyses, so that
	// repeated runs start quickly.
	cmd := exec.CommandContext(ctx, bin, source.DefaultCacheDir())
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var base string
	var policyUsed bool
	next := func(prefix string) string {
		for l := range lines {
			if strings.Contains(l, "my own policy") {
				policyUsed = true
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("the program ended before printing %q", prefix)
		return ""
	}
	base = strings.TrimPrefix(next("listening "), "listening ")
	resp, err := http.Get(base + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(hello) != "hello\n" {
		t.Fatalf("/hello answered %q", hello)
	}
	next("on air fadein")
	resp, err = http.Get(base + "/radio/all.mp3")
	if err != nil {
		t.Fatal(err)
	}
	// 14 s of the stream: past the first track's 10 s fade-in.
	mp3 := make([]byte, 14*128000/8)
	_, err = io.ReadFull(resp.Body, mp3)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The read stopped mid-frame: decode the whole frames.
	pcm, err := audio.Decode(bytes.NewReader(bytes.Join(mp3frame.Frames(mp3), nil)), "mp3")
	if err != nil {
		t.Fatalf("decoding the stream: %v", err)
	}
	tail := pcm.Samples[max(0, len(pcm.Samples)-3*2*audio.SampleRate):]
	var sum2 float64
	for _, s := range tail {
		sum2 += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum2 / float64(len(tail)))
	t.Logf("RMS of the last 3 s: %.4f; custom policy seen: %v", rms, policyUsed)
	if rms < 0.02 {
		t.Fatalf("the stream is (nearly) silent: RMS %.4f", rms)
	}
	// The program's own policy decides the transitions (MaxStay brings
	// the first one within seconds).
	if !policyUsed {
		next("transition planned crossfade my own policy")
	}
	// SIGTERM: Run returns once the radio has stopped.
	if err := cmd.Process.Signal(syscallTERM); err != nil {
		t.Fatal(err)
	}
	next("stopped")
	if err := cmd.Wait(); err != nil {
		t.Errorf("the program did not exit cleanly: %v", err)
	}
}
