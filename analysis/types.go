package analysis

import "sort"

// Version is the analysis format version written into every Analysis.
// Bump it whenever a change to the algorithms would change results, so
// that caches of older analyses are recomputed.
const Version = 7

// Analysis describes one track, with the field names of the Echo Nest
// analysis format so that people who know Remix feel at home. Times are in
// seconds from the start of the decoded track; loudness values are in dB
// (LUFS for the integrated loudness).
type Analysis struct {
	Version    int     `json:"version"`
	Duration   float64 `json:"duration"`
	SampleRate int     `json:"sample_rate"`

	Tempo                   float64 `json:"tempo"`
	TempoConfidence         float64 `json:"tempo_confidence"`
	TimeSignature           int     `json:"time_signature"`
	TimeSignatureConfidence float64 `json:"time_signature_confidence"`
	Key                     int     `json:"key"`
	KeyConfidence           float64 `json:"key_confidence"`
	Mode                    int     `json:"mode"`
	ModeConfidence          float64 `json:"mode_confidence"`

	Loudness     float64 `json:"loudness"`
	TruePeak     float64 `json:"true_peak"`
	Energy       float64 `json:"energy"`
	Danceability float64 `json:"danceability"`

	EndOfFadeIn    float64 `json:"end_of_fade_in"`
	StartOfFadeOut float64 `json:"start_of_fade_out"`

	Bars     []Quantum `json:"bars"`
	Beats    []Quantum `json:"beats"`
	Tatums   []Quantum `json:"tatums"`
	Sections []Section `json:"sections"`
	Segments []Segment `json:"segments"`
}

// Quantum is a span of musical time: a bar, a beat or a tatum.
type Quantum struct {
	Start      float64 `json:"start"`
	Duration   float64 `json:"duration"`
	Confidence float64 `json:"confidence"`
}

// End reports where q stops.
func (q Quantum) End() float64 { return q.Start + q.Duration }

// Segment is a short sound event, from one onset to the next, roughly
// constant in timbre and harmony.
type Segment struct {
	Start           float64     `json:"start"`
	Duration        float64     `json:"duration"`
	Confidence      float64     `json:"confidence"`
	LoudnessStart   float64     `json:"loudness_start"`
	LoudnessMax     float64     `json:"loudness_max"`
	LoudnessMaxTime float64     `json:"loudness_max_time"`
	Pitches         [12]float64 `json:"pitches"`
	Timbre          [12]float64 `json:"timbre"`
}

// End reports where s stops.
func (s Segment) End() float64 { return s.Start + s.Duration }

// Section is a large structural part of a track: an intro, a verse, a drop,
// a breakdown, an outro.
type Section struct {
	Start         float64 `json:"start"`
	Duration      float64 `json:"duration"`
	Confidence    float64 `json:"confidence"`
	Loudness      float64 `json:"loudness"`
	Tempo         float64 `json:"tempo"`
	Key           int     `json:"key"`
	Mode          int     `json:"mode"`
	TimeSignature int     `json:"time_signature"`
	Label         string  `json:"label,omitempty"`
}

// End reports where s stops.
func (s Section) End() float64 { return s.Start + s.Duration }

// Overlapping returns the segments of a that overlap q, in order. The
// result shares a's storage.
func (a *Analysis) Overlapping(q Quantum) []Segment {
	segs := a.Segments
	// First segment that ends after q starts.
	i := sort.Search(len(segs), func(i int) bool { return segs[i].End() > q.Start })
	j := i
	for j < len(segs) && segs[j].Start < q.End() {
		j++
	}
	return segs[i:j]
}

// Features returns the feature vector of q: the mean timbre of the segments
// it overlaps, each weighted by how much of q it covers, followed by their
// mean pitches when withPitch is set. dst is reused when large enough.
// A quantum that overlaps no segment yields zeros.
func (a *Analysis) Features(q Quantum, withPitch bool, dst []float64) []float64 {
	n := 12
	if withPitch {
		n = 24
	}
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	clear(dst)
	var total float64
	for _, s := range a.Overlapping(q) {
		w := min(s.End(), q.End()) - max(s.Start, q.Start)
		if w <= 0 {
			continue
		}
		total += w
		for k := 0; k < 12; k++ {
			dst[k] += w * s.Timbre[k]
		}
		if withPitch {
			for k := 0; k < 12; k++ {
				dst[12+k] += w * s.Pitches[k]
			}
		}
	}
	if total > 0 {
		for k := range dst {
			dst[k] /= total
		}
	}
	return dst
}

var pitchClassNames = [12]string{"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"}

// KeyName names a key as people write it, "A minor" or "Eb major", from the
// Echo Nest's numbers: key 0-11 from C, mode 0 minor and 1 major. It returns
// "" for a key out of range (the Echo Nest's -1 meant no key detected).
func KeyName(key, mode int) string {
	if key < 0 || key > 11 {
		return ""
	}
	if mode == 0 {
		return pitchClassNames[key] + " minor"
	}
	return pitchClassNames[key] + " major"
}
