package stream

import (
	"context"
	"testing"
	"time"

	"github.com/foreverfm/forever/stream/mp3frame"
)

// A year of frames, counted the way release counts them, lands on the
// exact time of its last sample; the wall clock's elapsed time maps to the
// exact number of frames due.
func TestClockExactOverAYear(t *testing.T) {
	const year = 365 * 24 * time.Hour
	frames := samplesIn(year) / FrameSamples
	if want := int64(365*24*3600) * SampleRate / FrameSamples; frames != want {
		t.Fatalf("frames due after a year: %d, want %d", frames, want)
	}
	for _, rate := range []int{44100, 48000, 32000, 22050, 24000, 16000} {
		version := mp3frame.MPEG1
		switch {
		case rate < 32000:
			version = mp3frame.MPEG2
		}
		f, err := mp3frame.Silent(version, 64000, rate, 1)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := mp3frame.ParseHeader(f)
		d := frameTicks(f)
		// Frames of this output in a year, and their ticks added one by one.
		n := int64(365*24*3600) * int64(rate) / int64(h.Samples())
		if n*int64(h.Samples()) != int64(365*24*3600)*int64(rate) {
			t.Fatalf("%d Hz: a year is not a whole number of frames", rate)
		}
		var sent int64
		if rate == SampleRate {
			for range n { // as release adds them
				sent += d
			}
		} else {
			sent = n * d
		}
		if got := tickTime(sent); got != year {
			t.Errorf("%d Hz: a year of frames ends at %v", rate, got)
		}

	}
	// Elapsed time and sample counts round-trip at every scale.
	for n := int64(1); n < frames*FrameSamples; n = n*3 + 7 {
		if got := samplesIn(sampleTime(n)); got != n-1 && got != n {
			t.Errorf("samplesIn(sampleTime(%d)) = %d", n, got)
		}
	}
}

// On a running station each chunk's time is its first frame's index
// times a frame's duration, exactly.
func TestChunkTimesExact(t *testing.T) {
	ts := start(t, &sine{freq: 440}, Options{})
	sub, err := ts.Subscribe("all")
	if err != nil {
		t.Fatal(err)
	}
	ts.waitPCM(t, 60)
	go ts.clock.Step(t, 5*time.Second, ts.batch())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := 0
	for got < 20 {
		chunks, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chunks {
			if want := sampleTime(c.Seq * FrameSamples); c.Time != want {
				t.Errorf("chunk at frame %d: time %v, want %v", c.Seq, c.Time, want)
			}
			got++
		}
	}
}
