package mix_test

import (
	"fmt"

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
