package mix

// KindSequence is the kind of a Sequence.
const KindSequence Kind = "sequence"

// seq plays actions back to back.
type seq struct {
	base
	actions []Action
	cur     int
}

// Sequence joins actions back to back, sample-exactly, into one action, and
// sets each one's output start relative to the sequence's first frame (see
// Placer). Its Info lists the tracks of all of them; its Layers, those of
// each action, shifted to where it plays.
func Sequence(actions ...Action) Action {
	s := &seq{actions: make([]Action, len(actions))}
	s.info.Kind = KindSequence
	var at int64
	for i, a := range actions {
		a = place(a)
		s.actions[i] = a
		if st, ok := a.(Placer); ok {
			st.SetStart(at)
		}
		at += int64(a.Len())
		s.info.Tracks = append(s.info.Tracks, a.Info().Tracks...)
	}
	s.info.Frames = int(at)
	return s
}

func (s *seq) Render(dst []float32) int {
	checkDst(dst)
	n := 0
	for s.cur < len(s.actions) && 2*n < len(dst) {
		a := s.actions[s.cur]
		m := a.Render(dst[2*n:])
		n += m
		if 2*n < len(dst) {
			// a has ended.
			if err := a.Err(); err != nil {
				s.fail(err)
			}
			s.cur++
		}
	}
	return n
}

func (s *seq) SetStart(f int64) {
	s.info.Start = f
	for _, a := range s.actions {
		if st, ok := a.(Placer); ok {
			st.SetStart(f)
		}
		f += int64(a.Len())
	}
}

func (s *seq) Layers() []Layer {
	var ls []Layer
	off := 0
	for _, a := range s.actions {
		for _, l := range Layers(a) {
			ls = append(ls, shift(l, off, a.Len(), s.info.Frames))
		}
		off += a.Len()
	}
	return ls
}

// shift moves layer l of an action of n frames to frame off of one of
// total frames.
func shift(l Layer, off, n, total int) Layer {
	g := l.Gain
	l.Gain = func(f int) float64 {
		if f < off || f >= off+n || g == nil {
			return 0
		}
		return g(f - off)
	}
	beats := make([]int, len(l.Beats))
	for i, b := range l.Beats {
		beats[i] = b + off
	}
	l.Beats = beats
	l.Action = Sequence(Silence(off), l.Action, Silence(total-off-n))
	return l
}
