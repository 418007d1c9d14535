package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Loudness measurement after ITU-R BS.1770-4 and EBU R128 (Tech 3341 for the
// meter, Tech 3342 for the loudness range), at any sample rate.
//
// The K-weighting filters are derived for the sample rate at hand from their
// analog prototypes by the bilinear transform, as libebur128 does; at 48 kHz
// they reproduce the coefficients tabulated in BS.1770-4. Loudness values are
// in LUFS (LKFS), differences in LU, peaks in dBFS or dBTP.
//
// Silence has no loudness: the integrated loudness of a signal with no
// 400 ms block above the absolute gate is -Inf, as is the true peak of an
// all-zero signal. JSON cannot hold -Inf, so an Analysis stores
// max(loudness, AbsoluteGate) instead: no gated measurement can be quieter
// than the absolute gate, so -70 means "silent" without ambiguity.

// AbsoluteGate is the absolute gating threshold of BS.1770-4 in LUFS. Blocks
// quieter than this are ignored by the integrated loudness and the loudness
// range; it is also the floor used for silent tracks in an Analysis.
const AbsoluteGate = -70.0

const (
	relativeGate    = -10.0 // LU below the absolute-gated loudness, for integrated loudness
	lraRelativeGate = -20.0 // LU below the absolute-gated short-term loudness, for the range
	surroundWeight  = 1.41  // channel weight of the surround channels, BS.1770-4 table 3

	minMeterRate = 8000    // below this the pre-filter's 1.7 kHz shelf nears Nyquist
	maxMeterRate = 1536000 // a sanity bound on the sample rate
	maxChannels  = 64

	// truePeakRate is the rate from which samples are dense enough that the
	// sample peak is the true peak (BS.1770-4 Annex 2 oversamples to 192 kHz).
	truePeakRate = 176400
)

// Loudness is a full EBU R128 measurement of a signal.
type Loudness struct {
	// Integrated is the gated integrated loudness in LUFS, -Inf for silence.
	Integrated float64
	// Range is the loudness range (EBU Tech 3342) in LU: the spread between
	// the 10th and 95th percentiles of the gated short-term loudness,
	// 0 when fewer than two short-term blocks pass the gates.
	Range float64
	// TruePeak is the largest absolute value of the 4x oversampled signal,
	// over all channels, in dBTP; -Inf for an all-zero signal.
	TruePeak float64
	// SamplePeak is the largest absolute sample value in dBFS.
	SamplePeak float64
	// MaxMomentary and MaxShortTerm are the loudest 400 ms and 3 s windows
	// (stepped by 100 ms) in LUFS, -Inf when the signal is shorter than the
	// window.
	MaxMomentary, MaxShortTerm float64
}

// MeasureLoudness measures interleaved samples of the given channel count
// and sample rate. A trailing partial frame is ignored. Non-finite samples
// count as zero. It returns an error when channels or sampleRate is out of
// range (1-64 channels, 8 kHz - 1.536 MHz).
func MeasureLoudness(samples []float32, channels, sampleRate int) (Loudness, error) {
	m, err := NewLoudnessMeter(channels, sampleRate)
	if err != nil {
		return Loudness{}, err
	}
	m.Write(samples)
	return Loudness{
		Integrated:   m.Integrated(),
		Range:        m.Range(),
		TruePeak:     m.TruePeak(),
		SamplePeak:   m.SamplePeak(),
		MaxMomentary: m.MaxMomentary(),
		MaxShortTerm: m.MaxShortTerm(),
	}, nil
}

// IntegratedLoudness returns the gated integrated loudness of interleaved
// samples in LUFS, or -Inf when no 400 ms block is louder than the absolute
// gate (silence, or a signal shorter than 400 ms). It panics when channels
// or sampleRate is out of the range MeasureLoudness accepts.
func IntegratedLoudness(samples []float32, channels, sampleRate int) float64 {
	m := mustMeter(channels, sampleRate)
	m.skipPeak = true
	m.Write(samples)
	return m.Integrated()
}

// TruePeak returns the true peak of interleaved samples in dBTP, after
// BS.1770-4 Annex 2: 4x oversampling by its polyphase FIR interpolator below
// 176.4 kHz, the sample peak above. It is -Inf for an all-zero signal. It
// panics when channels or sampleRate is out of the range MeasureLoudness
// accepts.
func TruePeak(samples []float32, channels, sampleRate int) float64 {
	m := mustMeter(channels, sampleRate)
	m.skipLoudness = true
	m.Write(samples)
	return m.TruePeak()
}

func mustMeter(channels, sampleRate int) *LoudnessMeter {
	m, err := NewLoudnessMeter(channels, sampleRate)
	if err != nil {
		panic(err)
	}
	return m
}

// ErrMeterFormat is returned by NewLoudnessMeter for an unsupported channel
// count or sample rate.
var ErrMeterFormat = errors.New("analysis: unsupported format for loudness meter")

// LoudnessMeter measures loudness incrementally, for streams such as a live
// mix: write interleaved samples in pieces of any length, and read the
// momentary, short-term, integrated loudness, range and peaks at any time.
// It keeps two float64 per 100 ms written (about 14 MB a day) for the
// gated measures; Reset starts over. A LoudnessMeter is not safe for concurrent
// use.
type LoudnessMeter struct {
	channels   int
	sampleRate int
	weights    []float64 // per channel, BS.1770-4 G_i
	filters    []kWeighting
	peaks      []peakMeter

	// skipLoudness and skipPeak let the single-measure helpers avoid work.
	skipLoudness, skipPeak bool

	step    int       // frames per 100 ms sub-block
	filled  int       // frames in the current sub-block
	partial []float64 // per-channel sum of squares of the current sub-block
	// subs holds the channel-weighted energy sums of the last 30
	// sub-blocks, a ring indexed by nsub.
	subs [30]float64
	nsub int

	blocks []float64 // mean-square energy of every 400 ms block
	short  []float64 // mean-square energy of every 3 s block

	samplePeak float64
	trail      []float32 // a partial frame kept between writes
}

// NewLoudnessMeter returns a meter for interleaved samples with the given
// channel count and sample rate. Channels are weighted in the WAV/SMPTE
// order: L, R, C (weight 1), LFE (ignored), Ls, Rs (1.41) for six or more
// channels; four channels are L, R, Ls, Rs and five L, R, C, Ls, Rs, as in
// libebur128. Channels beyond the sixth are ignored.
func NewLoudnessMeter(channels, sampleRate int) (*LoudnessMeter, error) {
	if channels < 1 || channels > maxChannels {
		return nil, fmt.Errorf("%w: %d channels", ErrMeterFormat, channels)
	}
	if sampleRate < minMeterRate || sampleRate > maxMeterRate {
		return nil, fmt.Errorf("%w: sample rate %d Hz", ErrMeterFormat, sampleRate)
	}
	m := &LoudnessMeter{
		channels:   channels,
		sampleRate: sampleRate,
		weights:    channelWeights(channels),
		filters:    make([]kWeighting, channels),
		peaks:      make([]peakMeter, channels),
		// Rounded as libebur128 does, so rates like 11025 Hz work.
		step:    (sampleRate + 5) / 10,
		partial: make([]float64, channels),
	}
	coef := kWeightingCoefficients(float64(sampleRate))
	for c := range m.filters {
		m.filters[c].coef = coef
	}
	for c := range m.peaks {
		m.peaks[c].oversample = sampleRate < truePeakRate
	}
	m.Reset()
	return m, nil
}

func channelWeights(n int) []float64 {
	w := make([]float64, n)
	switch n {
	case 1, 2, 3:
		for i := range w {
			w[i] = 1
		}
	case 4: // L R Ls Rs
		w[0], w[1], w[2], w[3] = 1, 1, surroundWeight, surroundWeight
	case 5: // L R C Ls Rs
		w[0], w[1], w[2], w[3], w[4] = 1, 1, 1, surroundWeight, surroundWeight
	default: // L R C LFE Ls Rs, then unknown channels
		w[0], w[1], w[2], w[3], w[4], w[5] = 1, 1, 1, 0, surroundWeight, surroundWeight
	}
	return w
}

// Reset forgets everything written, keeping the format.
func (m *LoudnessMeter) Reset() {
	for c := range m.filters {
		m.filters[c].reset()
		m.peaks[c].reset()
	}
	m.filled = 0
	clear(m.partial)
	m.subs = [30]float64{}
	m.nsub = 0
	m.blocks = m.blocks[:0]
	m.short = m.short[:0]
	m.samplePeak = 0
	m.trail = m.trail[:0]
}

// Write feeds interleaved samples. A trailing partial frame is kept and
// completed by the next Write. Non-finite samples count as zero.
func (m *LoudnessMeter) Write(samples []float32) {
	if len(m.trail) > 0 {
		need := m.channels - len(m.trail)
		if len(samples) < need {
			m.trail = append(m.trail, samples...)
			return
		}
		frame := append(m.trail, samples[:need]...)
		samples = samples[need:]
		m.write(frame)
		m.trail = frame[:0]
	}
	whole := len(samples) / m.channels * m.channels
	m.write(samples[:whole])
	m.trail = append(m.trail, samples[whole:]...)
}

// write consumes whole frames, one sub-block run at a time so that the
// filters run channel by channel over contiguous stretches.
func (m *LoudnessMeter) write(samples []float32) {
	ch := m.channels
	for len(samples) > 0 {
		frames := min(len(samples)/ch, m.step-m.filled)
		run := samples[:frames*ch]
		samples = samples[frames*ch:]
		for c := 0; c < ch; c++ {
			if !m.skipPeak {
				if p := m.peaks[c].write(run, c, ch); p > m.samplePeak {
					m.samplePeak = p
				}
			}
			if !m.skipLoudness && m.weights[c] != 0 {
				m.partial[c] += m.filters[c].sumSquares(run, c, ch)
			}
		}
		m.filled += frames
		if m.filled == m.step {
			m.endSubBlock()
		}
	}
}

func (m *LoudnessMeter) endSubBlock() {
	var e float64
	for c, s := range m.partial {
		e += m.weights[c] * s
	}
	clear(m.partial)
	m.filled = 0
	m.subs[m.nsub%len(m.subs)] = e
	m.nsub++
	if m.nsub >= 4 {
		m.blocks = append(m.blocks, m.window(4))
	}
	if m.nsub >= 30 {
		m.short = append(m.short, m.window(30))
	}
}

// window returns the mean-square energy of the last n sub-blocks.
func (m *LoudnessMeter) window(n int) float64 {
	var s float64
	for i := 1; i <= n; i++ {
		s += m.subs[(m.nsub-i)%len(m.subs)]
	}
	return s / float64(n*m.step)
}

// energyToLUFS is BS.1770-4 equation 2 applied to a channel-weighted mean
// square.
func energyToLUFS(e float64) float64 {
	if e <= 0 {
		return math.Inf(-1)
	}
	return -0.691 + 10*math.Log10(e)
}

func lufsToEnergy(l float64) float64 { return math.Pow(10, (l+0.691)/10) }

// Momentary returns the loudness of the last 400 ms in LUFS, -Inf before
// 400 ms have been written. Like all measures it advances in 100 ms steps:
// samples of an unfinished step count from the step's end.
func (m *LoudnessMeter) Momentary() float64 {
	if m.nsub < 4 {
		return math.Inf(-1)
	}
	return energyToLUFS(m.window(4))
}

// ShortTerm returns the loudness of the last 3 s in LUFS, -Inf before 3 s
// have been written.
func (m *LoudnessMeter) ShortTerm() float64 {
	if m.nsub < 30 {
		return math.Inf(-1)
	}
	return energyToLUFS(m.window(30))
}

// MaxMomentary returns the loudest momentary loudness so far in LUFS.
func (m *LoudnessMeter) MaxMomentary() float64 { return energyToLUFS(maxEnergy(m.blocks)) }

// MaxShortTerm returns the loudest short-term loudness so far in LUFS.
func (m *LoudnessMeter) MaxShortTerm() float64 { return energyToLUFS(maxEnergy(m.short)) }

func maxEnergy(x []float64) float64 {
	var v float64
	for _, e := range x {
		v = max(v, e)
	}
	return v
}

// Integrated returns the gated integrated loudness of everything written, in
// LUFS: the mean energy of the 400 ms blocks (75% overlap) louder than the
// absolute gate and than the relative gate 10 LU below their own mean. It is
// -Inf when no block passes the absolute gate.
func (m *LoudnessMeter) Integrated() float64 {
	return gatedMean(m.blocks, relativeGate)
}

func gatedMean(blocks []float64, rel float64) float64 {
	abs := lufsToEnergy(AbsoluteGate)
	var sum float64
	var n int
	for _, e := range blocks {
		if e > abs {
			sum += e
			n++
		}
	}
	if n == 0 {
		return math.Inf(-1)
	}
	thr := max(abs, sum/float64(n)*math.Pow(10, rel/10))
	sum, n = 0, 0
	for _, e := range blocks {
		if e > thr {
			sum += e
			n++
		}
	}
	if n == 0 {
		return math.Inf(-1)
	}
	return energyToLUFS(sum / float64(n))
}

// Range returns the loudness range (EBU Tech 3342) in LU: the difference
// between the 95th and the 10th percentile of the short-term loudness
// (3 s windows every 100 ms) that passes the absolute gate and a relative
// gate 20 LU below the absolute-gated mean. It is 0 when there is nothing
// to spread.
func (m *LoudnessMeter) Range() float64 {
	abs := lufsToEnergy(AbsoluteGate)
	var sum float64
	var n int
	for _, e := range m.short {
		if e > abs {
			sum += e
			n++
		}
	}
	if n == 0 {
		return 0
	}
	thr := max(abs, sum/float64(n)*math.Pow(10, lraRelativeGate/10))
	gated := make([]float64, 0, n)
	for _, e := range m.short {
		if e > thr {
			gated = append(gated, e)
		}
	}
	if len(gated) < 2 {
		return 0
	}
	slices.Sort(gated)
	// Nearest-rank percentiles, rounded as libebur128 rounds them.
	lo := gated[int(float64(len(gated)-1)*0.10+0.5)]
	hi := gated[int(float64(len(gated)-1)*0.95+0.5)]
	return energyToLUFS(hi) - energyToLUFS(lo)
}

// TruePeak returns the true peak so far in dBTP (see the TruePeak
// function), -Inf when only zeros have been written. It is never below the
// sample peak.
func (m *LoudnessMeter) TruePeak() float64 {
	p := m.samplePeak
	for c := range m.peaks {
		p = max(p, m.peaks[c].peak)
	}
	return amplitudeToDB(p)
}

// SamplePeak returns the largest absolute sample so far in dBFS.
func (m *LoudnessMeter) SamplePeak() float64 { return amplitudeToDB(m.samplePeak) }

func amplitudeToDB(a float64) float64 {
	if a <= 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(a)
}

// finiteSample returns x, or 0 for NaN and ±Inf, so that one bad sample cannot
// poison a recursive filter for the rest of the stream.
func finiteSample(x float32) float64 {
	if x-x != 0 {
		return 0
	}
	return float64(x)
}

// kBiquad holds normalised coefficients (a0 = 1).
type kBiquad struct{ b0, b1, b2, a1, a2 float64 }

// kWeightingCoefficients derives the BS.1770-4 pre-filter (a high shelf
// modelling the head) and RLB high-pass for sample rate fs, by the bilinear
// transform of analog prototypes whose parameters are those libebur128
// fitted to the standard's 48 kHz tables.
func kWeightingCoefficients(fs float64) [2]kBiquad {
	const (
		shelfF0   = 1681.974450955533
		shelfGain = 3.999843853973347 // dB
		shelfQ    = 0.7071752369554196
		hpF0      = 38.13547087602444
		hpQ       = 0.5003270373238773
	)
	k := math.Tan(math.Pi * shelfF0 / fs)
	vh := math.Pow(10, shelfGain/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/shelfQ + k*k
	pre := kBiquad{
		b0: (vh + vb*k/shelfQ + k*k) / a0,
		b1: 2 * (k*k - vh) / a0,
		b2: (vh - vb*k/shelfQ + k*k) / a0,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/shelfQ + k*k) / a0,
	}
	k = math.Tan(math.Pi * hpF0 / fs)
	a0 = 1 + k/hpQ + k*k
	// The standard gives the high-pass numerator as exactly 1, -2, 1, not
	// normalised by a0; libebur128 and ffmpeg follow it, and so do we.
	hp := kBiquad{
		b0: 1, b1: -2, b2: 1,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/hpQ + k*k) / a0,
	}
	return [2]kBiquad{pre, hp}
}

// kWeighting is one channel's K-weighting filter: two biquads in transposed
// direct form II.
type kWeighting struct {
	coef   [2]kBiquad
	s1, s2 [2]float64
}

func (f *kWeighting) reset() { f.s1, f.s2 = [2]float64{}, [2]float64{} }

// sumSquares filters channel c of the interleaved run and returns the sum
// of squares of the K-weighted output.
func (f *kWeighting) sumSquares(run []float32, c, ch int) float64 {
	p, h := f.coef[0], f.coef[1]
	ps1, ps2 := f.s1[0], f.s2[0]
	hs1, hs2 := f.s1[1], f.s2[1]
	var sum float64
	for i := c; i < len(run); i += ch {
		x := finiteSample(run[i])
		y := p.b0*x + ps1
		ps1 = p.b1*x - p.a1*y + ps2
		ps2 = p.b2*x - p.a2*y
		z := h.b0*y + hs1
		hs1 = h.b1*y - h.a1*z + hs2
		hs2 = h.b2*y - h.a2*z
		sum += z * z
	}
	// Flush denormals and keep silence after sound cheap.
	if math.Abs(ps1) < 1e-30 && math.Abs(ps2) < 1e-30 {
		ps1, ps2 = 0, 0
	}
	if math.Abs(hs1) < 1e-30 && math.Abs(hs2) < 1e-30 {
		hs1, hs2 = 0, 0
	}
	f.s1[0], f.s2[0] = ps1, ps2
	f.s1[1], f.s2[1] = hs1, hs2
	return sum
}

// Interpolator of BS.1770-4 Annex 2: a 48-tap FIR split into four phases of
// 12 taps, each computing one of the four output samples per input sample.
var truePeakPhases = [4][12]float64{
	{0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875, 0.1373291015625,
		0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500},
	{-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500, 0.4650878906250,
		0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375},
	{-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000, -0.2003173828125, 0.7797851562500,
		0.4650878906250, -0.1665039062500, 0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875},
	{-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750, -0.1022949218750, 0.9721679687500,
		0.1373291015625, -0.0594482421875, 0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750},
}

// truePeakBound holds, per tap, the largest magnitude of that tap over the
// four phases: sum_k truePeakBound[k]*|x[n-k]| bounds every output at n at
// a quarter of the cost of computing them. truePeakGain, the largest sum of
// absolute taps of a phase, bounds every output by the largest input in its
// window.
var truePeakBound, truePeakGain = func() (b [12]float64, g float64) {
	for _, ph := range truePeakPhases {
		var s float64
		for k, h := range ph {
			b[k] = max(b[k], math.Abs(h))
			s += math.Abs(h)
		}
		g = max(g, s)
	}
	return b, g
}()

const (
	tpTaps  = 12
	tpChunk = 64 // frames examined at once when deciding whether to interpolate
)

// peakMeter tracks one channel's sample and true peak.
type peakMeter struct {
	oversample bool
	peak       float64 // the largest interpolated magnitude
	// hist holds the last tpTaps-1 samples followed by the chunk being
	// measured, so every output reads a contiguous window.
	hist []float64
}

func (p *peakMeter) reset() {
	p.peak = 0
	p.hist = append(p.hist[:0], make([]float64, tpTaps-1)...)
}

// write measures channel c of the interleaved run and returns its sample
// peak. Interpolation is skipped for chunks that cannot beat the peak found
// so far, which keeps the cost small for most music: such a chunk is only
// scanned for its largest magnitude, and its tail kept as history.
func (p *peakMeter) write(run []float32, c, ch int) float64 {
	const hl = tpTaps - 1
	if cap(p.hist) < hl+tpChunk {
		h := make([]float64, hl, hl+tpChunk)
		copy(h, p.hist)
		p.hist = h
	}
	buf := p.hist[:hl+tpChunk]
	var hmax float64
	for _, v := range buf[:hl] {
		hmax = max(hmax, math.Abs(v))
	}
	var speak float32
	for start := c; start < len(run); start += tpChunk * ch {
		end := min(len(run), start+tpChunk*ch)
		k := (end - start + ch - 1) / ch
		var cmax float32
		for i := start; i < end; i += ch {
			// |x| by clearing the sign bit; NaN and Inf fail the second
			// test and count as silence.
			ax := math.Float32frombits(math.Float32bits(run[i]) &^ (1 << 31))
			if ax > cmax && ax <= math.MaxFloat32 {
				cmax = ax
			}
		}
		speak = max(speak, cmax)
		from := max(0, k-hl) // only the tail is needed as history
		interp := p.oversample && max(hmax, float64(cmax))*truePeakGain > max(p.peak, float64(speak))
		if interp {
			from = 0
		}
		for j := from; j < k; j++ {
			buf[hl+j] = finiteSample(run[start+j*ch])
		}
		if interp {
			p.interpolate(buf[:hl+k])
		}
		copy(buf, buf[k:k+hl])
		hmax = 0
		for _, v := range buf[:hl] {
			hmax = max(hmax, math.Abs(v))
		}
	}
	p.hist = buf[:hl]
	p.peak = max(p.peak, float64(speak))
	return float64(speak)
}

// interpolate runs the four phases over h, whose first tpTaps-1 values are
// history, updating p.peak.
func (p *peakMeter) interpolate(h []float64) {
	peak := p.peak
	for n := tpTaps - 1; n < len(h); n++ {
		w := h[n-(tpTaps-1) : n+1 : n+1]
		var bound float64
		for k, g := range truePeakBound {
			bound += g * math.Abs(w[tpTaps-1-k])
		}
		if bound <= peak {
			continue
		}
		for ph := range truePeakPhases {
			t := &truePeakPhases[ph]
			// Tap k multiplies x[n-k].
			var a, b, c, d float64
			for k := 0; k < tpTaps; k += 4 {
				a += t[k] * w[tpTaps-1-k]
				b += t[k+1] * w[tpTaps-2-k]
				c += t[k+2] * w[tpTaps-3-k]
				d += t[k+3] * w[tpTaps-4-k]
			}
			peak = max(peak, math.Abs(a+b+c+d))
		}
	}
	p.peak = peak
}
