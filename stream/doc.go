// Package stream broadcasts forever's mix as MP3 to many listeners at once.
//
// A Station reads PCM (44.1 kHz stereo float32, interleaved) from the mixer,
// encodes it once per output bitrate, cuts the encoder's output into whole
// MP3 frames, and releases those frames at real-time pace into a ring that
// every listener reads from: a listener is only a position in the ring, so
// ten thousand listeners cost ten thousand positions and sockets, not ten
// thousand copies. The clock corrects its own drift against the wall clock,
// and when the mixer falls behind the station sends silence rather than
// stopping, so listeners stay connected.
//
// The station knows which PCM sample is on air, so the actions the mixer
// announces (what is playing, what comes next) switch in /all.json, on the
// /info websocket and in the ICY StreamTitle when listeners actually hear
// them, not when the mixer rendered them.
//
// A page can learn which part of the stream its audio element plays: it
// opens /all.mp3?sid=SID with a random SID (letters, digits, '-', '_'; up
// to 64), and /all.json?sid=SID (or the /info websocket's first message,
// opened with the same ?sid=) then carries a "session" whose start_frame,
// start_sample and start (seconds) say where that connection's first byte
// is on the stream clock. A player t seconds into its audio is at start+t,
// the timeline of "position" and of each action's "start"; the page
// measures its own delay from that. The station remembers the last 4,096
// sids for a day.
//
// The station says when it is not sending music: Station.OnAir reports
// the state (music, silence for want of audio, or fallback when the
// application said, with SetFallback, that its source is a stand-in), the
// reason and the seconds of silence sent, as /all.json's "on_air",
// /monitor and /metrics do. Relays (stream/icecast, stream/hls) report
// their failures through Station.Relay, shown on /monitor and counted in
// /metrics.
//
// Handlers are plain net/http handlers for the caller's mux:
//
//	st, err := stream.New(mixerPCM, stream.Options{NewEncoder: newLAME})
//	go st.Run(ctx)
//	mux.Handle("/", st.Handler()) // /all.mp3, /all.json, /info, /monitor, /metrics
//	mux.Handle("/radio/", http.StripPrefix("/radio", st.Handler())) // or under a prefix
//	srv := stream.NewServer("localhost:8000", mux)
//
// The handlers compose with the caller's middleware: the stream's headers
// go out through the ResponseWriter (so headers a middleware set are kept,
// and an HTTP/1.1 client gets an HTTP/1.1 answer, unchunked, as ICY players
// expect), paths in /all.json carry the prefix the handler is mounted
// under, Options.AllowOrigins opens every endpoint to other origins' pages,
// and metrics are registered only on a registry the caller passes. The
// station logs to Options.Logger, nothing when it is nil.
//
// Behind a reverse proxy, Options.TrustedProxies names the proxies whose
// forwarding headers give the client's address (for MaxConnsPerAddr, the
// logs and /monitor, which a proxied request opens only with the token);
// stream/README.md has nginx and Caddy configurations.
//
// The MP3 encoder is supplied by the caller (see Encoder), so this package
// builds without cgo; forever's is audio/lame. Station.Subscribe follows an
// output from the inside, for relays: the sub-packages push the same
// frames further, stream/icecast to an Icecast2 server and stream/hls into
// an HLS playlist for any web server or CDN. stream/mp3frame is the frame
// parser.
//
// On Linux a listener costs its socket and a few hundred bytes of state:
// after the headers, the connection is taken from net/http and served by
// the output's writers (one goroutine per CPU), which write every listener
// in one pass per batch (BatchFrames, 0.2 s by default) with a
// non-blocking writev from the shared chunks; elsewhere each listener has a
// goroutine. examples/loadtest measures how many one machine holds (about
// 5 KiB of memory per listener at 10,000, all within one batch of each
// other, on the 2-core development machine).
package stream
