package mix_test

import (
	"fmt"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix"
)

// A transition rendered as an EQ blend: the incoming track comes up with its
// bass cut, and at the switch the basses swap.
func ExampleStyled() {
	a := &mix.Track{ID: "a", Audio: audio.NewPCM(20 * audio.SampleRate)}
	b := &mix.Track{ID: "b", Audio: audio.NewPCM(20 * audio.SampleRate)}
	const bar = 2 * audio.SampleRate // 120 BPM
	x := mix.Crossfade(a, 4*bar, b, 0, 4*bar, 0, 0)
	s := mix.Blend(x.Len(), 2*bar, bar)
	y, err := mix.Styled(x, s)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Kind, s.Bars, "bars, switch at bar", s.Switch/bar)
	fmt.Printf("A's bass at the switch %.0f dB, B's %.0f dB\n", s.Out.Low.At(s.Switch), s.In.Low.At(s.Switch))
	fmt.Println(y.Len() == x.Len())
	// Output:
	// eq-blend 4 bars, switch at bar 2
	// A's bass at the switch -26 dB, B's 0 dB
	// true
}

// A deck through the DJ EQ, its bass cut over one beat.
func ExampleEQ() {
	t := &mix.Track{ID: "t", Audio: audio.NewPCM(audio.SampleRate)}
	beat := audio.SampleRate / 2
	a := mix.EQ(mix.Playback(t, 0, audio.SampleRate, 0), mix.Ramp(0, beat, 0, mix.EQKill), nil, nil)
	fmt.Println(a.Len(), a.Info().Kind)
	// Output: 44100 playback
}
