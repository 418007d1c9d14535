// Package stretch changes the speed of sound without changing its pitch,
// following a time map: the mixer uses it to play two tracks of different
// tempos at one gliding tempo so that their beats land together.
//
// The method is WSOLA (waveform similarity overlap-add, Verhelst & Roelands
// 1993): output is built from Hann-windowed grains of the input at 50%
// overlap; each grain is taken near where the time map says, at the offset
// (within a tolerance) whose waveform best continues the previous grain, so
// that no phase jumps are heard. Grains are never resampled, so pitch and
// timbre are untouched and the cost stays low, and where the map runs at
// speed 1 the input is reproduced as is. Offsets are pulled towards the map,
// and locked onto it at the anchors, which keeps beats where the map puts
// them.
package stretch

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Options tune a Stretcher. The zero value uses the defaults.
type Options struct {
	// Window is the grain length in frames, even; default 2048 (46 ms),
	// which measured closer to the truth than 1024 or 512 (scripts/mix-eval).
	Window int
	// Tolerance is how far, in frames, a grain may be moved from where the
	// map puts it to continue the previous one smoothly; default a quarter
	// of Window.
	Tolerance int
	// Pull weighs staying on the map against waveform similarity: a grain
	// at the full tolerance from the map loses Pull in normalised
	// correlation. Default 0.3; negative means none.
	Pull float64
	// Free lets grains drift around anchors too. By default the grains
	// covering an anchor are put exactly where the map says, which keeps
	// beats (the mixer's anchors) on time at the cost of a splice just
	// before each.
	Free bool
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = 2048
	}
	o.Window += o.Window % 2
	if o.Window < 16 {
		o.Window = 16
	}
	if o.Tolerance <= 0 {
		o.Tolerance = o.Window / 4
	}
	if o.Pull == 0 {
		o.Pull = 0.3
	}
	o.Pull = max(o.Pull, 0)
	return o
}

// A Stretcher renders a span of stereo input through a time map. It is not
// safe for concurrent use.
type Stretcher struct {
	src    []float32 // interleaved stereo input
	frames int       // input frames
	out    []int     // map anchors: output frame out[i] plays input frame in[i]
	in     []int
	opt    Options
	h      int // hop, half the window
	decim  int // decimation of the coarse similarity search
	win    []float32

	// The decimated, box-filtered mono mixdown of the input region the map
	// can reach, starting at input frame base.
	base int
	d    []float32
	dcum []float64 // prefix sums of d², for candidate energies

	k       int       // next grain
	prev    int       // input centre of the previous grain
	acc     []float32 // stereo overlap-add accumulator, 2 hops
	pending []float32 // finished output, one hop
	pr      int       // frames of pending already read
	done    int       // frames delivered
	total   int
	err     error
	shift   int // last grain's distance from the map, for diagnostics
}

// New returns a Stretcher playing src (interleaved stereo) so that output
// frame out[i] plays input frame in[i], moving linearly in between. Anchors
// must increase strictly; out[0] must be 0 and the output ends at out[last].
// Input outside src reads as silence.
func New(src []float32, out, in []int, o Options) (*Stretcher, error) {
	if len(out) != len(in) || len(out) < 2 {
		return nil, errors.New("stretch: need at least two anchors, as many output as input")
	}
	if out[0] != 0 {
		return nil, fmt.Errorf("stretch: first output anchor %d, want 0", out[0])
	}
	for i := 1; i < len(out); i++ {
		if out[i] <= out[i-1] || in[i] <= in[i-1] {
			return nil, fmt.Errorf("stretch: anchors %d (%d→%d) do not increase", i, out[i], in[i])
		}
	}
	o = o.withDefaults()
	s := &Stretcher{
		src: src, frames: len(src) / 2, out: out, in: in, opt: o,
		h: o.Window / 2, total: out[len(out)-1],
		// The coarse search compares about 128 points per hop.
		decim: max(o.Window/256, 1),
	}
	s.win = make([]float32, o.Window)
	for i := range s.win {
		// Periodic Hann: grains at half-window hops sum to one.
		s.win[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(o.Window)))
	}
	s.acc = make([]float32, 2*o.Window)
	s.pending = make([]float32, o.Window)
	s.pr = s.h
	return s, nil
}

// Len reports the output length in frames.
func (s *Stretcher) Len() int { return s.total }

// target maps output frame o to the input frame the map puts there,
// continuing the last segment's slope beyond the anchors.
func (s *Stretcher) target(o int) int {
	n := len(s.out)
	// First anchor after o, within [1, n-1].
	i := min(max(sort.SearchInts(s.out, o+1), 1), n-1)
	o0, o1, i0, i1 := s.out[i-1], s.out[i], s.in[i-1], s.in[i]
	return i0 + int(math.Round(float64(o-o0)*float64(i1-i0)/float64(o1-o0)))
}

// slopeOne reports whether the map runs at exactly speed 1 around output
// frame o, in the first or last anchor segment, where the input must come
// out untouched so that the neighbours of this span join it seamlessly.
func (s *Stretcher) slopeOne(o int) (first, last bool) {
	n := len(s.out)
	if o < s.out[1] && s.out[1]-s.out[0] == s.in[1]-s.in[0] {
		first = true
	}
	if o >= s.out[n-2] && s.out[n-1]-s.out[n-2] == s.in[n-1]-s.in[n-2] {
		last = true
	}
	return
}

func (s *Stretcher) prepare() {
	w, tol := s.opt.Window, s.opt.Tolerance
	lo := s.in[0] - 2*w - tol - 2*s.h
	hi := s.in[len(s.in)-1] + 2*w + tol + 2*s.h
	// Beyond the last anchor the map is extrapolated for at most a window.
	if n := len(s.in); n >= 2 {
		hi += (s.in[n-1] - s.in[n-2]) * w / max(s.out[n-1]-s.out[n-2], 1)
	}
	s.base = lo
	decim := s.decim
	s.d = make([]float32, (hi-lo)/decim)
	s.dcum = make([]float64, len(s.d)+1)
	for i := range s.d {
		var v float32
		for j := 0; j < decim; j++ {
			v += s.mono(lo + i*decim + j)
		}
		s.d[i] = v / float32(decim)
		s.dcum[i+1] = s.dcum[i] + float64(s.d[i])*float64(s.d[i])
	}
}

// mono returns the mixdown at input frame f, zero outside the input.
func (s *Stretcher) mono(f int) float32 {
	if f < 0 || f >= s.frames {
		return 0
	}
	return 0.5 * (s.src[2*f] + s.src[2*f+1])
}

// similarity is the normalised correlation of the hop of input ending at
// centre c with the hop starting at t, over every step-th frame.
func (s *Stretcher) similarity(t, c, step int) float64 {
	var xy, yy, xx float64
	for j := 0; j < s.h; j += step {
		x := float64(s.mono(t + j))
		y := float64(s.mono(c - s.h + j))
		xy += x * y
		xx += x * x
		yy += y * y
	}
	if xx == 0 || yy == 0 {
		return 0
	}
	return xy / math.Sqrt(xx*yy)
}

// coarse searches candidate centres in [lo, hi] on the decimated mixdown,
// where tgt is the map's choice and tol the tolerance, and returns the best.
func (s *Stretcher) coarse(tmpl, tgt, lo, hi, tol int, pull float64) int {
	decim := s.decim
	hd := s.h / decim
	t0 := (tmpl - s.base) / decim
	if t0 < 0 || t0+hd > len(s.d) {
		return tgt
	}
	tm := s.d[t0 : t0+hd]
	var tt float64
	for _, v := range tm {
		tt += float64(v) * float64(v)
	}
	best, bestScore := tgt, math.Inf(-1)
	for c := lo; c <= hi; c += decim {
		st := (c - s.h - s.base) / decim
		if st < 0 || st+hd > len(s.d) {
			continue
		}
		cd := s.d[st : st+hd]
		var xy float64
		for j, v := range tm {
			xy += float64(v) * float64(cd[j])
		}
		yy := s.dcum[st+hd] - s.dcum[st]
		score := 0.0
		if tt > 0 && yy > 0 {
			score = xy / math.Sqrt(tt*yy)
		}
		dev := float64(c-tgt) / float64(tol)
		score -= pull * dev * dev
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

// place chooses the input centre of grain k.
func (s *Stretcher) place(k int) int {
	o := k * s.h
	tgt := s.target(o)
	if k == 0 {
		return tgt
	}
	nat := s.prev + s.h
	if nat == tgt {
		return tgt
	}
	if first, last := s.slopeOne(o); first || last {
		// Joins must be exact: the neighbours of this span continue at the
		// map, so the first and last segments, at speed 1, follow it.
		return tgt
	}
	lo, hi := tgt-s.opt.Tolerance, tgt+s.opt.Tolerance
	if !s.opt.Free {
		// Lock the grains that cover an anchor onto it, so that what
		// happens there (a beat) is heard exactly where the map puts it.
		i := sort.SearchInts(s.out, o-s.h+1)
		if i < len(s.out) && s.out[i] < o+s.h {
			return s.in[i] + o - s.out[i]
		}
		// Other grains must not reach an anchor's input, or its beat would
		// be heard twice, once off time.
		if i < len(s.out) {
			hi = min(hi, s.in[i]-s.h)
		}
		if i > 0 {
			lo = max(lo, s.in[i-1]+s.h)
		}
		if lo > hi {
			return tgt
		}
	}
	tol, pull := s.opt.Tolerance, s.opt.Pull
	c := s.coarse(s.prev, tgt, lo, hi, tol, pull)
	// Refine at full rate around the coarse choice.
	best, bestScore := c, math.Inf(-1)
	for x := c - s.decim + 1; x <= c+s.decim-1; x++ {
		if x < lo || x > hi {
			continue
		}
		dev := float64(x-tgt) / float64(tol)
		score := s.similarity(s.prev, x, 2) - pull*dev*dev
		if score > bestScore {
			best, bestScore = x, score
		}
	}
	return best
}

// step adds grain k and moves its first hop, now final, to pending.
func (s *Stretcher) step() {
	if s.d == nil {
		s.prepare()
	}
	c := s.place(s.k)
	s.shift = c - s.target(s.k*s.h)
	s.prev = c
	w := s.opt.Window
	for j := 0; j < w; j++ {
		f := c - s.h + j
		if f < 0 || f >= s.frames {
			continue
		}
		g := s.win[j]
		s.acc[2*j] += g * s.src[2*f]
		s.acc[2*j+1] += g * s.src[2*f+1]
	}
	if s.k > 0 {
		// Output frames [(k-1)h, kh) are complete.
		copy(s.pending, s.acc[:2*s.h])
		s.pr = 0
	}
	copy(s.acc, s.acc[2*s.h:])
	clear(s.acc[2*s.h:])
	s.k++
}

// Read fills dst (interleaved stereo, even length) with the next frames and
// returns how many frames it wrote, fewer than len(dst)/2 only at the end.
func (s *Stretcher) Read(dst []float32) int {
	n := 0
	for 2*n+1 < len(dst) && s.done < s.total {
		if s.pr == s.h {
			s.step()
			continue
		}
		m := min(s.h-s.pr, len(dst)/2-n, s.total-s.done)
		copy(dst[2*n:2*(n+m)], s.pending[2*s.pr:2*(s.pr+m)])
		s.pr += m
		n += m
		s.done += m
	}
	return n
}

// Shift reports how far, in input frames, the most recent grain lies from
// where the map puts it.
func (s *Stretcher) Shift() int { return s.shift }
