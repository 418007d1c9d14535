package mix

import (
	"errors"
	"fmt"
	"math"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix/stretch"
)

// crossmatch overlaps two tracks quantum by quantum, both stretched onto a
// common output grid.
type crossmatch struct {
	base
	tracks  [2]*Track
	grid    []int    // output frame of each pair's start, and the end
	anchors [2][]int // input frame of each quantum's start, and the end
	beats   [2][]int // the anchors as planned, before snapping to onsets
	env     [2]envelope
	st      [2]*stretch.Stretcher
	opt     stretch.Options
	pos     int
	ready   bool
	scratch [2 * block]float32
}

// Crossmatch overlaps out and in quantum by quantum: outQ[i] of out plays
// at the same time as inQ[i] of in. Each pair is stretched, without changing
// pitch, to a common duration that glides from outQ's own durations at the
// start to inQ's at the end, so that the beats of both tracks land together
// throughout, the tempo moves from the first track's to the second's, and
// the action joins a Playback of out before it and of in after it without a
// seam. out fades out and in fades in on equal-power curves, each at its own
// gain in dB. The quanta must be contiguous runs (each starting where the
// previous ends), at least two of each, as many of each.
func Crossmatch(out *Track, outQ []analysis.Quantum, in *Track, inQ []analysis.Quantum, outGainDB, inGainDB float64) (Action, error) {
	k := len(outQ)
	if k < 2 || len(inQ) != k {
		return nil, fmt.Errorf("mix: Crossmatch of %d and %d quanta, want as many of each, at least 2", k, len(inQ))
	}
	c := &crossmatch{tracks: [2]*Track{out, in}}
	for j, q := range [2][]analysis.Quantum{outQ, inQ} {
		a := make([]int, k+1)
		for i, x := range q {
			a[i] = audio.FrameAt(x.Start)
		}
		a[k] = audio.FrameAt(q[k-1].End())
		for i := 1; i <= k; i++ {
			if a[i] <= a[i-1] {
				return nil, fmt.Errorf("mix: Crossmatch: quantum %d of track %d (%.3fs) is empty or out of order", i-1, j+1, q[min(i, k-1)].Start)
			}
		}
		c.anchors[j] = a
		c.beats[j] = a
	}
	// Pair i lasts (1-x)·|out_i| + x·|in_i| with x gliding from 0 to 1, so
	// the first pair plays out at its own speed and the last plays in at
	// its own: the neighbouring Playbacks continue exactly.
	c.grid = make([]int, k+1)
	var t float64
	for i := 0; i < k; i++ {
		x := float64(i) / float64(k-1)
		la := float64(c.anchors[0][i+1] - c.anchors[0][i])
		lb := float64(c.anchors[1][i+1] - c.anchors[1][i])
		t += (1-x)*la + x*lb
		c.grid[i+1] = int(math.Round(t))
		if c.grid[i+1] <= c.grid[i] {
			return nil, errors.New("mix: Crossmatch: a pair of quanta shorter than a frame")
		}
	}
	n := c.grid[k]
	c.env = [2]envelope{newEnvelope(EqualPowerOut, outGainDB, n), newEnvelope(EqualPowerIn, inGainDB, n)}
	a, b := c.anchors[0], c.anchors[1]
	c.info = Info{Kind: KindCrossmatch, Frames: n, Tracks: []Span{
		span(out, a[0], a[k]-a[0], outGainDB, "out"),
		span(in, b[0], b[k]-b[0], inGainDB, "in"),
	}, Match: &MatchInfo{Quanta: k, TempoFrom: QuantumTempo(outQ), TempoTo: QuantumTempo(inQ)}}
	return c, nil
}

func (c *crossmatch) prepare() {
	c.ready = true
	for j, t := range c.tracks {
		var src []float32
		if t == nil || t.Audio == nil {
			c.fail(fmt.Errorf("%w: crossmatch track %d", ErrNoAudio, j+1))
		} else {
			src = t.Audio.Samples
			if last := c.anchors[j][len(c.anchors[j])-1]; last > t.Audio.Frames() {
				c.fail(fmt.Errorf("mix: %s: crossmatch up to frame %d beyond its %d frames", t.label(), last, t.Audio.Frames()))
			}
			c.anchors[j] = snapToOnsets(src, c.anchors[j], onsetRadius)
		}
		s, err := stretch.New(src, c.grid, c.anchors[j], c.opt)
		if err != nil {
			// Cannot happen: the anchors were checked when c was made and
			// snapping keeps their order. Play this track silent.
			c.fail(fmt.Errorf("mix: crossmatch track %d: %w", j+1, err))
			continue
		}
		c.st[j] = s
	}
}

func (c *crossmatch) Render(dst []float32) int {
	checkDst(dst)
	if !c.ready {
		c.prepare()
	}
	total := max(min(len(dst)/2, c.info.Frames-c.pos), 0)
	for done := 0; done < total; {
		m := min(total-done, block)
		d, s := dst[2*done:2*(done+m)], c.scratch[:2*m]
		c.read(0, d)
		c.env[0].apply(d, d, c.pos, false)
		c.read(1, s)
		c.env[1].apply(d, s, c.pos, true)
		c.pos += m
		done += m
	}
	return total
}

// onsetRadius is how far, in frames, an anchor may move to the onset it
// marks: 25 ms, more than beat trackers working on 10 ms hops miss by, less
// than half the gap between sixteenth notes at 130 BPM.
const onsetRadius = 1100

// snapToOnsets returns anchors with every inner one moved to the clear
// onset within radius frames of it, if there is one: the frame where the
// energy of the signal's first difference (its treble: clicks, attacks)
// over the next 256 frames most exceeds that over the previous 256, at
// least doubling. Beat trackers place beats on a coarse grid; where both
// tracks' beats sit on their attacks to the millisecond, the attacks land
// together. The first and last two anchors stay, so that the first and last
// segments keep speed 1 for seamless joins; order is kept.
func snapToOnsets(src []float32, anchors []int, radius int) []int {
	const w = 256
	frames := len(src) / 2
	out := append([]int(nil), anchors...)
	var cum []float64
	for i := 2; i < len(out)-2; i++ {
		a := out[i]
		lo, hi := a-radius-w, a+radius+w
		if lo < 1 || hi >= frames {
			continue
		}
		// Prefix sums of the squared first difference over [lo, hi).
		cum = append(cum[:0], 0)
		for f := lo; f < hi; f++ {
			d := float64(src[2*f]-src[2*f-2]) + float64(src[2*f+1]-src[2*f-1])
			cum = append(cum, cum[len(cum)-1]+d*d)
		}
		e := func(from int) float64 { return cum[from-lo+w] - cum[from-lo] }
		best, bestRise := a, 0.0
		for c := a - radius; c <= a+radius; c += 8 {
			after, before := e(c), e(c-w)
			if after > 2*before && after-before > bestRise {
				best, bestRise = c, after-before
			}
		}
		if best > out[i-1] && best < anchors[i+1] {
			out[i] = best
		}
	}
	return out
}

func (c *crossmatch) read(j int, dst []float32) {
	if c.st[j] == nil {
		clear(dst)
		return
	}
	c.st[j].Read(dst)
}
