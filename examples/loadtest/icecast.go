package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The Icecast mode (-icecast) runs a real icecast2 from the system beside
// the station, fed by the station's own Icecast output (stream/icecast),
// and after each run against the station runs the same listeners against
// Icecast's mount, then prints both and their ratios.

// icecastServer is an icecast2 process with a mount the station feeds.
type icecastServer struct {
	cmd  *exec.Cmd
	dir  string
	addr string
}

func startIcecast(maxClients int) (*icecastServer, error) {
	bin, err := exec.LookPath("icecast2")
	if err != nil {
		return nil, fmt.Errorf("-icecast: %w", err)
	}
	// Icecast drops root for its own user, who must write its logs.
	dir, err := os.MkdirTemp("", "forever-loadtest-icecast")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o777)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	owner := ""
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("icecast2"); err != nil {
			return nil, fmt.Errorf("-icecast: running as root and there is no icecast2 user for icecast to switch to")
		}
		owner = "<changeowner><user>icecast2</user><group>icecast</group></changeowner>"
	}
	// The same burst as the station's default (64 KiB), a queue as long
	// as its backlog (10 s at 128 kb/s).
	conf := fmt.Sprintf(`<icecast>
  <location>loadtest</location><admin>loadtest@localhost</admin><hostname>127.0.0.1</hostname>
  <limits><clients>%d</clients><sources>2</sources><queue-size>163840</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout><source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect><burst-size>65536</burst-size></limits>
  <authentication><source-password>loadtest</source-password><relay-password>loadtest</relay-password>
    <admin-user>admin</admin-user><admin-password>loadtest</admin-password></authentication>
  <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>%s</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot><pidfile>%s/icecast.pid</pidfile></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>%s</security>
</icecast>
`, maxClients, port, dir, dir, owner)
	path := filepath.Join(dir, "icecast.xml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-c", path)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &icecastServer{cmd: cmd, dir: dir, addr: addr}
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s, nil
		}
		if i > 200 {
			s.stop()
			return nil, fmt.Errorf("icecast2 did not start (logs in %s)", dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *icecastServer) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
}

// mountURL is the mount the station publishes to.
func (s *icecastServer) mountURL() string { return "http://" + s.addr + "/forever.mp3" }

// waitMount waits until the station's source is on the mount.
func waitMount(ctx context.Context, mount string) error {
	u, _ := url.Parse(mount)
	for i := 0; i < 300; i++ {
		c := &client{}
		conn, br, err := dial(ctx, u, c, false)
		if err == nil {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = br.Peek(4096)
			conn.Close()
			if err == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the station's stream did not reach Icecast's mount %s", mount)
}

// servedResult is what can be measured of any MP3 server: listeners
// served at full rate, CPU and memory.
type servedResult struct {
	served, refused int
	cpu             float64 // % of a core
	rss             int64
	perListener     float64 // bytes
}

// measureServed connects n listeners to u, waits for them, and counts
// over dur those that received at least 95% of real time's bytes at 128
// kb/s. (Bytes, not frames: Icecast's burst starts anywhere in a frame.)
func measureServed(ctx context.Context, u *url.URL, pid, n int, dur time.Duration, base stats) servedResult {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	cs := make([]*client, n)
	var refused atomic.Int64
	sem := make(chan struct{}, 64)
	for i := range cs {
		cs[i] = &client{}
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			sem <- struct{}{}
			conn, br, err := dial(ctx, u, c, false)
			<-sem
			if err != nil {
				if ctx.Err() == nil {
					refused.Add(1)
				}
				return
			}
			go func() { <-ctx.Done(); conn.Close() }()
			listen(conn, br, c, 0)
		}(cs[i])
	}
	for t := 0; t < 600; t++ {
		ready := 0
		for _, c := range cs {
			if c.bytes.Load() > 0 || c.cut.Load() {
				ready++
			}
		}
		if ready+int(refused.Load()) >= n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	f0 := make([]int64, n)
	for i, c := range cs {
		f0[i] = c.bytes.Load()
	}
	s0, t0 := procStats(pid), time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(dur):
	}
	s1, t1 := procStats(pid), time.Now()
	want := 0.95 * t1.Sub(t0).Seconds() * 128000 / 8
	r := servedResult{refused: int(refused.Load())}
	for i, c := range cs {
		if !c.cut.Load() && float64(c.bytes.Load()-f0[i]) >= want {
			r.served++
		}
	}
	r.cpu = 100 * (s1.cpu - s0.cpu) / t1.Sub(t0).Seconds()
	r.rss = s1.rss
	r.perListener = float64(s1.rss-base.rss) / float64(n)
	return r
}

// icecastPID is the icecast2 process (after it dropped root it is still
// the one started).
func (s *icecastServer) pid() int { return s.cmd.Process.Pid }

func printIcecastTable(rows []string) {
	fmt.Println()
	fmt.Println("| N | forever served | Icecast served | forever CPU % | Icecast CPU % | CPU ratio (forever/Icecast) | forever RSS/listener KiB | Icecast RSS/listener KiB | memory ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	fmt.Print(strings.Join(rows, ""))
}
