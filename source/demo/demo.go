// Package demo synthesises forever's built-in demo catalogue: a few
// minutes each of deterministic electronic music (drums, bass, chords, a
// lead, arranged into intro, body, breakdown, build, drop and outro), so
// that the radio plays something on a machine with no music at all, and
// so that analysis has tracks whose tempo, beats, downbeats, key and
// section boundaries are known exactly.
//
// Catalogue lists the tracks; Spec.Render synthesises one and Spec.Truth
// says what is in it. Source offers the catalogue as a source.Source,
// caching renders on disk.
//
// Renders are deterministic: the same Spec gives the same samples, bit for
// bit, on the same architecture (floating-point fusion may differ across
// architectures).
package demo

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/foreverfm/forever/audio"
)

// Mode values of Spec.Mode and Truth.Mode.
const (
	Minor = 0
	Major = 1
)

// SectionKind is the role of a run of bars in an arrangement.
type SectionKind int

const (
	Intro     SectionKind = iota // drums alone, then pads fading in
	Verse                        // drums, bass, chords
	Chorus                       // Verse plus the lead
	Breakdown                    // drums and bass drop out; pads and lead
	Build                        // snare roll, riser, filters opening
	Drop                         // everything
	Outro                        // thinning to drums alone, then a final hit
)

var kindNames = [...]string{"intro", "verse", "chorus", "breakdown", "build", "drop", "outro"}

func (k SectionKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("SectionKind(%d)", int(k))
	}
	return kindNames[k]
}

// Section is a run of bars of one kind.
type Section struct {
	Kind SectionKind
	Bars int
}

// Spec is one demo track: its metadata, the musical facts its ground truth
// comes from, and the arrangement. The zero Spec is not useful; start from
// a Catalogue entry (and, for quick tests, Short).
type Spec struct {
	ID     string // stable, "demo:NN-slug"
	Title  string
	Artist string

	Tempo float64 // quarter notes per minute, constant
	Key   int     // tonic pitch class, 0 = C .. 11 = B
	Mode  int     // Minor or Major

	// Offset is the silence, in seconds, before the first downbeat.
	Offset float64

	// Sections is the arrangement, in 4/4 bars. After the last bar comes
	// one final downbeat hit that rings for Tail seconds.
	Sections []Section

	Seed uint64

	style style
}

// Tail is how long, in seconds, every track rings on after its last bar.
const Tail = 3.0

// Bars reports the number of bars in the arrangement.
func (s Spec) Bars() int {
	var n int
	for _, sec := range s.Sections {
		n += sec.Bars
	}
	return n
}

// BeatSeconds is the length of one beat.
func (s Spec) BeatSeconds() float64 { return 60 / s.Tempo }

// Frames reports the exact length of Render's output in frames.
func (s Spec) Frames() int {
	return int(math.Ceil((s.Offset + float64(s.Bars()*4)*s.BeatSeconds() + Tail) * sr))
}

// Duration reports the length of Render's output in seconds.
func (s Spec) Duration() float64 { return float64(s.Frames()) / sr }

// KeyName spells the key, e.g. "F# minor".
func (s Spec) KeyName() string {
	m := "minor"
	if s.Mode == Major {
		m = "major"
	}
	return pitchNames[((s.Key%12)+12)%12] + " " + m
}

var pitchNames = [12]string{"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"}

// Short returns a copy of s with every section cut to at most bars bars
// (keeping its kind), for tests and previews that need every part of the
// arrangement but not its full length.
func (s Spec) Short(bars int) Spec {
	secs := make([]Section, len(s.Sections))
	for i, sec := range s.Sections {
		secs[i] = Section{sec.Kind, min(sec.Bars, bars)}
	}
	s.Sections = secs
	return s
}

// Truth is what a perfect analysis of a rendered Spec would report.
//
// Times are in seconds from the first sample. Beats are exact: the drums
// on the beat are placed at these times to the nearest sample, and only
// hits between beats are swung or humanised.
type Truth struct {
	Tempo         float64   `json:"tempo"`     // BPM
	Beats         []float64 `json:"beats"`     // every beat, the final hit included
	Downbeats     []float64 `json:"downbeats"` // the first beat of every bar
	Key           int       `json:"key"`       // 0 = C .. 11 = B
	Mode          int       `json:"mode"`      // Minor or Major
	TimeSignature int       `json:"time_signature"`
	// Sections holds the boundaries: the start of every section and, last,
	// the final downbeat, so section i spans [Sections[i], Sections[i+1]).
	Sections []float64 `json:"sections"`
	Labels   []string  `json:"labels"` // the kind of each section, len(Sections)-1 of them
}

// Truth returns the ground truth of s.
func (s Spec) Truth() Truth {
	spb := s.BeatSeconds()
	nb := s.Bars() * 4
	t := Truth{
		Tempo:         s.Tempo,
		Key:           s.Key,
		Mode:          s.Mode,
		TimeSignature: 4,
		Beats:         make([]float64, nb+1),
		Downbeats:     make([]float64, 0, nb/4+1),
	}
	for i := range t.Beats {
		t.Beats[i] = s.Offset + float64(i)*spb
		if i%4 == 0 {
			t.Downbeats = append(t.Downbeats, t.Beats[i])
		}
	}
	bar := 0
	for _, sec := range s.Sections {
		if sec.Bars <= 0 {
			continue
		}
		t.Sections = append(t.Sections, s.Offset+float64(bar*4)*spb)
		t.Labels = append(t.Labels, sec.Kind.String())
		bar += sec.Bars
	}
	t.Sections = append(t.Sections, s.Offset+float64(bar*4)*spb)
	return t
}

// Validate reports whether s can be rendered: a tempo of 20-400 BPM, a key
// and mode in range, at least one bar, sections of known kinds, and at
// most half an hour of sound.
func (s Spec) Validate() error {
	switch {
	case !(s.Tempo >= 20 && s.Tempo <= 400):
		return fmt.Errorf("demo: %s: tempo %v BPM out of range", s.ID, s.Tempo)
	case s.Key < 0 || s.Key > 11 || (s.Mode != Minor && s.Mode != Major):
		return fmt.Errorf("demo: %s: key %d mode %d out of range", s.ID, s.Key, s.Mode)
	case !(s.Offset >= 0 && s.Offset <= 10):
		return fmt.Errorf("demo: %s: offset %v s out of range", s.ID, s.Offset)
	}
	for _, sec := range s.Sections {
		if sec.Bars < 0 || sec.Kind < Intro || sec.Kind > Outro {
			return fmt.Errorf("demo: %s: bad section %v of %d bars", s.ID, sec.Kind, sec.Bars)
		}
	}
	if s.Bars() < 1 || s.Duration() > 30*60 {
		return fmt.Errorf("demo: %s: %d bars, %.0f s: want at least one bar and at most 30 minutes", s.ID, s.Bars(), s.Duration())
	}
	return nil
}

// Render synthesises the track, at roughly 250 times real time on one
// core (under a second for a 3-minute track); Source caches the result.
// It panics if s is not valid (see Validate); catalogue entries, and their
// Short(n) versions for n >= 1, always are.
func (s Spec) Render() *audio.PCM {
	p, err := s.render(context.Background())
	if err != nil {
		panic(err)
	}
	return p
}

func (s Spec) render(ctx context.Context) (*audio.PCM, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	out, err := newRenderer(s).render(ctx, allLayers)
	if err != nil {
		return nil, err
	}
	return &audio.PCM{Samples: out}, nil
}

// Lookup returns the catalogue entry with the given ID.
func Lookup(id string) (Spec, bool) {
	for _, s := range Catalogue() {
		if s.ID == id {
			return s, true
		}
	}
	return Spec{}, false
}

func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
