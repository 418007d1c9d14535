package source_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source"
)

// A radio lists a folder, then decodes each track and gets its analysis,
// from the cache when the same audio was analysed before. A real radio
// passes analysis.Analyze; this example's analyser only measures length.
func Example() {
	music, _ := os.MkdirTemp("", "music")
	defer os.RemoveAll(music)
	for _, name := range []string{"Kraftwerk - Tour.wav", "02. Orbital - Halcyon.wav", "notes.txt"} {
		f, _ := os.Create(filepath.Join(music, name))
		audio.WriteWAV(f, audio.NewPCM(audio.SampleRate)) // a second of silence
		f.Close()
	}
	cacheDir, _ := os.MkdirTemp("", "cache")
	defer os.RemoveAll(cacheDir)

	ctx := context.Background()
	tracks, err := source.Folder{Dir: music}.Tracks(ctx)
	if err != nil {
		log.Fatal(err)
	}
	cache := &source.Cache{Dir: cacheDir}
	measure := func(ctx context.Context, p *audio.PCM) (*analysis.Analysis, error) {
		return &analysis.Analysis{Version: analysis.Version, Duration: p.Seconds()}, nil
	}
	for _, t := range tracks {
		a, pcm, err := cache.Analysis(ctx, t, measure)
		if err != nil {
			log.Printf("skipping %s: %v", t.ID, err) // and play the next one
			continue
		}
		fmt.Printf("%s: %q by %q, %.1f s analysed, %d frames to play\n", t.ID, t.Title, t.Artist, a.Duration, pcm.Frames())
	}
	// Output:
	// 02. Orbital - Halcyon.wav: "Halcyon" by "Orbital", 1.0 s analysed, 44100 frames to play
	// Kraftwerk - Tour.wav: "Tour" by "Kraftwerk", 1.0 s analysed, 44100 frames to play
}
