package audio_test

import (
	"bytes"
	"fmt"
	"log"
	"math"

	"github.com/foreverfm/forever/audio"
)

func Example() {
	// One second of a 440 Hz tone, written as a WAV file and read back.
	p := audio.NewPCM(audio.SampleRate)
	for i := range p.Frames() {
		v := float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/audio.SampleRate))
		p.Samples[2*i], p.Samples[2*i+1] = v, v
	}
	var wav bytes.Buffer
	if err := audio.WriteWAV(&wav, p); err != nil {
		log.Fatal(err)
	}
	q, err := audio.Decode(&wav, "wav")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(q.Frames(), q.Duration())
	// Output: 44100 1s
}

func ExampleResample() {
	// A 48 kHz mono signal becomes 44.1 kHz: 480 frames in, 441 out.
	in := make([]float32, 480)
	out := audio.Resample(in, 1, 48000, audio.SampleRate)
	fmt.Println(len(out))
	// Output: 441
}
