package icecast_test

import (
	"context"
	"log"

	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/icecast"
)

func Example() {
	var st *stream.Station // from stream.New, running
	if st == nil {
		return
	}
	sub, err := st.Subscribe("all")
	if err != nil {
		log.Fatal(err)
	}
	src := &icecast.Source{
		URL:      "http://localhost:8001/forever.mp3",
		Password: "hackme", // <source-password> in icecast.xml
		Name:     "forever.fm",
		Bitrate:  128,
	}
	go src.Run(context.Background(), sub) // reconnects until the context ends
}
