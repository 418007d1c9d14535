package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	p := &piece{group: "recorded", pkg: "pkg", score: filepath.Join(song, "notes.mid"), stems: stems}
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
	p := &piece{group: "midi", pkg: "pkg", score: path}
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

// lmmsProject is an LMMS song at 150 BPM in 4/4 whose one instrument plays
// a short note on each of quarters quarter notes (48 ticks each).
func lmmsProject(quarters int) []byte {
	var notes strings.Builder
	for i := range quarters {
		fmt.Fprintf(&notes, `<note pos="%d" len="12" key="57" vol="100" pan="0"/>`, 48*i)
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0"?>
<!DOCTYPE lmms-project>
<lmms-project version="1.0" creator="LMMS" creatorversion="1.2.2" type="song">
  <head timesig_numerator="4" bpm="150" timesig_denominator="4" mastervol="100" masterpitch="0"/>
  <song>
    <trackcontainer type="song">
      <track type="0" name="Osc" muted="0" solo="0">
        <instrumenttrack vol="100" pan="0" basenote="57" pitch="0" fxch="0" pitchrange="1" usemasterpitch="1">
          <instrument name="tripleoscillator"/>
        </instrumenttrack>
        <pattern pos="0" len="%d" steps="16" muted="0" type="1" name="">%s</pattern>
      </track>
    </trackcontainer>
  </song>
</lmms-project>
`, 48*quarters, notes.String()))
}

// clicks is a rendering: silence, then a click every period seconds from
// start to end, then silence until total.
func clicks(start, end, period, total float64) *audio.PCM {
	p := audio.NewPCM(int(total * audio.SampleRate))
	for t := start; t < end; t += period {
		i := int(t*audio.SampleRate) * audio.Channels
		for k := 0; k < 200*audio.Channels && i+k < len(p.Samples); k++ {
			p.Samples[i+k] = 0.5
		}
	}
	return p
}

// TestPrepareLMMS annotates a rendering with its project's grid where the
// rendering sounds, and leaves out a piece that sounds too briefly.
func TestPrepareLMMS(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name        string
		start, end  float64
		beats       int
		first, last float64
		skip        bool
	}{
		// Sounds from 0.8 s to 40.4 s (its last click's window ends at
		// 40.45 s): the beats of 150 BPM from 0.8 to 40.4.
		{"song", 0.8, 40.5, 100, 0.8, 40.4, false},
		{"jingle", 0, 10, 0, 0, 0, true},
	} {
		project := filepath.Join(dir, c.name+".mmp")
		if err := os.WriteFile(project, lmmsProject(4), 0o644); err != nil {
			t.Fatal(err)
		}
		// The rendering is there already, as from an earlier run: no LMMS
		// needed.
		if err := writeWAV(filepath.Join(dir, "pkg-"+c.name+".wav"), clicks(c.start, c.end, 0.4, c.end+3)); err != nil {
			t.Fatal(err)
		}
		p := &piece{group: "lmms", pkg: "pkg", score: project}
		err := p.prepare(context.Background(), dir)
		if c.skip {
			if err != errSkip {
				t.Errorf("%s: prepare: %v, want errSkip", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b := p.truth.Beats
		if len(b) != c.beats || math.Abs(b[0]-c.first) > 1e-9 || math.Abs(b[len(b)-1]-c.last) > 1e-9 {
			t.Errorf("%s: %d beats from %v to %v, want %d from %v to %v", c.name, len(b), b[0], b[len(b)-1], c.beats, c.first, c.last)
		}
		if math.Abs(p.truth.Tempo-150) > 1e-9 || !p.steady || p.onGrid != 1 || len(p.truth.Downbeats) != 25 {
			t.Errorf("%s: tempo %v, steady %v, on grid %v, %d downbeats", c.name, p.truth.Tempo, p.steady, p.onGrid, len(p.truth.Downbeats))
		}
	}
}

// TestRenderLMMS checks what prepareLMMS relies on: LMMS renders a
// project's first tick at the file's first sample and keeps its tempo.
func TestRenderLMMS(t *testing.T) {
	if _, err := exec.LookPath("lmms"); err != nil {
		t.Skip("lmms not installed")
	}
	dir := t.TempDir()
	project := filepath.Join(dir, "p.mmp")
	if err := os.WriteFile(project, lmmsProject(16), 0o644); err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(dir, "p.wav")
	if err := renderLMMS(context.Background(), wav, project); err != nil {
		t.Fatal(err)
	}
	p, err := audio.DecodeFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	// Note starts: where the signal first rises above a tenth of its peak
	// after 10 ms below it.
	var peak float32
	for _, v := range p.Samples {
		peak = max(peak, v, -v)
	}
	var starts []float64
	quiet := 0
	for i := 0; i < p.Frames(); i++ {
		v := max(p.Samples[2*i], -p.Samples[2*i])
		if v > peak/10 {
			if quiet >= audio.SampleRate/100 || len(starts) == 0 {
				starts = append(starts, float64(i)/audio.SampleRate)
			}
			quiet = 0
		} else {
			quiet++
		}
	}
	if len(starts) != 16 {
		t.Fatalf("%d notes start, at %v; want 16", len(starts), starts)
	}
	for k, s := range starts {
		if math.Abs(s-0.4*float64(k)) > 0.001 {
			t.Errorf("note %d starts at %.4f s, want %.4f", k, s, 0.4*float64(k))
		}
	}
}

func TestSoundingSpan(t *testing.T) {
	from, to := soundingSpan(clicks(1, 3, 0.5, 5))
	if math.Abs(from-1) > 1e-9 || math.Abs(to-2.55) > 1e-9 {
		t.Errorf("span %v-%v, want 1-2.55", from, to)
	}
	if from, to := soundingSpan(audio.NewPCM(audio.SampleRate)); from != 0 || to != 0 {
		t.Errorf("silence sounds from %v to %v", from, to)
	}
}

func TestIsLMMSSong(t *testing.T) {
	for path, want := range map[string]bool{
		"/r/usr/share/lmms/projects/demos/A-Song.mmpz":        true,
		"/r/usr/share/lmms/projects/demos/CapDan/B-Try.mmpz":  true,
		"/r/usr/share/lmms/projects/shorties/Crunk(Demo).mmp": true,
		"/r/usr/share/lmms/projects/templates/default.mpt":    false,
		"/r/usr/share/lmms/projects/tutorials/editing.mmp":    false,
		"/r/usr/share/lmms/projects/demos/readme.txt":         false,
		"/r/usr/share/lmms/presets/demos/not-a-project.mmpz":  false,
	} {
		if got := isLMMSSong(path); got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}
