package demo

import "fmt"

type drumStyle uint8

const (
	fourFloor drumStyle = iota // kick on every beat, clap on 2 and 4
	breakbeat                  // kick 1 and the and-of-3, snare 2 and 4, ghost notes
	backbeat                   // kick 1 and 3, snare 2 and 4, sixteenth hats
)

type bassStyle uint8

const (
	offbeatBass bassStyle = iota // house: on the and of every beat
	eighthBass                   // driving eighths with octave jumps
	syncoBass                    // syncopated, root, octave and fifth
	longBass                     // held notes, two per bar
)

type chordStyle uint8

const (
	padChords chordStyle = iota
	stabChords
	padAndStabs
)

type leadStyle uint8

const (
	squareLead leadStyle = iota
	sawLead
	bellLead
)

// style is what makes one track sound unlike another beyond its key and
// tempo. It is deliberately not exported: the catalogue is the product.
type style struct {
	drums        drumStyle
	bass         bassStyle
	chords       chordStyle
	lead         leadStyle
	arp          bool
	prog         []int // scale degrees (0 = tonic), one per chord
	barsPerChord int
	sevenths     bool
	swing        float64 // delay of odd sixteenths, fraction of a sixteenth
	kickDecay    float64 // seconds
	duck         float64 // sidechain depth 0..1
	motifs       [2]int  // rhythm templates of the lead's two motifs
	warm         bool    // triangle pads and bass: fewer bright partials
}

// Arrangements, in bars. Each is a sequence of 8- and 16-bar phrases.
func arrangement(bars ...int) []Section {
	kinds := []SectionKind{Intro, Verse, Chorus, Breakdown, Build, Drop, Outro}
	if len(bars) != len(kinds) {
		panic(fmt.Sprintf("demo: arrangement needs %d sections, got %d", len(kinds), len(bars)))
	}
	s := make([]Section, len(kinds))
	for i, k := range kinds {
		s[i] = Section{k, bars[i]}
	}
	return s
}

// Catalogue returns the built-in demo tracks, in a fixed order. Each call
// returns a fresh copy.
//
// Tempos spread over 100-140 BPM, plus two slow tracks at exactly half the
// tempo of two fast ones (70 = 140/2, 64 = 128/2). The slow ones are
// written in a half-time style, snare on beats 2 and 4 of a 70 (64) BPM
// bar with sixteenth-note hats, so their tempo is defensibly 70 (64) while
// a beat tracker could also defensibly hear 140 (128): an octave error a
// mixer has to cope with, and a pair it can beat-match at 2:1.
func Catalogue() []Spec {
	specs := []Spec{
		{
			Title: "Glass Harbour", Artist: "Lowpass Hearts",
			Tempo: 124, Key: 9, Mode: Minor, Offset: 0.25, Seed: 0x01,
			Sections: arrangement(16, 16, 16, 16, 8, 16, 16),
			style: style{drums: fourFloor, bass: offbeatBass, chords: padAndStabs, lead: squareLead,
				prog: []int{0, 5, 2, 6}, barsPerChord: 2, kickDecay: 0.32, duck: 0.55, motifs: [2]int{0, 3}},
		},
		{
			Title: "Sunday Engine", Artist: "The Detuned",
			Tempo: 128, Key: 5, Mode: Major, Offset: 0.1, Seed: 0x02,
			Sections: arrangement(16, 16, 16, 8, 8, 24, 16),
			style: style{drums: fourFloor, bass: eighthBass, chords: stabChords, lead: sawLead, arp: true,
				prog: []int{0, 3, 0, 4}, barsPerChord: 2, swing: 0.1, kickDecay: 0.28, duck: 0.5, motifs: [2]int{1, 4}},
		},
		{
			Title: "Night Runner", Artist: "Kilohertz Club",
			Tempo: 140, Key: 2, Mode: Minor, Offset: 0.4, Seed: 0x03,
			Sections: arrangement(16, 16, 16, 16, 8, 16, 16),
			style: style{drums: breakbeat, bass: syncoBass, chords: padChords, lead: sawLead, arp: true,
				prog: []int{0, 3, 6, 5}, barsPerChord: 2, kickDecay: 0.25, duck: 0.3, motifs: [2]int{4, 1}},
		},
		{
			Title: "Slow Tide", Artist: "Harbour Lights",
			Tempo: 70, Key: 3, Mode: Major, Offset: 0.3, Seed: 0x04,
			Sections: arrangement(8, 8, 8, 4, 4, 8, 8),
			style: style{drums: backbeat, bass: longBass, chords: padChords, lead: bellLead,
				prog: []int{0, 0, 3, 4}, barsPerChord: 1, swing: 0.15, warm: true, kickDecay: 0.45, duck: 0.15, motifs: [2]int{3, 2}},
		},
		{
			Title: "Brass and Dust", Artist: "Ada Filter",
			Tempo: 100, Key: 7, Mode: Major, Offset: 0.5, Seed: 0x05,
			Sections: arrangement(8, 16, 16, 8, 8, 16, 16),
			style: style{drums: backbeat, bass: syncoBass, chords: stabChords, lead: squareLead,
				prog: []int{0, 5, 3, 4}, barsPerChord: 2, swing: 0.2, kickDecay: 0.38, duck: 0.2, motifs: [2]int{4, 0}},
		},
		{
			Title: "Paper Satellites", Artist: "Lowpass Hearts",
			Tempo: 110, Key: 4, Mode: Minor, Offset: 0.2, Seed: 0x06,
			Sections: arrangement(16, 16, 16, 8, 8, 16, 16),
			style: style{drums: breakbeat, bass: eighthBass, chords: padAndStabs, lead: bellLead, arp: true,
				prog: []int{0, 3, 0, 4}, barsPerChord: 2, swing: 0.12, kickDecay: 0.3, duck: 0.35, motifs: [2]int{2, 1}},
		},
		{
			Title: "Open Windows", Artist: "The Detuned",
			Tempo: 120, Key: 0, Mode: Major, Offset: 0.05, Seed: 0x07,
			Sections: arrangement(16, 16, 16, 16, 8, 16, 16),
			style: style{drums: fourFloor, bass: offbeatBass, chords: padChords, lead: sawLead,
				prog: []int{0, 3, 5, 4}, barsPerChord: 2, sevenths: true, kickDecay: 0.3, duck: 0.5, motifs: [2]int{0, 2}},
		},
		{
			Title: "Lantern Drift", Artist: "Harbour Lights",
			Tempo: 64, Key: 6, Mode: Minor, Offset: 0.35, Seed: 0x08,
			Sections: arrangement(8, 8, 8, 4, 4, 8, 8),
			style: style{drums: backbeat, bass: longBass, chords: padChords, lead: squareLead, arp: true,
				prog: []int{0, 5, 6, 0}, barsPerChord: 1, swing: 0.1, warm: true, kickDecay: 0.5, duck: 0.15, motifs: [2]int{3, 4}},
		},
		{
			Title: "Copper Lines", Artist: "Kilohertz Club",
			Tempo: 134, Key: 1, Mode: Minor, Offset: 0.15, Seed: 0x09,
			Sections: arrangement(8, 16, 16, 16, 8, 24, 16),
			style: style{drums: fourFloor, bass: eighthBass, chords: stabChords, lead: squareLead,
				prog: []int{0, 0, 5, 4}, barsPerChord: 2, kickDecay: 0.27, duck: 0.45, motifs: [2]int{1, 3}},
		},
		{
			Title: "Weekend Signal", Artist: "Ada Filter",
			Tempo: 116, Key: 10, Mode: Major, Offset: 0.45, Seed: 0x0a,
			Sections: arrangement(16, 16, 16, 16, 8, 16, 16),
			style: style{drums: fourFloor, bass: syncoBass, chords: padAndStabs, lead: bellLead, arp: true,
				prog: []int{0, 5, 1, 4}, barsPerChord: 2, swing: 0.08, kickDecay: 0.33, duck: 0.45, motifs: [2]int{2, 0}},
		},
	}
	for i := range specs {
		specs[i].ID = fmt.Sprintf("demo:%02d-%s", i+1, slug(specs[i].Title))
	}
	return specs
}
