package analysis_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// groove synthesises a drum loop at bpm from patterns of eighth notes over
// a bar of 4/4, one character per eighth ('x' plays): kick, snare, closed
// hat and open hat.
func groove(bpm, seconds float64, kick, snare, hat, openHat string) *audio.PCM {
	const sr = audio.SampleRate
	n := int(seconds * sr)
	p := audio.NewPCM(n)
	rng := rand.New(rand.NewPCG(uint64(bpm), 2))
	add := func(at, dur float64, f func(x float64) float64) {
		a := int(at * sr)
		for j := 0; j < int(dur*sr) && a+j < n; j++ {
			v := float32(f(float64(j) / sr))
			p.Samples[2*(a+j)] += v
			p.Samples[2*(a+j)+1] += v
		}
	}
	kickShot := func(x float64) float64 {
		return 0.8 * math.Sin(2*math.Pi*(50*x+60*(1-math.Exp(-x*30))/30)) * math.Exp(-x*12)
	}
	snareShot := func(x float64) float64 {
		return 0.4 * ((2*rng.Float64()-1)*0.8 + 0.3*math.Sin(2*math.Pi*190*x)) * math.Exp(-x*22)
	}
	// Hats are high-passed noise: each sample minus the one before.
	hatShot := func(decay, amp float64) func(x float64) float64 {
		var last float64
		return func(x float64) float64 {
			v := 2*rng.Float64() - 1
			out := (v - last) * amp * math.Exp(-x*decay)
			last = v
			return out
		}
	}
	eighth := 30 / bpm
	for k := 0; float64(k)*eighth < seconds; k++ {
		at := 0.2 + float64(k)*eighth
		s := k % 8
		if kick[s] == 'x' {
			add(at, 0.4, kickShot)
		}
		if snare[s] == 'x' {
			add(at, 0.2, snareShot)
		}
		if hat[s] == 'x' {
			add(at, 0.05, hatShot(90, 0.1))
		}
		if openHat[s] == 'x' {
			add(at, eighth*0.9, hatShot(8, 0.12))
		}
	}
	return p
}

// TestBackbeatSetsTheTempo checks that the drums, not the prior, choose
// between a tempo and its half when the pattern alone is as periodic at
// both.
func TestBackbeatSetsTheTempo(t *testing.T) {
	for _, c := range []struct {
		name                      string
		bpm                       float64
		kick, snare, hat, openHat string
	}{
		// Kick and snare take turns on every quarter at 200 BPM: the
		// tracker first locks to the kicks, every half note, at 100.
		{"fast rock", 200, "x...x...", "..x...x.", "x.x.x.x.", "........"},
		// A kick on every beat and an open hat between is disco at its own
		// tempo, not a snare halfway.
		{"disco", 105, "x.x.x.x.", "........", "........", ".x.x.x.x"},
		// Four on the floor with the snare on two and four and an open hat
		// on every off-beat, as fast house and hardcore play it: tracked on
		// the snares at half speed, nothing sounds halfway in the hats'
		// band at all.
		{"fast house", 174, "x.x.x.x.", "..x...x.", "........", ".x.x.x.x"},
		// Kick and snare together on every beat and nothing between: no
		// drum takes turns, whatever their balance on the beat.
		{"four claps", 95, "x.x.x.x.", "x.x.x.x.", "........", "........"},
		// A kick on every beat and a snare pushed onto the and of two: the
		// one snare halfway is much softer than the drums on the beats.
		{"pushed snare, slower", 90, "x.x.x.x.", "...x..x.", "x.x.x.x.", "........"},
		{"pushed snare", 100, "x.x.x.x.", "...x..x.", "x.x.x.x.", "........"},
		// The common backbeat at its own tempo stays there.
		{"rock", 100, "x...x...", "..x...x.", "xxxxxxxx", "........"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, err := analysis.Analyze(context.Background(), groove(c.bpm, 30, c.kick, c.snare, c.hat, c.openHat))
			if err != nil {
				t.Fatal(err)
			}
			checkProperties(t, a)
			if math.Abs(a.Tempo-c.bpm) > 0.04*c.bpm {
				t.Errorf("%s at %.0f BPM: tempo %.2f", c.name, c.bpm, a.Tempo)
			}
		})
	}
}

// TestShuffleBeatStartsTheLongNote checks the beat's phase in a shuffle
// whose short note, just before each beat, is the louder: the beat still
// falls on the long one.
func TestShuffleBeatStartsTheLongNote(t *testing.T) {
	const sr, seconds, bpm = audio.SampleRate, 30.0, 120.0
	p := audio.NewPCM(int(seconds * sr))
	n := len(p.Samples) / 2
	note := func(at, dur, amp, hz float64) {
		a := int(at * sr)
		for j := 0; j < int(dur*sr) && a+j < n; j++ {
			x := float64(j) / sr
			env := math.Exp(-x*4) * math.Min(1, x*400) * math.Min(1, (dur-x)*50) // no clicks
			v := float32(amp * math.Sin(2*math.Pi*hz*x) * env)
			p.Samples[2*(a+j)] += v
			p.Samples[2*(a+j)+1] += v
		}
	}
	var beats []float64
	scale := []float64{220, 247, 262, 294, 330, 294, 262, 247}
	for k := 0; ; k++ {
		at := 0.3 + float64(k)*60/bpm
		if at > seconds-1 {
			break
		}
		beats = append(beats, at)
		hz := scale[k%len(scale)]
		// The long note, on the beat, is soft and stops early; the short
		// one, two thirds on, rings on over the next beat.
		note(at, 0.2, 0.15, hz*2)
		note(at+40/bpm, 0.45, 0.6, hz/2)
	}
	a, err := analysis.Analyze(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	checkProperties(t, a)
	if f := fMeasure(beats, starts(a.Beats)); f < 0.9 || math.Abs(a.Tempo-bpm) > 0.04*bpm {
		t.Errorf("shuffle at %.0f BPM: tempo %.2f, beat F-measure %.3f", bpm, a.Tempo, f)
	}
}

// TestSteadySongKeepsItsPhase checks a song played to a click whose
// middle section leaves the beat silent and plays only the off-beats: the
// beats there stay on the song's grid instead of following the off-beats.
func TestSteadySongKeepsItsPhase(t *testing.T) {
	const bpm, seconds = 120.0, 64.0
	rock := groove(bpm, seconds, "x...x...", "..x...x.", "xxxxxxxx", "........")
	offbeats := groove(bpm, seconds, "........", ".x.x.x.x", "........", ".x.x.x.x")
	p := rock
	for i := int(24 * audio.SampleRate * 2); i < int(40*audio.SampleRate*2); i++ {
		p.Samples[i] = offbeats.Samples[i]
	}
	var beats []float64
	for b := 0.2; b < seconds; b += 60 / bpm {
		beats = append(beats, b)
	}
	a, err := analysis.Analyze(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	checkProperties(t, a)
	if f := fMeasure(beats, starts(a.Beats)); f < 0.95 || math.Abs(a.Tempo-bpm) > 0.04*bpm {
		t.Errorf("tempo %.2f, beat F-measure %.3f", a.Tempo, f)
	}
}

// TestOneDropBarsFollowTheHarmony checks the downbeats of a one-drop
// groove, whose kick and snare land together on beat 3 and never on 1: the
// bar starts where the chords change, not where the drums hit.
func TestOneDropBarsFollowTheHarmony(t *testing.T) {
	const bpm, seconds = 80.0, 48.0
	p := groove(bpm, seconds, "....x...", "....x...", "x.x.x.x.", "........")
	const sr = audio.SampleRate
	n := len(p.Samples) / 2
	chord := func(at, dur float64, root int) {
		a := int(at * sr)
		for _, st := range []int{0, 4, 7} {
			hz := 220 * math.Pow(2, float64(root+st)/12)
			for j := 0; j < int(dur*sr) && a+j < n; j++ {
				x := float64(j) / sr
				v := float32(0.06 * math.Sin(2*math.Pi*hz*x) * math.Min(1, x*200) * math.Min(1, (dur-x)*50))
				p.Samples[2*(a+j)] += v
				p.Samples[2*(a+j)+1] += v
			}
		}
	}
	roots := []int{0, 5, 7, 3} // a new chord every bar
	bar := 4 * 60 / bpm
	var downbeats []float64
	for k := 0; 0.2+float64(k)*bar < seconds; k++ {
		at := 0.2 + float64(k)*bar
		downbeats = append(downbeats, at)
		chord(at, bar, roots[k%len(roots)])
	}
	a, err := analysis.Analyze(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	checkProperties(t, a)
	if f := fMeasure(downbeats, starts(a.Bars)); f < 0.9 || a.TimeSignature != 4 {
		t.Errorf("one drop at %.0f BPM: %d/4, downbeat F-measure %.3f", bpm, a.TimeSignature, f)
	}
}

// TestGroupingsInThreeKeepTheBeat checks that a rhythm grouped 3+3+2
// across a bar of 4/4 is counted in the bar's beats, not in its groups of
// three eighths, the most periodic pulse of all. Without a bar's evidence
// the octave stays open.
func TestGroupingsInThreeKeepTheBeat(t *testing.T) {
	for _, c := range []struct{ name, kick, snare string }{
		{"tresillo", "x..x..x.", "........"},
		{"dotted snare", "x.......", "...x..x."},
	} {
		for _, bpm := range []float64{90, 100, 110, 120, 130} {
			a, err := analysis.Analyze(context.Background(), groove(bpm, 30, c.kick, c.snare, "........", "........"))
			if err != nil {
				t.Fatal(err)
			}
			octaves := math.Log2(a.Tempo / bpm)
			if math.Abs(octaves-math.Round(octaves)) > math.Log2(1.04) {
				t.Errorf("%s at %v BPM: tempo %.1f, not the beat or an octave of it", c.name, bpm, a.Tempo)
			}
		}
	}
}
