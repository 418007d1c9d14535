// Package mixtest builds analysed tracks to order, for unit tests of mixing
// logic: a Spec of a tempo, a length and a few bars becomes an Analysis
// whose beats, bars, tatums, segments, sections and loudness agree with
// each other, as a steady track's would, without any audio to decode or
// analyse. A Policy, an Action or a whole Mixer plan can then be tested in
// a few lines and microseconds:
//
//	a := mixtest.Spec{ID: "A", BPM: 120}.Track()
//	b := mixtest.Spec{ID: "B", BPM: 126}.Track()
//	acts := slices.Collect(mix.New(mix.Options{}).Actions(ctx, slices.Values([]*mix.Track{a, b})))
//
// Tracks have no audio unless Spec.Clicks asks for a click on every beat.
package mixtest

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix"
)

// Spec describes a steady track. The zero value is a 3-minute track at 120
// BPM in 4/4 and C major at -14 LUFS.
type Spec struct {
	ID, Title string
	// BPM is the tempo; default 120.
	BPM float64
	// Length is the track's duration; default 3 minutes.
	Length time.Duration
	// BeatsPerBar is the time signature; default 4.
	BeatsPerBar int
	// First is where the first beat (a downbeat) falls.
	First time.Duration
	// FadeIn is where the fade-in ends, default 4 bars; FadeOut how long
	// before the end the fade-out starts, default 8 bars.
	FadeIn, FadeOut time.Duration
	// Loudness is the integrated loudness in LUFS; default -14.
	Loudness float64
	// Key (0 = C ... 11 = B) and Mode (1 major, 0 minor) of the track;
	// Minor sets Mode 0.
	Key   int
	Minor bool
	// SectionBars is the length of a section in bars; default 16.
	SectionBars int
	// Seed picks the timbre pattern, which repeats every 16 beats; tracks
	// of one Seed sound alike, Shift beats apart: the start of a track
	// shifted by k sounds like the beats k later in an unshifted one.
	Seed  uint64
	Shift int
	// Confidence of every beat, bar and tatum; default 0.9.
	Confidence float64
	// Clicks renders audio: a short noise burst on every beat, louder on
	// the downbeats, over silence.
	Clicks bool
}

func (s Spec) withDefaults() Spec {
	if s.BPM <= 0 {
		s.BPM = 120
	}
	if s.Length <= 0 {
		s.Length = 3 * time.Minute
	}
	if s.BeatsPerBar <= 0 {
		s.BeatsPerBar = 4
	}
	bar := time.Duration(float64(s.BeatsPerBar) * 60 / s.BPM * float64(time.Second))
	if s.FadeIn <= 0 {
		s.FadeIn = s.First + 4*bar
	}
	if s.FadeOut <= 0 {
		s.FadeOut = 8 * bar
	}
	if s.Loudness == 0 {
		s.Loudness = -14
	}
	if s.SectionBars <= 0 {
		s.SectionBars = 16
	}
	if s.Confidence <= 0 {
		s.Confidence = 0.9
	}
	if s.Title == "" {
		s.Title = "Track " + s.ID
	}
	return s
}

// Track returns the spec's track, with its analysis and, with Clicks, its
// audio.
func (s Spec) Track() *mix.Track {
	s = s.withDefaults()
	t := &mix.Track{ID: s.ID, Title: s.Title, Artist: "mixtest", Analysis: s.Analysis()}
	if s.Clicks {
		t.Audio = s.clicks(t.Analysis)
	}
	return t
}

// Analysis returns the spec's analysis: a beat every 60/BPM seconds from
// First, bars of BeatsPerBar beats, two tatums a beat, a segment a beat
// with the spec's timbre pattern, the key's triad as its pitches and the
// downbeats loudest, and sections of SectionBars bars.
func (s Spec) Analysis() *analysis.Analysis {
	s = s.withDefaults()
	dur := s.Length.Seconds()
	beat := 60 / s.BPM
	mode := 1
	if s.Minor {
		mode = 0
	}
	a := &analysis.Analysis{
		Version: analysis.Version, Duration: dur, SampleRate: audio.SampleRate,
		Tempo: s.BPM, TempoConfidence: s.Confidence,
		TimeSignature: s.BeatsPerBar, TimeSignatureConfidence: s.Confidence,
		Key: s.Key, KeyConfidence: s.Confidence, Mode: mode, ModeConfidence: s.Confidence,
		Loudness: s.Loudness, TruePeak: s.Loudness + 12, Energy: 0.7, Danceability: 0.7,
		EndOfFadeIn: s.FadeIn.Seconds(), StartOfFadeOut: dur - s.FadeOut.Seconds(),
	}
	rng := rand.New(rand.NewPCG(s.Seed, 7))
	var pattern [16][12]float64
	for i := range pattern {
		for j := range pattern[i] {
			pattern[i][j] = rng.NormFloat64() * 10
		}
	}
	var chroma [12]float64
	third := 4
	if mode == 0 {
		third = 3
	}
	for _, k := range []int{0, third, 7} {
		chroma[(s.Key+k)%12] = 1
	}
	first := s.First.Seconds()
	c := s.Confidence
	for i := 0; first+float64(i+1)*beat <= dur; i++ {
		q := analysis.Quantum{Start: first + float64(i)*beat, Duration: beat, Confidence: c}
		a.Beats = append(a.Beats, q)
		h := beat / 2
		a.Tatums = append(a.Tatums,
			analysis.Quantum{Start: q.Start, Duration: h, Confidence: c},
			analysis.Quantum{Start: q.Start + h, Duration: beat - h, Confidence: c})
		top := s.Loudness + 4
		if i%s.BeatsPerBar == 0 {
			top += 3
			bar := analysis.Quantum{Start: q.Start, Duration: float64(s.BeatsPerBar) * beat, Confidence: c}
			if bar.End() <= dur+1e-9 {
				a.Bars = append(a.Bars, bar)
			}
		}
		a.Segments = append(a.Segments, analysis.Segment{
			Start: q.Start, Duration: q.Duration, Confidence: c,
			LoudnessStart: top - 20, LoudnessMax: top, LoudnessMaxTime: 0.01,
			Pitches: chroma, Timbre: pattern[((i+s.Shift)%16+16)%16],
		})
	}
	for i := 0; i < len(a.Bars); i += s.SectionBars {
		j := min(i+s.SectionBars, len(a.Bars)) - 1
		a.Sections = append(a.Sections, analysis.Section{
			Start: a.Bars[i].Start, Duration: a.Bars[j].End() - a.Bars[i].Start, Confidence: c,
			Loudness: s.Loudness, Tempo: s.BPM, Key: s.Key, Mode: mode, TimeSignature: s.BeatsPerBar,
		})
	}
	return a
}

// clicks renders a noise burst of 20 ms on each of a's beats.
func (s Spec) clicks(a *analysis.Analysis) *audio.PCM {
	p := audio.NewPCM(audio.FrameAt(a.Duration))
	rng := rand.New(rand.NewPCG(s.Seed, 9))
	n := p.Frames()
	for i, b := range a.Beats {
		amp := 0.3
		if i%s.BeatsPerBar == 0 {
			amp = 0.6
		}
		at := audio.FrameAt(b.Start)
		for j := 0; j < 882 && at+j < n; j++ {
			v := float32(amp * math.Exp(-float64(j)/200) * (2*rng.Float64() - 1))
			p.Samples[2*(at+j)] = v
			p.Samples[2*(at+j)+1] = v
		}
	}
	return p
}
