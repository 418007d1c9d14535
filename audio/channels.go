package audio

import "math"

// speaker is a loudspeaker position, used to mix more than two channels
// down to stereo.
type speaker int

const (
	spFL speaker = iota
	spFR
	spFC
	spLFE
	spBL
	spBR
	spFLC
	spFRC
	spBC
	spSL
	spSR
	spOther
)

// wavOrder is the WAVE_FORMAT_EXTENSIBLE channel-mask bit order, which
// FLAC and most WAV files also follow for their default layouts.
var wavOrder = []speaker{spFL, spFR, spFC, spLFE, spBL, spBR, spFLC, spFRC, spBC, spSL, spSR}

// defaultLayout returns the channel order a format implies when the file
// says nothing more specific.
func defaultLayout(format string, channels int) []speaker {
	if format == "ogg" {
		// Vorbis I specification, section 4.3.9.
		switch channels {
		case 3:
			return []speaker{spFL, spFC, spFR}
		case 4:
			return []speaker{spFL, spFR, spBL, spBR}
		case 5:
			return []speaker{spFL, spFC, spFR, spBL, spBR}
		case 6:
			return []speaker{spFL, spFC, spFR, spBL, spBR, spLFE}
		case 7:
			return []speaker{spFL, spFC, spFR, spSL, spSR, spBC, spLFE}
		case 8:
			return []speaker{spFL, spFC, spFR, spSL, spSR, spBL, spBR, spLFE}
		}
	} else {
		// FLAC format specification, channel assignment; WAV files
		// without a channel mask use the same orders in practice.
		switch channels {
		case 3:
			return []speaker{spFL, spFR, spFC}
		case 4:
			return []speaker{spFL, spFR, spBL, spBR}
		case 5:
			return []speaker{spFL, spFR, spFC, spBL, spBR}
		case 6:
			return []speaker{spFL, spFR, spFC, spLFE, spBL, spBR}
		case 7:
			return []speaker{spFL, spFR, spFC, spLFE, spBC, spSL, spSR}
		case 8:
			return []speaker{spFL, spFR, spFC, spLFE, spBL, spBR, spSL, spSR}
		}
	}
	l := make([]speaker, channels)
	for i := range l {
		l[i] = spOther
	}
	if channels > 0 {
		l[0] = spFL
	}
	if channels > 1 {
		l[1] = spFR
	}
	return l
}

// maskLayout returns the layout a WAVE_FORMAT_EXTENSIBLE channel mask
// describes, or nil if the mask does not account for every channel.
func maskLayout(mask uint32, channels int) []speaker {
	var l []speaker
	for bit := 0; bit < 32 && len(l) < channels; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(wavOrder) {
			l = append(l, wavOrder[bit])
		} else {
			l = append(l, spOther)
		}
	}
	if len(l) != channels {
		return nil
	}
	return l
}

// gains returns how much of a speaker goes to the left and right outputs,
// before normalisation: the ITU-R BS.775 downmix (centre and surrounds at
// -3 dB), with the LFE dropped as it usually is.
func (s speaker) gains() (l, r float64) {
	const h = math.Sqrt2 / 2
	switch s {
	case spFL, spFLC:
		return 1, 0
	case spFR, spFRC:
		return 0, 1
	case spFC:
		return h, h
	case spBL, spSL:
		return h, 0
	case spBR, spSR:
		return 0, h
	case spBC:
		return 0.5, 0.5
	case spLFE:
		return 0, 0
	}
	return 0.5, 0.5
}

// toStereo returns the interleaved stereo mix of n's samples at n's rate.
func (n *native) toStereo() []float32 {
	ch := n.channels
	src := n.samples
	frames := len(src) / ch
	switch ch {
	case 2:
		return src[:frames*2]
	case 1:
		out := make([]float32, 2*frames)
		for i, v := range src[:frames] {
			out[2*i], out[2*i+1] = v, v
		}
		return out
	}
	layout := n.layout
	if len(layout) != ch {
		layout = defaultLayout(n.format, ch)
	}
	gl := make([]float32, ch)
	gr := make([]float32, ch)
	var sl, sr float64
	for i, s := range layout {
		l, r := s.gains()
		gl[i], gr[i] = float32(l), float32(r)
		sl += l
		sr += r
	}
	// Scale so that full-scale input on every channel cannot clip; the
	// mix is quieter than the original but never distorted.
	for i := range gl {
		if sl > 0 {
			gl[i] /= float32(sl)
		}
		if sr > 0 {
			gr[i] /= float32(sr)
		}
	}
	out := make([]float32, 2*frames)
	for f := range frames {
		in := src[f*ch : f*ch+ch]
		var l, r float32
		for i, v := range in {
			l += gl[i] * v
			r += gr[i] * v
		}
		out[2*f], out[2*f+1] = l, r
	}
	return out
}

// toPCM converts n to forever's PCM: stereo, 44.1 kHz.
func (n *native) toPCM() *PCM {
	if n.channels < 1 {
		return &PCM{}
	}
	s := n.toStereo()
	if n.rate != SampleRate {
		s = Resample(s, Channels, n.rate, SampleRate)
	}
	return &PCM{Samples: s}
}
