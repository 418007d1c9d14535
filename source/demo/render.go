package demo

import (
	"context"
	"math"
	"math/rand/v2"
)

var scales = [2][7]int{
	Minor: {0, 2, 3, 5, 7, 8, 10}, // natural minor
	Major: {0, 2, 4, 5, 7, 9, 11},
}

// duckShift sets the resolution of the sidechain gain: one value per 64
// frames (1.5 ms) is finer than any pump and keeps the buffer small.
const duckShift = 6

type barInfo struct {
	kind     SectionKind
	pos, n   int // bar within its section, and the section's length
	secStart int // first bar of the section
}

type renderer struct {
	s      Spec
	st     style
	spb    float64 // seconds per beat
	frames int
	bars   []barInfo
	scale  [7]int
	kit    kit

	out  []float32 // stereo mix
	rev  []float32 // mono reverb send
	dly  []float32 // mono delay send
	duck []float32 // sidechain gain, one per 1<<duckShift frames

	rng *rand.Rand // oscillator phases and melody: fixed call order
	hum *rand.Rand // humanisation, separate so it cannot shift the melody

	raw bool // skip the master gain and limiter (tests measuring stems)

	pad, bass patch // per-track variants of padPatch and bassPatch
}

func newRenderer(s Spec) *renderer {
	r := &renderer{
		s:      s,
		st:     s.style,
		spb:    s.BeatSeconds(),
		frames: s.Frames(),
		scale:  scales[s.Mode&1],
		rng:    rand.New(rand.NewPCG(s.Seed, 0x666f7265766572)),
		hum:    rand.New(rand.NewPCG(s.Seed, 0x68756d616e)),
	}
	if r.st.barsPerChord <= 0 {
		r.st.barsPerChord = 2
	}
	if len(r.st.prog) == 0 {
		r.st.prog = []int{0, 3, 4, 0}
	}
	if r.st.kickDecay <= 0 {
		r.st.kickDecay = 0.3
	}
	r.pad, r.bass = padPatch, bassPatch
	if r.st.warm {
		r.pad.wave, r.pad.level, r.pad.cutoff = triWave, 1.4*r.pad.level, 1.5*r.pad.cutoff
		r.bass.wave, r.bass.drive, r.bass.level = triWave, 0, 0.7*r.bass.level
	}
	for _, sec := range s.Sections {
		start := len(r.bars)
		for i := range max(sec.Bars, 0) {
			r.bars = append(r.bars, barInfo{kind: sec.Kind, pos: i, n: sec.Bars, secStart: start})
		}
	}
	r.out = make([]float32, 2*r.frames)
	r.rev = make([]float32, r.frames)
	r.dly = make([]float32, r.frames)
	r.duck = make([]float32, r.frames>>duckShift+1)
	for i := range r.duck {
		r.duck[i] = 1
	}
	r.kit = newKit(s.Key, r.st.kickDecay, s.Seed*0x9E3779B97F4A7C15+1)
	return r
}

func mod(a, m int) int { return ((a % m) + m) % m }

// stepTime is the time of sixteenth step (0-15) of bar, with swing on the
// off-sixteenths. Beats (steps 0, 4, 8, 12) are never swung, so the ground
// truth stays exact.
func (r *renderer) stepTime(bar, step int) float64 {
	t := r.s.Offset + (float64(bar)*16+float64(step))*r.spb/4
	if step%2 == 1 {
		t += r.st.swing * r.spb / 4
	}
	return t
}

func (r *renderer) stepFrames(steps float64) int { return int(steps * r.spb / 4 * sr) }

// degree is the scale degree of the chord sounding in bar b: progressions
// restart at every section, so each section opens on the tonic.
func (r *renderer) degree(b int) int {
	bi := r.bars[b]
	return r.chordAt(b - bi.secStart)
}

func (r *renderer) chordAt(barInSection int) int {
	return r.st.prog[(barInSection/r.st.barsPerChord)%len(r.st.prog)]
}

// pitch converts a scale step (0 = tonic, 7 = the octave) to MIDI, given
// the MIDI note of the tonic.
func (r *renderer) pitch(tonic, step int) int {
	return tonic + 12*floorDiv(step, 7) + r.scale[mod(step, 7)]
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// tonicNear returns the MIDI note of the key's tonic in [lo, lo+12).
func (r *renderer) tonicNear(lo int) int { return lo + mod(r.s.Key-lo, 12) }

// Layers, for rendering stems in tests.
const (
	layerDrums = 1 << iota
	layerBass
	layerHarmony
	layerLead
	layerFX
	allLayers = layerDrums | layerBass | layerHarmony | layerLead | layerFX
)

// render runs the selected layers, checking ctx between them (each takes
// a fraction of a second).
func (r *renderer) render(ctx context.Context, layers int) ([]float32, error) {
	stages := []struct {
		layer int
		run   func()
	}{
		{layerDrums, r.drums}, // first: the kicks carve the sidechain the others follow
		{layerBass, r.bassLine},
		{layerHarmony, r.harmony},
		{layerLead, r.melody},
		{layerFX, r.risers},
		{layerFX, r.ending},
	}
	for _, st := range stages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if layers&st.layer != 0 {
			st.run()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mixdown()
	return r.out, nil
}

// Patches. Levels are set by ear-free arithmetic: each instrument's
// typical RMS sits a few dB under the kick's.
var (
	bassPatch = patch{wave: sawWave, oscs: 1, sub: 0.7, attack: 0.003, decay: 0.25, sustain: 0.75, release: 0.06,
		cutoff: 180, envAmt: 2.6, fdecay: 0.12, q: 1.1, drive: 1.5, level: 0.65, duck: true}
	padPatch = patch{wave: sawWave, oscs: 3, detune: 11, width: 0.85, attack: 0.35, decay: 1.2, sustain: 0.8, release: 1.0,
		cutoff: 700, envAmt: 1.0, fdecay: 1.0, q: 0.8, level: 0.42, duck: true}
	stabPatch = patch{wave: sawWave, oscs: 3, detune: 8, width: 0.6, attack: 0.002, decay: 0.12, sustain: 0.0, release: 0.12,
		cutoff: 500, envAmt: 3.2, fdecay: 0.09, q: 1.4, level: 0.6, duck: true}
	arpPatch = patch{wave: sawWave, oscs: 1, attack: 0.001, decay: 0.12, sustain: 0, release: 0.08,
		cutoff: 700, envAmt: 3, fdecay: 0.08, q: 1.2, level: 0.3}
	leadPatches = [...]patch{
		squareLead: {wave: squareWave, oscs: 2, detune: 5, attack: 0.005, decay: 0.3, sustain: 0.6, release: 0.18,
			cutoff: 1100, envAmt: 2, fdecay: 0.25, q: 1, vibrato: 12, level: 0.32},
		sawLead: {wave: sawWave, oscs: 3, detune: 9, width: 0.5, attack: 0.006, decay: 0.35, sustain: 0.65, release: 0.2,
			cutoff: 1400, envAmt: 1.6, fdecay: 0.3, q: 0.9, vibrato: 10, level: 0.6},
		bellLead: {wave: triWave, oscs: 2, detune: 4, attack: 0.002, decay: 0.35, sustain: 0.25, release: 0.6,
			cutoff: 3500, envAmt: 1.5, fdecay: 0.15, q: 0.8, level: 0.6},
	}
)

type hitStep struct {
	step int
	vel  float64
}

func (r *renderer) drums() {
	k := &r.kit
	for b, bi := range r.bars {
		var kick, snare, hats, open, fill bool
		switch bi.kind {
		case Intro:
			kick, hats = true, true
			snare = bi.pos >= bi.n/2
		case Verse:
			kick, snare, hats, fill = true, true, true, true
		case Chorus, Drop:
			kick, snare, hats, open, fill = true, true, true, true, true
		case Build:
			r.roll(b, bi)
			continue
		case Outro:
			kick = true
			hats = bi.pos < bi.n-2 || bi.n <= 2
			snare = bi.pos < bi.n/2
			fill = snare
		}
		if bi.pos == 0 && (bi.kind == Verse || bi.kind == Chorus || bi.kind == Drop || bi.kind == Outro) {
			r.hit(k.crash, r.stepTime(b, 0), 0.55, -0.3, 0.25)
		}
		var kicks, snares, closed, opens []hitStep
		switch r.st.drums {
		case fourFloor:
			kicks = []hitStep{{0, 1}, {4, 1}, {8, 1}, {12, 1}}
			snares = []hitStep{{4, 0.85}, {12, 0.85}}
			closed = []hitStep{{2, 0.8}, {6, 0.8}, {10, 0.8}, {14, 0.8}}
			if open {
				closed = append(closed, hitStep{1, 0.3}, hitStep{3, 0.35}, hitStep{5, 0.3}, hitStep{7, 0.35},
					hitStep{9, 0.3}, hitStep{11, 0.35}, hitStep{13, 0.3}, hitStep{15, 0.35})
				opens = []hitStep{{2, 0.55}, {6, 0.55}, {10, 0.55}, {14, 0.55}}
			}
		case breakbeat:
			kicks = []hitStep{{0, 1}, {10, 0.9}}
			if b%2 == 1 {
				kicks = append(kicks, hitStep{8, 0.8})
			}
			snares = []hitStep{{4, 0.95}, {12, 0.95}, {7, 0.22}, {15, 0.2}}
			closed = []hitStep{{0, 0.7}, {2, 0.5}, {4, 0.7}, {6, 0.5}, {8, 0.7}, {10, 0.5}, {12, 0.7}, {14, 0.5}}
			if open {
				opens = []hitStep{{14, 0.5}}
				closed = append(closed, hitStep{5, 0.25}, hitStep{11, 0.25})
			}
		case backbeat:
			kicks = []hitStep{{0, 1}, {8, 0.9}}
			if b%2 == 1 {
				kicks = append(kicks, hitStep{10, 0.75})
			}
			snares = []hitStep{{4, 1}, {12, 1}}
			for s := range 16 {
				v := [4]float64{0.7, 0.3, 0.5, 0.3}[s%4]
				closed = append(closed, hitStep{s, v})
			}
			if open {
				opens = []hitStep{{14, 0.45}}
			}
		}
		if fill && bi.pos%8 == 7 {
			snares = append(snares, hitStep{13, 0.5}, hitStep{14, 0.65}, hitStep{15, 0.8})
		}
		if kick {
			for _, h := range kicks {
				r.kick(r.stepTime(b, h.step), h.vel)
			}
		}
		if snare {
			for _, h := range snares {
				t := r.stepTime(b, h.step)
				if r.st.drums == fourFloor && h.vel > 0.6 {
					r.hit(k.clap, t, 0.7*h.vel, 0.05, 0.2)
				}
				r.hit(k.snare, t, h.vel*0.8, 0, 0.15)
			}
		}
		if hats {
			for _, h := range closed {
				if hasStep(opens, h.step) {
					continue
				}
				// Humanise the hats between the beats only: onsets on
				// the beat stay where the ground truth says.
				var jit float64
				if h.step%4 != 0 {
					jit = (r.hum.Float64() - 0.5) * 0.003
				}
				vel := h.vel * (0.9 + 0.2*r.hum.Float64())
				r.hit(k.hat, r.stepTime(b, h.step)+jit, 0.8*vel, 0.3, 0.05)
			}
			for _, h := range opens {
				r.hit(k.openHat, r.stepTime(b, h.step), 0.7*h.vel, 0.35, 0.08)
			}
		}
	}
}

func hasStep(hs []hitStep, step int) bool {
	for _, h := range hs {
		if h.step == step {
			return true
		}
	}
	return false
}

// kick places a kick and carves the sidechain dip that pads and bass follow.
func (r *renderer) kick(t, vel float64) {
	r.hit(r.kit.kick, t, vel, 0, 0.03)
	depth := r.st.duck * vel
	if depth <= 0 {
		return
	}
	start := frameAt(t)
	n := 15435 // 350 ms
	for f := 0; f < n; f += 1 << duckShift {
		i := (start + f) >> duckShift
		if i < 0 || i >= len(r.duck) {
			continue
		}
		x := float64(f) / sr
		g := 1 - depth*math.Exp(-x/0.1)
		if x < 0.004 { // a short ramp down, so the dip does not click
			g = 1 - depth*x/0.004
		}
		if float32(g) < r.duck[i] {
			r.duck[i] = float32(g)
		}
	}
}

// roll is the build's drums: kick on the beat for the first half, a snare
// roll doubling in speed, and everything swelling towards the drop.
func (r *renderer) roll(b int, bi barInfo) {
	frac := float64(bi.pos) / float64(bi.n)
	every := 4
	switch {
	case bi.pos == bi.n-1:
		every = 1
	case bi.pos >= bi.n/2:
		every = 2
	}
	for s := 0; s < 16; s += every {
		f := frac + float64(s)/16/float64(bi.n)
		r.hit(r.kit.snare, r.stepTime(b, s), 0.25+0.6*f, 0, 0.25)
	}
	if bi.pos < bi.n/2 {
		for s := 0; s < 16; s += 4 {
			r.kick(r.stepTime(b, s), 0.85)
		}
	}
}

func (r *renderer) bassLine() {
	type bn struct {
		step, len, off int // off in scale steps above the chord root
	}
	var pattern []bn
	switch r.st.bass {
	case offbeatBass:
		pattern = []bn{{2, 2, 0}, {6, 2, 0}, {10, 2, 0}, {14, 2, 7}}
	case eighthBass:
		pattern = []bn{{0, 2, 0}, {2, 2, 0}, {4, 2, 7}, {6, 2, 0}, {8, 2, 0}, {10, 2, 0}, {12, 2, 7}, {14, 2, 4}}
	case syncoBass:
		pattern = []bn{{0, 3, 0}, {3, 3, 0}, {6, 2, 7}, {10, 2, 4}, {12, 2, 0}, {14, 1, 6}}
	case longBass:
		pattern = []bn{{0, 7, 0}, {8, 5, 0}, {14, 2, 4}}
	}
	tonic := r.tonicNear(33)
	for b, bi := range r.bars {
		switch {
		case bi.kind == Verse, bi.kind == Chorus, bi.kind == Drop:
		case bi.kind == Outro && bi.pos < bi.n/2:
		default:
			continue
		}
		deg := r.degree(b)
		for _, p := range pattern {
			m := r.pitch(tonic, deg+p.off)
			if m > tonic+14 {
				m -= 12
			}
			start := frameAt(r.stepTime(b, p.step))
			r.play(&r.bass, note{midi: float64(m), start: start, hold: r.stepFrames(float64(p.len) * 0.85),
				vel: 0.9, pan: 0, rev: 0.02})
		}
	}
}

// voicing spells the chord on scale degree deg as MIDI notes, each placed
// in the octave nearest centre, so successive chords move by small steps.
func (r *renderer) voicing(deg, centre int, seventh bool) []int {
	tonic := r.tonicNear(centre - 12)
	n := 3
	if seventh {
		n = 4
	}
	notes := make([]int, 0, n+1)
	for i := range n {
		m := r.pitch(tonic, deg+2*i)
		for m < centre-6 {
			m += 12
		}
		for m >= centre+6 {
			m -= 12
		}
		notes = append(notes, m)
	}
	return notes
}

// padCut is the pad's filter automation: closed in the intro, opening
// through the breakdown, sweeping up through the build, bright in the drop.
func padCut(bi barInfo, frac float64) float64 {
	x := (float64(bi.pos) + frac) / float64(bi.n)
	switch bi.kind {
	case Intro:
		return 0.45 + 0.3*x
	case Verse:
		return 0.8
	case Chorus:
		return 1
	case Breakdown:
		return 0.9 * math.Pow(2.2, x)
	case Build:
		return 0.7 * math.Pow(6, x)
	case Drop:
		return 1.5
	default:
		return 1 - 0.5*x
	}
}

func (r *renderer) harmony() {
	st := r.st
	for b, bi := range r.bars {
		pads := st.chords != stabChords
		stabs := st.chords != padChords
		switch bi.kind {
		case Intro:
			pads = bi.pos >= bi.n/2
			stabs = false
		case Verse:
			stabs = stabs && st.chords == stabChords
		case Breakdown, Build:
			pads, stabs = true, false
		case Outro:
			pads = pads && bi.pos < bi.n/2
			stabs = stabs && bi.pos < bi.n/2
		}
		if bi.kind == Verse && st.chords == padAndStabs {
			stabs = false
		}
		deg := r.degree(b)
		chord := r.voicing(deg, 63, st.sevenths)
		barLen := 16.0
		if pads && (bi.pos%st.barsPerChord == 0) {
			span := min(st.barsPerChord, bi.n-bi.pos)
			vel := 0.85
			if bi.kind == Breakdown || bi.kind == Build {
				vel = 1 // the pads carry these sections alone
			}
			if bi.kind == Intro {
				vel = 0.2 + 0.8*float64(bi.pos-bi.n/2+1)/float64(bi.n-bi.n/2)
			}
			r.play(&r.pad, note{chord: chord, start: frameAt(r.stepTime(b, 0)),
				hold: r.stepFrames(barLen*float64(span) - 1), vel: vel,
				rev: 0.35, dly: 0, cut0: padCut(bi, 0), cut1: padCut(bi, float64(span))})
		}
		if stabs {
			steps := []int{3, 6, 10, 14}
			if b%2 == 1 {
				steps = []int{3, 6, 11, 14}
			}
			cut := 1.0
			if bi.kind == Drop {
				cut = 1.6
			}
			up := make([]int, len(chord))
			for i, m := range chord {
				up[i] = m + 12
			}
			for _, s := range steps {
				r.play(&stabPatch, note{chord: up, start: frameAt(r.stepTime(b, s)),
					hold: r.stepFrames(1), vel: 0.8, rev: 0.2, dly: 0.15, cut0: cut, cut1: cut})
			}
		}
		if st.arp && (bi.kind == Chorus && bi.pos >= bi.n/2 || bi.kind == Breakdown || bi.kind == Drop) {
			tones := r.voicing(deg, 74, false)
			sortInts(tones)
			tones = append(tones, tones[0]+12)
			for s := range 16 {
				m := tones[[6]int{0, 1, 2, 3, 2, 1}[(b*16+s)%6]]
				vel := 0.55
				if s%4 == 0 {
					vel = 0.8
				}
				pan := 0.35
				if s%2 == 1 {
					pan = -0.35
				}
				r.play(&arpPatch, note{midi: float64(m), start: frameAt(r.stepTime(b, s)),
					hold: r.stepFrames(0.5), vel: vel, pan: pan, rev: 0.15, dly: 0.3,
					cut0: padCut(bi, float64(s)/16), cut1: padCut(bi, float64(s+1)/16)})
			}
		}
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// risers sweeps band-passed noise up through every build.
func (r *renderer) risers() {
	n := noise(r.s.Seed*0xBF58476D1CE4E5B9 + 7)
	for b := 0; b < len(r.bars); {
		bi := r.bars[b]
		if bi.kind != Build || bi.pos != 0 {
			b++
			continue
		}
		start := frameAt(r.stepTime(b, 0))
		end := min(frameAt(r.stepTime(b+bi.n, 0)), r.frames)
		var fl, fr svf
		for i := start; i < end; i++ {
			x := float64(i-start) / float64(end-start)
			if (i-start)%block == 0 {
				fl.set(300*math.Pow(30, x), 2)
				fr = svf{ic1: fr.ic1, ic2: fr.ic2, a1: fl.a1, a2: fl.a2, a3: fl.a3, k: fl.k}
			}
			g := 0.13 * x * x
			_, l, _ := fl.tick(n.next())
			_, rr, _ := fr.tick(n.next())
			r.out[2*i] += float32(g * l)
			r.out[2*i+1] += float32(g * rr)
			r.rev[i] += float32(0.3 * g * (l + rr))
		}
		b += bi.n
	}
}

// ending is the final downbeat after the last bar: kick, crash, the tonic
// in the bass and a tonic chord left to ring.
func (r *renderer) ending() {
	nb := len(r.bars)
	t := r.s.Offset + float64(nb*4)*r.spb
	r.kick(t, 1)
	r.hit(r.kit.crash, t, 0.6, -0.3, 0.3)
	start := frameAt(t)
	r.play(&r.bass, note{midi: float64(r.tonicNear(33)), start: start, hold: int(0.8 * sr), vel: 0.9})
	end := r.pad
	end.release, end.duck = 2.5, false
	r.play(&end, note{chord: r.voicing(0, 63, false), start: start, hold: int(0.4 * sr), vel: 0.9,
		rev: 0.4, cut0: 1.2, cut1: 1.2})
}

// mixdown runs the delay and reverb, then sets the level: measured
// loudness brought to targetLUFS, peaks caught by the soft limiter.
func (r *renderer) mixdown() {
	pingPong(r.dly, r.out, r.rev, int(0.75*r.spb*sr), 0.42, 0.55)
	reverb(r.rev, r.out, 2.2, 0.45, 0.3)
	if r.raw {
		return
	}
	l := loudness(r.out)
	gain := 1.0
	if !math.IsInf(l, -1) {
		gain = math.Pow(10, (targetLUFS-l)/20)
	}
	limit(r.out, gain)
}

const targetLUFS = -12
