package mix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

var testNoise = func() (n [16][12]float64) {
	for i := range n {
		for j := range n[i] {
			n[i][j] = float64((i*7+j*13)%17) - 8 + float64(i*j%5)
		}
	}
	return n
}()

// Track A's last 30 s before its fade-out (beats 320..379) sound like track
// B from its beat 8 on: B's pattern is A's shifted by 8 beats.
var (
	specA = spec{id: "A", bpm: 120, dur: 200, fadeIn: 2, fadeOut: 190, loudness: -20, seed: 1,
		pat: func(i int) [12]float64 { return testNoise[i%16] }}
	specB = spec{id: "B", bpm: 126, first: 0.3, dur: 180, fadeIn: 3, fadeOut: 170, loudness: -11, seed: 2,
		pat: func(i int) [12]float64 { return testNoise[(i+8)%16] }}
	specC = spec{id: "C", bpm: 68, first: 0.1, dur: 150, fadeIn: 1, fadeOut: 140, loudness: -14, seed: 3}
	specD = spec{id: "D", bpm: 100, dur: 120, fadeIn: 1, fadeOut: 110, loudness: -14, seed: 4, noBeats: true}
	// Too short: 45 s between fade-in and fade-out.
	specShort = spec{id: "S", bpm: 120, dur: 60, fadeIn: 5, fadeOut: 50, loudness: -14, seed: 5}
)

func plan(t *testing.T, o Options, tracks ...*Track) ([]Action, string) {
	t.Helper()
	var logs bytes.Buffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	m := New(o)
	acts := slices.Collect(m.Actions(context.Background(), slices.Values(tracks)))
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	// Actions follow each other in the output without gaps.
	var at int64
	for i, a := range acts {
		if got := a.Info().Start; got != at {
			t.Errorf("action %d (%s) starts at %d, want %d", i, a.Info().Kind, got, at)
		}
		at += int64(a.Len())
	}
	return acts, logs.String()
}

type want struct {
	kind   Kind
	frames int // 0: not checked
	spans  []wantSpan
}

type wantSpan struct {
	id           string
	start, count int
	gain         float64
}

func check(t *testing.T, acts []Action, ws []want) {
	t.Helper()
	if len(acts) != len(ws) {
		for _, a := range acts {
			t.Logf("%+v", a.Info())
		}
		t.Fatalf("%d actions, want %d", len(acts), len(ws))
	}
	for i, w := range ws {
		info := acts[i].Info()
		if info.Kind != w.kind || (w.frames != 0 && info.Frames != w.frames) || len(info.Tracks) != len(w.spans) {
			t.Errorf("action %d: %s of %d frames with %d tracks, want %s of %d with %d", i, info.Kind, info.Frames, len(info.Tracks), w.kind, w.frames, len(w.spans))
			continue
		}
		for j, s := range w.spans {
			g := info.Tracks[j]
			if g.ID != s.id || g.StartFrame != s.start || g.Frames != s.count || g.Gain != s.gain {
				t.Errorf("action %d (%s) track %d: %s [%d +%d] %+.1f dB, want %s [%d +%d] %+.1f dB", i, info.Kind, j, g.ID, g.StartFrame, g.Frames, g.Gain, s.id, s.start, s.count, s.gain)
			}
		}
	}
}

func TestMixerCrossmatchesAligned(t *testing.T) {
	a, b := specA.track(false), specB.track(false)
	acts, logs := plan(t, Options{}, a, b)
	ba := b.Analysis.Beats
	// B enters at its beat 8, where its timbre matches A's tail, and the
	// overlap pairs A's beats 320..379 with B's 8..67.
	inStart, inEnd := audio.FrameAt(ba[8].Start), audio.FrameAt(ba[67].End())
	// Each body comes in two parts: up to 32 s before the fade-out, played
	// before the next track is asked for, and the rest.
	safeA, safeB := audio.FrameAt(158), audio.FrameAt(138)
	check(t, acts, []want{
		{KindFadein, 441000, []wantSpan{{"A", 0, 441000, 6}}},
		{KindPlayback, safeA - 441000, []wantSpan{{"A", 441000, safeA - 441000, 6}}},
		{KindPlayback, 7056000 - safeA, []wantSpan{{"A", safeA, 7056000 - safeA, 6}}},
		{KindCrossmatch, 0, []wantSpan{{"A", 7056000, 8379000 - 7056000, 6}, {"B", inStart, inEnd - inStart, -3}}},
		{KindPlayback, safeB - inEnd, []wantSpan{{"B", inEnd, safeB - inEnd, -3}}},
		{KindPlayback, audio.FrameAt(170) - safeB, []wantSpan{{"B", safeB, audio.FrameAt(170) - safeB, -3}}},
		{KindFadeout, 6 * 44100, []wantSpan{{"B", audio.FrameAt(170), 6 * 44100, -3}}},
	})
	m := acts[3].Info().Match
	if m == nil || m.Quanta != 60 || m.Distance > 1e-9 || m.Phrase != 0 || !m.Downbeat || m.OutDoubled || m.InDoubled {
		t.Errorf("match %+v", m)
	}
	if m != nil && (m.TempoFrom < 119.9 || m.TempoFrom > 120.1 || m.TempoTo < 125.9 || m.TempoTo > 126.1) {
		t.Errorf("tempo %v → %v, want 120 → 126", m.TempoFrom, m.TempoTo)
	}
	// The crossmatch lasts between 60 beats at 120 and at 126 BPM.
	if f := acts[3].Len(); f <= inEnd-inStart || f >= 8379000-7056000 {
		t.Errorf("crossmatch of %d frames", f)
	}
	if !strings.Contains(logs, "crossmatch") {
		t.Errorf("no log of the decision: %s", logs)
	}
}

func TestMixerDoublesSlowTrack(t *testing.T) {
	b, c := specB.track(false), specC.track(false)
	acts, _ := plan(t, Options{}, b, c)
	if len(acts) != 7 || acts[3].Info().Kind != KindCrossmatch {
		t.Fatalf("got %d actions", len(acts))
	}
	info := acts[3].Info()
	m := info.Match
	if m == nil || !m.InDoubled || m.OutDoubled || m.Quanta%2 != 0 {
		t.Fatalf("match %+v", m)
	}
	// B's tail starts on the bar at beat 296 (30 s back from beat 356 is
	// beat 293, not a bar) and ends at its fade-out.
	bb, cb := b.Analysis.Beats, c.Analysis.Beats
	if s := info.Tracks[0]; s.StartFrame != audio.FrameAt(bb[296].Start) || s.StartFrame+s.Frames != audio.FrameAt(bb[355].End()) {
		t.Errorf("outgoing span %+v", s)
	}
	// C enters and leaves on whole beats: 60 of B's beats against 30 of C's.
	in := info.Tracks[1]
	i := slices.IndexFunc(cb, func(q analysis.Quantum) bool { return audio.FrameAt(q.Start) == in.StartFrame })
	if i < 0 || audio.FrameAt(cb[i+29].End()) != in.StartFrame+in.Frames {
		t.Errorf("incoming span %+v does not cover 30 whole beats of C (entry beat %d)", in, i)
	}
	if p := acts[4].Info().Tracks[0]; p.StartFrame != in.StartFrame+in.Frames {
		t.Errorf("C's playback starts at %d, crossmatch left it at %d", p.StartFrame, in.StartFrame+in.Frames)
	}
}

func TestMixerFallsBackToCrossfade(t *testing.T) {
	a, d := specA.track(false), specD.track(false)
	acts, logs := plan(t, Options{}, a, d)
	start, entry, n := audio.FrameAt(187), audio.FrameAt(1), 3*44100
	safeA, safeD := audio.FrameAt(158), audio.FrameAt(78)
	check(t, acts, []want{
		{KindFadein, 441000, []wantSpan{{"A", 0, 441000, 6}}},
		{KindPlayback, safeA - 441000, []wantSpan{{"A", 441000, safeA - 441000, 6}}},
		{KindPlayback, start - safeA, []wantSpan{{"A", safeA, start - safeA, 6}}},
		{KindCrossfade, n, []wantSpan{{"A", start, n, 6}, {"D", entry, n, 0}}},
		{KindPlayback, safeD - entry - n, []wantSpan{{"D", entry + n, safeD - entry - n, 0}}},
		{KindPlayback, audio.FrameAt(110) - safeD, []wantSpan{{"D", safeD, audio.FrameAt(110) - safeD, 0}}},
		{KindFadeout, 6 * 44100, []wantSpan{{"D", audio.FrameAt(110), 6 * 44100, 0}}},
	})
	if r := acts[3].Info().Reason; !strings.Contains(r, "no room") || !strings.Contains(logs, r) {
		t.Errorf("fallback's reason %q not in its Info and the log: %s", r, logs)
	}
	// A score threshold nothing reaches also falls back.
	acts, _ = plan(t, Options{Policy: DefaultPolicy{MinScore: 0.99}}, a, specB.track(false))
	if len(acts) != 7 || acts[3].Info().Kind != KindCrossfade || !strings.Contains(acts[3].Info().Reason, "score") {
		t.Errorf("MinScore 0.99: %s, reason %q", acts[3].Info().Kind, acts[3].Info().Reason)
	}
}

func TestMixerSkipsShortAndEnds(t *testing.T) {
	a, s := specA.track(false), specShort.track(false)
	acts, logs := plan(t, Options{}, nil, s, a, s, &Track{ID: "x"})
	safe := audio.FrameAt(158)
	check(t, acts, []want{
		{KindFadein, 441000, []wantSpan{{"A", 0, 441000, 6}}},
		{KindPlayback, safe - 441000, []wantSpan{{"A", 441000, safe - 441000, 6}}},
		{KindPlayback, audio.FrameAt(190) - safe, []wantSpan{{"A", safe, audio.FrameAt(190) - safe, 6}}},
		{KindFadeout, 6 * 44100, []wantSpan{{"A", audio.FrameAt(190), 6 * 44100, 6}}},
	})
	if strings.Count(logs, "skipping") != 4 || !strings.Contains(logs, "45.0s between fade-in and fade-out") {
		t.Errorf("skips not logged: %s", logs)
	}
	if acts, _ := plan(t, Options{}); len(acts) != 0 {
		t.Errorf("no tracks: %d actions", len(acts))
	}
}

func TestMixerMaxStay(t *testing.T) {
	a, b := specA.track(false), specB.track(false)
	acts, _ := plan(t, Options{MaxStay: 60e9}, a, b)
	// A plays 60 s after its fade-in (in two parts), then the 30 s overlap
	// starts.
	if acts[3].Info().Kind != KindCrossmatch {
		t.Fatalf("action 3 is a %s", acts[3].Info().Kind)
	}
	if stay := acts[1].Len() + acts[2].Len(); stay > 60*44100 || stay < 58*44100 {
		t.Errorf("stay of %.1fs with MaxStay 60s", float64(stay)/44100)
	}
}

func TestMixerStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan *Track, 1)
	ch <- specA.track(false)
	m := New(Options{Logger: slog.New(slog.DiscardHandler)})
	var kinds []Kind
	for a := range m.Actions(ctx, Tracks(ctx, ch)) {
		kinds = append(kinds, a.Info().Kind)
		cancel() // the mixer now waits for a second track that never comes
	}
	if !slices.Equal(kinds, []Kind{KindFadein, KindPlayback}) || !errors.Is(m.Err(), context.Canceled) {
		t.Errorf("got %v, err %v", kinds, m.Err())
	}
}

func TestInfoJSON(t *testing.T) {
	acts, _ := plan(t, Options{}, specA.track(false), specB.track(false))
	js, err := json.Marshal(acts[3])
	if err != nil {
		t.Fatal(err)
	}
	var back Info
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Kind != KindCrossmatch || back.Start != acts[3].Info().Start || len(back.Tracks) != 2 ||
		back.Tracks[0].Title != "Track A" || back.Tracks[1].Tempo != 126 || back.Match == nil ||
		back.Tracks[0].Start != 160 || back.StartTime != 160 {
		t.Errorf("round trip: %s", js)
	}
}

// A tempo change past MaxStretch is not glided through: the mixer falls
// back to a crossfade, as a DJ would, and says why.
func TestMixerCrossfadesPastMaxStretch(t *testing.T) {
	far := specC
	far.bpm = 84 // doubled, 168 against B's 126: a third faster
	b, c := specB.track(false), far.track(false)
	acts, _ := plan(t, Options{}, b, c)
	var kinds []Kind
	reason := ""
	for _, a := range acts {
		kinds = append(kinds, a.Info().Kind)
		reason += a.Info().Reason
	}
	if slices.Contains(kinds, KindCrossmatch) || !slices.Contains(kinds, KindCrossfade) {
		t.Fatalf("actions %v: want a crossfade and no crossmatch", kinds)
	}
	if !strings.Contains(reason, "too far to stretch") {
		t.Errorf("the Info does not say why: %q", reason)
	}
	// With the limit lifted, the same pair is crossmatched.
	acts, _ = plan(t, Options{Policy: DefaultPolicy{MaxStretch: -1}}, specB.track(false), far.track(false))
	if len(acts) < 4 || acts[3].Info().Kind != KindCrossmatch {
		t.Errorf("without MaxStretch: no crossmatch")
	}
}

// userCut is an action of a user's own: a hard cut of n frames of silence.
type userCut struct{ n, pos int }

func (u *userCut) Len() int { return u.n }
func (u *userCut) Render(dst []float32) int {
	n := min(len(dst)/2, u.n-u.pos)
	clear(dst[:2*n])
	u.pos += n
	return n
}
func (u *userCut) Info() Info { return Info{Kind: "cut", Frames: u.n} }
func (u *userCut) Err() error { return nil }

// A Policy of one's own decides every pair; its actions are placed and
// described like the built-in ones, and what it cannot build falls back.
func TestMixerPolicy(t *testing.T) {
	a, b := specA.track(false), specB.track(false)
	var seen []Handover
	cut := PolicyFunc(func(h Handover) Transition {
		seen = append(seen, h)
		return Transition{Kind: "cut", Start: h.To - 44100, Action: &userCut{n: 22050}, Resume: 5 * 44100, Reason: "a cut on request"}
	})
	acts, _ := plan(t, Options{Policy: cut}, a, b)
	if len(seen) != 1 || seen[0].MatchErr != nil || seen[0].Match.Score <= 0 || seen[0].OutGain != 6 || seen[0].InGain != -3 {
		t.Fatalf("handovers %+v", seen)
	}
	i := slices.IndexFunc(acts, func(a Action) bool { return a.Info().Kind == "cut" })
	if i < 1 {
		t.Fatalf("no cut among %d actions", len(acts))
	}
	info := acts[i].Info()
	prev := acts[i-1].Info()
	if info.Reason != "a cut on request" || info.Start != prev.Start+int64(prev.Frames) ||
		prev.Tracks[0].StartFrame+prev.Tracks[0].Frames != seen[0].To-44100 ||
		acts[i+1].Info().Tracks[0].StartFrame != 5*44100 {
		t.Errorf("cut %+v after %+v", info, prev)
	}
	js, _ := json.Marshal(acts[i])
	if !strings.Contains(string(js), `"reason":"a cut on request"`) {
		t.Errorf("plan JSON %s", js)
	}

	// A transition that starts before the unplanned part is refused and
	// replaced by the default crossfade, saying so.
	early := PolicyFunc(func(h Handover) Transition { return Transition{Kind: KindCrossfade, Start: h.From - 1, Frames: 10} })
	acts, _ = plan(t, Options{Policy: early}, a, b)
	if x := acts[3].Info(); x.Kind != KindCrossfade || !strings.Contains(x.Reason, "refused") {
		t.Errorf("early transition: %s %q", x.Kind, x.Reason)
	}
}

// The acceptance rules apply to a hand-built match as the Mixer applies
// them: the default policy accepts A into B and its limit refuses a glide
// of a third.
func TestCheck(t *testing.T) {
	a, b := specA.track(false), specB.track(false)
	m, err := align.Find(align.Request{Out: a.Analysis, In: b.Analysis, From: 100, Duration: 30}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := (DefaultPolicy{}).Check(m); err != nil {
		t.Errorf("A into B refused: %v", err)
	}
	if err := CheckScore(m, 0.99); err == nil {
		t.Errorf("score %.2f passes 0.99", m.Score)
	}
	if err := CheckStretch(m, 0.01); err == nil || !strings.Contains(err.Error(), "too far") {
		t.Errorf("120 to 126 BPM within 1%%: %v", err)
	}
	if err := CheckStretch(m, -1); err != nil {
		t.Errorf("no limit: %v", err)
	}
	if g := LoudnessGain(a.Analysis, -14, 12); g != 6 {
		t.Errorf("gain of A %.1f, want 6", g)
	}
	if g := LoudnessGain(&analysis.Analysis{Loudness: -40}, -14, 12); g != 12 {
		t.Errorf("gain bounded to %.1f, want 12", g)
	}
}
