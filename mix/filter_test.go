package mix

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/foreverfm/forever/audio"
)

// toneTrack is a track of a stereo sine at freq Hz and amplitude amp, the
// right channel in quadrature with the left.
func toneTrack(freq, amp float64, frames int) *Track {
	p := audio.NewPCM(frames)
	for i := 0; i < frames; i++ {
		w := 2 * math.Pi * freq * float64(i) / audio.SampleRate
		p.Samples[2*i] = float32(amp * math.Sin(w))
		p.Samples[2*i+1] = float32(amp * math.Cos(w))
	}
	return &Track{ID: "tone", Audio: p}
}

// rmsDB reports the RMS level in dB of frames [from, to) of channel ch.
func rmsDB(buf []float32, ch, from, to int) float64 {
	var s float64
	for i := from; i < to; i++ {
		v := float64(buf[2*i+ch])
		s += v * v
	}
	return 10 * math.Log10(s/float64(to-from))
}

// TestBiquadGainOnTones plays tones through each design and compares the
// measured gain with the design's: the cookbook's defining points (-3 dB at
// a pass filter's cutoff, half the shelf gain at its midpoint, the full gain
// at a peak's centre) and the response computed from the coefficients.
func TestBiquadGainOnTones(t *testing.T) {
	cases := []struct {
		d    Biquad
		freq float64
		want float64 // dB, from the cookbook's definitions
		tol  float64
	}{
		{Biquad{Kind: LowPass, Freq: 1000}, 1000, -3.01, 0.05},
		{Biquad{Kind: LowPass, Freq: 1000}, 100, 0, 0.05},
		{Biquad{Kind: LowPass, Freq: 1000}, 8000, -38, 1}, // 12 dB per octave, and more near Nyquist
		{Biquad{Kind: HighPass, Freq: 500}, 500, -3.01, 0.05},
		{Biquad{Kind: HighPass, Freq: 500}, 10000, 0, 0.05},
		{Biquad{Kind: HighPass, Freq: 500}, 125, -24, 1},
		{Biquad{Kind: LowShelf, Freq: 200, Gain: -26}, 200, -13, 0.05},
		{Biquad{Kind: LowShelf, Freq: 200, Gain: -26}, 40, -26, 0.5},
		{Biquad{Kind: LowShelf, Freq: 200, Gain: -26}, 5000, 0, 0.05},
		{Biquad{Kind: HighShelf, Freq: 8000, Gain: 6}, 8000, 3, 0.05},
		{Biquad{Kind: HighShelf, Freq: 8000, Gain: 6}, 200, 0, 0.05},
		{Biquad{Kind: Peaking, Freq: 1000, Gain: -12, Q: 2}, 1000, -12, 0.05},
		{Biquad{Kind: Peaking, Freq: 1000, Gain: -12, Q: 2}, 8000, 0, 0.2},
	}
	const frames = audio.SampleRate // 1 s; the first 0.25 s lets the filter settle
	for _, c := range cases {
		tone := toneTrack(c.freq, 0.5, frames)
		out := renderAll(Filter(Playback(tone, 0, frames, 0), Band{Kind: c.d.Kind, Q: c.d.Q, Freq: Const(c.d.Freq), Gain: Const(c.d.Gain)}), 1000)
		for ch := 0; ch < 2; ch++ {
			got := rmsDB(out, ch, frames/4, frames) - rmsDB(tone.Audio.Samples, ch, frames/4, frames)
			if math.Abs(got-c.want) > c.tol {
				t.Errorf("%v at %g Hz, channel %d: %.2f dB, want %.2f ± %.2f", c.d, c.freq, ch, got, c.want, c.tol)
			}
			if r := c.d.Response(c.freq); math.Abs(got-r) > 0.05 {
				t.Errorf("%v at %g Hz: measured %.2f dB, the design's response %.2f dB", c.d, c.freq, got, r)
			}
		}
	}
}

// TestEQKillsTheBass checks the DJ EQ's low band at full cut against the
// bass swap's aim: kick and bassline (below 150 Hz) at least 17 dB down,
// the voice (1 kHz and up) untouched.
func TestEQKillsTheBass(t *testing.T) {
	for _, c := range []struct{ freq, lo, hi float64 }{
		{50, -27, -24}, {100, -24, -20}, {150, -19, -16}, {1000, -0.2, 0.01}, {4000, -0.05, 0.05},
	} {
		const frames = audio.SampleRate
		tone := toneTrack(c.freq, 0.5, frames)
		out := renderAll(EQ(Playback(tone, 0, frames, 0), Const(EQKill), nil, nil), 4096)
		got := rmsDB(out, 0, frames/4, frames) - rmsDB(tone.Audio.Samples, 0, frames/4, frames)
		if got < c.lo || got > c.hi {
			t.Errorf("EQ with the bass killed at %g Hz: %.2f dB, want [%g, %g]", c.freq, got, c.lo, c.hi)
		}
	}
}

// TestFilterRampIsClickFree sweeps filters quickly over loud tones and
// checks that no sample jumps further from its neighbour than the tone
// itself ever does: a zipper or a click would.
func TestFilterRampIsClickFree(t *testing.T) {
	const frames = audio.SampleRate
	for _, c := range []struct {
		name string
		freq float64
		band Band
	}{
		// A bass swap over a sixteenth note at 128 BPM.
		{"bass cut", 60, Band{Kind: LowShelf, Freq: Const(EQLowFreq), Gain: Ramp(20000, 20000+5168, 0, EQKill)}},
		{"bass in", 60, Band{Kind: LowShelf, Freq: Const(EQLowFreq), Gain: Ramp(20000, 20000+5168, EQKill, 0)}},
		// A low-pass sweep down and back up within a second.
		{"low-pass sweep", 3000, Band{Kind: LowPass, Freq: Automation{{5000, 20000}, {20000, 200}, {40000, 20000}}}},
		{"high-pass sweep", 300, Band{Kind: HighPass, Q: 2, Freq: Automation{{5000, 20}, {30000, 2000}}}},
		{"mid cut", 1000, Band{Kind: Peaking, Q: EQMidQ, Freq: Const(EQMidFreq), Gain: Ramp(10000, 12000, 0, EQKill)}},
	} {
		tone := toneTrack(c.freq, 0.9, frames)
		out := renderAll(Filter(Playback(tone, 0, frames, 0), c.band), 777)
		// The steepest a sine of amplitude a moves per frame is a·ω; allow
		// a tenth over, for the resonance of a Q of 2.
		limit := 0.9 * 2 * math.Pi * c.freq / audio.SampleRate * 1.1
		if c.band.Q > 1 {
			limit *= c.band.Q
		}
		// The tone starts abruptly; the filter settles within 0.1 s.
		for i := 4410; i < frames; i++ {
			for ch := 0; ch < 2; ch++ {
				if d := math.Abs(float64(out[2*i+ch] - out[2*i-2+ch])); d > limit {
					t.Fatalf("%s: a jump of %.4f at frame %d, channel %d, over the tone's %.4f", c.name, d, i, ch, limit)
				}
			}
		}
	}
}

// TestFilterBlockSizeInvariant renders the same automated chain in blocks
// of different sizes and wants the same samples.
func TestFilterBlockSizeInvariant(t *testing.T) {
	const frames = 30000
	tone := toneTrack(220, 0.5, frames)
	mk := func() Action {
		return Filter(Playback(tone, 0, frames, 0),
			Band{Kind: LowPass, Freq: Ramp(1000, 25000, 18000, 300)},
			Band{Kind: LowShelf, Freq: Const(EQLowFreq), Gain: Ramp(5000, 9000, 0, -26)})
	}
	a, b := renderAll(mk(), 1), renderAll(mk(), 4096)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sample %d: %g rendered frame by frame, %g in blocks", i, a[i], b[i])
		}
	}
}

// TestFlatEQIsBitExact wants a flat EQ to leave its input alone.
func TestFlatEQIsBitExact(t *testing.T) {
	const frames = 10000
	tone := toneTrack(440, 0.5, frames)
	out := renderAll(EQ(Playback(tone, 0, frames, 0), Const(0), nil, Const(0)), 512)
	for i, v := range out {
		if v != tone.Audio.Samples[i] {
			t.Fatalf("sample %d: %g, want %g", i, v, tone.Audio.Samples[i])
		}
	}
}

// TestFilterDescribesItself wants the JSON description to carry the inner
// action's and the bands, and the kinds to round-trip.
func TestFilterDescribesItself(t *testing.T) {
	tone := toneTrack(440, 0.5, 1000)
	a := EQ(Playback(tone, 0, 1000, -3), Ramp(0, 500, 0, EQKill), nil, nil)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"kind":"playback"`, `"filter":[{"kind":"lowshelf"`, `"gain_db":[{"frame":0,"value":0},{"frame":500,"value":-26}]`} {
		if !strings.Contains(s, want) {
			t.Errorf("description %s lacks %s", s, want)
		}
	}
	var back struct{ Filter []Band }
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Filter) != 1 || back.Filter[0].Kind != LowShelf || back.Filter[0].Gain.At(250) != -13 {
		t.Errorf("decoded %+v", back.Filter)
	}
	if a.Len() != 1000 || a.Info().Kind != KindPlayback {
		t.Errorf("Len %d, Info %+v", a.Len(), a.Info())
	}
}

// BenchmarkEQ measures a three-band EQ with all bands moving.
func BenchmarkEQ(b *testing.B) {
	const frames = audio.SampleRate
	tone := toneTrack(440, 0.5, frames)
	buf := make([]float32, 2*block)
	b.SetBytes(frames * 8)
	for b.Loop() {
		a := EQ(Playback(tone, 0, frames, 0), Ramp(0, frames, 0, EQKill), Ramp(0, frames, 0, -6), Ramp(0, frames, EQKill, 0))
		for a.Render(buf) > 0 {
		}
	}
}
