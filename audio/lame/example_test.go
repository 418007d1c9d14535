package lame_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/audio/lame"
)

func ExampleEncode() {
	// Two seconds of silence as a gapless MP3 file, decoded again: the
	// Info tag lets the decoder return exactly what was encoded.
	p := audio.NewPCM(2 * audio.SampleRate)
	var mp3 bytes.Buffer
	if err := lame.Encode(&mp3, p, lame.Options{Bitrate: 192}); err != nil {
		log.Fatal(err)
	}
	q, err := audio.Decode(&mp3, "mp3")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(q.Frames() == p.Frames())
	// Output: true
}

func ExampleEncoder() {
	// A live stream: whatever lengths arrive, whole frames leave, one per
	// Write to the destination.
	var out bytes.Buffer
	e, err := lame.NewEncoder(&out, lame.Options{})
	if err != nil {
		log.Fatal(err)
	}
	block := make([]float32, 1001) // odd on purpose
	for range 100 {
		if err := e.Write(block); err != nil {
			log.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Frames(), "frames")
	// Output: 45 frames
}
