package mix

import (
	"math"
	"testing"

	"github.com/foreverfm/forever/audio"
)

// placedCut is a user's action that reports where it was placed.
type placedCut struct {
	userCut
	start int64
}

func (p *placedCut) SetStart(f int64) { p.start = f }
func (p *placedCut) Info() Info       { return Info{Kind: "cut", Start: p.start, Frames: p.n} }

func constTrack(v float32, frames int) *Track {
	p := audio.NewPCM(frames)
	for i := range p.Samples {
		p.Samples[i] = v
	}
	return &Track{ID: "c", Audio: p}
}

func TestComposeUserActions(t *testing.T) {
	// Sequence places a user's action like its own: a Placer is told its
	// start, any other is wrapped so the Mixer's view carries it.
	u := &placedCut{userCut: userCut{n: 5}}
	s := Sequence(Silence(10), u, &userCut{n: 7})
	s.(Placer).SetStart(100)
	if u.Info().Start != 110 || s.Len() != 22 {
		t.Errorf("user action placed at %d (want 110), sequence of %d", u.Info().Start, s.Len())
	}
	if seq := s.(*seq); seq.actions[2].Info().Start != 115 {
		t.Errorf("plain user action at %d, want 115", seq.actions[2].Info().Start)
	}

	// Gain, Fade and Overlay apply to any action, the result renders to
	// its length whatever the block size.
	tr := constTrack(0.5, 4000)
	g := Gain(Playback(tr, 0, 1000, 0), -6.0206)
	got := renderAll(g, 300)
	if len(got) != 2000 || math.Abs(float64(got[999])-0.25) > 1e-4 || g.Info().Tracks[0].Gain != -6.0206 {
		t.Errorf("gain: %d samples, %v, span gain %v", len(got), got[999], g.Info().Tracks[0].Gain)
	}
	f := renderAll(Fade(Playback(tr, 0, 1000, 0), LinearOut), 300)
	if math.Abs(float64(f[0])-0.5) > 1e-3 || math.Abs(float64(f[1000])-0.25) > 1e-2 || f[1999] > 0.01 {
		t.Errorf("linear fade-out: %v %v %v", f[0], f[1000], f[1999])
	}
	o := Overlay(Playback(tr, 0, 1000, 0), Gain(&userCut{n: 300}, 3), Fade(Playback(tr, 0, 500, 0), Flat))
	out := renderAll(o, 300)
	if len(out) != 2000 || out[0] != 1 || out[1500] != 0.5 || len(o.Info().Tracks) != 2 {
		t.Errorf("overlay: %d samples, %v %v, %d tracks", len(out), out[0], out[1500], len(o.Info().Tracks))
	}
	if ls := Layers(Sequence(Silence(10), Gain(Playback(tr, 0, 1000, 0), -6.0206))); len(ls) != 1 ||
		math.Abs(ls[0].Gain(500)-0.5) > 1e-3 || ls[0].Gain(5) != 0 || ls[0].Action.Len() != 1010 {
		t.Errorf("layers of a sequence: %+v", ls)
	}
}

// A Crossmatch built by hand describes its match as the Mixer's does.
func TestHandCrossmatchInfo(t *testing.T) {
	a, b := specA.track(false), specB.track(false)
	x, err := Crossmatch(a, a.Analysis.Beats[300:316], b, b.Analysis.Beats[20:36], 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := x.Info().Match
	if m == nil || m.Quanta != 16 || math.Abs(m.TempoFrom-120) > 1 || math.Abs(m.TempoTo-126) > 1 {
		t.Errorf("match %+v", m)
	}
}
