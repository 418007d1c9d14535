// Package icecast pushes a forever station to an Icecast2 server as a
// source client, so that Icecast (and its relay tree) serves the listeners
// when one machine is not enough.
//
// The stream goes up as an HTTP PUT to the mount, written on the raw
// connection: net/http would send an endless body chunked, and Icecast
// passes the chunk framing through to listeners as if it were audio.
// Track titles go through Icecast's admin API (/admin/metadata,
// mode=updinfo), which Icecast turns into ICY StreamTitle for its own
// listeners. When the connection drops (Icecast restarts, the network
// fails) the Source reconnects with exponential backoff, which starts over
// after every connection that got through, resuming at the live edge of
// the stream; Source.Report hears of each failure.
package icecast

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/foreverfm/forever/stream"
)

// A Feed yields the stream's chunks as they are released;
// *stream.Subscription is one.
type Feed interface {
	Next(ctx context.Context) ([]*stream.Chunk, error)
}

// Source is an Icecast source client. Set the fields, then call Run.
type Source struct {
	// URL is the mount to publish, e.g. http://localhost:8000/forever.mp3.
	URL      string
	User     string // default "source"
	Password string

	Name, Description, Genre, Homepage string
	Bitrate                            int  // kb/s, for Ice-Audio-Info
	Public                             bool // list in directories

	Logger *slog.Logger // nil: no log lines
	// MinBackoff and MaxBackoff bound the wait between reconnections;
	// defaults 1 s and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds connecting, Icecast's answer and each write;
	// default 10 s.
	Timeout time.Duration
	// Report, if set, hears when the source connects and every failure;
	// (*stream.Station).Relay("icecast") gives one that logs with
	// backoff, counts in /metrics and shows on /monitor.
	Report Reporter
}

// A Reporter hears how an output fares; *stream.Relay is one. Errors
// given to it never hold the password.
type Reporter interface {
	Up()
	Failed(err error)
}

type noReport struct{}

func (noReport) Up()          {}
func (noReport) Failed(error) {}

// Run publishes the feed until ctx is done or the feed ends, reconnecting
// whenever the connection fails. It returns ctx's error, or the feed's
// (stream.ErrStopped when the station stops). An Icecast answer that
// retrying cannot fix (wrong password, mount refused) is logged and retried
// like any other, since an operator may fix the server while we wait.
func (s *Source) Run(ctx context.Context, feed Feed) error {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := s.Report
	if rep == nil {
		rep = noReport{}
	}
	u, err := url.Parse(s.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.Path == "" || u.Path == "/" || u.User != nil {
		shown := "(unparsable)"
		if err == nil {
			shown = u.Redacted()
		}
		err := fmt.Errorf("icecast: mount URL %s: need http://host:port/mount (Icecast's source protocol has no TLS, and the password goes in Source.Password)", shown)
		log.Error("icecast: not starting", "err", err)
		rep.Failed(err)
		return err
	}
	minB, maxB := s.MinBackoff, s.MaxBackoff
	if minB <= 0 {
		minB = time.Second
	}
	if maxB <= 0 {
		maxB = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	meta := make(chan string, 1)
	metaDone := make(chan struct{})
	go func() {
		defer close(metaDone)
		s.metadataLoop(ctx, u, meta, log)
	}()
	defer func() { cancel(); <-metaDone }()

	backoff := minB
	for {
		connected, err := s.session(ctx, u, feed, meta, log, rep)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, stream.ErrStopped) {
			return err
		}
		if connected {
			// A session that got through starts the backoff over: the
			// server is back, so the next try comes soon.
			backoff = minB
		}
		rep.Failed(err)
		log.Warn("icecast: source connection lost; reconnecting", "url", s.URL, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxB)
	}
}

func (s *Source) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 10 * time.Second
}

func (s *Source) auth() string {
	user := s.User
	if user == "" {
		user = "source"
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+s.Password))
}

// session runs one connection: handshake, then chunks until an error.
func (s *Source) session(ctx context.Context, u *url.URL, feed Feed, meta chan string, log *slog.Logger, rep Reporter) (connected bool, _ error) {
	d := net.Dialer{Timeout: s.timeout()}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var req strings.Builder
	fmt.Fprintf(&req, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nUser-Agent: forever\r\nContent-Type: audio/mpeg\r\n",
		u.RequestURI(), u.Host, s.auth())
	fmt.Fprintf(&req, "Ice-Public: %d\r\n", map[bool]int{false: 0, true: 1}[s.Public])
	for k, v := range map[string]string{"Ice-Name": s.Name, "Ice-Description": s.Description, "Ice-Genre": s.Genre, "Ice-Url": s.Homepage} {
		if v != "" {
			fmt.Fprintf(&req, "%s: %s\r\n", k, clean(v))
		}
	}
	if s.Bitrate > 0 {
		fmt.Fprintf(&req, "Ice-Audio-Info: bitrate=%d\r\n", s.Bitrate)
	}
	// Ask Icecast to answer before we stream, so a refusal is seen as one.
	req.WriteString("Expect: 100-continue\r\n\r\n")
	conn.SetDeadline(time.Now().Add(s.timeout()))
	if _, err := conn.Write([]byte(req.String())); err != nil {
		return false, err
	}
	tp := textproto.NewReader(bufio.NewReader(conn))
	line, err := tp.ReadLine()
	if err != nil {
		return false, fmt.Errorf("icecast: reading answer: %w", err)
	}
	_, status, _ := strings.Cut(line, " ")
	code, _ := strconv.Atoi(strings.SplitN(status, " ", 2)[0])
	if code != http.StatusContinue && code != http.StatusOK {
		return false, fmt.Errorf("icecast: PUT %s: %s", u.Path, status)
	}
	if _, err := tp.ReadMIMEHeader(); err != nil {
		return false, fmt.Errorf("icecast: reading answer: %w", err)
	}
	conn.SetDeadline(time.Time{})
	log.Info("icecast: source connected", "url", s.URL)
	rep.Up()

	// After "100 Continue" Icecast confirms with "200 OK" once the mount
	// is live, then says nothing; a read failing means it hung up.
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn)
		close(closed)
	}()
	title := ""
	for {
		chunks, err := feed.Next(ctx)
		if err != nil {
			return true, err
		}
		for _, c := range chunks {
			conn.SetWriteDeadline(time.Now().Add(s.timeout()))
			if _, err := conn.Write(c.Data); err != nil {
				return true, err
			}
			if c.Title != title {
				title = c.Title
				select {
				case <-meta:
				default:
				}
				meta <- title
			}
		}
		select {
		case <-closed:
			return true, errors.New("icecast: server closed the connection")
		default:
		}
	}
}

// metadataLoop sends the newest title to Icecast's admin API, retrying a
// failed update until a newer title replaces it.
func (s *Source) metadataLoop(ctx context.Context, u *url.URL, meta <-chan string, log *slog.Logger) {
	client := &http.Client{Timeout: s.timeout()}
	var pending string
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case pending = <-meta:
		case <-retry:
		}
		retry = nil
		if err := s.updateTitle(ctx, client, u, pending); err != nil {
			log.Warn("icecast: metadata update failed", "url", s.URL, "err", err)
			retry = time.After(5 * time.Second)
		}
	}
}

func (s *Source) updateTitle(ctx context.Context, client *http.Client, u *url.URL, title string) error {
	q := url.Values{"mode": {"updinfo"}, "mount": {u.Path}, "song": {title}, "charset": {"UTF-8"}}
	a := url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/admin/metadata", RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, "GET", a.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", s.auth())
	req.Header.Set("User-Agent", "forever")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin/metadata: %s", resp.Status)
	}
	return nil
}

func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
