package demo

import (
	"math"

	"github.com/foreverfm/forever/audio"
)

const sr = float64(audio.SampleRate)

// noise is a xorshift64* generator: cheap enough to call per sample, and
// its sequence depends only on the seed, so renders repeat exactly.
type noise uint64

func (n *noise) next() float64 {
	x := uint64(*n)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*n = noise(x)
	// Top 53 bits to [-1, 1).
	return float64((x*0x2545F4914F6CDD1D)>>11)/(1<<52) - 1
}

// sinTab holds one period of a sine for table lookup; math.Sin per sample
// per oscillator would dominate the render time.
var sinTab = func() (t [sinN + 1]float64) {
	for i := range t {
		t[i] = math.Sin(2 * math.Pi * float64(i) / sinN)
	}
	return t
}()

const sinN = 4096

// sin2pi returns sin(2πph) for ph in [0, 1).
func sin2pi(ph float64) float64 {
	x := ph * sinN
	i := int(x)
	f := x - float64(i)
	return sinTab[i] + f*(sinTab[i+1]-sinTab[i])
}

// polyBLEP smooths the step of a naive saw or square at phase t with
// increment dt, removing most of the aliasing of the discontinuity.
func polyBLEP(t, dt float64) float64 {
	if t < dt {
		t /= dt
		return t + t - t*t - 1
	}
	if t > 1-dt {
		t = (t - 1) / dt
		return t*t + t + t + 1
	}
	return 0
}

type wave uint8

const (
	sawWave wave = iota
	squareWave
	triWave
	sineWave
)

// fill writes the next len(dst) samples of an oscillator of the given
// wave, phase and phase increment into dst. The switch sits outside the
// loops so each is a tight, inlined loop: this is the synthesiser's
// innermost work.
func fill(w wave, ph *float64, dt float64, dst []float64) {
	t := *ph
	switch w {
	case sawWave:
		for i := range dst {
			if t += dt; t >= 1 {
				t--
			}
			dst[i] = 2*t - 1 - polyBLEP(t, dt)
		}
	case squareWave:
		for i := range dst {
			if t += dt; t >= 1 {
				t--
			}
			v := 1.0
			t2 := t + 0.5
			if t >= 0.5 {
				v = -1
				t2 = t - 0.5
			}
			dst[i] = v + polyBLEP(t, dt) - polyBLEP(t2, dt)
		}
	case triWave:
		for i := range dst {
			if t += dt; t >= 1 {
				t--
			}
			if t < 0.5 {
				dst[i] = 4*t - 1
			} else {
				dst[i] = 3 - 4*t
			}
		}
	default:
		for i := range dst {
			if t += dt; t >= 1 {
				t--
			}
			dst[i] = sin2pi(t)
		}
	}
	*ph = t
}

// svf is a trapezoidal state-variable filter (Zavalishin/Simper form):
// stable under fast cutoff modulation, which the envelopes rely on.
type svf struct {
	ic1, ic2   float64
	a1, a2, a3 float64
	k          float64
}

func (f *svf) set(fc, q float64) {
	if fc > 0.45*sr {
		fc = 0.45 * sr
	} else if fc < 10 {
		fc = 10
	}
	g := math.Tan(math.Pi * fc / sr)
	f.k = 1 / q
	f.a1 = 1 / (1 + g*(g+f.k))
	f.a2 = g * f.a1
	f.a3 = g * f.a2
}

// tick filters one sample and returns the low-, band- and high-pass outputs.
func (f *svf) tick(v0 float64) (lp, bp, hp float64) {
	v3 := v0 - f.ic2
	v1 := f.a1*f.ic1 + f.a2*v3
	v2 := f.ic2 + f.a2*f.ic1 + f.a3*v3
	f.ic1 = 2*v1 - f.ic1
	f.ic2 = 2*v2 - f.ic2
	return v2, v1, v0 - f.k*v1 - v2
}

func (f *svf) low(v0 float64) float64 {
	v3 := v0 - f.ic2
	v1 := f.a1*f.ic1 + f.a2*v3
	v2 := f.ic2 + f.a2*f.ic1 + f.a3*v3
	f.ic1 = 2*v1 - f.ic1
	f.ic2 = 2*v2 - f.ic2
	return v2
}

func midiHz(m float64) float64 { return 440 * math.Exp2((m-69)/12) }

// softSat is a cheap saturating curve, linear near zero and bounded by ±1.
func softSat(x float64) float64 { return x / (1 + math.Abs(x)) }

// patch describes a subtractive synth voice: up to three detuned
// oscillators (the outer two spread in stereo), an optional sub-octave
// sine, a resonant low-pass with its own envelope, and an amplitude ADSR.
type patch struct {
	wave    wave
	oscs    int     // 1 to 3
	detune  float64 // cents of the outer oscillators from the centre one
	width   float64 // stereo spread of the outer oscillators, 0 to 1
	sub     float64 // level of a sine one octave down
	attack  float64 // seconds, linear
	decay   float64 // seconds, time constant towards sustain
	sustain float64
	release float64 // seconds to fall 60 dB after the note is let go
	cutoff  float64 // Hz, with the filter envelope closed
	envAmt  float64 // octaves the filter opens at the envelope's peak
	fdecay  float64 // seconds, filter envelope time constant
	q       float64
	vibrato float64 // cents, faded in over the first half second
	drive   float64 // pre-filter gain into softSat; 0 bypasses
	level   float64
	duck    bool // pumped by the kick
}

// note is one scheduled event for a patch.
type note struct {
	midi float64
	// chord, when set, replaces midi: its notes sound together through one
	// envelope and one filter, which is both how a paraphonic synth
	// voices a chord and a third of the work.
	chord      []int
	start      int // frame
	hold       int // frames until release
	vel        float64
	pan        float64 // -1 left .. 1 right
	rev, dly   float64 // send levels
	cut0, cut1 float64 // cutoff multipliers at note start and at release
}

// maxVoices is the most notes a chord note may hold.
const maxVoices = 6

const block = 32 // frames per block: filter, vibrato and cutoff update at this rate

// play renders n through p into the renderer's buses.
func (r *renderer) play(p *patch, n note) {
	if n.start >= r.frames || n.vel <= 0 {
		return
	}
	var freqs [maxVoices]float64
	nv := 1
	freqs[0] = midiHz(n.midi)
	if len(n.chord) > 0 {
		nv = min(len(n.chord), maxVoices)
		for v := range nv {
			freqs[v] = midiHz(float64(n.chord[v]))
		}
	}
	oscs := max(1, min(p.oscs, 3))
	var ratio [3]float64
	var dts, phs [maxVoices][3]float64
	var subDt, subPh [maxVoices]float64
	for i := range oscs {
		c := 0.0
		switch i {
		case 1:
			c = -p.detune
		case 2:
			c = p.detune
		}
		ratio[i] = math.Exp2(c / 1200)
	}
	for v := range nv {
		for i := range oscs {
			dts[v][i] = freqs[v] * ratio[i] / sr
			phs[v][i] = r.rng.Float64()
		}
		subDt[v] = freqs[v] / 2 / sr
	}
	stereo := oscs > 1 && p.width > 0
	// Centre oscillator in both channels, the outer two leaning apart.
	wOut, wIn := (1+p.width)/2, (1-p.width)/2
	norm := 1 / float64(oscs)

	end := min(n.start+n.hold+int(p.release*sr), r.frames)
	relCoef := math.Exp(-6.9 / math.Max(p.release*sr, 1))
	decCoef := math.Exp(-1 / math.Max(p.decay*sr, 1))
	atk := math.Max(p.attack*sr, 1)
	fdecBlock := math.Exp(-block / math.Max(p.fdecay*sr, 1))
	cutMul := n.cut0
	if cutMul == 0 {
		cutMul = 1
	}
	cutEnd := n.cut1
	if cutEnd == 0 {
		cutEnd = cutMul
	}
	cutStep := math.Pow(cutEnd/cutMul, block/math.Max(float64(n.hold), 1))

	gl, gr := panGains(n.pan)
	amp := p.level * n.vel
	var fl, fr svf
	env, fenv := 0.0, 1.0
	velOpen := 0.5 + 0.5*n.vel
	vibPh := 0.0
	var buf [4][block]float64
	var tmp [block]float64
	sends := n.rev != 0 || n.dly != 0
	out, rev, dly, duck := r.out, r.rev, r.dly, r.duck
	for b0 := n.start; b0 < end; b0 += block {
		m := min(block, end-b0)
		k0 := b0 - n.start
		fl.set(p.cutoff*cutMul*math.Exp2(p.envAmt*fenv*velOpen), p.q)
		fr.a1, fr.a2, fr.a3, fr.k = fl.a1, fl.a2, fl.a3, fl.k
		fenv *= fdecBlock
		if k0 < n.hold {
			cutMul *= cutStep
		}
		if p.vibrato > 0 {
			depth := p.vibrato * math.Min(float64(k0)/(0.5*sr), 1)
			v := math.Exp2(depth * sin2pi(vibPh) / 1200)
			vibPh += 5.5 * block / sr
			vibPh -= math.Floor(vibPh)
			for u := range nv {
				for j := range oscs {
					dts[u][j] = freqs[u] * v * ratio[j] / sr
				}
			}
		}
		for j := range oscs {
			fill(p.wave, &phs[0][j], dts[0][j], buf[j][:m])
			for u := 1; u < nv; u++ {
				fill(p.wave, &phs[u][j], dts[u][j], tmp[:m])
				for i, x := range tmp[:m] {
					buf[j][i] += x
				}
			}
		}
		if p.sub > 0 {
			fill(sineWave, &subPh[0], subDt[0], buf[3][:m])
			for u := 1; u < nv; u++ {
				fill(sineWave, &subPh[u], subDt[u], tmp[:m])
				for i, x := range tmp[:m] {
					buf[3][i] += x
				}
			}
		}
		for i := range m {
			k := k0 + i
			switch {
			case k < n.hold && float64(k) < atk:
				env = float64(k) / atk
			case k < n.hold:
				env = p.sustain + (env-p.sustain)*decCoef
			default:
				env *= relCoef
			}
			var l, rr float64
			switch {
			case oscs == 1:
				l = buf[0][i]
			case !stereo:
				l = (buf[0][i] + buf[1][i] + buf[2][i]) * norm
			default:
				c, a, b := buf[0][i], buf[1][i], buf[2][i]
				l = (c + wOut*a + wIn*b) * norm
				rr = (c + wIn*a + wOut*b) * norm
			}
			if p.sub > 0 {
				l += p.sub * buf[3][i]
				rr += p.sub * buf[3][i]
			}
			if p.drive > 0 {
				l = softSat(l * p.drive)
				rr = softSat(rr * p.drive)
			}
			g := env * amp
			fi := b0 + i
			if p.duck {
				g *= float64(duck[fi>>duckShift])
			}
			yl := fl.low(l) * g
			yr := yl
			if stereo {
				yr = fr.low(rr) * g
			}
			out[2*fi] += float32(yl * gl)
			out[2*fi+1] += float32(yr * gr)
			if sends {
				mono := 0.5 * (yl + yr)
				rev[fi] += float32(mono * n.rev)
				dly[fi] += float32(mono * n.dly)
			}
		}
		if k0 >= n.hold && env < 1e-4 {
			break // released and inaudible
		}
	}
}

// panGains is a constant-power pan law normalised to unity at centre.
func panGains(pan float64) (l, r float64) {
	a := (pan + 1) * math.Pi / 4
	return math.Cos(a) * math.Sqrt2, math.Sin(a) * math.Sqrt2
}
