package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Multi is a Source of the tracks of several sources, in order, each track
// ID once (the first source to list it wins). A source that fails is
// logged and left out, so that one unreachable playlist does not silence
// the others; Tracks fails only when every source does.
type Multi struct {
	Sources []Source
	// Logger receives a warning for each source that fails; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Tracks lists every source in turn.
func (m Multi) Tracks(ctx context.Context) ([]Track, error) {
	log := m.Logger
	if log == nil {
		log = slog.Default()
	}
	var tracks []Track
	var errs []error
	seen := map[string]bool{}
	for i, s := range m.Sources {
		ts, err := s.Tracks(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			log.Warn("source: leaving out a source that failed", "index", i, "type", fmt.Sprintf("%T", s), "err", err)
			errs = append(errs, err)
			continue
		}
		for _, t := range ts {
			if !seen[t.ID] {
				seen[t.ID] = true
				tracks = append(tracks, t)
			}
		}
	}
	if len(m.Sources) > 0 && len(errs) == len(m.Sources) {
		return nil, fmt.Errorf("source: every source failed: %w", errors.Join(errs...))
	}
	return tracks, nil
}

// Filter returns a Source of the tracks of s for which keep is true.
func Filter(s Source, keep func(Track) bool) Source {
	return filter{s, keep}
}

type filter struct {
	s    Source
	keep func(Track) bool
}

func (f filter) Tracks(ctx context.Context) ([]Track, error) {
	ts, err := f.s.Tracks(ctx)
	if err != nil {
		return nil, err
	}
	out := ts[:0:0]
	for _, t := range ts {
		if f.keep(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Tracks is a Source of a fixed list of tracks.
type Tracks []Track

// Tracks returns a copy of the list.
func (l Tracks) Tracks(ctx context.Context) ([]Track, error) {
	return append([]Track(nil), l...), ctx.Err()
}
