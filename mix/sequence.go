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
// sets each one's output start relative to the sequence's first frame. Its
// Info lists the tracks of all of them.
func Sequence(actions ...Action) Action {
	s := &seq{actions: actions}
	s.info.Kind = KindSequence
	var at int64
	for _, a := range actions {
		if st, ok := a.(starter); ok {
			st.setStart(at)
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

func (s *seq) setStart(f int64) {
	s.info.Start = f
	for _, a := range s.actions {
		if st, ok := a.(starter); ok {
			st.setStart(f)
		}
		f += int64(a.Len())
	}
}
