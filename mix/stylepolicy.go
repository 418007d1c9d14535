package mix

import "github.com/foreverfm/forever/audio"

// StylePolicy is a Policy that decides each transition as Base does
// (DefaultPolicy when nil) and renders it in the style StyleFor picks for
// the pair (see Choose and Styled): an EQ blend, a swap on the one, an
// echo-out or a filter-out, the switch on a bar line of the incoming track,
// its phrase boundaries first. The reason of the transition adds the
// style's. A decision Base makes with an Action of its own, or one that
// cannot be styled (tracks without bars), passes unchanged.
type StylePolicy struct {
	Base Policy
}

// Plan implements Policy.
func (p StylePolicy) Plan(h Handover) Transition {
	base := p.Base
	if base == nil {
		base = DefaultPolicy{}
	}
	t := base.Plan(h)
	if t.Action != nil {
		return t
	}
	var x Action
	var resume int
	switch t.Kind {
	case KindCrossmatch:
		m := t.Match
		if len(m.Out) == 0 || len(m.In) == 0 || audio.FrameAt(m.Out[0].Start) != t.Start {
			return t
		}
		c, err := Crossmatch(h.Out, m.Out, h.In, m.In, h.OutGain, h.InGain)
		if err != nil {
			return t
		}
		c.(*crossmatch).info.Match = matchInfo(m, h.Rate)
		x, resume = c, audio.FrameAt(m.In[len(m.In)-1].End())
	case KindCrossfade:
		if t.Frames <= 0 || t.Entry < 0 {
			return t
		}
		x, resume = Crossfade(h.Out, t.Start, h.In, t.Entry, t.Frames, h.OutGain, h.InGain), t.Entry+t.Frames
	default:
		return t
	}
	s, ok := StyleFor(x)
	if !ok {
		return t
	}
	y, err := Styled(x, s)
	if err != nil {
		return t
	}
	t.Action, t.Resume = y, resume
	t.Reason += "; " + string(s.Kind) + ": " + s.Reason
	return t
}
