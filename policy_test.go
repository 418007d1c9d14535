package forever_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/mix/mixtest"
)

// tempoGuard is a policy of a user's own: a pair too far apart in tempo
// is crossfaded, whatever the alignment; the rest is left to the default.
func tempoGuard(h mix.Handover) mix.Transition {
	def := mix.DefaultPolicy{}
	if r := h.Out.Analysis.Tempo / h.In.Analysis.Tempo; r > 1.1 || r < 1/1.1 {
		t := def.Fallback(h)
		t.Reason = "tempos too far apart"
		return t
	}
	return def.Plan(h)
}

// A policy is unit-tested from analyses alone, without audio.
func TestPolicyWithoutAudio(t *testing.T) {
	track := func(id string, bpm float64) *mix.Track {
		return &mix.Track{ID: id, Analysis: &analysis.Analysis{Tempo: bpm, Duration: 180}}
	}
	handover := func(out, in *mix.Track) mix.Handover {
		return mix.Handover{Out: out, In: in, From: 60 * 44100, To: 170 * 44100,
			MatchErr: align.ErrNoRoom, Transition: 30 * time.Second}
	}
	far := mix.PolicyFunc(tempoGuard).Plan(handover(track("a", 174), track("b", 128)))
	if far.Kind != mix.KindCrossfade || far.Reason != "tempos too far apart" {
		t.Errorf("174 into 128 BPM: %s (%q), want a crossfade for the tempo gap", far.Kind, far.Reason)
	}
	if far.Start < 60*44100 || far.Frames <= 0 {
		t.Errorf("the crossfade starts at %d for %d frames, before the handover's first free frame or empty", far.Start, far.Frames)
	}
	near := mix.PolicyFunc(tempoGuard).Plan(handover(track("a", 124), track("b", 128)))
	if near.Reason == "tempos too far apart" {
		t.Errorf("124 into 128 BPM was refused for its tempo")
	}
}

// Through a Mixer, on mixtest's analysed tracks: the policy's decision and
// its reason are in the plan.
func TestPolicyInMixer(t *testing.T) {
	tracks := []*mix.Track{
		mixtest.Spec{ID: "A", BPM: 174}.Track(),
		mixtest.Spec{ID: "B", BPM: 128}.Track(),
		mixtest.Spec{ID: "C", BPM: 126}.Track(),
	}
	m := mix.New(mix.Options{Policy: mix.PolicyFunc(tempoGuard)})
	var reasons []string
	for a := range m.Actions(context.Background(), slices.Values(tracks)) {
		if info := a.Info(); len(info.Tracks) == 2 {
			reasons = append(reasons, info.Tracks[0].ID+">"+info.Tracks[1].ID+": "+string(info.Kind)+" "+info.Reason)
		}
	}
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 2 || reasons[0] != "A>B: crossfade tempos too far apart" || reasons[1] == "B>C: crossfade tempos too far apart" {
		t.Fatalf("transitions %q, want A>B crossfaded for its tempo gap and B>C left to the default", reasons)
	}
}
