// Package source says where a radio's tracks come from: folders of audio
// files, playlists, URLs, a SoundCloud-style API, the built-in demo
// catalogue (sub-package demo), and the on-disk cache of their analyses.
//
// Listing is cheap and decoding is not, so the two are apart: a Source's
// Tracks reads only names and tags, and each Track's Open decodes when the
// track is about to be analysed or played. A radio lists its sources,
// analyses the catalogue once through a Cache (Cache.EnsureAll), chooses
// an order, and then, track by track, decodes the audio to play while the
// Cache hands back the stored analysis (Cache.Analysis). Whatever cannot
// be read is an error naming the file or URL, for the radio to log and
// skip; listings log and leave out bad files themselves.
//
// A Catalog does all of that for a radio that runs for months: it relists
// its Source on a period and on fsnotify events, analyses what is new
// within a memory budget, retries what failed with backoff, takes back at
// once what left and returned, and hands the order a compact Summary per
// track, loading a full analysis only for the tracks being mixed.
package source

import (
	"context"

	"github.com/foreverfm/forever/audio"
)

// Track is one playable track and what is known of it before analysis.
type Track struct {
	// ID is stable across runs for the same track (a path, a URL, an API
	// id), so that caches and play histories can refer to it.
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Artist   string   `json:"artist,omitempty"`
	Source   string   `json:"source"`             // where it came from: a path or URL
	Duration float64  `json:"duration,omitempty"` // seconds, when known before decoding
	Tags     []string `json:"tags,omitempty"`

	// Fingerprint, when not empty, changes whenever the track's audio does
	// and is the same for two tracks with the same audio; the analysis
	// cache keys on it. Sources set it when they can do so cheaply, without
	// fetching or decoding: an API's track id and modification time, a
	// generator's name and version. When it is empty the cache hashes the
	// local file named by Source, or else the decoded audio.
	Fingerprint string `json:"fingerprint,omitempty"`

	// Open decodes the track's audio. It is called when the track is about
	// to be analysed or played, not when it is listed.
	Open func(ctx context.Context) (*audio.PCM, error) `json:"-"`
}

// A Source lists the tracks it offers. Sources that change over time (a
// folder being filled, a playlist edited) return the current list on each
// call.
type Source interface {
	Tracks(ctx context.Context) ([]Track, error)
}
