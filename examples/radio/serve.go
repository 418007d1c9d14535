package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/foreverfm/forever"
	"github.com/foreverfm/forever/source"
	"github.com/foreverfm/forever/source/demo"
	"github.com/foreverfm/forever/stream"
)

func init() {
	commands["serve"] = command{
		summary: "serve the radio (the default command)",
		run:     runServe,
	}
}

type serveConfig struct {
	music        string
	recursive    bool
	addr         string
	bitrate      int
	cacheDir     string
	monitorToken string
	rescan       time.Duration
	icecast      string
	icecastPass  string
	hlsDir       string
}

func runServe(ctx context.Context, args []string) error {
	var c serveConfig
	fl := flag.NewFlagSet("radio serve", flag.ContinueOnError)
	fl.StringVar(&c.music, "music", "", "play the audio files of this `folder` (default: the built-in demo catalogue)")
	fl.BoolVar(&c.recursive, "r", true, "include the folder's subfolders")
	fl.StringVar(&c.addr, "addr", "localhost:8000", "listen on `host:port`")
	fl.IntVar(&c.bitrate, "bitrate", 128, "MP3 bitrate in `kb/s`")
	fl.StringVar(&c.cacheDir, "cache", source.DefaultCacheDir(), "keep analyses in `dir`")
	fl.StringVar(&c.monitorToken, "monitor-token", os.Getenv("FOREVER_MONITOR_TOKEN"), "require this `token` for /monitor (default: loopback clients only)")
	fl.DurationVar(&c.rescan, "rescan", time.Minute, "look for new music this often")
	fl.StringVar(&c.icecast, "icecast", "", "also push the stream to this Icecast2 mount `URL` (e.g. http://localhost:8001/forever.mp3)")
	fl.StringVar(&c.icecastPass, "icecast-password", os.Getenv("FOREVER_ICECAST_PASSWORD"), "Icecast source `password`")
	fl.StringVar(&c.hlsDir, "hls", "", "also write an HLS playlist and segments into `dir`, served at /hls/")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}

	var src source.Source = demo.Source{}
	if c.music != "" {
		if fi, err := os.Stat(c.music); err != nil {
			return err
		} else if !fi.IsDir() {
			return fmt.Errorf("-music %s: not a folder", c.music)
		}
		// Settle: a file still being copied in is picked up at a later scan.
		src = source.Folder{Dir: c.music, Recursive: c.recursive, Settle: 10 * time.Second}
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	r, err := newRadio(src, c)
	if err != nil {
		ln.Close()
		return err
	}
	srv := stream.NewServer(c.addr, r.Handler())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	radioDone := make(chan error, 1)
	serveDone := make(chan error, 1)
	go func() { radioDone <- r.Run(ctx) }()
	go func() { serveDone <- srv.Serve(ln) }()
	fmt.Printf("forever is on air: open http://%s/\n", displayAddr(ln.Addr()))

	// On SIGTERM (ctx done) or a failure, the radio stops first, which
	// ends the listeners' streams; then the server shuts down, waiting
	// for the handlers still running.
	var runErr error
	select {
	case <-ctx.Done():
		runErr = <-radioDone
	case runErr = <-radioDone:
	case runErr = <-serveDone:
		cancel()
		<-radioDone
	}
	cancel()
	shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdown); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, http.ErrServerClosed) {
		return runErr
	}
	return nil
}

// displayAddr is addr as a person would type it in a browser: a wildcard
// listen address is reachable as localhost.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// newRadio makes the radio the flags describe.
func newRadio(src source.Source, c serveConfig) (*forever.Radio, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return forever.New(forever.Config{
		Source:          src,
		CacheDir:        c.cacheDir,
		Rescan:          c.rescan,
		Bitrate:         c.bitrate,
		Logger:          slog.Default(),
		Registry:        reg,
		MonitorToken:    c.monitorToken,
		IcecastURL:      c.icecast,
		IcecastPassword: c.icecastPass,
		HLSDir:          c.hlsDir,
	})
}
