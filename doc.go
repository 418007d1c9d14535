// Package forever turns a pile of music into an endless, beat-matched DJ
// mix and broadcasts it live: Forever.fm, reborn as a Go library.
//
// The work is split into packages that each do one job and compose through
// small values:
//
//   - [github.com/foreverfm/forever/audio] decodes WAV, MP3, FLAC and Ogg
//     Vorbis into one PCM type (44.1 kHz stereo float32) and writes WAV;
//     its sub-package audio/lame encodes MP3 (the only package that needs
//     cgo).
//   - [github.com/foreverfm/forever/analysis] listens to a track and
//     describes it as the Echo Nest did: tempo, beats, bars, tatums,
//     segments with timbre and pitch vectors, sections, key and loudness.
//   - [github.com/foreverfm/forever/tsp] orders tracks so that each flows
//     into the next: a travelling-salesman tour over a track distance.
//   - [github.com/foreverfm/forever/align] finds where the end of one
//     track and the start of the next line up best.
//   - [github.com/foreverfm/forever/mix] renders the transitions (Fadein,
//     Playback, Crossmatch, Crossfade, ...) and runs the endless mixer.
//   - [github.com/foreverfm/forever/stream] encodes the mix once and sends
//     the same MP3 frames to every listener in real time, with JSON,
//     websocket and Prometheus endpoints, and outputs to Icecast and HLS.
//   - [github.com/foreverfm/forever/source] says where tracks come from:
//     folders, playlists, URLs, a SoundCloud-style API, the built-in demo
//     catalogue, and the cache of their analyses.
//
// A radio is these pieces joined by bounded channels:
//
//	tracks -> analysis -> order (tsp) -> mixer -> encoder -> broadcaster
//
// and this package is that radio. A [Radio] is configured by one [Config]
// (where the music is, the cache, the bitrate, the mixer and its
// transition policy, outputs, a logger and a metrics registry, both
// optional), made with [New], started with [Radio.Run] (which returns
// once everything it started has stopped) and served by [Radio.Handler],
// an http.Handler a program mounts in its own mux, under a prefix if it
// likes:
//
//	r, err := forever.New(forever.Config{Source: source.Folder{Dir: "music"}})
//	if err != nil {
//		return err
//	}
//	mux.Handle("/radio/", http.StripPrefix("/radio", r.Handler()))
//	return r.Run(ctx)
//
// The handler serves the listener's page at /, the MP3 stream at
// all.mp3, what is on air at all.json (and live on the info websocket),
// what will air at next.json, /monitor and /metrics. [Radio.State] gives
// the same to a program, and [Config.OnEvent] tells it of each track made
// ready or skipped, each transition planned (with the policy's reason)
// and each action going on air. The transition policy is
// [github.com/foreverfm/forever/mix.Policy], set in Config.Mixer.
//
// examples/radio is the radio as a command: flags in, a Radio out.
//
// Analysing one file:
//
//	a, err := analysis.AnalyzeFile(ctx, "song.mp3")
//	if err != nil {
//		return err
//	}
//	fmt.Printf("%.1f BPM, %d beats, %.1f LUFS\n", a.Tempo, len(a.Beats), a.Loudness)
package forever
