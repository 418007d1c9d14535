package mixtest_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/mix/mixtest"
)

// A policy test in five lines: two tracks to order, the mixer's plan, the
// transition it chose.
func Example() {
	a := mixtest.Spec{ID: "A", BPM: 120}.Track()
	b := mixtest.Spec{ID: "B", BPM: 126}.Track()
	far := mixtest.Spec{ID: "C", BPM: 90}.Track()
	for a := range mix.New(mix.Options{}).Actions(context.Background(), slices.Values([]*mix.Track{a, b, far})) {
		if i := a.Info(); len(i.Tracks) == 2 {
			fmt.Printf("%s %s to %s: %s\n", i.Kind, i.Tracks[0].ID, i.Tracks[1].ID, i.Reason)
		}
	}
	// Output:
	// crossmatch A to B: score 0.95 over 60 beats, tempo 120.0 to 126.0
	// crossfade B to C: tempo 126.0 to 90.0 is too far to stretch (limit 15%)
}

// The analysis agrees with itself: bars on every fourth beat, two tatums a
// beat, sections of whole bars, fades where asked.
func TestAnalysisConsistent(t *testing.T) {
	s := mixtest.Spec{ID: "x", BPM: 100, Length: 90 * time.Second, First: 300 * time.Millisecond, BeatsPerBar: 3, SectionBars: 8}
	a := s.Analysis()
	if len(a.Tatums) != 2*len(a.Beats) || len(a.Segments) != len(a.Beats) {
		t.Errorf("%d beats, %d tatums, %d segments", len(a.Beats), len(a.Tatums), len(a.Segments))
	}
	for i, b := range a.Bars {
		if b.Start != a.Beats[3*i].Start || math.Abs(b.Duration-1.8) > 1e-9 {
			t.Errorf("bar %d at %v lasting %v, beat %d at %v", i, b.Start, b.Duration, 3*i, a.Beats[3*i].Start)
		}
	}
	if a.Beats[0].Start != 0.3 || a.Beats[len(a.Beats)-1].End() > 90 || a.Bars[len(a.Bars)-1].End() > 90 {
		t.Errorf("beats from %v to %v", a.Beats[0].Start, a.Beats[len(a.Beats)-1].End())
	}
	for i, x := range a.Sections {
		if x.Start != a.Bars[8*i].Start {
			t.Errorf("section %d at %v, not on bar %d", i, x.Start, 8*i)
		}
	}
	if a.EndOfFadeIn != 0.3+4*1.8 || math.Abs(a.StartOfFadeOut-(90-8*1.8)) > 1e-9 {
		t.Errorf("fades at %v and %v", a.EndOfFadeIn, a.StartOfFadeOut)
	}
	if c := (mixtest.Spec{Clicks: true}).Track(); c.Audio == nil || c.Audio.Frames() != 180*44100 || c.Audio.Samples[0] == 0 {
		t.Errorf("clicks missing")
	}
}

// The default policy from fixtures: it crossmatches a near tempo, refuses
// a far one unless its limit is lifted, and a policy of one's own wrapping
// it sees the alignment the mixer found.
func TestDefaultPolicy(t *testing.T) {
	a := mixtest.Spec{ID: "A", BPM: 124}.Track()
	plan := func(p mix.Policy, b *mix.Track) mix.Info {
		for x := range mix.New(mix.Options{Policy: p}).Actions(context.Background(), slices.Values([]*mix.Track{a, b})) {
			if len(x.Info().Tracks) == 2 {
				return x.Info()
			}
		}
		t.Fatal("no transition")
		return mix.Info{}
	}
	near := mixtest.Spec{ID: "B", BPM: 128, Shift: 8}.Track()
	if i := plan(nil, near); i.Kind != mix.KindCrossmatch || i.Match == nil || !i.Match.Downbeat {
		t.Errorf("124 to 128 BPM: %s %q", i.Kind, i.Reason)
	}
	far := mixtest.Spec{ID: "C", BPM: 150}.Track()
	if i := plan(nil, far); i.Kind != mix.KindCrossfade || !strings.Contains(i.Reason, "too far") {
		t.Errorf("124 to 150 BPM: %s %q", i.Kind, i.Reason)
	}
	if i := plan(mix.DefaultPolicy{MaxStretch: 0.25}, far); i.Kind != mix.KindCrossmatch {
		t.Errorf("124 to 150 BPM within 25%%: %s %q", i.Kind, i.Reason)
	}
	var seen align.Match
	spy := mix.PolicyFunc(func(h mix.Handover) mix.Transition {
		seen = h.Match
		return mix.DefaultPolicy{}.Plan(h)
	})
	plan(spy, near)
	if len(seen.Out) == 0 || math.Abs(mix.QuantumTempo(seen.Out)-124) > 0.1 {
		t.Errorf("the policy saw a match of %d quanta at %.1f", len(seen.Out), mix.QuantumTempo(seen.Out))
	}
}
