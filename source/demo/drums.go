package demo

import "math"

// kit holds a track's drum one-shots, synthesised once per render and
// then mixed in at every hit.
type kit struct {
	kick, snare, clap, hat, openHat, crash []float32
}

// newKit tunes the kick to the tonic and the snare's shell to the tonic
// or fifth near 200 Hz, as producers do, so the drums do not blur the key.
func newKit(tonic int, kickDecay float64, seed uint64) kit {
	n := noise(seed | 1)
	snareHz := midiHz(float64(54 + mod(tonic-54, 12)))
	if snareHz > 240 {
		snareHz = midiHz(float64(54+mod(tonic-54, 12)) - 5) // the fifth below
	}
	return kit{
		kick:    kickShot(midiHz(float64(28+mod(tonic-4, 12))), kickDecay, &n),
		snare:   snareShot(snareHz, &n),
		clap:    clapShot(&n),
		hat:     hatShot(0.035, 0.5, &n),
		openHat: hatShot(0.28, 0.9, &n),
		crash:   crashShot(&n),
	}
}

func shotLen(seconds float64) []float32 { return make([]float32, int(seconds*sr)) }

// kickShot is a sine swept down from ~170 Hz to the track's tonic (so
// the kick sits in key), with a click on top and gentle saturation.
func kickShot(tonicHz, decay float64, n *noise) []float32 {
	tau := decay / 2.5
	s := shotLen(6 * tau) // to -52 dB
	ph := 0.0
	for i := range s {
		t := float64(i) / sr
		f := tonicHz + (170-tonicHz)*math.Exp(-t/0.032)
		ph += f / sr
		ph -= math.Floor(ph)
		// A held first half, then the decay: a kick has a body, not just a click.
		body := sin2pi(ph) * math.Exp(-math.Max(t-0.5*tau, 0)/tau) * math.Min(t/0.0008, 1)
		click := n.next() * math.Exp(-t/0.0025) * 0.35
		s[i] = float32(math.Tanh(1.6*(body+click)) / math.Tanh(1.6))
	}
	return fadeTail(s)
}

// fadeTail ramps the last 10% of a one-shot to zero, so cutting it short
// never clicks.
func fadeTail(s []float32) []float32 {
	n := len(s) / 10
	for i := range n {
		s[len(s)-1-i] *= float32(i) / float32(n)
	}
	return s
}

// snareShot mixes a two-mode drum tone with high-passed noise for the wires.
func snareShot(hz float64, n *noise) []float32 {
	s := shotLen(0.4)
	var hp svf
	hp.set(1800, 0.7)
	p1, p2 := 0.0, 0.0
	for i := range s {
		t := float64(i) / sr
		p1 += hz * (1 + 0.2*math.Exp(-t/0.01)) / sr
		p2 += 1.5 * hz / sr
		p1 -= math.Floor(p1)
		p2 -= math.Floor(p2)
		tone := 0.55*sin2pi(p1)*math.Exp(-t/0.055) + 0.25*sin2pi(p2)*math.Exp(-t/0.035)
		_, _, h := hp.tick(n.next())
		wires := 0.7 * h * math.Exp(-t/0.085)
		s[i] = float32(0.9 * (tone + wires) * math.Min(t/0.0005, 1))
	}
	return fadeTail(s)
}

// clapShot is band-passed noise in three quick bursts and a tail, the way
// a room of hands smears one clap.
func clapShot(n *noise) []float32 {
	s := shotLen(0.45)
	var bp svf
	bp.set(1250, 1.6)
	for i := range s {
		t := float64(i) / sr
		var e float64
		for _, b := range [...]float64{0, 0.011, 0.022} {
			if t >= b {
				e += math.Exp(-(t - b) / 0.0035)
			}
		}
		if t >= 0.03 {
			e += 0.8 * math.Exp(-(t-0.03)/0.13)
		}
		_, b, _ := bp.tick(n.next())
		s[i] = float32(1.6 * b * e)
	}
	return fadeTail(s)
}

// metal sums square waves at the inharmonic ratios of the TR-808 cymbal
// oscillators: the ring that noise alone lacks.
type metal struct{ ph [6]float64 }

var metalHz = [6]float64{205.3, 304.4, 369.6, 522.7, 540, 800}

func (m *metal) next() float64 {
	var v float64
	for i, f := range metalHz {
		m.ph[i] += f * 1.7 / sr
		m.ph[i] -= math.Floor(m.ph[i])
		if m.ph[i] < 0.5 {
			v++
		} else {
			v--
		}
	}
	return v / 6
}

func hatShot(decay, level float64, n *noise) []float32 {
	s := shotLen(decay*4 + 0.01) // to -35 dB
	// Two high-pass stages: the metal's square waves have partials all
	// the way down, and a hat should carry no pitch that could blur the key.
	var bp, hp, hp2 svf
	bp.set(9500, 1.2)
	hp.set(7000, 0.7)
	hp2.set(5000, 0.7)
	var m metal
	for i := range s {
		t := float64(i) / sr
		x := 0.6*m.next() + 0.7*n.next()
		_, b, _ := bp.tick(x)
		_, _, h := hp.tick(b + 0.3*x)
		_, _, h = hp2.tick(h)
		s[i] = float32(level * 1.4 * h * math.Exp(-t/decay) * math.Min(t/0.0004, 1))
	}
	return fadeTail(s)
}

func crashShot(n *noise) []float32 {
	s := shotLen(3.2)
	var hp, hp2, bp svf
	hp.set(4500, 0.6)
	hp2.set(3000, 0.7)
	bp.set(6500, 0.5)
	var m metal
	for i := range s {
		t := float64(i) / sr
		x := 0.35*m.next() + n.next()
		_, _, h := hp.tick(x)
		_, _, h = hp2.tick(h)
		_, b, _ := bp.tick(h)
		e := 0.6*math.Exp(-t/0.9) + 0.4*math.Exp(-t/0.12)
		s[i] = float32(0.8 * (h + b) * e * math.Min(t/0.001, 1))
	}
	return fadeTail(s)
}

// hit mixes a one-shot into the stereo bus at time t (seconds).
func (r *renderer) hit(shot []float32, t, vel, pan, rev float64) {
	start := frameAt(t)
	if start < 0 || start >= r.frames || vel <= 0 {
		return
	}
	end := min(start+len(shot), r.frames)
	gl, gr := panGains(pan)
	gl *= vel * drumLevel
	gr *= vel * drumLevel
	l, rr, rv := float32(gl), float32(gr), float32(rev*vel)
	shot = shot[:end-start]
	out, send := r.out[2*start:2*end], r.rev[start:end]
	out, send = out[:2*len(shot)], send[:len(shot)] // bounds-check hints
	for i, v := range shot {
		out[2*i] += v * l
		out[2*i+1] += v * rr
		send[i] += v * rv
	}
}

// drumLevel sets the kit against the other instruments.
const drumLevel = 0.7

func frameAt(t float64) int { return int(math.Round(t * sr)) }
