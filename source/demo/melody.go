package demo

// The lead plays 8-bar phrases built from two 2-bar motifs, so that it
// repeats itself the way written tunes do: variant 0 is A A B A', variant 1
// (the drop's answer) is B B' A A'. Each motif is a rhythm and a contour in
// scale steps; notes on strong beats are pulled to the sounding chord, and
// the phrase ends on the tonic.

type span struct{ pos, len int } // in sixteenths within two bars

var rhythms = [...][]span{
	{{0, 3}, {3, 3}, {6, 2}, {8, 4}, {12, 2}, {14, 2}, {16, 6}, {22, 2}, {24, 8}},
	{{0, 2}, {2, 2}, {4, 4}, {10, 2}, {12, 4}, {16, 2}, {18, 2}, {20, 4}, {26, 6}},
	{{0, 6}, {6, 2}, {8, 6}, {14, 2}, {16, 4}, {20, 4}, {24, 8}},
	{{0, 8}, {8, 4}, {12, 4}, {16, 12}, {28, 4}},
	{{2, 2}, {4, 2}, {6, 4}, {10, 2}, {14, 4}, {18, 2}, {20, 2}, {22, 4}, {26, 2}, {28, 4}},
}

type motif struct {
	rhythm []span
	steps  []int // scale steps relative to the previous note
	start  int   // scale step the motif aims to begin on
}

type leadNote struct {
	step, len int // sixteenths from the phrase start
	pitch     int // scale step, 0 = tonic
}

func (r *renderer) newMotif(rhythm int, start int) motif {
	rh := rhythms[rhythm%len(rhythms)]
	m := motif{rhythm: rh, steps: make([]int, len(rh)), start: start}
	moves := [...]int{-2, -1, -1, -1, 0, 1, 1, 1, 2, 2, 3, -3}
	for i := 1; i < len(rh); i++ {
		m.steps[i] = moves[r.rng.IntN(len(moves))]
	}
	return m
}

// phrases returns the two 8-bar variants of the lead.
func (r *renderer) phrases() [2][]leadNote {
	a := r.newMotif(r.st.motifs[0], 4)
	b := r.newMotif(r.st.motifs[1], 2)
	// A': the same rhythm, its tail turned the other way.
	a2 := a
	a2.steps = append([]int(nil), a.steps...)
	for i := len(a2.steps) / 2; i < len(a2.steps); i++ {
		a2.steps[i] = -a2.steps[i]
	}
	b2 := b
	b2.start = b.start + 2
	return [2][]leadNote{
		r.realise([]motif{a, a, b, a2}),
		r.realise([]motif{b, b2, a, a2}),
	}
}

func (r *renderer) realise(ms []motif) []leadNote {
	var out []leadNote
	for seg, m := range ms {
		cur := 0
		for i, sp := range m.rhythm {
			step := seg*32 + sp.pos
			deg := r.chordAt(step / 16)
			if i == 0 {
				cur = nearestChordTone(m.start, deg)
			} else {
				cur += m.steps[i]
			}
			if sp.pos%8 == 0 || sp.len >= 4 {
				cur = nearestChordTone(cur, deg)
			}
			for cur > 11 || cur < -2 {
				if cur > 11 {
					cur -= 3
				} else {
					cur += 3
				}
			}
			out = append(out, leadNote{step: step, len: sp.len, pitch: cur})
		}
	}
	// Resolve: the last note becomes the nearest tonic and is held.
	last := &out[len(out)-1]
	last.pitch = 7 * floorDiv(last.pitch+3, 7)
	last.len = max(last.len, 128-last.step-2)
	return out
}

// nearestChordTone moves scale step s to the nearest root, third or fifth
// of the triad on degree deg, preferring the lower one on a tie.
func nearestChordTone(s, deg int) int {
	for d := 0; d < 4; d++ {
		for _, c := range [2]int{s - d, s + d} {
			x := mod(c-deg, 7)
			if x == 0 || x == 2 || x == 4 {
				return c
			}
		}
	}
	return s
}

func (r *renderer) melody() {
	ph := r.phrases()
	p := &leadPatches[r.st.lead]
	tonic := r.tonicNear(62)
	for b, bi := range r.bars {
		vel := 0.9
		variant := 0
		switch bi.kind {
		case Chorus:
		case Drop:
			variant = (bi.pos / 8) % 2
		case Breakdown:
			if bi.pos < bi.n/4 {
				continue
			}
			vel = 0.7
		default:
			continue
		}
		pb := bi.pos % 8
		for _, n := range ph[variant] {
			if n.step/16 != pb {
				continue
			}
			t := r.stepTime(b, n.step%16)
			// Hold no longer than the section lasts.
			steps := min(float64(n.len), float64((bi.n-bi.pos)*16-n.step%16)) - 0.4
			v := vel
			if n.step%4 != 0 {
				v *= 0.85
			}
			r.play(p, note{midi: float64(r.pitch(tonic, n.pitch)), start: frameAt(t),
				hold: r.stepFrames(steps), vel: v, pan: 0.1, rev: 0.22, dly: 0.3})
		}
	}
}
