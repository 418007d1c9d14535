package mix

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"weak"
)

// Finished tracks are released: once the player is past a track, nothing
// in the mixer or player keeps its audio alive.
func TestFinishedTracksAreReleased(t *testing.T) {
	if testing.Short() {
		t.Skip("renders three tracks")
	}
	var refs []weak.Pointer[Track]
	tracks := func(yield func(*Track) bool) {
		for _, s := range []spec{specA, specB, specC} {
			s.dur, s.fadeOut = 90, 85
			tr := s.track(true)
			refs = append(refs, weak.Make(tr))
			if !yield(tr) {
				return
			}
		}
	}
	ctx := context.Background()
	m := New(Options{Logger: slog.New(slog.DiscardHandler)})
	var starts []Info
	p := NewPlayer(ctx, m.Actions(ctx, tracks), PlayerOptions{Prefetch: 1, OnStart: func(i Info) {
		i.Tracks = nil // keep no pointer to the tracks here
		starts = append(starts, i)
	}})
	defer p.Close()
	buf := make([]float32, 2*4096)
	released := false
	for {
		_, err := p.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// After the second transition starts, track A has been done with
		// for a whole playback of B.
		n := 0
		for _, s := range starts {
			if s.Kind == KindCrossmatch || s.Kind == KindCrossfade {
				n++
			}
		}
		if n == 2 && !released {
			runtime.GC()
			runtime.GC()
			if refs[0].Value() != nil {
				t.Fatal("track A is still alive during the transition from B to C")
			}
			released = true
		}
	}
	if !released {
		t.Fatalf("never reached the second transition: %d actions", len(starts))
	}
}
