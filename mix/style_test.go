package mix

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// twoTones is a track of a bass tone and a treble tone, 0.3 each.
func twoTones(bass, treble float64, frames int) *Track {
	p := audio.NewPCM(frames)
	for i := 0; i < frames; i++ {
		t := float64(i) / audio.SampleRate
		v := float32(0.3*math.Sin(2*math.Pi*bass*t) + 0.3*math.Sin(2*math.Pi*treble*t))
		p.Samples[2*i], p.Samples[2*i+1] = v, v
	}
	return &Track{ID: "tones", Audio: p}
}

// toneLevel reports the level in dB of the tone at freq in frames
// [from, to) of buf's left channel (a single-bin DFT: the tones here are
// far enough apart in windows of a few thousand frames).
func toneLevel(buf []float32, freq float64, from, to int) float64 {
	var re, im float64
	for i := from; i < to; i++ {
		w := 2 * math.Pi * freq * float64(i) / audio.SampleRate
		re += float64(buf[2*i]) * math.Cos(w)
		im += float64(buf[2*i]) * math.Sin(w)
	}
	amp := 2 * math.Hypot(re, im) / float64(to-from)
	return 20 * math.Log10(amp+1e-12)
}

// maxJump reports the largest sample-to-sample step of buf.
func maxJump(buf []float32) float64 {
	var m float64
	for i := 2; i < len(buf); i++ {
		m = max(m, math.Abs(float64(buf[i]-buf[i-2])))
	}
	return m
}

const testBar = 4 * 22050 // 120 BPM

// clickFree renders style s over a bass and a mid tone per deck and wants
// no step between samples steeper than the four tones at full level can
// make: a fader or a filter that jumped would.
func clickFree(t *testing.T, s Style) {
	t.Helper()
	a, b := twoTones(55, 443.7, s.Frames), twoTones(82.5, 661.3, s.Frames)
	out := renderAll(must(Styled(Crossfade(a, 0, b, 0, s.Frames, 0, 0), s)), 700)
	limit := 0.3 * 2 * math.Pi * (55 + 443.7 + 82.5 + 661.3) / audio.SampleRate * 1.1
	if j := maxJump(out); j > limit {
		t.Errorf("%s: a jump of %.4f between samples, over the tones' %.4f", s.Kind, j, limit)
	}
}

func TestBlendSwapsTheBassAtTheSwitch(t *testing.T) {
	const n = 8 * testBar
	a, b := twoTones(55, 3000, n), twoTones(82.5, 4500, n)
	s := Blend(n, 4*testBar, testBar)
	x, err := Styled(Crossfade(a, 0, b, 0, n, 0, 0), s)
	if err != nil {
		t.Fatal(err)
	}
	out := renderAll(x, 1000)
	full := 20 * math.Log10(0.3)
	w := testBar / 8
	for f := 0; f+w <= n; f += w {
		la, lb := toneLevel(out, 55, f, f+w), toneLevel(out, 82.5, f, f+w)
		// Never two basses near full level: the quieter at least 12 dB
		// under full whenever the louder is within 3 dB of it.
		if max(la, lb) > full-3 && min(la, lb) > full-12 {
			t.Errorf("frames %d-%d: basses at %.1f and %.1f dB together", f, f+w, la, lb)
		}
		switch {
		case f+w <= s.Switch-testBar/4:
			if la < full-0.5 || lb > full-20 {
				t.Errorf("before the switch, frame %d: A's bass %.1f dB, B's %.1f dB", f, la, lb)
			}
		case f >= s.Switch:
			if lb < full-0.5 || la > full-20 {
				t.Errorf("after the switch, frame %d: A's bass %.1f dB, B's %.1f dB", f, la, lb)
			}
		}
	}
	// B's treble is in before the switch: the blend is a blend.
	if l := toneLevel(out, 4500, 3*testBar, 4*testBar-w); l < full-3 {
		t.Errorf("B's treble at %.1f dB in the bar before the switch", l)
	}
	clickFree(t, Blend(n, 4*testBar, testBar))
	// The end joins B's playback: B at full level, A gone.
	if la, lb := toneLevel(out, 3000, n-w, n), toneLevel(out, 4500, n-w, n); la > full-40 || lb < full-0.5 {
		t.Errorf("at the end A's treble at %.1f dB, B's at %.1f dB", la, lb)
	}
}

func TestSwapIsShortAndOnTheOne(t *testing.T) {
	const n = 4 * testBar
	a, b := twoTones(55, 3000, n), twoTones(82.5, 4500, n)
	sw := 2 * testBar
	out := renderAll(must(Styled(Crossfade(a, 0, b, 0, n, 0, 0), Swap(n, sw, testBar))), 512)
	full := 20 * math.Log10(0.3)
	w := testBar / 16
	if l := toneLevel(out, 3000, sw+w, sw+2*w); l > full-40 {
		t.Errorf("A's treble at %.1f dB just after the switch", l)
	}
	if l := toneLevel(out, 3000, sw-testBar/2, sw-testBar/2+w); l < full-0.5 {
		t.Errorf("A's treble at %.1f dB half a bar before the switch", l)
	}
	if l := toneLevel(out, 82.5, sw+w, sw+2*w); l < full-0.5 {
		t.Errorf("B's bass at %.1f dB just after the switch", l)
	}
	clickFree(t, Swap(n, sw, testBar))
}

func TestEchoOutRingsOn(t *testing.T) {
	const beat = 22050
	const n = 6 * beat
	sw := 2 * beat
	a, b := twoTones(55, 6000, n), twoTones(82.5, 4500, n)
	// A's treble in bursts: a beep on each beat, so that the echo is heard
	// where A has stopped.
	for i := 0; i < n; i++ {
		if i%beat > beat/4 {
			a.Audio.Samples[2*i], a.Audio.Samples[2*i+1] = 0, 0
		}
	}
	out := renderAll(must(Styled(Crossfade(a, 0, b, 0, n, 0, 0), EchoOut(n, sw, beat))), 1024)
	full := 20 * math.Log10(0.3)
	// One beat after the cut, the last beep comes back about 7 dB down
	// (feedback 0.45), the echo of the one before it added in.
	if l := toneLevel(out, 6000, sw+beat+100, sw+beat+beat/4-100); l < full-12 || l > full+1 {
		t.Errorf("the echo one beat after the cut at %.1f dB", l)
	}
	if l := toneLevel(out, 6000, n-beat+100, n-beat+beat/4-100); l > full-14 {
		t.Errorf("the echo three beats after the cut at %.1f dB, not dying away", l)
	}
	if l := toneLevel(out, 4500, 0, sw-1000); l > full-40 {
		t.Errorf("B at %.1f dB before the switch", l)
	}
	if l := toneLevel(out, 4500, sw+100, sw+5000); l < full-1 {
		t.Errorf("B at %.1f dB after the switch", l)
	}
}

func TestFilterOutSweepsTheBassAway(t *testing.T) {
	const n = 4 * testBar
	a, b := twoTones(55, 3000, n), twoTones(82.5, 4500, n)
	out := renderAll(must(Styled(Crossfade(a, 0, b, 0, n, 0, 0), FilterOut(n, testBar))), 1024)
	full := 20 * math.Log10(0.3)
	w := testBar / 8
	early, late := toneLevel(out, 55, w, 2*w), toneLevel(out, 55, n/2-w, n/2)
	if early < full-1 || late > full-15 {
		t.Errorf("A's bass at %.1f dB early, %.1f dB halfway: the high-pass is not sweeping", early, late)
	}
	if l := toneLevel(out, 4500, 0, 3*testBar-100); l > full-40 {
		t.Errorf("B at %.1f dB before its last bar", l)
	}
	// No hole: one of the two is always within 15 dB of full level.
	for f := 0; f+w <= n; f += w {
		if la, lb := toneLevel(out, 3000, f, f+w), toneLevel(out, 4500, f, f+w); max(la, lb) < full-15 {
			t.Errorf("frames %d-%d: A at %.1f dB, B at %.1f dB: a hole", f, f+w, la, lb)
		}
	}
	if l := toneLevel(out, 4500, n-w, n); l < full-2.5 {
		t.Errorf("B at %.1f dB at the end", l)
	}
}

func TestStyledCrossmatchDescribesItself(t *testing.T) {
	const beat = 22050
	a, b := twoTones(55, 3000, 40*beat), twoTones(82.5, 4500, 40*beat)
	q := func(from, k int) []analysis.Quantum {
		var qs []analysis.Quantum
		for i := 0; i < k; i++ {
			qs = append(qs, analysis.Quantum{Start: float64((from+i)*beat) / audio.SampleRate, Duration: 0.5, Confidence: 1})
		}
		return qs
	}
	x, err := Crossmatch(a, q(20, 16), b, q(0, 16), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	st := Blend(x.Len(), x.Len()/2, 4*beat)
	st.Reason = "a test"
	y, err := Styled(x, st)
	if err != nil {
		t.Fatal(err)
	}
	out := renderAll(y, 4096)
	if len(out) != 2*x.Len() || y.Err() != nil {
		t.Fatalf("%d samples of %d, err %v", len(out), 2*x.Len(), y.Err())
	}
	if got, ok := StyleOf(y); !ok || got.Kind != StyleBlend {
		t.Errorf("StyleOf: %v %v", got.Kind, ok)
	}
	js, _ := json.Marshal(y)
	for _, want := range []string{`"kind":"crossmatch"`, `"style":{"kind":"eq-blend"`, `"reason":"a test"`, `"low_db":[`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("description lacks %s: %.300s", want, js)
		}
	}
	if _, err := Styled(x, Blend(x.Len()+1, 10, 100)); err == nil {
		t.Error("a style of the wrong length accepted")
	}
	if _, err := Styled(Playback(a, 0, 100, 0), Blend(100, 50, 40)); err == nil {
		t.Error("a styled playback accepted")
	}
}

func TestCamelotAndClashes(t *testing.T) {
	for _, c := range []struct {
		key, mode int
		num       int
		letter    byte
	}{{0, 1, 8, 'B'}, {7, 1, 9, 'B'}, {9, 0, 8, 'A'}, {4, 0, 9, 'A'}, {5, 1, 7, 'B'}, {11, 0, 10, 'A'}} {
		if n, l := Camelot(c.key, c.mode); n != c.num || l != c.letter {
			t.Errorf("Camelot(%d, %d) = %d%c, want %d%c", c.key, c.mode, n, l, c.num, c.letter)
		}
	}
	for _, c := range []struct {
		k1, m1, k2, m2 int
		clash          bool
	}{
		{0, 1, 0, 1, false}, {0, 1, 7, 1, false}, {0, 1, 5, 1, false}, {0, 1, 9, 0, false}, // same, fifths, relative
		{0, 1, 2, 1, true}, {0, 1, 6, 1, true}, {0, 1, 4, 0, true}, {0, 1, -1, 0, false},
	} {
		if got := KeysClash(c.k1, c.m1, c.k2, c.m2); got != c.clash {
			t.Errorf("KeysClash(%d,%d, %d,%d) = %v", c.k1, c.m1, c.k2, c.m2, got)
		}
	}
}

func TestChoose(t *testing.T) {
	sure := func(key, mode int) *analysis.Analysis {
		return &analysis.Analysis{Tempo: 124, TempoConfidence: 0.9, Key: key, Mode: mode, KeyConfidence: 0.8,
			Bars: []analysis.Quantum{{Confidence: 0.8}, {Confidence: 0.8}}}
	}
	unsure := sure(0, 1)
	unsure.TempoConfidence = 0.2
	for _, c := range []struct {
		name string
		p    Pair
		want StyleKind
	}{
		{"compatible", Pair{Out: sure(0, 1), In: sure(7, 1), Matched: true, Score: 0.8}, StyleBlend},
		{"clashing keys", Pair{Out: sure(0, 1), In: sure(6, 1), Matched: true, Score: 0.8}, StyleSwap},
		{"weak alignment", Pair{Out: sure(0, 1), In: sure(0, 1), Matched: true, Score: 0.3}, StyleSwap},
		{"unsure grid", Pair{Out: sure(0, 1), In: unsure, Matched: true, Score: 0.8}, StyleSwap},
		{"too far apart", Pair{Out: sure(0, 1), In: sure(0, 1)}, StyleEchoOut},
		{"too far apart, unsure", Pair{Out: unsure, In: sure(0, 1)}, StyleFilterOut},
	} {
		if got := Choose(c.p); got.Kind != c.want || got.Reason == "" {
			t.Errorf("%s: %s (%q), want %s", c.name, got.Kind, got.Reason, c.want)
		}
	}
}

// TestStyleForSwitchesOnAPhrase plans a crossfade between tracks with
// made-to-order analyses and wants the switch on the incoming track's
// phrase boundary.
func TestStyleForSwitchesOnAPhrase(t *testing.T) {
	const n = 20 * testBar
	a, b := twoTones(55, 3000, n), twoTones(82.5, 4500, 3*n)
	mk := func(bars int, boundary int) *analysis.Analysis {
		an := &analysis.Analysis{Tempo: 120, TempoConfidence: 0.9, KeyConfidence: 0.9}
		for i := 0; i < bars; i++ {
			start := float64(i) * 2
			an.Bars = append(an.Bars, analysis.Quantum{Start: start, Duration: 2, Confidence: 0.9})
			loud, tb := -20.0, 0.0
			if i >= boundary {
				loud, tb = -8, 30
			}
			for k := 0; k < 4; k++ {
				s := analysis.Segment{Start: start + float64(k)*0.5, Duration: 0.5, LoudnessMax: loud + float64((i*4+k)%3)}
				for j := range s.Timbre {
					s.Timbre[j] = tb + float64((i*7+k*3+j)%5)
				}
				an.Segments = append(an.Segments, s)
			}
		}
		an.Duration = float64(bars) * 2
		return an
	}
	a.Analysis, b.Analysis = mk(20, 100), mk(48, 12)
	if s := align.Phrases(b.Analysis); s.First(align.Drop) < 0 || s.Phrases[s.First(align.Drop)].Bar != 12 {
		t.Fatalf("the made-to-order track's phrases: %+v", s.Phrases)
	}
	x := Crossfade(a, 0, b, 0, n, 0, 0)
	s, ok := StyleFor(x)
	if !ok {
		t.Fatal("no style")
	}
	if s.Kind != StyleEchoOut || s.Reason == "" {
		t.Errorf("a crossfade got %s (%s)", s.Kind, s.Reason)
	}
	// The echo-out's switch wants a quarter in (bar 5), but B's drop at bar
	// 12 is a phrase boundary in the middle half, beating the grid's line
	// at bar 8.
	if s.Switch != 12*testBar {
		t.Errorf("switch at frame %d (bar %.2f), want bar 12", s.Switch, float64(s.Switch)/testBar)
	}
}

func must(a Action, err error) Action {
	if err != nil {
		panic(err)
	}
	return a
}

// TestStylePolicyInTheMixer plans a mix with the StylePolicy and wants the
// crossmatch styled, described with its style and both reasons, and in the
// place and of the length the default policy gives it.
func TestStylePolicyInTheMixer(t *testing.T) {
	a, b := specA.track(false), specB.track(false)
	plain, _ := plan(t, Options{}, a, b)
	styled, _ := plan(t, Options{Policy: StylePolicy{}}, a, b)
	if len(plain) != len(styled) {
		t.Fatalf("%d actions styled, %d plain", len(styled), len(plain))
	}
	for i := range plain {
		p, s := plain[i].Info(), styled[i].Info()
		if p.Kind != s.Kind || p.Start != s.Start || p.Frames != s.Frames {
			t.Errorf("action %d: %s at %d +%d styled, %s at %d +%d plain", i, s.Kind, s.Start, s.Frames, p.Kind, p.Start, p.Frames)
		}
	}
	x := styled[3]
	st, ok := StyleOf(x)
	if !ok {
		t.Fatalf("the crossmatch is not styled: %T", x)
	}
	if st.Switch <= 0 || st.Switch >= x.Len() || st.Phrases == nil {
		t.Errorf("switch %d of %d, phrases %v", st.Switch, x.Len(), st.Phrases != nil)
	}
	info := x.Info()
	if info.Match == nil || !strings.Contains(info.Reason, "score") || !strings.Contains(info.Reason, string(st.Kind)) {
		t.Errorf("info %+v", info)
	}
	js, _ := json.Marshal(x)
	if !strings.Contains(string(js), `"style":{"kind":"`+string(st.Kind)) {
		t.Errorf("plan JSON without the style: %.200s", js)
	}
}
