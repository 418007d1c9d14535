package mix

import (
	"encoding/json"
	"fmt"
	"math"
	"math/cmplx"
	"sort"

	"github.com/foreverfm/forever/audio"
)

// FilterKind names a second-order filter response of the RBJ Audio EQ
// Cookbook.
type FilterKind int

const (
	LowPass FilterKind = iota
	HighPass
	LowShelf
	HighShelf
	Peaking
)

var filterKinds = [...]string{"lowpass", "highpass", "lowshelf", "highshelf", "peaking"}

func (k FilterKind) String() string {
	if k < 0 || int(k) >= len(filterKinds) {
		return fmt.Sprintf("FilterKind(%d)", int(k))
	}
	return filterKinds[k]
}

func (k FilterKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(filterKinds) {
		return nil, fmt.Errorf("mix: unknown filter kind %d", int(k))
	}
	return []byte(k.String()), nil
}

func (k *FilterKind) UnmarshalText(b []byte) error {
	for i, s := range filterKinds {
		if s == string(b) {
			*k = FilterKind(i)
			return nil
		}
	}
	return fmt.Errorf("mix: unknown filter kind %q", b)
}

// Butterworth is the Q of a maximally flat low- or high-pass, and of a shelf
// of slope 1 (the steepest without a bump).
const Butterworth = 1 / math.Sqrt2

// Biquad is the design of one second-order filter: Freq in Hz (the cutoff of
// a pass filter, the centre of a peak, the midpoint of a shelf's slope),
// Gain in dB (shelves and peaks; pass filters ignore it) and Q (0 means
// Butterworth).
type Biquad struct {
	Kind FilterKind `json:"kind"`
	Freq float64    `json:"freq"`
	Gain float64    `json:"gain_db,omitempty"`
	Q    float64    `json:"q,omitempty"`
}

// coefs are a biquad's coefficients normalised by a0:
// y = b0·x + b1·x[-1] + b2·x[-2] - a1·y[-1] - a2·y[-2].
type coefs struct{ b0, b1, b2, a1, a2 float64 }

// coefs computes the cookbook's coefficients at audio.SampleRate. The
// frequency is kept inside (1 Hz, 0.49 fs), where every design is stable.
func (d Biquad) coefs() coefs {
	q := d.Q
	if q <= 0 {
		q = Butterworth
	}
	f := min(max(d.Freq, 1), 0.49*audio.SampleRate)
	w := 2 * math.Pi * f / audio.SampleRate
	cw, sw := math.Cos(w), math.Sin(w)
	alpha := sw / (2 * q)
	A := math.Pow(10, d.Gain/40)
	var b0, b1, b2, a0, a1, a2 float64
	switch d.Kind {
	case LowPass:
		b0, b1, b2 = (1-cw)/2, 1-cw, (1-cw)/2
		a0, a1, a2 = 1+alpha, -2*cw, 1-alpha
	case HighPass:
		b0, b1, b2 = (1+cw)/2, -(1 + cw), (1+cw)/2
		a0, a1, a2 = 1+alpha, -2*cw, 1-alpha
	case Peaking:
		b0, b1, b2 = 1+alpha*A, -2*cw, 1-alpha*A
		a0, a1, a2 = 1+alpha/A, -2*cw, 1-alpha/A
	case LowShelf:
		s := 2 * math.Sqrt(A) * alpha
		b0 = A * ((A + 1) - (A-1)*cw + s)
		b1 = 2 * A * ((A - 1) - (A+1)*cw)
		b2 = A * ((A + 1) - (A-1)*cw - s)
		a0 = (A + 1) + (A-1)*cw + s
		a1 = -2 * ((A - 1) + (A+1)*cw)
		a2 = (A + 1) + (A-1)*cw - s
	case HighShelf:
		s := 2 * math.Sqrt(A) * alpha
		b0 = A * ((A + 1) + (A-1)*cw + s)
		b1 = -2 * A * ((A - 1) + (A+1)*cw)
		b2 = A * ((A + 1) + (A-1)*cw - s)
		a0 = (A + 1) - (A-1)*cw + s
		a1 = 2 * ((A - 1) - (A+1)*cw)
		a2 = (A + 1) - (A-1)*cw - s
	default:
		return coefs{b0: 1}
	}
	return coefs{b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0}
}

// Response reports the design's gain in dB at freq Hz.
func (d Biquad) Response(freq float64) float64 {
	c := d.coefs()
	z := cmplx.Exp(complex(0, -2*math.Pi*freq/audio.SampleRate)) // z^-1
	h := (complex(c.b0, 0) + complex(c.b1, 0)*z + complex(c.b2, 0)*z*z) /
		(1 + complex(c.a1, 0)*z + complex(c.a2, 0)*z*z)
	return 20 * math.Log10(cmplx.Abs(h))
}

// Point is one breakpoint of an Automation: a value at a frame of an action.
type Point struct {
	Frame int     `json:"frame"`
	Value float64 `json:"value"`
}

// Automation moves a parameter across an action: piecewise linear between
// its points (sorted by frame), held before the first and after the last.
// It is a value: the functions of this package copy what they are given.
type Automation []Point

// Const returns an automation holding v throughout.
func Const(v float64) Automation { return Automation{{0, v}} }

// Ramp returns an automation holding from until frame f0, moving linearly
// to to by frame f1, and holding to after.
func Ramp(f0, f1 int, from, to float64) Automation {
	if f1 <= f0 {
		f1 = f0 + 1
	}
	return Automation{{f0, from}, {f1, to}}
}

// At reports the value at frame f.
func (a Automation) At(f int) float64 {
	switch {
	case len(a) == 0:
		return 0
	case f <= a[0].Frame:
		return a[0].Value
	case f >= a[len(a)-1].Frame:
		return a[len(a)-1].Value
	}
	i := sort.Search(len(a), func(i int) bool { return a[i].Frame > f }) // a[i-1].Frame <= f < a[i].Frame
	p, q := a[i-1], a[i]
	x := float64(f-p.Frame) / float64(q.Frame-p.Frame)
	return p.Value + (q.Value-p.Value)*x
}

// constant reports whether a holds one value throughout.
func (a Automation) constant() bool {
	for _, p := range a {
		if p.Value != a[0].Value {
			return false
		}
	}
	return true
}

// Shift returns a with every point moved by df frames.
func (a Automation) Shift(df int) Automation {
	b := make(Automation, len(a))
	for i, p := range a {
		b[i] = Point{p.Frame + df, p.Value}
	}
	return b
}

// Band is one filter of a chain with its parameters automated over the
// action: Freq in Hz (interpolated on a log scale between points, so a sweep
// moves evenly through the octaves), Gain in dB.
type Band struct {
	Kind FilterKind `json:"kind"`
	Q    float64    `json:"q,omitempty"`
	Freq Automation `json:"freq"`
	Gain Automation `json:"gain_db,omitempty"`
}

// At reports the band's design at frame f.
func (b Band) At(f int) Biquad {
	return Biquad{Kind: b.Kind, Q: b.Q, Freq: logAt(b.Freq, f), Gain: b.Gain.At(f)}
}

func logAt(a Automation, f int) float64 {
	switch {
	case len(a) == 0:
		return 1000
	case f <= a[0].Frame || len(a) == 1:
		return a[0].Value
	case f >= a[len(a)-1].Frame:
		return a[len(a)-1].Value
	}
	i := sort.Search(len(a), func(i int) bool { return a[i].Frame > f })
	p, q := a[i-1], a[i]
	x := float64(f-p.Frame) / float64(q.Frame-p.Frame)
	lp, lq := math.Log(max(p.Value, 1)), math.Log(max(q.Value, 1))
	return math.Exp(lp + (lq-lp)*x)
}

// transparent reports whether b never changes its input: a shelf or peak
// held at 0 dB.
func (b Band) transparent() bool {
	switch b.Kind {
	case LowShelf, HighShelf, Peaking:
		return b.Gain.constant() && (len(b.Gain) == 0 || b.Gain[0].Value == 0)
	}
	return false
}

func (b Band) clone() Band {
	b.Freq = append(Automation(nil), b.Freq...)
	b.Gain = append(Automation(nil), b.Gain...)
	return b
}

// coefStep is how often, in frames, a moving filter's coefficients are
// recomputed from its parameters: every 0.36 ms. A parameter moving across
// its whole range within a beat changes by a few hundredths of a dB (or of
// a per cent of frequency) per step, far too little for zipper noise. Steps
// sit at fixed positions of the action, so the output does not depend on
// how the action is cut into blocks.
const coefStep = 16

// biquadState is one band's transposed direct form II state, per channel.
type biquadState struct {
	c      coefs
	s1, s2 [2]float64
	fixed  bool // parameters constant: c never changes
}

// chain is a running filter chain: bands in order with their state.
type chain struct {
	bands []Band
	st    []biquadState
}

// newChain drops the bands that never change their input and copies the
// rest.
func newChain(bands []Band) chain {
	var c chain
	for _, b := range bands {
		if b.transparent() {
			continue
		}
		b = b.clone()
		c.bands = append(c.bands, b)
		c.st = append(c.st, biquadState{
			c:     b.At(0).coefs(),
			fixed: b.Freq.constant() && b.Gain.constant(),
		})
	}
	return c
}

// process filters buf, interleaved stereo whose first frame is frame pos
// of the automation, in place.
func (c *chain) process(buf []float32, pos int) {
	if len(c.st) == 0 {
		return
	}
	n := len(buf) / 2
	for i := 0; i < n; {
		// Process up to the next coefficient step.
		end := min(n, i+coefStep-(pos+i)%coefStep)
		if (pos+i)%coefStep == 0 {
			for k := range c.st {
				if !c.st[k].fixed {
					c.st[k].c = c.bands[k].At(pos + i).coefs()
				}
			}
		}
		for k := range c.st {
			c.st[k].run(buf[2*i : 2*end])
		}
		i = end
	}
}

// filtered runs an action through a chain of automated biquads.
type filtered struct {
	a   Action
	ch  chain
	pos int
}

// KindFiltered is the kind reported in the JSON description of a filtered
// action; its Info is the inner action's.
const KindFiltered Kind = "filtered"

// Filter returns a running through bands in order, in stereo, with each
// band's parameters following its automation over a's frames (frame 0 is
// a's first). Moving parameters are recomputed every few frames from the
// automation, so sweeps and swaps are free of clicks and zipper noise. Bands
// that never change their input (shelves and peaks held at 0 dB) are left
// out, so a flat EQ passes a bit-exact. The result is an Action of a's
// length and Info; its JSON description adds the bands.
func Filter(a Action, bands ...Band) Action {
	return &filtered{a: a, ch: newChain(bands)}
}

func (f *filtered) Len() int   { return f.a.Len() }
func (f *filtered) Info() Info { return f.a.Info() }
func (f *filtered) Err() error { return f.a.Err() }

// Bands reports the filter chain, with the automation in the action's
// frames.
func (f *filtered) Bands() []Band {
	b := make([]Band, len(f.ch.bands))
	for i, x := range f.ch.bands {
		b[i] = x.clone()
	}
	return b
}

func (f *filtered) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Info
		Filter []Band `json:"filter"`
	}{f.a.Info(), f.ch.bands})
}

func (f *filtered) SetStart(s int64) {
	if st, ok := f.a.(Placer); ok {
		st.SetStart(s)
	}
}

func (f *filtered) Render(dst []float32) int {
	n := f.a.Render(dst)
	f.ch.process(dst[:2*n], f.pos)
	f.pos += n
	return n
}

// run filters interleaved stereo buf in place.
func (s *biquadState) run(buf []float32) {
	c := s.c
	for ch := 0; ch < 2; ch++ {
		s1, s2 := s.s1[ch], s.s2[ch]
		for i := ch; i < len(buf); i += 2 {
			x := float64(buf[i])
			y := c.b0*x + s1
			s1 = c.b1*x - c.a1*y + s2
			s2 = c.b2*x - c.a2*y
			buf[i] = float32(y)
		}
		// Keep denormals and stray non-finite values out of the state.
		if math.Abs(s1) < 1e-30 {
			s1 = 0
		}
		if math.Abs(s2) < 1e-30 {
			s2 = 0
		}
		if math.IsNaN(s1+s2) || math.IsInf(s1+s2, 0) {
			s1, s2 = 0, 0
		}
		s.s1[ch], s.s2[ch] = s1, s2
	}
}

// The bands of the three-band DJ EQ: shelves below and above, a broad peak
// in the middle, placed as on club mixers (cf. the 70 Hz / 1 kHz / 13 kHz
// of a Pioneer DJM, with the low shelf higher so that a bass cut takes the
// whole kick and bassline, below 150 Hz, and leaves the voice).
const (
	EQLowFreq  = 200.0
	EQMidFreq  = 1000.0
	EQMidQ     = 0.5
	EQHighFreq = 8000.0
	// EQKill is the deepest cut of a DJ EQ band, in dB.
	EQKill = -26.0
)

// EQ returns a through a three-band DJ EQ whose band gains in dB (0 flat,
// EQKill cut) follow low, mid and high over a's frames. A nil automation
// holds its band flat.
func EQ(a Action, low, mid, high Automation) Action {
	return Filter(a, EQBands(low, mid, high)...)
}

// EQBands returns the filter chain of EQ.
func EQBands(low, mid, high Automation) []Band {
	or0 := func(a Automation) Automation {
		if len(a) == 0 {
			return Const(0)
		}
		return a
	}
	return []Band{
		{Kind: LowShelf, Freq: Const(EQLowFreq), Gain: or0(low)},
		{Kind: Peaking, Q: EQMidQ, Freq: Const(EQMidFreq), Gain: or0(mid)},
		{Kind: HighShelf, Freq: Const(EQHighFreq), Gain: or0(high)},
	}
}
