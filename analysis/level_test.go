package analysis

import (
	"math"
	"testing"
)

// TestTwoBeatBarsAreHalfSpeed checks metricalLevel's reading of the bar on
// envelopes made to order: every tracked beat strong, the points halfway
// between them 0.6 as strong, kick and snare together on both (so the
// drums take no turns), and a bar of two or of four tracked beats.
func TestTwoBeatBarsAreHalfSpeed(t *testing.T) {
	const (
		period = 28 // frames: about 92 BPM
		beats  = 48
	)
	bpm := bpmOf(period)
	build := func(halfway float32) (*features, []int) {
		n := period*beats + period
		f := &features{
			lowMid: make([]float32, n), kick: make([]float32, n),
			snare: make([]float32, n), hat: make([]float32, n),
		}
		var frames []int
		for b := range beats {
			at := period/2 + b*period
			frames = append(frames, at)
			for _, x := range [][]float32{f.lowMid, f.kick, f.snare, f.hat} {
				x[at], x[at+period/2] = 1, halfway
			}
		}
		return f, frames
	}
	for _, c := range []struct {
		name    string
		halfway float32
		bar     int
		want    float64
	}{
		{"two-beat bar, busy halfway", 0.6, 2 * period, 2},
		{"four-beat bar, busy halfway", 0.6, 4 * period, 1},
		{"bar unknown", 0.6, 0, 1},
		{"two-beat bar, quiet halfway", 0.1, 2 * period, 1},
	} {
		f, frames := build(c.halfway)
		if got, _ := metricalLevel(f, frames, bpm, c.bar); got != c.want {
			t.Errorf("%s: factor %v, want %v", c.name, got, c.want)
		}
	}
	// Doubled, the tempo must stay one that people play.
	f, frames := build(0.6)
	const fast = 115.0
	if got, _ := metricalLevel(f, frames, fast, int(2*periodOf(fast))); got != 1 {
		t.Errorf("two-beat bar at %.0f BPM: factor %v, want 1", fast, got)
	}
}

// TestThreeBeatsToTwo checks twoThirds on envelopes made to order: two
// pulses in a ratio of three to two, one loud and one soft, with the
// tracker started on the faster. The loud pulse is the beat.
func TestThreeBeatsToTwo(t *testing.T) {
	const (
		fast, slow = 20, 30 // periods in frames: about 129 and 86 BPM
		n          = 64 * slow
	)
	build := func(loudFast bool) []float32 {
		env := make([]float32, n)
		loud, soft := slow, fast
		if loudFast {
			loud, soft = fast, slow
		}
		for i := 0; i < n; i += soft {
			env[i] = 0.4
		}
		for i := 0; i < n; i += loud {
			env[i] = 1
		}
		return env
	}
	for _, c := range []struct {
		name     string
		loudFast bool
		want     float64
	}{
		{"loud slow pulse", false, bpmOf(slow)},
		{"loud fast pulse", true, bpmOf(fast)},
	} {
		env := build(c.loudFast)
		per := localPeriods(env, fast)
		frames := trackBeats(env, per)
		got, gotPer, gotFrames := twoThirds(env, bpmOf(fast), per, frames)
		if math.Abs(got/c.want-1) > 0.01 {
			t.Errorf("%s: tempo %.1f, want %.1f", c.name, got, c.want)
		}
		if len(gotFrames) < 2 || len(gotPer) != n {
			t.Fatalf("%s: %d beats, %d periods", c.name, len(gotFrames), len(gotPer))
		}
		// The beats returned must be the loud pulse's, every one on it.
		for _, b := range gotFrames[1 : len(gotFrames)-1] {
			if env[b] != 1 && env[max(b-1, 0)] != 1 && env[min(b+1, n-1)] != 1 {
				t.Errorf("%s: beat at frame %d is off the loud pulse", c.name, b)
				break
			}
		}
	}
}
