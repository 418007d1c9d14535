package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// writeClicks writes a WAV of a click track at bpm, seconds long.
func writeClicks(t *testing.T, path string, bpm float64, seconds int) {
	t.Helper()
	p := audio.NewPCM(seconds * audio.SampleRate)
	period := int(60 / bpm * audio.SampleRate)
	for i := range p.Frames() {
		k := i % period
		v := float32(0.8 * math.Exp(-float64(k)/300) * math.Sin(float64(k)*0.3))
		p.Samples[2*i], p.Samples[2*i+1] = v, v
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := audio.WriteWAV(f, p); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAnalyzeFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	writeClicks(t, a, 120, 12)
	writeClicks(t, b, 100, 12)
	bad := filepath.Join(dir, "bad.mp3")
	if err := os.WriteFile(bad, []byte("not audio at all"), 0o644); err != nil {
		t.Fatal(err)
	}

	var out, errs bytes.Buffer
	err := analyzeFiles(context.Background(), []string{a, bad, b}, 2, false, &out, &errs, nil)
	if err == nil || !strings.Contains(err.Error(), "1 of 3") {
		t.Errorf("error %v, want one failure of three", err)
	}
	if !strings.Contains(errs.String(), "bad.mp3") {
		t.Errorf("failure does not name the file: %q", errs.String())
	}
	dec := json.NewDecoder(&out)
	for _, want := range []float64{120, 100} {
		var an analysis.Analysis
		if err := dec.Decode(&an); err != nil {
			t.Fatalf("JSON output: %v", err)
		}
		if math.Abs(an.Tempo-want) > 0.04*want || len(an.Beats) == 0 {
			t.Errorf("tempo %.2f with %d beats, want %.0f", an.Tempo, len(an.Beats), want)
		}
	}

	out.Reset()
	if err := analyzeFiles(context.Background(), []string{a}, 1, true, &out, &errs, nil); err != nil {
		t.Fatal(err)
	}
	line := out.String()
	for _, want := range []string{"a.wav", "BPM", "LUFS", "beats", "0:12"} {
		if !strings.Contains(line, want) {
			t.Errorf("summary %q lacks %q", line, want)
		}
	}
}
