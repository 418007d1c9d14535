package stream

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// trusted is a set of proxy addresses and ranges.
type trusted []netip.Prefix

func parseTrusted(list []string) (trusted, error) {
	var t trusted
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			t = append(t, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("stream: trusted proxy %q is neither an address nor a CIDR range", s)
		}
		a = a.Unmap()
		t = append(t, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

func (t trusted) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err == nil
}

// forwarded lists the client addresses a proxy chain reports, nearest to
// the client first: the Forwarded header's for= (RFC 7239) if there is
// one, else X-Forwarded-For. Entries that are not addresses (obfuscated
// names, "unknown") end the list: nothing beyond them can be checked.
func forwarded(r *http.Request) []netip.Addr {
	var raw []string
	if fw := r.Header.Values("Forwarded"); len(fw) > 0 {
		for _, h := range fw {
			for _, elem := range strings.Split(h, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						raw = append(raw, v)
					}
				}
			}
		}
	} else {
		for _, h := range r.Header.Values("X-Forwarded-For") {
			raw = append(raw, strings.Split(h, ",")...)
		}
	}
	out := make([]netip.Addr, 0, len(raw))
	for _, v := range raw {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if strings.HasPrefix(v, "[") { // [v6]:port or [v6]
			if i := strings.IndexByte(v, ']'); i > 0 {
				v = v[1:i]
			}
		} else if h, _, err := net.SplitHostPort(v); err == nil {
			v = h
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			out = out[:0] // what came before it cannot be tied to it
			continue
		}
		out = append(out, a.Unmap())
	}
	return out
}

// proxied reports whether r came through a proxy: from a trusted one, or
// with forwarding headers from anywhere.
func (s *Station) proxied(r *http.Request) bool {
	if p, ok := peerAddr(r); ok && s.trusted.contains(p) {
		return true
	}
	h := r.Header
	return h.Get("Forwarded") != "" || h.Get("X-Forwarded-For") != "" || h.Get("X-Real-Ip") != ""
}

// ClientAddr is the address of the client behind r: the connection's peer,
// or, when the peer is one of Options.TrustedProxies, the nearest address
// in the forwarding headers that is not itself a trusted proxy. It is the
// address the per-address limit counts, the logs name and /monitor lists.
// Direct clients keep their port ("192.0.2.1:5000"); forwarded ones are a
// bare address.
func (s *Station) ClientAddr(r *http.Request) string {
	p, ok := peerAddr(r)
	if !ok || !s.trusted.contains(p) {
		return r.RemoteAddr
	}
	chain := forwarded(r)
	for i := len(chain) - 1; i >= 0; i-- {
		if !s.trusted.contains(chain[i]) || i == 0 {
			return chain[i].String()
		}
	}
	return p.String()
}

// clientHost is ClientAddr without a port, for counting.
func (s *Station) clientHost(r *http.Request) string {
	a := s.ClientAddr(r)
	if h, _, err := net.SplitHostPort(a); err == nil {
		return h
	}
	return a
}
