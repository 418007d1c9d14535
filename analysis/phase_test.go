package analysis

import (
	"slices"
	"testing"
)

// TestDrumsHoldThePhase checks drumPhase on envelopes made to order: an
// off-beat as loud as the beat in the tracker's envelope, and the kick and
// snare on the beat only.
func TestDrumsHoldThePhase(t *testing.T) {
	const (
		period = 40
		beats  = 32
	)
	n := period*beats + period
	f := &features{kick: make([]float32, n), snare: make([]float32, n)}
	env := make([]float32, n)
	var onBeat, offBeat []int
	for b := range beats {
		at := period/2 + b*period
		onBeat = append(onBeat, at)
		offBeat = append(offBeat, at+period/2)
		env[at], env[at+period/2] = 1, 0.95
		if b%2 == 0 {
			f.kick[at] = 1
		} else {
			f.snare[at] = 1
		}
	}
	// Tracked on the off-beat, the beats move onto the drums.
	got := drumPhase(f, env, offBeat)
	want := onBeat[1:]
	if !slices.Equal(got[:len(want)], want) {
		t.Errorf("tracked on the off-beat: beats at %v, want %v", got[:4], want[:4])
	}
	// On the beat already, they stay.
	if got := drumPhase(f, env, onBeat); !slices.Equal(got, onBeat) {
		t.Errorf("tracked on the beat: beats moved to %v", got[:4])
	}
	// An off-beat the envelope rates clearly weaker is no off-beat the
	// tracker could have taken for the beat: the drums are not asked.
	for _, at := range offBeat {
		env[at] = 0.5
	}
	for b, at := range onBeat {
		f.kick[at], f.snare[at] = 0, 0
		if b%2 == 0 {
			f.kick[at+period/2] = 1
		} else {
			f.snare[at+period/2] = 1
		}
	}
	if got := drumPhase(f, env, onBeat); !slices.Equal(got, onBeat) {
		t.Errorf("drums off the envelope's clear beat: beats moved to %v", got[:4])
	}
}
