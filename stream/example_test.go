package stream_test

import (
	"context"
	"io"
	"log"

	"github.com/foreverfm/forever/audio/lame"
	"github.com/foreverfm/forever/stream"
)

// tone stands in for the mixer: any PCMReader will do.
type tone struct{}

func (tone) Read(dst []float32) (int, error) { clear(dst); return len(dst) / 2, nil }

func Example() {
	newLAME := func(w io.Writer, kbps int) (stream.Encoder, error) {
		return lame.NewEncoder(w, lame.Options{Bitrate: kbps})
	}
	st, err := stream.New(tone{}, stream.Options{
		NewEncoder: newLAME,
		Outputs:    []stream.Output{{Name: "all", Bitrate: 128}, {Name: "low", Bitrate: 64}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go st.Run(ctx)

	// Tell listeners what the mixer is about to play; Start is where the
	// action's audio begins among the samples the station reads.
	st.Announce(stream.Action{
		Kind:   "playback",
		Tracks: []stream.TrackInfo{{Title: "Song", Artist: "Band"}},
		Start:  0,
		Frames: 180 * stream.SampleRate,
	})

	srv := stream.NewServer("localhost:8000", st.Handler()) // /all.mp3, /low.mp3, /all.json, /info, /monitor, /metrics
	_ = srv                                                 // srv.ListenAndServe()
}
