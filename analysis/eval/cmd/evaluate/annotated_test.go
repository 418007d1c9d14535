package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/foreverfm/forever/audio"
)

// chart returns a format-0 MIDI file at 480 ticks per quarter and 150 BPM
// (400000 us per quarter) whose one note sounds for the given ticks.
func chart(ticks uint32) []byte {
	delta := []byte{byte(ticks & 0x7f)}
	for v := ticks >> 7; v > 0; v >>= 7 {
		delta = append([]byte{byte(v&0x7f) | 0x80}, delta...)
	}
	track := []byte{0x00, 0xff, 0x51, 0x03, 0x06, 0x1a, 0x80, 0x00, 0x90, 60, 100}
	track = append(append(track, delta...), 0x80, 60, 0, 0x00, 0xff, 0x2f, 0x00)
	head := []byte{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xe0, 'M', 'T', 'r', 'k', 0, 0, 0, byte(len(track))}
	return append(head, track...)
}

// TestPrepareRecorded mixes the stems of a chart-annotated song and reads
// its truth from the chart.
func TestPrepareRecorded(t *testing.T) {
	dir := t.TempDir()
	song := filepath.Join(dir, "My Song")
	if err := os.MkdirAll(song, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(song, "notes.mid"), chart(80*480), 0o644); err != nil {
		t.Fatal(err)
	}
	// A longer backing stem and a shorter guitar stem, both at 0.4, so
	// that the sum (0.8 where both play) needs no scaling.
	for name, secs := range map[string]float64{"song.ogg": 2, "guitar.ogg": 1} {
		p := audio.NewPCM(int(secs * audio.SampleRate))
		for i := range p.Samples {
			p.Samples[i] = 0.4
		}
		// The decoder goes by content, not by name: WAV bytes under the
		// stems' names are enough here.
		if err := writeWAV(filepath.Join(song, name), p); err != nil {
			t.Fatal(err)
		}
	}
	stems := stemsOf(song)
	if len(stems) != 2 {
		t.Fatalf("stems %v", stems)
	}
	p := &piece{group: "recorded", pkg: "pkg", midi: filepath.Join(song, "notes.mid"), stems: stems}
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	if err := p.prepare(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if p.name != "My Song" || filepath.Base(p.wav) != "pkg-My_Song.wav" {
		t.Errorf("name %q, file %q", p.name, p.wav)
	}
	if math.Abs(p.truth.Tempo-150) > 1e-3 || len(p.truth.Beats) != 80 || !p.steady || p.truth.Key != -1 || p.onGrid != 1 {
		t.Errorf("truth: tempo %v, %d beats, steady %v, key %d, on grid %v", p.truth.Tempo, len(p.truth.Beats), p.steady, p.truth.Key, p.onGrid)
	}
	mix, err := audio.DecodeFile(p.wav)
	if err != nil {
		t.Fatal(err)
	}
	if got := mix.Seconds(); math.Abs(got-2) > 0.01 {
		t.Errorf("mix lasts %v s, want the longer stem's 2 s", got)
	}
	first, last := mix.Samples[1000], mix.Samples[len(mix.Samples)-1000]
	if math.Abs(float64(first)-0.8) > 0.01 || math.Abs(float64(last)-0.4) > 0.01 {
		t.Errorf("mix levels %v where both stems play, %v after the guitar ends; want 0.8 and 0.4", first, last)
	}
}

// TestPrepareShort leaves out jingles.
func TestPrepareShort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jingle.mid")
	if err := os.WriteFile(path, chart(16*480), 0o644); err != nil { // 6.4 s
		t.Fatal(err)
	}
	p := &piece{group: "midi", pkg: "pkg", midi: path}
	if err := p.prepare(context.Background(), dir); err != errSkip {
		t.Errorf("prepare: %v, want errSkip", err)
	}
}

// TestCheckRender refuses a rendering shorter than the piece: such a file
// would be scored as a silent analysis against real beats.
func TestCheckRender(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		seconds float64
		ok      bool
	}{
		{"empty", 0, false},
		{"cut short", 20, false},
		{"whole", 31, true},
	} {
		wav := filepath.Join(dir, c.name+".wav")
		if err := os.WriteFile(wav, make([]byte, 44+int(c.seconds*renderedBytesPerSecond)), 0o644); err != nil {
			t.Fatal(err)
		}
		err := checkRender(wav, "piece.mid", 30)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %v", c.name, err, c.ok)
		}
	}
}
