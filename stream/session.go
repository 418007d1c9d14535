package stream

import (
	"net/http"
	"sync"
	"time"
)

// A listening session ties an MP3 connection to the page that opened it,
// so that the page can tell which part of the stream its audio element is
// playing: the page picks a random sid, opens /all.mp3?sid=SID, and asks
// /all.json?sid=SID (or /info?sid=SID) where that connection began.

// SessionInfo is where the stream connection opened with ?sid= began, as
// /all.json?sid= and /info?sid= report it. A player that has played t
// seconds of that connection is at Start+t on the stream clock (Status's
// Position, ActionInfo's Start).
type SessionInfo struct {
	SID    string `json:"sid"`
	Output string `json:"output"`
	// StartFrame is the index, on the output, of the first MP3 frame the
	// connection received (also sent as the X-Stream-Frame header);
	// StartSample and Start are the same point on the stream clock in
	// 44.1 kHz samples and seconds.
	StartFrame  int64     `json:"start_frame"`
	StartSample int64     `json:"start_sample"`
	Start       float64   `json:"start"`
	Connected   time.Time `json:"connected"`
}

const (
	maxSessions = 4096           // remembered at once; the oldest goes first
	sessionTTL  = 24 * time.Hour // forgotten after
)

// sessions is a bounded map from sid to where its latest connection began.
type sessions struct {
	mu    sync.Mutex
	gen   int64
	m     map[string]session
	order []sessionKey // in the order recorded; stale keys are skipped
}

type session struct {
	SessionInfo
	gen int64
}

type sessionKey struct {
	sid string
	gen int64
}

// validSID accepts what a page would generate: up to 64 letters, digits,
// '-' and '_'.
func validSID(sid string) bool {
	if sid == "" || len(sid) > 64 {
		return false
	}
	for _, c := range []byte(sid) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (ss *sessions) record(si SessionInfo) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = map[string]session{}
	}
	ss.gen++
	ss.m[si.SID] = session{si, ss.gen}
	ss.order = append(ss.order, sessionKey{si.SID, ss.gen})
	for len(ss.order) > 0 {
		k := ss.order[0]
		cur, ok := ss.m[k.sid]
		live := ok && cur.gen == k.gen
		if live && len(ss.m) <= maxSessions && si.Connected.Sub(cur.Connected) <= sessionTTL {
			break
		}
		ss.order = ss.order[1:]
		if live {
			delete(ss.m, k.sid)
		}
	}
	if len(ss.order) > 2*maxSessions {
		// One sid reconnecting over and over leaves stale keys behind
		// the oldest live one: keep only the live keys.
		live := make([]sessionKey, 0, len(ss.m))
		for _, k := range ss.order {
			if ss.m[k.sid].gen == k.gen {
				live = append(live, k)
			}
		}
		ss.order = live
	}
}

func (ss *sessions) get(sid string, now time.Time) (SessionInfo, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	si, ok := ss.m[sid]
	if !ok || now.Sub(si.Connected) > sessionTTL {
		return SessionInfo{}, false
	}
	return si.SessionInfo, true
}

// Session reports where the latest stream connection opened with
// ?sid=SID began, if the station remembers it (the last 4,096 sids, for a
// day).
func (s *Station) Session(sid string) (SessionInfo, bool) {
	return s.sessions.get(sid, time.Now())
}

// sessionFor adds the session named by r's ?sid= to st.
func (s *Station) sessionFor(r *http.Request, st *Status) {
	sid := r.URL.Query().Get("sid")
	if sid == "" {
		return
	}
	if si, ok := s.Session(sid); ok {
		st.Session = &si
	}
}
