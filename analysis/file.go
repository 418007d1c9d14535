package analysis

import (
	"context"
	"fmt"
	"io"

	"github.com/foreverfm/forever/audio"
)

// AnalyzeFile decodes the audio file at path (any format audio.DecodeFile
// reads) and analyses it. Errors name the file.
func AnalyzeFile(ctx context.Context, path string) (*Analysis, error) {
	p, err := audio.DecodeFile(path)
	if err != nil {
		return nil, fmt.Errorf("analysis: %w", err)
	}
	a, err := Analyze(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// AnalyzeReader decodes r as format ("wav", "mp3", "flac" or "ogg") and
// analyses it.
func AnalyzeReader(ctx context.Context, r io.Reader, format string) (*Analysis, error) {
	p, err := audio.Decode(r, format)
	if err != nil {
		return nil, fmt.Errorf("analysis: %w", err)
	}
	return Analyze(ctx, p)
}
