package analysis

import (
	"math"
	"slices"
)

// Beat tracking follows Ellis (2007), "Beat tracking by dynamic
// programming", with one change for live-played music: the ideal
// inter-beat interval is not one global period but a local period, read
// from the autocorrelation of the onset envelope around each moment and
// kept within a few percent of the global tempo. The tracker then follows
// a drifting band while still preferring steady beats.

const (
	maxDrift = 0.12 // local period stays within this fraction of the global
)

// tightness weighs the log-interval penalty (Ellis's alpha). It is
// higher than Ellis's 100: the local period already follows drift, and a
// high weight keeps the tracker from hopping onto the off-beat where
// syncopated parts are busier than the beat.
const tightness = 400.0

// localPeriods returns, for every frame, the beat period (frames) the music
// shows there: the autocorrelation peak nearest the global period p0 in an
// 8-second window, median-smoothed over neighbouring windows.
func localPeriods(onset []float32, p0 float64) []float64 {
	n := len(onset)
	out := make([]float64, n)
	step := framesIn(1) // one estimate per second
	half := framesIn(4)
	lo := int(math.Floor(p0 * (1 - maxDrift)))
	hi := int(math.Ceil(p0 * (1 + maxDrift)))
	if n == 0 || lo < 2 {
		for i := range out {
			out[i] = p0
		}
		return out
	}
	var centres []int
	var est []float64
	r := make([]float64, hi+2)
	for c := 0; c < n; c += step {
		a, b := max(0, c-half), min(n, c+half)
		seg := onset[a:b]
		est1 := p0
		if len(seg) > 2*hi {
			mean := mean32(seg)
			for l := lo - 1; l <= hi+1; l++ {
				var s float64
				for i := 0; i+l < len(seg); i++ {
					s += (float64(seg[i]) - mean) * (float64(seg[i+l]) - mean)
				}
				r[l] = s / float64(len(seg)-l)
			}
			m := lo
			for l := lo; l <= hi; l++ {
				if r[l] > r[m] {
					m = l
				}
			}
			// Only a real peak inside the band counts: at the band's edge
			// the maximum is just the slope of a peak outside it.
			if m > lo && m < hi && r[m] > 0 && r[m] >= r[m-1] && r[m] >= r[m+1] {
				off := 0.0
				if d := r[m-1] - 2*r[m] + r[m+1]; d < 0 {
					off = 0.5 * (r[m-1] - r[m+1]) / d
				}
				est1 = math.Min(math.Max(float64(m)+off, p0*(1-maxDrift)), p0*(1+maxDrift))
			}
		}
		centres = append(centres, c)
		est = append(est, est1)
	}
	// Median over five windows rejects single bad estimates.
	sm := make([]float64, len(est))
	buf := make([]float64, 0, 5)
	for i := range est {
		buf = append(buf[:0], est[max(0, i-2):min(len(est), i+3)]...)
		slices.Sort(buf)
		sm[i] = buf[len(buf)/2]
	}
	for i := range out {
		j := i / step
		if j+1 < len(sm) {
			f := float64(i-centres[j]) / float64(step)
			out[i] = sm[j]*(1-f) + sm[j+1]*f
		} else {
			out[i] = sm[len(sm)-1]
		}
	}
	return out
}

// trackBeats returns beat positions in (integer) frames by dynamic
// programming over the onset envelope, with local periods per.
func trackBeats(onset []float32, per []float64) []int {
	n := len(onset)
	if n == 0 {
		return nil
	}
	// Normalise the envelope so the tightness weight means the same for
	// quiet and loud tracks.
	var ss float64
	for _, v := range onset {
		ss += float64(v) * float64(v)
	}
	std := math.Sqrt(ss / float64(n))
	if std == 0 {
		return nil
	}
	o := make([]float64, n)
	for i, v := range onset {
		o[i] = float64(v) / std
	}
	score := make([]float64, n)
	back := make([]int32, n)
	for t := range n {
		p := per[t]
		lo, hi := t-int(math.Round(2*p)), t-int(math.Round(p/2))
		best, arg := math.Inf(-1), -1
		for tau := max(lo, 0); tau <= hi; tau++ {
			d := math.Log(float64(t-tau) / p)
			s := score[tau] - tightness*d*d
			if s > best {
				best, arg = s, tau
			}
		}
		if arg < 0 || best < 0 {
			score[t], back[t] = o[t], -1
			continue
		}
		score[t], back[t] = o[t]+best, int32(arg)
	}
	// End on the best-scoring frame within the last period.
	p := per[n-1]
	end := n - 1
	for t := max(0, n-1-int(math.Round(p))); t < n; t++ {
		if score[t] > score[end] {
			end = t
		}
	}
	var beats []int
	for t := end; t >= 0; t = int(back[t]) {
		beats = append(beats, t)
	}
	slices.Reverse(beats)
	return trimBeats(beats, o)
}

// trimBeats drops leading and trailing beats that fall where there are no
// onsets (silence before and after the music): the tracker keeps extrapolating
// the pulse there.
func trimBeats(beats []int, o []float64) []int {
	if len(beats) < 3 {
		return beats
	}
	// Onset strength around each beat, smoothed over a few beats.
	w := make([]float64, len(beats))
	for i, b := range beats {
		var m float64
		for t := max(0, b-2); t <= min(len(o)-1, b+2); t++ {
			m = max(m, o[t])
		}
		w[i] = m
	}
	sm := make([]float64, len(w))
	var ss float64
	for i := range w {
		var s float64
		k := 0
		for j := max(0, i-2); j <= min(len(w)-1, i+2); j++ {
			s += w[j]
			k++
		}
		sm[i] = s / float64(k)
		ss += sm[i] * sm[i]
	}
	th := 0.2 * math.Sqrt(ss/float64(len(sm)))
	a, b := 0, len(beats)
	for a < b && sm[a] < th {
		a++
	}
	for b > a && sm[b-1] < th {
		b--
	}
	return beats[a:b]
}

// refineBeats converts beat frames to seconds, moving each to the
// sub-frame peak of the onset envelope next to it and compensating the
// lead of the log-flux peak over the acoustic onset.
func refineBeats(beats []int, onset []float32) []float64 {
	out := make([]float64, len(beats))
	for i, b := range beats {
		t := float64(b)
		if b > 0 && b+1 < len(onset) {
			a, c, d := float64(onset[b-1]), float64(onset[b]), float64(onset[b+1])
			if c >= a && c >= d {
				if den := a - 2*c + d; den < 0 {
					t += 0.5 * (a - d) / den
				}
			}
		}
		out[i] = max(0, frameTime(t)+onsetLag)
	}
	return out
}

// onsetLag is how long after the peak of the beat envelope the acoustic
// onset sits: the log energy of a frame rises as soon as a sound enters the
// leading edge of its window, the linear energy later. Calibrated on the demo
// catalogue's drums, whose onset times are known to the sample.
const onsetLag = 0.003

// fitTempo returns the tempo best describing beat times: the least-squares
// slope of time against beat index, robust to the odd missing beat by
// working on the median interval when drift is large.
func fitTempo(times []float64) float64 {
	if len(times) < 2 {
		return 0
	}
	xs := make([]float64, len(times))
	for i := range xs {
		xs[i] = float64(i)
	}
	slope, _ := fitLine(xs, times)
	if slope <= 0 {
		return 0
	}
	return 60 / slope
}

// Metrical level. The autocorrelation and the prior pick a pulse, but a
// drum pattern can make the half or double tempo just as periodic. The
// beat itself settles it, using the onsets below 2.5 kHz (kicks, snares,
// bass; not hi-hats): when the points halfway between beats are stronger
// than the beats, the tracker is on half notes and the beat is twice as
// fast; otherwise, when every other tracked beat is weak, the tracker is
// on the eighth notes of a half-time groove and the beat is every second
// one.
//
// Drums settle it where loudness cannot. In a backbeat the kick and the
// snare take turns beat by beat, so when the tracker finds one drum on
// every one of its beats and the other halfway between, it is on half
// notes, as in fast rock and punk; unless the sound halfway is a hi-hat
// rather than a snare's broadband crack, for a kick on every beat and an
// open hat on every off-beat is disco and house at their own tempo, or is
// much softer than the drum on the beat, as the eighth-note kicks and ghost
// notes of a backbeat at its own tempo are.
//
// The bar settles it where the drums do not take turns. A bar of only two
// beats whose halfway points are busy too is a bar of four beats heard at
// half speed: slow music repeats bar by bar, over four beats, while fast
// music accents beats one and three and fills every beat between. The
// thresholds were set on real music with exact beats (scripts/analysis-eval
// -annotated); results hold for turns from 0.45 to 0.55, alternation from
// 0.3 to 0.4, drums halfway from 0.5 to 0.63 and busy halfway points from
// 0.42 to 0.53.
const (
	halfBelow   = 0.30  // weak/strong beat ratio below which the tempo halves
	doubleAbove = 1.0   // midpoint/beat ratio above which the tempo doubles
	slowestBeat = 55.0  // BPM: never halve below this
	fastestBeat = 190.0 // BPM: loudness alone never doubles beyond this

	backbeatTurns       = 0.5  // consistency of drum turns at midpoints above which the tempo doubles
	backbeatAlternation = 0.35 // ... unless successive beats alternate at least this consistently
	backbeatHats        = 2.0  // ... and the hats rise halfway less than this many times as much as the snare's band
	backbeatHalfway     = 0.55 // ... and the drums halfway are at least this strong against those on the beats
	twoBeatBusy         = 0.47 // midpoint/beat ratio above which a bar of two beats doubles

	fastestDoubled = 220.0 // BPM: the drums or the bar never double beyond this
)

// metricalLevel returns 0.5, 1 or 2: the factor to apply to the tempo
// tracked at bpm with beats at frames, in music whose bar lasts bar frames
// (0 when unknown).
func metricalLevel(f *features, frames []int, bpm float64, bar int) (factor float64, parity int) {
	lowMid := f.lowMid
	if len(frames) < 16 {
		return 1, 0
	}
	var sum [2]float64
	var cnt [2]int
	var on, mid float64
	for i, b := range frames {
		s := maxAround(lowMid, b, 1)
		sum[i%2] += s
		cnt[i%2]++
		on += s
		if i+1 < len(frames) {
			mid += maxAround(lowMid, (b+frames[i+1])/2, 1)
		}
	}
	even, odd := sum[0]/float64(cnt[0]), sum[1]/float64(cnt[1])
	strong, weak := max(even, odd), min(even, odd)
	if odd > even {
		parity = 1
	}
	if strong <= 0 {
		return 1, 0
	}
	on /= float64(len(frames))
	mid /= float64(len(frames) - 1)
	if bpm*2 <= fastestBeat && mid/on > doubleAbove {
		return 2, 0
	}
	twoBeatBar := bar > 0 && math.Abs(float64(bar)/periodOf(bpm)-2) < barBeatsOff
	if twoBeatBar && bpm*2 <= fastestDoubled && mid/on > twoBeatBusy {
		return 2, 0
	}
	if bpm/2 >= slowestBeat && weak/strong < halfBelow && mid/on <= doubleAbove {
		return 0.5, parity
	}
	if bpm*2 <= fastestDoubled {
		turns, alt := backbeat(f.kick, f.snare, frames)
		// No hat halfway is no disco off-beat, whatever the snare does
		// there (it may be on the beats).
		hats := 0.0
		if h := midpointRatio(f.hat, frames); h > 0 {
			hats = h / midpointRatio(f.snare, frames)
		}
		if turns > backbeatTurns && alt < backbeatAlternation && hats < backbeatHats &&
			drumsHalfway(f, frames) > backbeatHalfway {
			return 2, 0
		}
	}
	return 1, 0
}

// A pulse of three to every two beats can be the most periodic one:
// quarter-note triplets, dotted rhythms and phrases that push notes off the
// beat all repeat every two thirds of a beat. Tracked at that pulse, only
// one beat in three lands on the music's beat; the other two fall a third
// of a beat off it, where the envelope is weaker. Tracked at two thirds of
// that tempo, every beat lands on one. So the slower pulse is the beat when
// the envelope at its tracked beats is, on average, much stronger: on real
// music with exact beats the pieces that rightly keep the faster pulse
// reach at most 1.13 times as strong at the slower one, and a backbeat at
// 80 BPM under quarter-note triplets, heard at 120 without this, reaches
// 1.58. Even triplets with nothing to mark the beat measure alike at both
// and keep the faster pulse.
const twoThirdsStronger = 1.3

// twoThirds returns the tempo, local periods and tracked beats of the
// pulse at two thirds of bpm when its beats are the stronger (see above),
// and the ones it is given otherwise.
func twoThirds(env []float32, bpm float64, per []float64, frames []int) (float64, []float64, []int) {
	slow := bpm * 2 / 3
	if slow < minBPM || len(frames) < 16 {
		return bpm, per, frames
	}
	sper := localPeriods(env, periodOf(slow))
	sframes := trackBeats(env, sper)
	if meanAt(env, sframes) > twoThirdsStronger*meanAt(env, frames) {
		return slow, sper, sframes
	}
	return bpm, per, frames
}

// meanAt returns the mean of env at frames, each read as the largest value
// within a frame of it, as the tracker's beats may sit a frame off a peak.
func meanAt(env []float32, frames []int) float64 {
	if len(frames) == 0 {
		return 0
	}
	var s float64
	for _, b := range frames {
		s += maxAround(env, b, 1)
	}
	return s / float64(len(frames))
}

// backbeat measures how the drums share the tracked beats. From the
// balance of kick over snare at a frame, each relative to its mean, turns
// is how consistently the balance differs one way between each beat and
// the midpoint after it (1 when one drum always falls on the beat and the
// other halfway), and alt how consistently it differs one way between
// each even beat and the odd one after it (1 when they take turns beat by
// beat, as a backbeat does at its own tempo). Signs, not sizes, count, so
// that a few loud fills do not decide.
func backbeat(kick, snare []float32, frames []int) (turns, alt float64) {
	mk, ms := mean32(kick), mean32(snare)
	if mk <= 0 || ms <= 0 || len(frames) < 3 {
		return 0, 0
	}
	balance := func(fr int) float64 { return maxAround(kick, fr, 1)/mk - maxAround(snare, fr, 1)/ms }
	var t, a float64
	var nt, na int
	for i := 0; i+1 < len(frames); i++ {
		on := balance(frames[i])
		t += sign(on - balance((frames[i]+frames[i+1])/2))
		nt++
		if i%2 == 0 && i+2 < len(frames) {
			a += sign(on - balance(frames[i+1]))
			na++
		}
	}
	return math.Abs(t / float64(nt)), math.Abs(a / float64(na))
}

// Steady songs keep one phase. Where a section gives weak evidence of
// the beat (a breakdown, a riff that pushes the off-beat), the tracker can
// slide half a beat and stay there until the evidence turns. A song played
// to a click never does that, so when the tracked beats sit on one rigid
// grid apart from such half-beat excursions, the whole song's evidence
// decides the phase: the beats become the grid that collects the most
// onset strength over the song. A local tempo that varies by more than a
// few percent, or beats that wander off the grid by other amounts, mean
// the tempo itself drifts (live playing), and then the tracker's beats
// stand.
const (
	gridDrift    = 0.03 // most the local period may vary (5th to 95th percentile)
	gridOn       = 0.4  // share of tracked beats on the grid needed ...
	gridBetween  = 0.12 // ... and most share of beats neither on it nor half a beat off
	gridOnWithin = 0.12 // of a period: "on the grid"
	gridSearch   = 0.005
	gridStep     = 0.0005
)

// steadyGrid returns frames replaced by the rigid grid that best fits the
// envelope over the whole song, when the song is steady (see above); per
// holds the local period at every frame, p0 the song's period.
func steadyGrid(env []float32, per []float64, p0 float64, frames []int) []int {
	n := len(frames)
	if n < 16 {
		return frames
	}
	local := make([]float64, n)
	for i, f := range frames {
		local[i] = per[f]
	}
	slices.Sort(local)
	if local[n*95/100] > local[n*5/100]*(1+gridDrift) {
		return frames
	}
	first, last := float64(frames[0]), float64(frames[n-1])
	// The grid that collects the most envelope, over periods near the
	// tracked one and every phase.
	bestS, bestP, bestO := -1.0, p0, first
	for d := -gridSearch; d <= gridSearch+1e-12; d += gridStep {
		p := p0 * (1 + d)
		for ph := 0.0; ph < p; ph += 0.5 {
			var s float64
			for x := first - p + ph; x <= last; x += p {
				if x >= 0 {
					s += maxAround(env, int(math.Round(x)), 1)
				}
			}
			if s > bestS {
				bestS, bestP, bestO = s, p, first-p+ph
			}
		}
	}
	// Classify the tracked beats by their offset from it, and refit the
	// grid by least squares to those on it, which pins the period far
	// more finely than the search step over a long song.
	var on, between int
	var xs, ys []float64
	for _, f := range frames {
		k := math.Round((float64(f) - bestO) / bestP)
		o := math.Abs((float64(f)-bestO)/bestP - k)
		switch {
		case o < gridOnWithin:
			on++
			xs, ys = append(xs, k), append(ys, float64(f))
		case o < 0.5-gridOnWithin:
			between++
		}
	}
	if float64(on) < gridOn*float64(n) || float64(between) > gridBetween*float64(n) || len(xs) < 2 {
		return frames
	}
	slope, icept := fitLine(xs, ys)
	if slope <= 0 {
		return frames
	}
	out := make([]int, 0, n+1)
	for k := math.Ceil((first - bestP/2 - icept) / slope); ; k++ {
		x := icept + k*slope
		if x > last+bestP/2 || int(math.Round(x)) >= len(env) {
			break
		}
		if x >= 0 {
			out = append(out, int(math.Round(x)))
		}
	}
	if len(out) < n/2 {
		return frames
	}
	return out
}

// The drums hold the phase. A tracker led by the loudest onsets can
// settle half a beat off when the off-beats ring loudest, as an open
// hi-hat or a chord stab on every "and" does. When the beat envelope
// rates the beats and the points halfway between them alike, the kick
// and the snare, which mark the beat in almost every style, decide.
const (
	phaseAlike = 0.9 // midpoint/beat envelope ratio above which the two phases are alike ...
	phaseDrums = 1.5 // ... and the drums must be this much stronger halfway to move the beats there
)

// drumPhase moves the beats to the points halfway between them when the
// drums say so (see above). env is the tracker's envelope.
func drumPhase(f *features, env []float32, frames []int) []int {
	n := len(frames)
	if n < 16 {
		return frames
	}
	if midpointRatio(env, frames) < phaseAlike || drumsHalfway(f, frames) < phaseDrums {
		return frames
	}
	out := make([]int, 0, n)
	for i := 0; i+1 < n; i++ {
		out = append(out, (frames[i]+frames[i+1])/2)
	}
	if last := frames[n-1] + (frames[n-1]-frames[n-2])/2; last < len(env) {
		out = append(out, last)
	}
	return out
}

// drumsHalfway is the strength of the kick and the snare (each relative to
// its mean) halfway between beats over their strength on them: 0 with no
// drums halfway, +Inf with drums only there.
func drumsHalfway(f *features, frames []int) float64 {
	mk, ms := mean32(f.kick), mean32(f.snare)
	if mk <= 0 || ms <= 0 {
		return 0
	}
	drums := func(fr int) float64 { return maxAround(f.kick, fr, 1)/mk + maxAround(f.snare, fr, 1)/ms }
	var on, mid float64
	for i := 0; i+1 < len(frames); i++ {
		on += drums(frames[i])
		mid += drums((frames[i] + frames[i+1]) / 2)
	}
	switch {
	case mid <= 0:
		return 0
	case on <= 0:
		return math.Inf(1)
	}
	return mid / on
}

// fitLine returns the least-squares line y = slope*x + icept.
func fitLine(xs, ys []float64) (slope, icept float64) {
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	fn := float64(len(xs))
	den := fn*sxx - sx*sx
	if den <= 0 {
		return 0, 0
	}
	slope = (fn*sxy - sx*sy) / den
	return slope, (sy - slope*sx) / fn
}

// Swing. In a shuffle the beat starts the long note of each long-short
// pair, but the short note before the next beat can be the stronger onset,
// and the tracker then sits on it, a third of a beat early. It is there
// when onsets crowd a third of the way to the next tracked beat and leave
// both the midpoint and the two-thirds point (where the swung off-beat
// would be) nearly empty.
const swingDominance = 3.0 // how much the third must outweigh the others

// swingPhase moves beats tracked on the swung off-beat a third of a beat
// later, onto the beat. It reads the plain onset envelope, whose peaks are
// sharper than the tracker's.
func swingPhase(onset []float32, frames []int) []int {
	if len(frames) < 16 {
		return frames
	}
	var third, half, twoThirds float64
	for i := 0; i+1 < len(frames); i++ {
		at := func(f float64) float64 {
			a, b := float64(frames[i]), float64(frames[i+1])
			return maxAround(onset, int(math.Round(a+(b-a)*f)), 1)
		}
		third += at(1.0 / 3)
		half += at(0.5)
		twoThirds += at(2.0 / 3)
	}
	if third <= swingDominance*max(half, twoThirds) {
		return frames
	}
	out := make([]int, len(frames))
	for i, b := range frames {
		next := b + (b - frames[max(i-1, 0)])
		if i+1 < len(frames) {
			next = frames[i+1]
		}
		out[i] = min(b+int(math.Round(float64(next-b)/3)), len(onset)-1)
	}
	return out
}

// midpointRatio is the mean of x halfway between beats over its mean on
// them.
func midpointRatio(x []float32, frames []int) float64 {
	var on, mid float64
	for i := 0; i+1 < len(frames); i++ {
		on += maxAround(x, frames[i], 1)
		mid += maxAround(x, (frames[i]+frames[i+1])/2, 1)
	}
	if on <= 0 {
		return math.Inf(1)
	}
	return mid / on
}

// mean32 is the mean of x in float64 (0 for an empty x).
func mean32(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(max(len(x), 1))
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
