package stream

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// nginxConf is the proxy set-up the README documents, around a test's
// listen and upstream addresses.
const nginxConf = `daemon off;
%s
worker_processes 1;
worker_rlimit_nofile 8192;
error_log stderr warn;
pid %[2]s/nginx.pid;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	map $http_upgrade $connection_upgrade { default upgrade; '' close; }
	server {
		listen %[3]s;
		location / {
			proxy_pass http://%[4]s;
			proxy_http_version 1.1;
			proxy_set_header Host $host;
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_set_header Upgrade $http_upgrade;
			proxy_set_header Connection $connection_upgrade;
			proxy_buffering off;
			chunked_transfer_encoding off;
			proxy_read_timeout 1h;
		}
	}
}
`

// startNginx runs nginx from the system on a free loopback port, proxying
// to upstream, until the test ends.
func startNginx(t *testing.T, upstream string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/nginx"); err != nil {
			t.Skip("nginx not installed")
		}
		bin = "/usr/sbin/nginx"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers must reach the test's temporary directory
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, user, dir, addr, upstream)), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", "stderr")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers too
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if i > 500 {
			t.Fatalf("nginx did not start:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// 1,000 listeners from one address, through nginx, are all served, the
// station sees their own address, and /monitor stays closed through the
// proxy though nginx talks to the station from loopback.
func TestBehindNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nginx and 1,000 listeners")
	}
	ts := start(t, &sine{freq: 440}, Options{TrustedProxies: []string{"127.0.0.1"}, MonitorToken: "tok"})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, 5*time.Second, ts.batch())
	proxy := startNginx(t, ts.srv.Listener.Addr().String())

	const n = 1000
	client := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	conns := make(chan net.Conn, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.Dial("tcp", proxy)
			if err != nil {
				errs <- err
				return
			}
			conns <- c
			c.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "GET /all.mp3 HTTP/1.1\r\nHost: radio\r\nUser-Agent: listener-%d\r\n\r\n", i)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				errs <- err
				return
			}
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("listener %d: %s", i, resp.Status)
				return
			}
			b := make([]byte, 8192)
			if _, err := io.ReadFull(br, b); err != nil {
				errs <- fmt.Errorf("listener %d: %w", i, err)
				return
			}
			if b[0] != 0xff {
				errs <- fmt.Errorf("listener %d: body starts % x, not a frame (chunked?)", i, b[:4])
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(conns)
	failed := 0
	for err := range errs {
		if failed++; failed <= 5 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d listeners not served through nginx", failed, n)
	}
	ls := ts.Listeners()
	if len(ls) != n {
		t.Errorf("station has %d listeners, want %d", len(ls), n)
	}
	for _, l := range ls {
		if l.Addr != "127.0.0.2" {
			t.Errorf("listener through nginx has address %q, want the client's 127.0.0.2", l.Addr)
			break
		}
	}
	for c := range conns {
		c.Close()
	}

	// /monitor: closed through the proxy without the token, open with it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.Get("http://" + proxy + "/monitor")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("/monitor through nginx: %s, want 403", resp.Status)
	}
	c, resp, err := websocket.Dial(ctx, "ws://"+proxy+"/monitor?token=tok", nil)
	if err != nil {
		t.Fatalf("/monitor through nginx with the token: %v (%v)", err, resp)
	}
	c.SetReadLimit(1 << 24) // a thousand listeners
	_, b, err := c.Read(ctx)
	c.CloseNow()
	if err != nil || !strings.Contains(string(b), `"type":"monitor"`) {
		t.Errorf("monitor message %q, %v", b, err)
	}
}
