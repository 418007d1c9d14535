package source_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

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

// A radio keeps its catalogue analysed with a Catalog running for the
// life of the station, orders the ready tracks by their summaries, and
// loads a full analysis only for the track it is about to mix.
func ExampleCatalog() {
	music, _ := os.MkdirTemp("", "music")
	defer os.RemoveAll(music)
	for _, name := range []string{"Kraftwerk - Tour.wav", "Orbital - Halcyon.wav", "jingle.wav"} {
		seconds := 3
		if name == "jingle.wav" {
			seconds = 1 // too short to mix
		}
		f, _ := os.Create(filepath.Join(music, name))
		audio.WriteWAV(f, audio.NewPCM(seconds*audio.SampleRate))
		f.Close()
	}
	cacheDir, _ := os.MkdirTemp("", "cache")
	defer os.RemoveAll(cacheDir)

	cat := &source.Catalog{
		Source:     source.Folder{Dir: music},
		Cache:      &source.Cache{Dir: cacheDir},
		MinSeconds: 2,
		// A real radio leaves Analyze nil (analysis.Analyze).
		Analyze: func(_ context.Context, p *audio.PCM) (*analysis.Analysis, error) {
			return &analysis.Analysis{Version: analysis.Version, Duration: p.Seconds(), Tempo: 120}, nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- cat.Run(ctx) }()
	if err := cat.Wait(ctx, 2); err != nil {
		log.Fatal(err)
	}
	for _, r := range cat.Ready() {
		fmt.Printf("%s: %.0f s at %.0f BPM\n", r.Track.Title, r.Summary.Duration, r.Summary.Tempo)
	}
	full, err := cat.Analysis(ctx, "Orbital - Halcyon.wav") // for the track being mixed
	fmt.Println(full.Duration, err)
	for cat.State().Failed == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println(cat.State().Failures[0].ID, "skipped")
	cancel()
	<-done
	// Output:
	// Tour: 3 s at 120 BPM
	// Halcyon: 3 s at 120 BPM
	// 3 <nil>
	// jingle.wav skipped
}
