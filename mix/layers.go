package mix

import (
	"sort"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix/stretch"
)

// Layer is one track's part in an action, for pictures and inspection.
type Layer struct {
	Track *Track
	// Action renders this track alone, with its gain curve, from the
	// action's start; it is a fresh action of the same length.
	Action Action
	// Gain reports the linear gain of the track at output frame f of the
	// action (loudness correction times fade).
	Gain func(f int) float64
	// Beats are the output frames, relative to the action's start, at
	// which the track's beats play.
	Beats []int
}

// Layers returns the parts of an action, one per track: those of this
// package's actions and their compositions, or what a Layered action of
// one's own reports; nil for other actions. The action itself is not
// consumed.
func Layers(a Action) []Layer {
	if l, ok := a.(Layered); ok {
		return l.Layers()
	}
	info := a.Info()
	gainFn := func(e envelope) func(int) float64 {
		return func(f int) float64 { return e.gain * e.curve(float64(f)/float64(e.n)) }
	}
	switch x := a.(type) {
	case *solo:
		s := info.Tracks[0]
		c := newSolo(info.Kind, x.r.t, s.StartFrame, s.Frames, s.Gain, x.env.curve, s.Fade)
		return []Layer{{Track: x.r.t, Action: c, Gain: gainFn(x.env), Beats: beatsIn(x.r.t, s.StartFrame, s.Frames)}}
	case *crossfade:
		var ls []Layer
		for j, s := range info.Tracks {
			e, t := x.envOut, x.out.t
			var y Action
			if j == 0 {
				y = Crossfade(t, s.StartFrame, nil, 0, s.Frames, s.Gain, 0)
			} else {
				e, t = x.envIn, x.in.t
				y = Crossfade(nil, 0, t, s.StartFrame, s.Frames, 0, s.Gain)
			}
			ls = append(ls, Layer{Track: t, Action: y, Gain: gainFn(e), Beats: beatsIn(t, s.StartFrame, s.Frames)})
		}
		return ls
	case *crossmatch:
		var ls []Layer
		for j, t := range x.tracks {
			y := *x
			y.tracks[1-j] = nil
			y.ready, y.pos, y.err, y.st = false, 0, nil, [2]*stretch.Stretcher{}
			// Each track's own beats sit at the grid points whose input
			// anchor starts one of its beats.
			var beats []int
			if t != nil && t.Analysis != nil {
				starts := map[int]bool{}
				for _, q := range t.Analysis.Beats {
					starts[audio.FrameAt(q.Start)] = true
				}
				for i, in := range x.beats[j] {
					if starts[in] {
						beats = append(beats, x.grid[i])
					}
				}
			}
			ls = append(ls, Layer{Track: t, Action: &y, Gain: gainFn(x.env[j]), Beats: beats})
		}
		return ls
	}
	return nil
}

// beatsIn returns the frames, relative to from, of t's beats in
// [from, from+n).
func beatsIn(t *Track, from, n int) []int {
	if t == nil || t.Analysis == nil {
		return nil
	}
	q := t.Analysis.Beats
	i := sort.Search(len(q), func(i int) bool { return audio.FrameAt(q[i].Start) >= from })
	var b []int
	for ; i < len(q) && audio.FrameAt(q[i].Start) < from+n; i++ {
		b = append(b, audio.FrameAt(q[i].Start)-from)
	}
	return b
}
