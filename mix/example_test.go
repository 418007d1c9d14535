package mix_test

import (
	"fmt"
	"math"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix"
)

// Actions compose into a sequence that renders sample-exactly into the
// caller's buffer, whatever its size.
func ExampleSequence() {
	a := &mix.Track{ID: "a", Title: "A", Audio: audio.NewPCM(10 * audio.SampleRate)}
	b := &mix.Track{ID: "b", Title: "B", Audio: audio.NewPCM(10 * audio.SampleRate)}
	s := mix.Sequence(
		mix.Fadein(a, 0, 2*audio.SampleRate, 0),
		mix.Playback(a, 2*audio.SampleRate, 3*audio.SampleRate, 0),
		mix.Crossfade(a, 5*audio.SampleRate, b, 0, 3*audio.SampleRate, 0, -2),
		mix.Fadeout(b, 3*audio.SampleRate, 2*audio.SampleRate, -2),
	)
	buf := make([]float32, 2*1000)
	frames := 0
	for {
		n := s.Render(buf)
		if n == 0 {
			break
		}
		frames += n
	}
	fmt.Printf("%d frames (%.0f s)\n", frames, float64(frames)/audio.SampleRate)
	for _, t := range s.Info().Tracks {
		fmt.Printf("%s from %.0f s for %.0f s, fade %q\n", t.Title, t.Start, t.Duration, t.Fade)
	}
	// Output:
	// 441000 frames (10 s)
	// A from 0 s for 2 s, fade "in"
	// A from 2 s for 3 s, fade ""
	// A from 5 s for 3 s, fade "out"
	// B from 0 s for 3 s, fade "in"
	// B from 3 s for 2 s, fade "out"
}

// tone is an Action of one's own: a sine of its own making, no track.
type tone struct {
	hz    float64
	n, at int
	start int64
}

func (t *tone) Len() int { return t.n }
func (t *tone) Render(dst []float32) int {
	k := min(len(dst)/2, t.n-t.at)
	for i := 0; i < k; i++ {
		v := float32(0.25 * math.Sin(2*math.Pi*t.hz*float64(t.at+i)/audio.SampleRate))
		dst[2*i], dst[2*i+1] = v, v
	}
	t.at += k
	return k
}
func (t *tone) Info() mix.Info   { return mix.Info{Kind: "tone", Start: t.start, Frames: t.n} }
func (t *tone) Err() error       { return nil }
func (t *tone) SetStart(f int64) { t.start = f } // optional: a mix.Placer learns where it plays
var _ mix.Placer = (*tone)(nil)

// An Action of one's own composes with the package's like a built-in:
// faded, gained, overlaid on a track and sequenced.
func Example_customAction() {
	a := &mix.Track{ID: "a", Title: "A", Audio: audio.NewPCM(10 * audio.SampleRate)}
	beep := &tone{hz: 880, n: 2 * audio.SampleRate}
	s := mix.Sequence(
		mix.Playback(a, 0, 4*audio.SampleRate, 0),
		mix.Overlay(
			mix.Fadeout(a, 4*audio.SampleRate, 2*audio.SampleRate, 0),
			mix.Gain(mix.Fade(beep, mix.EqualPowerIn), -6),
		),
	)
	buf := make([]float32, 2*4096)
	for s.Render(buf) > 0 {
	}
	fmt.Printf("%.0f s; the tone starts at %.0f s\n", s.Info().Duration, float64(beep.Info().Start)/audio.SampleRate)
	// Output:
	// 6 s; the tone starts at 4 s
}
