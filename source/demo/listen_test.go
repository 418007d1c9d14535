package demo

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foreverfm/forever/audio"
)

// TestListen writes the catalogue as 16-bit WAV files, each with its
// ground truth as JSON beside it, into the directory named by
// FOREVER_DEMO_WAV, for listening, spectrograms and outside tools
// (scripts/demo-listen). It is skipped otherwise. FOREVER_DEMO_ONLY limits
// it to IDs containing that string.
func TestListen(t *testing.T) {
	dir := os.Getenv("FOREVER_DEMO_WAV")
	if dir == "" {
		t.Skip("set FOREVER_DEMO_WAV to a directory to write the catalogue as WAV")
	}
	only := os.Getenv("FOREVER_DEMO_ONLY")
	for _, s := range Catalogue() {
		if only != "" && !strings.Contains(s.ID, only) {
			continue
		}
		p := s.Render()
		name := filepath.Join(dir, strings.TrimPrefix(s.ID, "demo:")+".wav")
		if err := writeWAV16(name, p); err != nil {
			t.Fatal(err)
		}
		js, err := json.MarshalIndent(s.Truth(), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(name, ".wav")+".truth.json", js, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s, %.0f BPM, %s, %.1f s, %.1f LUFS", name, s.Title, s.Tempo, s.KeyName(), p.Seconds(), loudness(p.Samples))
	}
}

// writeWAV16 is a minimal 16-bit stereo WAV writer, kept here so this
// package's tests depend on nothing but the PCM type.
func writeWAV16(name string, p *audio.PCM) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	data := uint32(len(p.Samples) * 2)
	le := binary.LittleEndian
	var h [44]byte
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1)
	le.PutUint16(h[22:], 2)
	le.PutUint32(h[24:], audio.SampleRate)
	le.PutUint32(h[28:], audio.SampleRate*4)
	le.PutUint16(h[32:], 4)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], data)
	w.Write(h[:])
	var b [2]byte
	for _, v := range p.Samples {
		x := math.Round(float64(v) * 32767)
		le.PutUint16(b[:], uint16(int16(max(-32768, min(32767, x)))))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
