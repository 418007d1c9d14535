package stream

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Run's return means every listener has been sent off: streams closed in
// order after whole frames, websockets with a close frame.
func TestShutdownWithListenersAttached(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{MonitorInterval: time.Hour})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, time.Second, ts.batch())
	var streams []*client
	for range 5 {
		l := ts.listen(t, "/all.mp3", map[string]string{"Icy-MetaData": "1"}, false)
		l.waitBytes(t, 1)
		streams = append(streams, l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sockets []*websocket.Conn
	for _, path := range []string{"/info", "/monitor"} {
		c, _, err := websocket.Dial(ctx, wsURL(ts, path), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if _, _, err := c.Read(ctx); err != nil { // the first message
			t.Fatal(err)
		}
		sockets = append(sockets, c)
	}
	// The clients read on, as real ones do, so that the close handshake
	// can complete.
	closed := make(chan error, len(sockets))
	for _, c := range sockets {
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					closed <- err
					return
				}
			}
		}()
	}
	for ts.active.Load() != 7 {
		time.Sleep(10 * time.Millisecond)
	}

	t0 := time.Now()
	ts.cancel()
	if err := <-ts.done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	ts.done <- nil // for Cleanup
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	if n := ts.active.Load(); n != 0 {
		t.Errorf("%d connections still served after Run returned", n)
	}
	for i, l := range streams {
		<-l.done
		if err := l.closed(); err != io.EOF {
			t.Errorf("stream %d ended with %v, want a clean EOF", i, err)
		}
	}
	for range sockets {
		err := <-closed
		if websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Errorf("websocket ended with %v, want a close frame 1001", err)
		}
	}
}
