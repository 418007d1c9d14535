// Command loadtest measures how many listeners one forever station serves
// on this machine.
//
// It starts the real server (the stream package's Station and handlers,
// with LAME encoding a tone) as a child process on loopback, or uses one
// already running (-url), then connects N listeners that read the stream
// as it comes plus a few slow ones that read at a fraction of real time.
// For each N it reports the server's CPU use and memory per listener (from
// /proc, so the clients' own cost is not counted), the spread of stream
// positions across the well-behaved listeners, frames they lost, and how
// many slow listeners were cut. "Frames short" counts, over the
// well-behaved listeners, the frames each had not received two seconds
// after the head was sampled at the end: frames lost or still in flight.
//
//	go run ./examples/loadtest -n 100,1000,5000,10000 -d 30s
//
// Positions come from the X-Stream-Frame header (the frame index a
// listener starts at) plus the frames it has parsed since; the head is the
// frame count in /all.json.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foreverfm/forever/audio/lame"
	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/icecast"
	"github.com/foreverfm/forever/stream/mp3frame"
)

func main() {
	var (
		ns      = flag.String("n", "100,1000,5000,10000", "comma-separated listener counts")
		slow    = flag.Int("slow", 5, "slow listeners per run")
		pace    = flag.Float64("slow-pace", 0.25, "fraction of real time the slow listeners read at")
		dur     = flag.Duration("d", 30*time.Second, "measuring time per run, after all listeners are connected")
		rawURL  = flag.String("url", "", "stream of a running server (loopback only); default: start one")
		serve   = flag.String("serve", "", "internal: serve a station on this address")
		batch   = flag.Int("batch", 0, "frames per write (server started here); 0 = the stream default")
		backlog = flag.Duration("backlog", 0, "listener backlog before a cut (server started here); 0 = default")
		ice     = flag.Bool("icecast", false, "also run a real icecast2 fed by the station and the same listeners against it; print ratios")
		push    = flag.String("icecast-push", "", "internal: publish the station to this Icecast mount")
	)
	flag.Parse()
	raiseFileLimit()
	if *serve != "" {
		if err := runServer(*serve, *batch, *backlog, *push); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest server:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *ns, *slow, *pace, *dur, *rawURL, *batch, *backlog, *ice); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// raiseFileLimit lifts the soft limit on open files to the hard limit: each
// listener is a socket.
func raiseFileLimit() {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err == nil && r.Cur < r.Max {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}

func runServer(addr string, batch int, backlog time.Duration, push string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := stream.New(&tone{}, stream.Options{
		NewEncoder: func(w io.Writer, kbps int) (stream.Encoder, error) {
			return lame.NewEncoder(w, lame.Options{Bitrate: kbps})
		},
		Registry:    prometheus.NewRegistry(), // the client reads /metrics
		BatchFrames: batch,
		Backlog:     backlog,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("ADDR", ln.Addr())
	go st.Run(ctx)
	if push != "" {
		sub, err := st.Subscribe("all")
		if err != nil {
			return err
		}
		src := &icecast.Source{URL: push, Password: "loadtest", Bitrate: 128, MinBackoff: 100 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		go src.Run(ctx, sub)
	}
	srv := stream.NewServer(addr, st.Handler())
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// tone is a 440 Hz sine, so that the encoder does real work.
type tone struct{ n int64 }

func (t *tone) Read(dst []float32) (int, error) {
	for i := 0; i+1 < len(dst); i += 2 {
		v := float32(0.3 * math.Sin(2*math.Pi*440*float64(t.n)/stream.SampleRate))
		dst[i], dst[i+1] = v, v
		t.n++
	}
	return len(dst) / 2, nil
}

func run(ctx context.Context, ns string, nslow int, pace float64, dur time.Duration, rawURL string, batch int, backlog time.Duration, withIcecast bool) error {
	var pid int
	var ice *icecastServer
	if withIcecast {
		if rawURL != "" {
			return fmt.Errorf("-icecast needs the server started here, not -url")
		}
		most := 0
		for _, f := range strings.Split(ns, ",") {
			n, _ := strconv.Atoi(strings.TrimSpace(f))
			most = max(most, n)
		}
		var err error
		if ice, err = startIcecast(most + nslow + 100); err != nil {
			return err
		}
		defer ice.stop()
	}
	if rawURL == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		args := []string{"-serve", "127.0.0.1:0", "-batch", strconv.Itoa(batch), "-backlog", backlog.String()}
		if ice != nil {
			args = append(args, "-icecast-push", ice.mountURL())
		}
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			return fmt.Errorf("server did not start: %w", err)
		}
		rawURL = "http://" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR ")) + "/all.mp3"
		pid = cmd.Process.Pid
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: loopback addresses only", rawURL)
	}
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	fmt.Printf("# loadtest %s  GOMAXPROCS=%d  NumCPU=%d  RLIMIT_NOFILE=%d  slow=%d at %.0f%% pace  %s per run\n",
		rawURL, runtime.GOMAXPROCS(0), runtime.NumCPU(), lim.Cur, nslow, pace*100, dur)
	time.Sleep(2 * time.Second) // let the server fill its burst
	base := procStats(pid)
	fmt.Printf("# server baseline RSS %.1f MiB\n", float64(base.rss)/(1<<20))
	var iceURL *url.URL
	var iceBase stats
	var iceRows []string
	if ice != nil {
		if err := waitMount(ctx, ice.mountURL()); err != nil {
			return err
		}
		iceURL, _ = url.Parse(ice.mountURL())
		time.Sleep(2 * time.Second) // Icecast's burst fills too
		iceBase = procStats(ice.pid())
		fmt.Printf("# icecast2 on %s, fed by the station; baseline RSS %.1f MiB\n", ice.addr, float64(iceBase.rss)/(1<<20))
		defer func() { printIcecastTable(iceRows) }()
	}
	fmt.Println("| N | server CPU % | client CPU % | load avg | server RSS MiB | RSS/listener KiB | server lag max ms | client spread p50 ms | client spread max ms | frames short | fast cut | slow cut | holds |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-n: %w", err)
		}
		r, err := measure(ctx, u, pid, n, nslow, pace, dur, base)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		holds := r.lost == 0 && r.fastCut == 0 && r.failed == 0
		fmt.Printf("| %d | %.1f | %.1f | %s | %.1f | %.1f | %.0f | %.0f | %.0f | %d | %d | %d/%d | %v |\n",
			n, r.cpu, r.clientCPU, r.load, float64(r.rss)/(1<<20), r.perListener/1024, r.serverLag, r.spreadP50, r.spreadMax, r.lost, r.fastCut+r.failed, r.slowCut, nslow, holds)
		if ctx.Err() != nil {
			return nil
		}
		time.Sleep(3 * time.Second) // let the server settle between runs
		if ice != nil {
			served := n - r.fastCut - r.failed
			ir := measureServed(ctx, iceURL, ice.pid(), n, dur, iceBase)
			iceRows = append(iceRows, fmt.Sprintf("| %d | %d | %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n",
				n, served, ir.served, r.cpu, ir.cpu, r.cpu/ir.cpu, r.perListener/1024, ir.perListener/1024, r.perListener/ir.perListener))
			time.Sleep(3 * time.Second)
		}
	}
	return nil
}

// A client is one listener, kept small: a socket, a goroutine and a few
// counters. It parses frame headers to count whole frames without keeping
// any audio.
type client struct {
	first  int64 // X-Stream-Frame
	frames atomic.Int64
	bytes  atomic.Int64 // read, framed or not
	bad    atomic.Bool  // bytes that are not frames
	cut    atomic.Bool  // the server closed the connection
}

func (c *client) pos() int64 { return c.first + c.frames.Load() }

type result struct {
	cpu, perListener     float64
	rss                  int64
	spreadP50, spreadMax float64
	lost                 int64
	fastCut, slowCut     int
	failed               int
	serverLag            float64 // ms
	clientCPU            float64
	load                 string
}

func measure(ctx context.Context, u *url.URL, pid, n, nslow int, pace float64, dur time.Duration, base stats) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	fast := make([]*client, n)
	slow := make([]*client, nslow)
	var failed atomic.Int64
	cut0 := slowCuts(u)
	sem := make(chan struct{}, 64)
	connect := func(c *client, rate float64) {
		defer wg.Done()
		sem <- struct{}{}
		conn, br, err := dial(ctx, u, c, rate > 0)
		<-sem
		if err != nil {
			if ctx.Err() == nil {
				failed.Add(1)
			}
			return
		}
		go func() { <-ctx.Done(); conn.Close() }()
		listen(conn, br, c, rate)
	}
	for i := range fast {
		fast[i] = &client{}
		wg.Add(1)
		go connect(fast[i], 0)
	}
	for i := range slow {
		slow[i] = &client{}
		wg.Add(1)
		go connect(slow[i], pace*16000)
	}
	// Wait for everyone to connect and take their burst.
	for t := 0; t < 600; t++ {
		ready := 0
		for _, c := range fast {
			if c.frames.Load() > 0 || c.cut.Load() {
				ready++
			}
		}
		if ready+int(failed.Load()) >= n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	lagMax := make(chan float64, 1)
	go func() { lagMax <- serverLag(ctx, u, dur) }()
	s0, t0, c0 := procStats(pid), time.Now(), selfCPU()
	var spreads []float64
	tick := time.NewTicker(500 * time.Millisecond)
	end := time.After(dur)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
			lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
			for _, c := range fast {
				if c.cut.Load() || c.first == 0 && c.frames.Load() == 0 {
					continue
				}
				p := c.pos()
				lo, hi = min(lo, p), max(hi, p)
			}
			if hi >= lo {
				spreads = append(spreads, float64(hi-lo)*stream.FrameDuration.Seconds()*1000)
			}
		}
	}
	tick.Stop()
	s1, t1, c1 := procStats(pid), time.Now(), selfCPU()
	r0 := <-lagMax
	// Every connected fast listener should reach the head as it was now.
	head, err := headFrames(u)
	if err != nil {
		return result{}, err
	}
	time.Sleep(2 * time.Second)
	r := result{serverLag: r0}
	for _, c := range fast {
		switch {
		case c.cut.Load() || c.bad.Load():
			r.fastCut++
		case c.pos() < head:
			r.lost += head - c.pos()
		}
	}
	// The server's count: a cut listener may still be draining what its
	// kernel buffered when it is cut.
	r.slowCut = int(slowCuts(u) - cut0)
	if r.slowCut < 0 {
		r.slowCut = 0
	}
	r.failed = int(failed.Load())
	r.clientCPU = 100 * (c1 - c0) / t1.Sub(t0).Seconds()
	r.load = loadAvg()
	if pid != 0 {
		r.cpu = 100 * (s1.cpu - s0.cpu) / t1.Sub(t0).Seconds()
		r.rss = s1.rss
		r.perListener = float64(s1.rss-base.rss) / float64(n+nslow)
	}
	if len(spreads) > 0 {
		slices.Sort(spreads)
		r.spreadP50, r.spreadMax = spreads[len(spreads)/2], spreads[len(spreads)-1]
	}
	return r, nil
}

func dial(ctx context.Context, u *url.URL, c *client, small bool) (net.Conn, *bufio.Reader, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	if small {
		conn.(*net.TCPConn).SetReadBuffer(4096)
	}
	agent := "forever-loadtest"
	if small {
		agent += "-slow"
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n", u.RequestURI(), u.Host, agent)
	br := bufio.NewReaderSize(conn, 4096)
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if resp.StatusCode != 200 {
		conn.Close()
		return nil, nil, fmt.Errorf("%s", resp.Status)
	}
	c.first, _ = strconv.ParseInt(resp.Header.Get("X-Stream-Frame"), 10, 64)
	return conn, br, nil
}

// listen reads the stream, counting frames; rate > 0 limits reading to
// that many bytes a second.
func listen(conn net.Conn, br *bufio.Reader, c *client, rate float64) {
	defer conn.Close()
	buf := make([]byte, 8192)
	var hdr [4]byte
	hn, skip := 0, 0
	start := time.Now()
	var total int64
	for {
		conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		n, err := br.Read(buf)
		c.bytes.Add(int64(n))
		b := buf[:n]
		for len(b) > 0 && !c.bad.Load() {
			if skip > 0 {
				k := min(skip, len(b))
				skip -= k
				b = b[k:]
				if skip == 0 {
					c.frames.Add(1)
				}
				continue
			}
			k := copy(hdr[hn:], b)
			hn += k
			b = b[k:]
			if hn < 4 {
				continue
			}
			h, err := mp3frame.ParseHeader(hdr[:])
			if err != nil {
				c.bad.Store(true)
				break
			}
			hn, skip = 0, h.Size()-4
		}
		if err != nil {
			c.cut.Store(true)
			return
		}
		if rate > 0 {
			total += int64(n)
			if ahead := time.Duration(float64(total)/rate*float64(time.Second)) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
}

type stats struct {
	cpu float64 // seconds of user+system time
	rss int64   // bytes
}

// procStats reads a process's CPU time and resident memory from /proc.
func procStats(pid int) stats {
	if pid == 0 {
		return stats{}
	}
	var s stats
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name, which is in parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 12 {
			ut, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			s.cpu = (ut + st) / 100 // USER_HZ is 100 on Linux
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				s.rss = kb << 10
			}
		}
	}
	return s
}

// headFrames asks the server how many frames it has released.
func headFrames(u *url.URL) (int64, error) {
	j := *u
	j.Path = "/all.json"
	resp, err := http.Get(j.String())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st stream.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	for _, o := range st.Outputs {
		if "/"+o.Name+".mp3" == u.Path {
			return o.Frames, nil
		}
	}
	return st.Samples / stream.FrameSamples, nil
}

// slowCuts reads the server's count of listeners cut for being slow.
func slowCuts(u *url.URL) int64 {
	m := *u
	m.Path = "/metrics"
	resp, err := http.Get(m.String())
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "forever_stream_disconnects_total{") && strings.Contains(line, `reason="slow"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int64(v)
		}
	}
	return n
}

// serverLag watches /monitor for d and returns the largest lag, in ms, of
// any well-behaved listener: audio released but not yet written to it.
func serverLag(ctx context.Context, u *url.URL, d time.Duration) float64 {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	m := *u
	m.Scheme, m.Path = "ws", "/monitor"
	c, _, err := websocket.Dial(ctx, m.String(), nil)
	if err != nil {
		return math.NaN()
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 20)
	worst := 0.0
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return worst
		}
		var mon stream.Monitor
		if json.Unmarshal(b, &mon) != nil {
			continue
		}
		for _, l := range mon.Listeners {
			if l.UserAgent == "forever-loadtest" {
				worst = max(worst, float64(l.LagFrames)*stream.FrameDuration.Seconds()*1000)
			}
		}
	}
}

// selfCPU reports this process's user+system CPU seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// loadAvg is the machine's one-minute load average: on a shared machine,
// the figures mean little without it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
