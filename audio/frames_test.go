package audio

import (
	"math"
	"testing"
)

func TestPCM16(t *testing.T) {
	p := NewPCM(1000)
	for i := range p.Samples {
		p.Samples[i] = float32(0.9 * math.Sin(float64(i)/7))
	}
	p.Samples[10] = 1.5 // an over: kept, not clipped
	p.Samples[11] = float32(math.NaN())
	c := Compact(p)
	if len(c.Samples) != len(p.Samples) || c.Scale != 1.5 {
		t.Fatalf("%d samples, scale %v", len(c.Samples), c.Scale)
	}
	back := Window(c, 0, c.Frames())
	for i, v := range back.Samples {
		want := p.Samples[i]
		if i == 11 {
			want = 0
		}
		if d := math.Abs(float64(v - want)); d > 1.5/32767 {
			t.Fatalf("sample %d: %v, want %v", i, v, want)
		}
	}
	// Reads at a position, short at the end, nothing past it.
	dst := make([]float32, 2*Channels)
	for _, r := range []FrameReader{p, c} {
		if n := r.ReadFramesAt(dst, 999); n != 1 {
			t.Errorf("%T: %d frames at the last, want 1", r, n)
		}
		if n := r.ReadFramesAt(dst, 1000); n != 0 {
			t.Errorf("%T: %d frames past the end", r, n)
		}
		if n := r.ReadFramesAt(dst, 500); n != 2 || math.Abs(float64(dst[0]-p.Samples[1000])) > 1.5/32767 {
			t.Errorf("%T: %d frames, %v, want %v", r, n, dst[0], p.Samples[1000])
		}
	}
	if w := Window(c, 990, 2000); w.Frames() != 10 {
		t.Errorf("window past the end: %d frames", w.Frames())
	}
}
