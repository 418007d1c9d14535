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
// examples/radio is a small program that does exactly that; read it as the
// reference for wiring the packages together in your own program.
//
// Analysing one file:
//
//	a, err := analysis.AnalyzeFile(ctx, "song.mp3")
//	if err != nil {
//		return err
//	}
//	fmt.Printf("%.1f BPM, %d beats, %.1f LUFS\n", a.Tempo, len(a.Beats), a.Loudness)
package forever
