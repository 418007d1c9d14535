package mix

// Actions compose like gopxl/beep's Streamers: Gain, Fade, Overlay and
// Sequence each wrap any Action, this package's or one's own, and return
// one, which can be wrapped again. The wrappers keep what the wrapped
// actions know: their tracks in Info, their start when a Mixer or a
// Sequence places them, their Layers.

// KindOverlay is the kind of an Overlay.
const KindOverlay Kind = "overlay"

// A Layered action lists its parts for Layers; an Action of one's own
// implements it to be drawn and inspected like the built-in ones.
type Layered interface {
	Layers() []Layer
}

// shaped applies a gain curve to another action.
type shaped struct {
	inner Action
	env   envelope
	db    float64
	pos   int
}

// Gain returns a played db decibels louder (quieter for negative db).
func Gain(a Action, db float64) Action {
	return &shaped{inner: a, env: newEnvelope(Flat, db, a.Len()), db: db}
}

// Fade returns a with its level shaped by curve c across its length: frame
// i of n is scaled by c(i/n). Fade(a, EqualPowerOut) fades a out.
func Fade(a Action, c Curve) Action {
	return &shaped{inner: a, env: newEnvelope(c, 0, a.Len())}
}

func (s *shaped) Len() int   { return s.inner.Len() }
func (s *shaped) Err() error { return s.inner.Err() }

func (s *shaped) Info() Info {
	i := s.inner.Info()
	if s.db != 0 {
		i.Tracks = append([]Span(nil), i.Tracks...)
		for k := range i.Tracks {
			i.Tracks[k].Gain += s.db
		}
	}
	return i
}

func (s *shaped) Render(dst []float32) int {
	checkDst(dst)
	n := s.inner.Render(dst)
	s.env.apply(dst[:2*n], dst[:2*n], s.pos, false)
	s.pos += n
	return n
}

func (s *shaped) SetStart(f int64) {
	if st, ok := s.inner.(Placer); ok {
		st.SetStart(f)
	}
}

func (s *shaped) Layers() []Layer {
	ls := Layers(s.inner)
	for k := range ls {
		l := &ls[k]
		g, e := l.Gain, s.env
		l.Gain = func(f int) float64 { return g(f) * e.at(f) }
		l.Action = &shaped{inner: l.Action, env: s.env, db: s.db}
	}
	return ls
}

// overlay plays actions at once, summed.
type overlay struct {
	base
	actions []Action
	pos     int
	scratch [2 * block]float32
}

// Overlay plays actions at once, from the same first frame, summed without
// any change of level: as long as the longest, each shorter one silent
// after its end. Its Info lists the tracks of all of them.
func Overlay(actions ...Action) Action {
	o := &overlay{actions: actions}
	o.info.Kind = KindOverlay
	for _, a := range actions {
		o.info.Frames = max(o.info.Frames, a.Len())
		o.info.Tracks = append(o.info.Tracks, a.Info().Tracks...)
	}
	return o
}

func (o *overlay) Render(dst []float32) int {
	checkDst(dst)
	total := max(min(len(dst)/2, o.info.Frames-o.pos), 0)
	clear(dst[:2*total])
	for done := 0; done < total; {
		m := min(total-done, block)
		d, s := dst[2*done:2*(done+m)], o.scratch[:2*m]
		for _, a := range o.actions {
			k := a.Render(s)
			for i := range s[:2*k] {
				d[i] += s[i]
			}
		}
		done += m
	}
	o.pos += total
	if o.pos == o.info.Frames {
		for _, a := range o.actions {
			o.fail(a.Err())
		}
	}
	return total
}

func (o *overlay) SetStart(f int64) {
	o.info.Start = f
	for _, a := range o.actions {
		if st, ok := a.(Placer); ok {
			st.SetStart(f)
		}
	}
}

func (o *overlay) Layers() []Layer {
	var ls []Layer
	for _, a := range o.actions {
		ls = append(ls, Layers(a)...)
	}
	return ls
}

// place returns a ready to have its output start set: a itself when it is
// this package's, else wrapped.
func place(a Action) Action {
	if _, ok := a.(Placer); ok {
		return a
	}
	return &placed{Action: a, start: a.Info().Start}
}

func (p *placed) Layers() []Layer { return Layers(p.Action) }
