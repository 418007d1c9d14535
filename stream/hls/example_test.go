package hls_test

import (
	"context"
	"log"
	"net/http"

	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/hls"
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
	w := &hls.Writer{Dir: "/var/lib/forever/hls"}
	go w.Run(context.Background(), sub)
	// Any web server can serve the directory; this one serves only the
	// playlist and segments.
	http.Handle("/hls/", http.StripPrefix("/hls", hls.Handler(w.Dir)))
}
