package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLegatoTempoFromPitch checks tempoOf's choice of witness on features
// made to order: a melody changing pitch class every period frames at a
// steady level (the chroma), over a band flux that is either shapeless
// noise (nothing in the bands marks the notes: the pitch classes must give
// the tempo) or a pulse of its own at another tempo (which must stand).
func TestLegatoTempoFromPitch(t *testing.T) {
	const (
		period = 26 // frames: about 99 BPM
		other  = 20 // frames: about 129 BPM
		n      = 1800
	)
	build := func(bandPulse bool) *features {
		rng := rand.New(rand.NewPCG(7, 1))
		f := &features{n: n, mel: make([]float32, n*nMel), onset: make([]float32, n), chroma: make([]float32, n*12)}
		for i := range f.mel {
			f.mel[i] = -30
		}
		pc := 0
		for t := range n {
			if t%period == 0 {
				pc = (pc + 1 + rng.IntN(11)) % 12 // never the same class twice
			}
			for k := range 12 {
				f.chroma[t*12+k] = 0.001
			}
			f.chroma[t*12+pc] = 1
			f.onset[t] = 0.1 * rng.Float32()
			if bandPulse && t%other == 0 {
				f.onset[t] = 1
			}
		}
		return f
	}
	near := func(bpm, want float64) bool { return math.Abs(bpm/want-1) <= 0.04 }

	f := build(false)
	band := estimateTempo(f.onset)
	if band.pulse >= weakPulse {
		t.Fatalf("noise band flux repeats %.2f: not the case under test", band.pulse)
	}
	est, env := tempoOf(f)
	if !near(est.bpm, bpmOf(period)) {
		t.Errorf("legato: tempo %.1f BPM, want the melody's %.1f (band flux alone %.1f, pulse %.2f)", est.bpm, bpmOf(period), band.bpm, band.pulse)
	}
	if env[period*10+1] != 0 || env[period*10] <= 0 {
		t.Errorf("legato: beats are not tracked on the pitch flux")
	}

	f = build(true)
	if est, _ := tempoOf(f); !near(est.bpm, bpmOf(other)) {
		t.Errorf("band pulse: tempo %.1f BPM, want the band flux's %.1f", est.bpm, bpmOf(other))
	}
}
