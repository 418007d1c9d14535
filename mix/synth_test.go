package mix

import (
	"math"
	"math/rand/v2"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// spec describes a hand-made steady track: an analysis with a beat every
// 60/bpm seconds from first, bars of four beats, one segment per beat whose
// timbre repeats with the 16-beat pattern pat (or noise when pat is nil).
type spec struct {
	id              string
	bpm, first      float64
	dur             float64
	fadeIn, fadeOut float64
	loudness        float64
	seed            uint64
	pat             func(beat int) [12]float64
	noBeats         bool
}

func (s spec) analysis() *analysis.Analysis {
	beat := 60 / s.bpm
	a := &analysis.Analysis{
		Version: analysis.Version, Duration: s.dur, SampleRate: audio.SampleRate,
		Tempo: s.bpm, TimeSignature: 4, Loudness: s.loudness,
		EndOfFadeIn: s.fadeIn, StartOfFadeOut: s.fadeOut,
	}
	rng := rand.New(rand.NewPCG(s.seed, 7))
	var noise [16][12]float64
	for i := range noise {
		for j := range noise[i] {
			noise[i][j] = rng.NormFloat64() * 10
		}
	}
	for i := 0; s.first+float64(i+1)*beat <= s.dur; i++ {
		q := analysis.Quantum{Start: s.first + float64(i)*beat, Duration: beat, Confidence: 0.9}
		if !s.noBeats {
			a.Beats = append(a.Beats, q)
			if i%4 == 0 {
				a.Bars = append(a.Bars, analysis.Quantum{Start: q.Start, Duration: 4 * beat, Confidence: 0.9})
			}
		}
		tim := noise[i%16]
		if s.pat != nil {
			tim = s.pat(i)
		}
		a.Segments = append(a.Segments, analysis.Segment{Start: q.Start, Duration: q.Duration, Timbre: tim})
	}
	if n := len(a.Bars); n > 0 && a.Bars[n-1].End() > s.dur {
		a.Bars = a.Bars[:n-1]
	}
	return a
}

// track returns the spec's track, with audio when withAudio is set: a
// decaying noise burst ("kick") on every beat over a quiet chord, different
// per seed, at about -20 LUFS.
func (s spec) track(withAudio bool) *Track {
	t := &Track{ID: s.id, Title: "Track " + s.id, Artist: "Synth", Source: s.id + ".wav", Analysis: s.analysis()}
	if withAudio {
		t.Audio = s.render()
	}
	return t
}

func (s spec) render() *audio.PCM {
	n := int(s.dur * audio.SampleRate)
	p := audio.NewPCM(n)
	rng := rand.New(rand.NewPCG(s.seed, 9))
	f0 := 110 * math.Pow(2, float64(s.seed%12)/12)
	for i := 0; i < n; i++ {
		t := float64(i) / audio.SampleRate
		v := 0.03 * (math.Sin(2*math.Pi*f0*t) + math.Sin(2*math.Pi*f0*1.5*t) + 0.5*math.Sin(2*math.Pi*f0*2.52*t))
		p.Samples[2*i] = float32(v)
		p.Samples[2*i+1] = float32(v * 0.9)
	}
	if s.noBeats {
		return p
	}
	beat := 60 / s.bpm
	for b := 0; s.first+float64(b)*beat < s.dur; b++ {
		at := audio.FrameAt(s.first + float64(b)*beat)
		amp := 0.4
		if b%4 == 0 {
			amp = 0.6
		}
		for j := 0; j < 6000 && at+j < n; j++ {
			env := math.Exp(-float64(j) / 900)
			v := float32(amp * env * (rng.Float64()*2 - 1))
			p.Samples[2*(at+j)] += v
			p.Samples[2*(at+j)+1] += v
		}
	}
	return p
}
