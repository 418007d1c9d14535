package source

import (
	"errors"
	"fmt"
	"math"

	"github.com/foreverfm/forever/analysis"
)

// Bounds an analysis must keep to be played. They are wide: they reject
// what no music has (a tempo of 1e308, beats running backwards, NaN), not
// what is merely unusual.
const (
	maxSeconds = 1e5 // a 27-hour file
	maxTempo   = 1000
	minLoud    = -200
	maxLoud    = 30
	maxFeature = 1e6 // timbre, pitch and loudness values of a segment
)

// CheckAnalysis says what, if anything, makes a unusable: a number that
// is NaN, infinite or out of its range, or beats, bars, tatums, segments or
// sections that do not run forwards within the track. The Cache checks
// every analysis it reads or makes with it, so a corrupt or hand-edited
// entry is analysed again rather than mixed.
func CheckAnalysis(a *analysis.Analysis) error {
	if a == nil {
		return errors.New("no analysis")
	}
	var errs []error
	in := func(name string, x, lo, hi float64) {
		if !(x >= lo && x <= hi) { // false for NaN too
			errs = append(errs, fmt.Errorf("%s %v is outside [%v, %v]", name, x, lo, hi))
		}
	}
	in("duration", a.Duration, 0, maxSeconds)
	in("sample rate", float64(a.SampleRate), 0, 1e6)
	in("tempo", a.Tempo, 0, maxTempo)
	in("time signature", float64(a.TimeSignature), 0, 64)
	in("key", float64(a.Key), -1, 11)
	in("mode", float64(a.Mode), -1, 1)
	in("loudness", a.Loudness, minLoud, maxLoud)
	in("true peak", a.TruePeak, minLoud, maxLoud)
	for name, x := range map[string]float64{
		"tempo confidence": a.TempoConfidence, "time signature confidence": a.TimeSignatureConfidence,
		"key confidence": a.KeyConfidence, "mode confidence": a.ModeConfidence,
		"energy": a.Energy, "danceability": a.Danceability,
	} {
		in(name, x, -1, 2)
	}
	end := a.Duration + 1
	in("end of fade-in", a.EndOfFadeIn, -1, end)
	in("start of fade-out", a.StartOfFadeOut, -1, end)
	spans := func(name string, n int, span func(i int) (start, dur float64)) {
		prev := math.Inf(-1)
		for i := range n {
			s, d := span(i)
			if !(s >= -1 && s <= end) || !(d >= 0 && s+d <= end+1) {
				errs = append(errs, fmt.Errorf("%s %d (%v + %v s) is outside the track (%v s)", name, i, s, d, a.Duration))
				return
			}
			if s < prev {
				errs = append(errs, fmt.Errorf("%s %d starts at %v s, before the one before it (%v s)", name, i, s, prev))
				return
			}
			prev = s
		}
	}
	for name, qs := range map[string][]analysis.Quantum{"bar": a.Bars, "beat": a.Beats, "tatum": a.Tatums} {
		spans(name, len(qs), func(i int) (float64, float64) { return qs[i].Start, qs[i].Duration })
		for i, q := range qs {
			if !(q.Confidence >= -1 && q.Confidence <= 2) {
				errs = append(errs, fmt.Errorf("%s %d confidence %v", name, i, q.Confidence))
				break
			}
		}
	}
	spans("segment", len(a.Segments), func(i int) (float64, float64) { return a.Segments[i].Start, a.Segments[i].Duration })
	spans("section", len(a.Sections), func(i int) (float64, float64) { return a.Sections[i].Start, a.Sections[i].Duration })
segments:
	for i, s := range a.Segments {
		for k := range 12 {
			if !(math.Abs(s.Timbre[k]) <= maxFeature) || !(math.Abs(s.Pitches[k]) <= maxFeature) {
				errs = append(errs, fmt.Errorf("segment %d: timbre or pitch %d is %v / %v", i, k, s.Timbre[k], s.Pitches[k]))
				break segments
			}
		}
		for _, x := range []float64{s.Confidence, s.LoudnessStart, s.LoudnessMax, s.LoudnessMaxTime} {
			if !(math.Abs(x) <= maxFeature) {
				errs = append(errs, fmt.Errorf("segment %d: a value is %v", i, x))
				break segments
			}
		}
	}
	for i, s := range a.Sections {
		if !(s.Tempo >= 0 && s.Tempo <= maxTempo) || !(s.Loudness >= minLoud && s.Loudness <= maxLoud) || !(math.Abs(s.Confidence) <= 2) {
			errs = append(errs, fmt.Errorf("section %d: tempo %v, loudness %v, confidence %v", i, s.Tempo, s.Loudness, s.Confidence))
			break
		}
	}
	return errors.Join(errs...)
}

// check says what makes s unusable, as CheckAnalysis does for analyses.
func (s Summary) check() error {
	a := &analysis.Analysis{
		Duration: s.Duration, SampleRate: s.SampleRate, Tempo: s.Tempo, TimeSignature: s.TimeSignature,
		Key: s.Key12, KeyConfidence: s.KeyConfidence, Mode: s.Mode, Loudness: s.Loudness,
		Energy: s.Energy, Danceability: s.Danceability,
	}
	for k := range 12 {
		if !(math.Abs(s.TimbreMean[k]) <= maxFeature) || !(s.TimbreSD[k] >= 0 && s.TimbreSD[k] <= maxFeature) {
			return fmt.Errorf("timbre %d is %v ± %v", k, s.TimbreMean[k], s.TimbreSD[k])
		}
	}
	return CheckAnalysis(a)
}
