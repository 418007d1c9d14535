package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/foreverfm/forever/audio"
)

// ErrEmpty is returned for PCM with no samples at all.
var ErrEmpty = errors.New("analysis: no audio")

// Analyze describes p. It returns an error only for empty input or when
// ctx is done; silence, noise and very short clips get a sensible, if
// sparse, analysis (no beats in silence, for instance).
func Analyze(ctx context.Context, p *audio.PCM) (*Analysis, error) {
	if p == nil || p.Frames() == 0 {
		return nil, ErrEmpty
	}
	// The loudness meter reads the PCM itself; it runs beside the STFT.
	type level struct {
		lufs, peak float64
		err        error
	}
	levelc := make(chan level, 1)
	go func() {
		var l level
		l.lufs, l.peak, l.err = loudness(ctx, p)
		levelc <- l
	}()
	a, err := describe(ctx, p)
	l := <-levelc
	if err == nil {
		err = l.err
	}
	if err != nil {
		return nil, fmt.Errorf("analysis: %w", err)
	}
	a.Loudness, a.TruePeak = l.lufs, l.peak
	a.Energy = energy(a)
	a.Danceability = danceability(a)
	a.sanitize()
	return a, nil
}

// describe computes everything but the loudness.
func describe(ctx context.Context, p *audio.PCM) (*Analysis, error) {
	f, err := extract(ctx, p)
	if err != nil {
		return nil, err
	}
	a := &Analysis{
		Version:       Version,
		Duration:      f.duration,
		SampleRate:    audio.SampleRate,
		TimeSignature: 4,
		Mode:          1,
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rhythm(f, a)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.Segments = segmentize(f)
	a.Key, a.Mode, a.KeyConfidence, a.ModeConfidence = keyOf(chromaSummary(f, 0, f.n))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.Sections = sectionize(f, a)
	a.EndOfFadeIn, a.StartOfFadeOut = fades(f)
	return a, nil
}

// rhythm fills tempo, beats, bars and tatums.
func rhythm(f *features, a *Analysis) {
	est, env := tempoOf(f)
	bpm, bar := est.bpm, est.bar
	a.Tempo, a.TempoConfidence = bpm, est.conf
	if est.conf == 0 {
		return // no pulse at all: silence or a lone event
	}
	per := localPeriods(env, periodOf(bpm))
	frames := trackBeats(env, per)
	bpm, per, frames = twoThirds(env, bpm, per, frames)
	factor, parity := metricalLevel(f, frames, bpm, bar)
	switch factor {
	case 0.5:
		half := frames[:0]
		for i := parity; i < len(frames); i += 2 {
			half = append(half, frames[i])
		}
		frames = half
	case 2:
		for i := range per {
			per[i] /= 2
		}
		frames = trackBeats(env, per)
	}
	frames = steadyGrid(env, per, periodOf(bpm)/factor, frames)
	frames = drumPhase(f, env, frames)
	frames = swingPhase(f.onset, frames)
	times := refineBeats(frames, env)
	if len(times) >= 4 {
		if t := fitTempo(times); t > 0 {
			a.Tempo = t
		}
	}
	a.Beats = beatQuanta(f, times)
	if len(a.Beats) < 2 {
		a.Tempo, a.TempoConfidence, a.Beats = 0, 0, nil
		return
	}
	sig, phase, sconf := meter(f, times)
	a.TimeSignature, a.TimeSignatureConfidence = sig, sconf
	a.Bars = barQuanta(a.Beats, sig, phase, sconf)
	a.Tatums, _ = tatumQuanta(f, a.Beats)
}

// energy is defined in the package documentation.
func energy(a *Analysis) float64 {
	level := clamp01((a.Loudness + 30) / 24)
	var density float64
	if a.Duration > 0 {
		density = clamp01(float64(len(a.Segments)) / a.Duration / 8)
	}
	return clamp01(0.6*level + 0.4*density)
}

// danceability is defined in the package documentation.
func danceability(a *Analysis) float64 {
	if len(a.Beats) < 4 || a.Tempo <= 0 {
		return 0
	}
	var strength, m float64
	for _, b := range a.Beats {
		strength += b.Confidence
		m += b.Duration
	}
	n := float64(len(a.Beats))
	strength /= n
	m /= n
	var ss float64
	for _, b := range a.Beats[:len(a.Beats)-1] {
		ss += (b.Duration - m) * (b.Duration - m)
	}
	cv := math.Sqrt(ss/n) / m
	regular := 1 - clamp01(cv/0.1)
	z := math.Log2(a.Tempo/120) / 0.5
	suits := math.Exp(-0.5 * z * z)
	return clamp01((0.35*strength + 0.35*regular + 0.3*a.TempoConfidence) * (0.5 + 0.5*suits))
}

// sanitize replaces any non-finite number by zero, so that an analysis
// always serialises to JSON.
func (a *Analysis) sanitize() {
	fix := func(x *float64) {
		if math.IsNaN(*x) || math.IsInf(*x, 0) {
			*x = 0
		}
	}
	for _, x := range []*float64{&a.Duration, &a.Tempo, &a.TempoConfidence, &a.TimeSignatureConfidence,
		&a.KeyConfidence, &a.ModeConfidence, &a.Loudness, &a.TruePeak, &a.Energy, &a.Danceability,
		&a.EndOfFadeIn, &a.StartOfFadeOut} {
		fix(x)
	}
	for _, qs := range [][]Quantum{a.Bars, a.Beats, a.Tatums} {
		for i := range qs {
			fix(&qs[i].Start)
			fix(&qs[i].Duration)
			fix(&qs[i].Confidence)
		}
	}
	for i := range a.Segments {
		s := &a.Segments[i]
		for _, x := range []*float64{&s.Start, &s.Duration, &s.Confidence, &s.LoudnessStart, &s.LoudnessMax, &s.LoudnessMaxTime} {
			fix(x)
		}
		for k := range 12 {
			fix(&s.Pitches[k])
			fix(&s.Timbre[k])
		}
	}
	for i := range a.Sections {
		s := &a.Sections[i]
		for _, x := range []*float64{&s.Start, &s.Duration, &s.Confidence, &s.Loudness, &s.Tempo} {
			fix(x)
		}
	}
}

// loudness measures the integrated loudness and true peak of p (EBU R128),
// floored at AbsoluteGate so that silence stays representable in JSON. It
// feeds the meter ten seconds at a time so that ctx can stop it.
func loudness(ctx context.Context, p *audio.PCM) (lufs, peak float64, err error) {
	m, err := NewLoudnessMeter(audio.Channels, audio.SampleRate)
	if err != nil { // cannot happen for forever's fixed format
		return AbsoluteGate, AbsoluteGate, err
	}
	const chunk = 10 * audio.SampleRate * audio.Channels
	for s := p.Samples; len(s) > 0; {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		n := min(chunk, len(s))
		m.Write(s[:n])
		s = s[n:]
	}
	return max(m.Integrated(), AbsoluteGate), max(m.TruePeak(), AbsoluteGate), nil
}

// beatEnvelope mixes the log-flux onset envelope with the energy flux,
// each scaled to unit RMS, for the beat tracker.
func beatEnvelope(f *features, w float64) []float32 {
	if w == 0 {
		return f.onset
	}
	ef := energyFlux(f)
	a, b := rms(f.onset), rms(ef)
	env := make([]float32, f.n)
	for i := range env {
		var v float64
		if a > 0 {
			v += (1 - w) * float64(f.onset[i]) / a
		}
		if b > 0 {
			v += w * float64(ef[i]) / b
		}
		env[i] = float32(v)
	}
	return env
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	if len(x) == 0 {
		return 0
	}
	return math.Sqrt(s / float64(len(x)))
}

// beatMix is the weight of the energy flux in the beat envelope.
const beatMix = 0.5
