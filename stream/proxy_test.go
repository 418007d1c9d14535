package stream

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientAddrTrustsOnlyConfiguredProxies(t *testing.T) {
	st, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME, TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		peer, xff, fwd, want string
	}{
		{"198.51.100.1:4000", "203.0.113.9", "", "198.51.100.1:4000"}, // not a proxy: headers ignored
		{"127.0.0.1:4000", "", "", "127.0.0.1"},                       // proxy without headers
		{"127.0.0.1:4000", "203.0.113.9", "", "203.0.113.9"},
		{"127.0.0.1:4000", "6.6.6.6, 203.0.113.9, 10.1.2.3", "", "203.0.113.9"}, // the nearest untrusted hop, not the spoofable first
		{"127.0.0.1:4000", "", `for="[2001:db8::7]:4711", for=10.0.0.2`, "2001:db8::7"},
		{"127.0.0.1:4000", "9.9.9.9", "for=192.0.2.60;proto=https", "192.0.2.60"}, // Forwarded wins
		{"127.0.0.1:4000", "garbage, 203.0.113.9", "", "203.0.113.9"},
		{"[::ffff:127.0.0.1]:4000", "203.0.113.9", "", "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/all.mp3", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if tt.fwd != "" {
			r.Header.Set("Forwarded", tt.fwd)
		}
		if got := st.ClientAddr(r); got != tt.want {
			t.Errorf("peer %s, X-Forwarded-For %q, Forwarded %q: %s, want %s", tt.peer, tt.xff, tt.fwd, got, tt.want)
		}
	}
	if _, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME, TrustedProxies: []string{"localhost"}}); err == nil {
		t.Error("a host name accepted as a trusted proxy")
	}
}

func TestMonitorClosedThroughAProxy(t *testing.T) {
	st, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME, TrustedProxies: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		peer, xff string
		ok        bool
	}{
		{"127.0.0.1:4000", "", false},          // the trusted proxy itself
		{"127.0.0.1:4000", "127.0.0.1", false}, // a client of the proxy, on the same host
		{"[::1]:4000", "", true},               // loopback, not a proxy
		{"[::1]:4000", "192.0.2.1", false},     // someone's proxy
		{"192.0.2.1:4000", "", false},
	} {
		r := httptest.NewRequest("GET", "/monitor", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := st.MonitorAllowed(r); got != tt.ok {
			t.Errorf("peer %s, X-Forwarded-For %q: allowed %v", tt.peer, tt.xff, got)
		}
	}
}

func TestMaxListeners(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{MaxListeners: 2})
	ts.waitPCM(t, 60)
	ts.clock.Step(t, time.Second, ts.batch())
	a := ts.listen(t, "/all.mp3", nil, false)
	b := ts.listen(t, "/all.mp3", nil, false)
	c := ts.listen(t, "/all.mp3", nil, false)
	if a.status != 200 || b.status != 200 || c.status != 503 || c.header.Get("Retry-After") == "" {
		t.Errorf("statuses %d %d %d, want 200 200 503 with Retry-After", a.status, b.status, c.status)
	}
	if n := value(t, ts.m.refused); n != 1 {
		t.Errorf("refused counter %v", n)
	}
}

// The forwarding headers come from anyone who reaches the proxy: whatever
// they hold, the client address is the peer or a real address, and a
// trusted proxy is never taken for the client when an untrusted hop is named.
func FuzzClientAddr(f *testing.F) {
	f.Add("203.0.113.9", "")
	f.Add("6.6.6.6, 203.0.113.9, 10.1.2.3", "")
	f.Add("", `for="[2001:db8::7]:4711", for=10.0.0.2;proto=https`)
	f.Add("unknown, _hidden", "for=unknown")
	f.Add(",,, ,", `for="[::1`)
	st, err := New(&sine{freq: 440}, Options{NewEncoder: newLAME, TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		r := httptest.NewRequest("GET", "/all.mp3", nil)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Forwarded", fwd)
		got := st.ClientAddr(r)
		a, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("ClientAddr %q is not an address", got)
		}
		chain := forwarded(r)
		for _, hop := range chain {
			if !st.trusted.contains(hop) && st.trusted.contains(a) {
				t.Fatalf("chain %v names an untrusted hop, yet the client is the trusted %s", chain, a)
			}
		}
	})
}
