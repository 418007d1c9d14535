package analysis

import (
	"context"
	"math"
	"runtime"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/foreverfm/forever/audio"
)

// The analysis runs on a mono mixdown at half the PCM rate: nothing a
// listener calls rhythm, harmony or timbre lives above 11 kHz, and halving
// the rate halves the cost of the one STFT every feature is read from.
const (
	rate      = audio.SampleRate / 2 // analysis sample rate, Hz
	winLen    = 2048                 // STFT window: 93 ms, 10.8 Hz bins
	hopLen    = 512                  // STFT hop: 23.2 ms
	nBins     = winLen/2 + 1         // one-sided spectrum
	nMel      = 40                   // mel bands for onsets and timbre
	melLo     = 30.0                 // lowest mel edge, Hz
	melHi     = 11025.0              // highest mel edge, Hz
	bassBands = 6                    // mel bands below ~200 Hz, for downbeats
	midBands  = 20                   // mel bands below ~2.5 kHz, for metrical levels
	kickBands = 2                    // mel bands below ~140 Hz, for backbeats
	snareLo   = 20                   // mel bands from ~2.3 kHz ...
	snareHi   = 34                   // ... to ~6.6 kHz, for backbeats; above, hi-hats
	chromaLo  = 100.0                // chroma range, Hz
	chromaHi  = 5000.0
	floorDB   = -100.0 // level of digital silence in every dB feature
)

// frameRate is the number of STFT frames per second.
const frameRate = float64(rate) / hopLen

// frameTime converts a (fractional) frame index to seconds. Frames are
// centred: frame t is centred on analysis sample t*hopLen.
func frameTime(t float64) float64 { return t / frameRate }

// framesIn is the number of whole frames closest to sec seconds.
func framesIn(sec float64) int { return int(math.Round(sec * frameRate)) }

// features holds everything the later stages need, one row per STFT frame,
// in float32 to keep long tracks small.
type features struct {
	n        int       // frames
	mel      []float32 // n*nMel, band energy in dB
	chroma   []float32 // n*12, magnitude per pitch class
	loud     []float32 // n, frame level in dB re a full-scale sine
	onset    []float32 // n, onset strength (rectified log-mel flux, local mean removed)
	bass     []float32 // n, onset strength of the bass bands
	lowMid   []float32 // n, onset strength below ~2.5 kHz: kicks, snares, bass, not hats
	kick     []float32 // n, onset strength below ~140 Hz
	snare    []float32 // n, onset strength at ~2.3-6.6 kHz: a snare's or a clap's crack
	hat      []float32 // n, onset strength above ~6.6 kHz: hi-hats and cymbals
	duration float64   // seconds
}

// melFilter is one triangular band of the mel filterbank over STFT bins.
type melFilter struct {
	lo int
	w  []float64
}

// chromaBin maps one STFT bin to the pitch classes it feeds.
type chromaBin struct {
	bin    int
	pc0    int
	w0, w1 float64 // weights for pc0 and pc0+1
}

// extractor holds the plans and buffers of the shared STFT; it is built
// once per analysis and allocates nothing per frame.
type extractor struct {
	fft    *fourier.FFT
	window []float64
	frame  []float64
	coef   []complex128
	power  []float64
	mels   []melFilter
	chroma []chromaBin
	wNorm  float64 // sum of squared window values
}

func hzToMel(f float64) float64 { return 2595 * math.Log10(1+f/700) }
func melToHz(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }

func newExtractor() *extractor {
	e := &extractor{
		fft:    fourier.NewFFT(winLen),
		window: make([]float64, winLen),
		frame:  make([]float64, winLen),
		coef:   make([]complex128, nBins),
		power:  make([]float64, nBins),
	}
	for i := range e.window {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/winLen) // periodic Hann
		e.window[i] = w
		e.wNorm += w * w
	}
	binHz := float64(rate) / winLen
	// Mel filterbank, each band normalised to unit area so that bands of
	// different widths are comparable in dB.
	mlo, mhi := hzToMel(melLo), hzToMel(melHi)
	edges := make([]float64, nMel+2)
	for i := range edges {
		edges[i] = melToHz(mlo + (mhi-mlo)*float64(i)/float64(nMel+1))
	}
	for b := 0; b < nMel; b++ {
		f0, f1, f2 := edges[b], edges[b+1], edges[b+2]
		lo := int(math.Floor(f0 / binHz))
		hi := min(int(math.Ceil(f2/binHz)), nBins-1)
		var w []float64
		var sum float64
		for k := lo; k <= hi; k++ {
			f := float64(k) * binHz
			var v float64
			switch {
			case f > f0 && f <= f1:
				v = (f - f0) / (f1 - f0)
			case f > f1 && f < f2:
				v = (f2 - f) / (f2 - f1)
			}
			// Narrow low bands may fall between bins: give them the
			// nearest bin so that no band is empty.
			w = append(w, v)
			sum += v
		}
		if sum == 0 {
			k := int(math.Round(f1 / binHz))
			lo, w, sum = k, []float64{1}, 1
		}
		for i := range w {
			w[i] /= sum
		}
		e.mels = append(e.mels, melFilter{lo: lo, w: w})
	}
	// Chroma: each bin splits its magnitude between the two nearest
	// semitones, linearly in cents.
	for k := 1; k < nBins; k++ {
		f := float64(k) * binHz
		if f < chromaLo || f > chromaHi {
			continue
		}
		midi := 69 + 12*math.Log2(f/440)
		lo := math.Floor(midi)
		frac := midi - lo
		pc := int(lo) % 12
		e.chroma = append(e.chroma, chromaBin{bin: k, pc0: pc, w0: 1 - frac, w1: frac})
	}
	return e
}

// decimator turns interleaved 44.1 kHz stereo into 22.05 kHz mono with a
// short binomial low-pass ([1 3 3 1]/8 on the mono signal), enough to keep
// aliasing 25 dB down where music has energy.
type decimator struct {
	s   []float32 // interleaved stereo
	pos int       // next mono input sample (44.1 kHz) to consume
}

func (d *decimator) mono(i int) float64 {
	if i < 0 || 2*i+1 >= len(d.s) {
		return 0
	}
	return 0.5 * float64(d.s[2*i]+d.s[2*i+1])
}

// sample returns analysis sample j (22.05 kHz).
func (d *decimator) sample(j int) float64 {
	i := 2 * j
	return (d.mono(i-1) + 3*d.mono(i) + 3*d.mono(i+1) + d.mono(i+2)) / 8
}

// extract runs the STFT over p and fills a features value. The frames are
// independent, so they are computed in as many contiguous runs as there
// are cores (each with its own FFT plan and buffers); ctx is checked every
// few hundred frames.
func extract(ctx context.Context, p *audio.PCM) (*features, error) {
	nSamples := p.Frames() / 2
	n := nSamples/hopLen + 1
	f := &features{
		n:        n,
		mel:      make([]float32, n*nMel),
		chroma:   make([]float32, n*12),
		loud:     make([]float32, n),
		duration: p.Seconds(),
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, n/2048))
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			errs <- extractRange(ctx, f, p, w*n/workers, (w+1)*n/workers)
		}()
	}
	var err error
	for range workers {
		if e := <-errs; e != nil {
			err = e
		}
	}
	if err != nil {
		return nil, err
	}
	onsetStrength(f)
	return f, nil
}

// extractRange computes frames [t0, t1) of f.
func extractRange(ctx context.Context, f *features, p *audio.PCM, t0, t1 int) error {
	e := newExtractor()
	d := &decimator{s: p.Samples}
	// ring holds the decimated signal for the current window: frame t
	// covers analysis samples [t*hop - win/2, t*hop + win/2).
	ring := make([]float64, winLen)
	next := t0*hopLen - winLen/2 // next analysis sample to read into the ring
	for i := range ring {
		ring[i] = sanitize(d.sample(next))
		next++
	}
	for t := t0; t < t1; t++ {
		if (t-t0)%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if t > t0 {
			copy(ring, ring[hopLen:])
			for j := winLen - hopLen; j < winLen; j++ {
				ring[j] = sanitize(d.sample(next))
				next++
			}
		}
		e.frame1(f, t, ring)
	}
	return nil
}

// sanitize maps NaN and infinities (from corrupt decoders) to silence and
// clips wild values so that no feature can overflow.
func sanitize(x float64) float64 {
	switch {
	case x != x:
		return 0
	case x > 4:
		return 4
	case x < -4:
		return -4
	}
	return x
}

// frame1 computes the features of frame t from the analysis samples in ring.
func (e *extractor) frame1(f *features, t int, ring []float64) {
	var mean float64
	for _, v := range ring {
		mean += v
	}
	mean /= winLen // remove DC so an offset does not read as bass
	var ss float64
	for i, v := range ring {
		x := (v - mean) * e.window[i]
		e.frame[i] = x
		ss += x * x
	}
	f.loud[t] = float32(dB(2 * ss / e.wNorm))
	e.coef = e.fft.Coefficients(e.coef, e.frame)
	// Scale so that a full-scale sine peaks near 0 dB in its band.
	scale := 4 / (e.wNorm * winLen)
	for k, c := range e.coef {
		e.power[k] = (real(c)*real(c) + imag(c)*imag(c)) * scale
	}
	row := f.mel[t*nMel : (t+1)*nMel]
	for b, m := range e.mels {
		var s float64
		for i, w := range m.w {
			s += w * e.power[m.lo+i]
		}
		row[b] = float32(dB(s * float64(len(m.w))))
	}
	var ch [13]float64
	for _, c := range e.chroma {
		mag := math.Sqrt(e.power[c.bin])
		ch[c.pc0] += c.w0 * mag
		ch[c.pc0+1] += c.w1 * mag
	}
	ch[0] += ch[12]
	crow := f.chroma[t*12 : (t+1)*12]
	for i := range crow { // MIDI note numbers put C at 0 mod 12
		crow[i] = float32(ch[i])
	}
}

// dB converts a power ratio to decibels, with floorDB for silence.
func dB(p float64) float64 {
	if !(p > 1e-10) {
		return floorDB
	}
	return 10 * math.Log10(p)
}

// onsetStrength derives the onset envelope from the mel spectrogram: the
// half-wave rectified increase of log band energy from one frame to the
// next, averaged over bands, minus its local mean so that sustained loud
// passages do not read as constant onsets. It also derives the same
// envelope over groups of bands: the bass (kick drums and bass notes, for
// downbeats), everything below the hi-hats (for metrical levels), and the
// kick's, the snare's and the hi-hats' own bands (for backbeats).
func onsetStrength(f *features) {
	n := f.n
	f.onset = make([]float32, n)
	f.bass = make([]float32, n)
	f.lowMid = make([]float32, n)
	f.kick = make([]float32, n)
	f.snare = make([]float32, n)
	f.hat = make([]float32, n)
	// Floor each band 80 dB below the track's loudest band value so that
	// noise in near-silence does not produce flux.
	peak := float32(floorDB)
	for _, v := range f.mel {
		peak = max(peak, v)
	}
	fl := peak - 80
	for t := 1; t < n; t++ {
		cur := f.mel[t*nMel : (t+1)*nMel]
		prev := f.mel[(t-1)*nMel : t*nMel]
		var s, sb, sm, sk, ss, sh float32
		for b := range cur {
			d := max(cur[b], fl) - max(prev[b], fl)
			if d <= 0 {
				continue
			}
			s += d
			if b < bassBands {
				sb += d
			}
			if b < midBands {
				sm += d
			}
			if b < kickBands {
				sk += d
			}
			switch {
			case b >= snareHi:
				sh += d
			case b >= snareLo:
				ss += d
			}
		}
		f.onset[t] = s / nMel
		f.bass[t] = sb / bassBands
		f.lowMid[t] = sm / midBands
		f.kick[t] = sk / kickBands
		f.snare[t] = ss / (snareHi - snareLo)
		f.hat[t] = sh / (nMel - snareHi)
	}
	for _, x := range [][]float32{f.onset, f.bass, f.lowMid, f.kick, f.snare, f.hat} {
		subtractLocalMean(x, framesIn(0.5))
	}
}

// pitchFlux is the onset envelope of pitch changes: the rectified increase
// of each pitch class's level in dB, averaged over the twelve, minus its
// local mean. A slurred melody moves from note to note with no burst of
// band energy for the mel flux to hear, but its pitch classes change.
func pitchFlux(f *features) []float32 {
	out := make([]float32, f.n)
	peak := float32(floorDB)
	for _, v := range f.chroma {
		peak = max(peak, float32(dB(float64(v)*float64(v))))
	}
	fl := float64(peak) - 80
	var prev [12]float64
	for t := range f.n {
		var s float64
		for k, v := range f.chroma[t*12 : (t+1)*12] {
			l := max(dB(float64(v)*float64(v)), fl)
			if t > 0 {
				s += max(l-prev[k], 0)
			}
			prev[k] = l
		}
		out[t] = float32(s / 12)
	}
	subtractLocalMean(out, framesIn(0.5))
	return out
}

// subtractLocalMean removes the mean over a centred window of 2r+1 frames
// from x and clips negatives to zero.
func subtractLocalMean(x []float32, r int) {
	n := len(x)
	if n == 0 {
		return
	}
	// Prefix sums in float64 keep long tracks exact enough.
	pre := make([]float64, n+1)
	for i, v := range x {
		pre[i+1] = pre[i] + float64(v)
	}
	for i := range x {
		lo, hi := max(0, i-r), min(n, i+r+1)
		m := (pre[hi] - pre[lo]) / float64(hi-lo)
		v := float64(x[i]) - m
		x[i] = float32(max(v, 0))
	}
}

// energyFlux is the onset envelope of loud events: the rectified increase
// of linear band power, cube-root compressed. Where the log flux hears
// every event alike, this one is led by the loudest, usually the kick and
// snare that carry the beat, not the off-beat bass and chords of a busy,
// syncopated arrangement.
func energyFlux(f *features) []float32 {
	n := f.n
	out := make([]float32, n)
	prev := make([]float64, nMel)
	cur := make([]float64, nMel)
	for t := 0; t < n; t++ {
		row := f.mel[t*nMel : (t+1)*nMel]
		var s float64
		for b, v := range row {
			cur[b] = math.Pow(10, float64(v)/10)
			if t > 0 {
				s += max(cur[b]-prev[b], 0)
			}
		}
		out[t] = float32(math.Cbrt(s))
		prev, cur = cur, prev
	}
	subtractLocalMean(out, framesIn(0.5))
	return out
}
