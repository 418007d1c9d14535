package source

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/foreverfm/forever/audio"
)

func TestDecodedReadsByWindow(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "a.wav", makeWAV(44100, 44100, 2))
	tr, err := FileTrack(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tr.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	d, err := Decode(context.Background(), tr, tmp)
	if err != nil {
		t.Fatal(err)
	}
	if d.Frames() != want.Frames() {
		t.Fatalf("%d frames, want %d", d.Frames(), want.Frames())
	}
	var r audio.FrameReader = d
	got := make([]float32, 2*1000)
	for _, at := range []int{0, 12345, want.Frames() - 400} {
		n := r.ReadFramesAt(got, at)
		if wantN := min(1000, want.Frames()-at); n != wantN {
			t.Fatalf("at %d: %d frames, want %d", at, n, wantN)
		}
		for i := range 2 * n {
			if d := math.Abs(float64(got[i] - want.Samples[2*at+i])); d > 1.0/32767 {
				t.Fatalf("at %d, sample %d: %v, want %v", at, i, got[i], want.Samples[2*at+i])
			}
		}
	}
	if r.ReadFramesAt(got, want.Frames()) != 0 {
		t.Error("read past the end")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}
