package align

import (
	"math/rand/v2"
	"testing"

	"github.com/foreverfm/forever/analysis"
)

// part is a section of a made-to-order track: bars of four beats, one
// segment per beat with the part's timbre, chroma and loudness plus noise.
type part struct {
	bars   int
	timbre float64 // offset of every timbre value
	chroma int     // pitch class that dominates
	loud   float64 // dB
}

// song builds the analysis of a track at bpm made of parts, with lead bars
// of pickup (in the first part's sound) before the first part's grid.
func song(bpm float64, lead int, parts []part, seed uint64) *analysis.Analysis {
	rng := rand.New(rand.NewPCG(seed, 3))
	beat := 60 / bpm
	a := &analysis.Analysis{Tempo: bpm, TimeSignature: 4}
	all := append([]part{{lead, parts[0].timbre, parts[0].chroma, parts[0].loud}}, parts...)
	t := 0.0
	for _, p := range all {
		for b := 0; b < p.bars; b++ {
			a.Bars = append(a.Bars, analysis.Quantum{Start: t, Duration: 4 * beat, Confidence: 0.9})
			for k := 0; k < 4; k++ {
				q := analysis.Quantum{Start: t, Duration: beat, Confidence: 0.9}
				a.Beats = append(a.Beats, q)
				s := analysis.Segment{Start: t, Duration: beat, LoudnessMax: p.loud + rng.NormFloat64()}
				for j := range s.Timbre {
					s.Timbre[j] = p.timbre + 10*rng.NormFloat64()
					s.Pitches[j] = 0.2 + 0.1*rng.Float64()
				}
				s.Pitches[p.chroma] = 1
				a.Segments = append(a.Segments, s)
				t += beat
			}
		}
	}
	a.Duration = t
	return a
}

func TestPhrasesOfAClubTrack(t *testing.T) {
	parts := []part{
		{16, 0, 0, -14},  // intro: drums alone
		{32, 40, 9, -6},  // drop
		{8, -30, 4, -13}, // breakdown
		{32, 40, 9, -6},  // second drop
		{16, 10, 0, -15}, // outro
	}
	for _, lead := range []int{0, 1, 2, 3} {
		a := song(126, lead, parts, uint64(lead))
		s := Phrases(a)
		if s.Phase != lead%4 {
			t.Errorf("lead %d: phase %d", lead, s.Phase)
		}
		want := []struct {
			bar   int
			label Label
		}{{0, Intro}, {lead + 16, Drop}, {lead + 48, Breakdown}, {lead + 56, Drop}, {lead + 88, Outro}}
		if len(s.Phrases) != len(want) {
			t.Fatalf("lead %d: %d phrases, want %d: %+v", lead, len(s.Phrases), len(want), s.Phrases)
		}
		for i, w := range want {
			p := s.Phrases[i]
			if p.Bar != w.bar || p.Label != w.label {
				t.Errorf("lead %d: phrase %d at bar %d labelled %s, want bar %d %s", lead, i, p.Bar, p.Label, w.bar, w.label)
			}
		}
		if s.Confidence < 0.5 {
			t.Errorf("lead %d: confidence %.2f on a clear structure", lead, s.Confidence)
		}
		if l := s.Level(lead + 16); l < 16 {
			t.Errorf("lead %d: the drop's bar has level %d", lead, l)
		}
		if l := s.Level(lead + 2); l != 0 {
			t.Errorf("lead %d: bar %d off the grid has level %d", lead, lead+2, l)
		}
		if i := s.First(Drop); i != 1 || s.Last(Outro) != 4 || s.At(lead+50) != 2 {
			t.Errorf("lead %d: First(Drop) %d, Last(Outro) %d, At %d", lead, i, s.Last(Outro), s.At(lead+50))
		}
	}
}

// TestPhrasesFromHarmonyAlone: a change of chord at the same loudness and
// timbre is still a phrase boundary, and the track is all body.
func TestPhrasesFromHarmonyAlone(t *testing.T) {
	a := song(100, 0, []part{{8, 0, 0, -8}, {8, 0, 7, -8}, {8, 0, 2, -8}, {8, 0, 9, -8}}, 5)
	s := Phrases(a)
	var bars []int
	for _, p := range s.Phrases {
		bars = append(bars, p.Bar)
		if p.Label != Body {
			t.Errorf("phrase at bar %d labelled %s, want body", p.Bar, p.Label)
		}
	}
	if len(bars) != 4 || bars[1] != 8 || bars[2] != 16 || bars[3] != 24 {
		t.Errorf("phrases at bars %v, want 0 8 16 24", bars)
	}
}

// TestPhrasesOfMonotony: steady noise has no boundary worth the name and
// little confidence; too few bars give nothing.
func TestPhrasesOfMonotony(t *testing.T) {
	s := Phrases(song(120, 0, []part{{64, 0, 0, -8}}, 9))
	if len(s.Phrases) > 3 {
		t.Errorf("%d phrases in steady noise: %+v", len(s.Phrases), s.Phrases)
	}
	if s.Confidence > 0.5 {
		t.Errorf("confidence %.2f in steady noise", s.Confidence)
	}
	if s := Phrases(song(120, 0, []part{{6, 0, 0, -8}}, 9)); s.Phrases != nil {
		t.Errorf("6 bars gave %+v", s)
	}
}
