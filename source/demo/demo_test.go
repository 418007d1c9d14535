package demo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/cmplx"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/foreverfm/forever/audio"
)

func TestCatalogue(t *testing.T) {
	specs := Catalogue()
	if len(specs) < 8 {
		t.Fatalf("%d tracks, want at least 8", len(specs))
	}
	ids := map[string]bool{}
	keys := map[[2]int]bool{}
	tempos := map[float64]bool{}
	modes := [2]int{}
	inRange := 0
	for _, s := range specs {
		if !strings.HasPrefix(s.ID, "demo:") || ids[s.ID] {
			t.Errorf("ID %q: want a unique demo:... ID", s.ID)
		}
		ids[s.ID] = true
		if s.Title == "" || s.Artist == "" {
			t.Errorf("%s: missing title or artist", s.ID)
		}
		if d := s.Duration(); d < 120 || d > 240 {
			t.Errorf("%s: %.1f s, want 2 to 4 minutes", s.ID, d)
		}
		if s.Key < 0 || s.Key > 11 || (s.Mode != Minor && s.Mode != Major) {
			t.Errorf("%s: key %d mode %d", s.ID, s.Key, s.Mode)
		}
		for _, sec := range s.Sections {
			if sec.Bars%4 != 0 {
				t.Errorf("%s: %v section of %d bars, want whole 4-bar phrases", s.ID, sec.Kind, sec.Bars)
			}
		}
		keys[[2]int{s.Key, s.Mode}] = true
		tempos[s.Tempo] = true
		modes[s.Mode]++
		if s.Tempo >= 100 && s.Tempo <= 140 {
			inRange++
		}
		if got, ok := Lookup(s.ID); !ok || got.Title != s.Title {
			t.Errorf("Lookup(%q) = %v, %v", s.ID, got.Title, ok)
		}
	}
	if len(keys) != len(specs) || len(tempos) != len(specs) {
		t.Errorf("%d distinct keys and %d distinct tempos over %d tracks, want all distinct", len(keys), len(tempos), len(specs))
	}
	if modes[Minor] < 3 || modes[Major] < 3 {
		t.Errorf("modes %v, want both well represented", modes)
	}
	if inRange < len(specs)*3/4 {
		t.Errorf("only %d tempos in 100-140 BPM", inRange)
	}
	pairs := 0
	for a := range tempos {
		if tempos[2*a] {
			pairs++
		}
	}
	if pairs < 2 {
		t.Errorf("%d exact double/half tempo pairs, want at least 2", pairs)
	}
	// Catalogue hands out copies.
	specs[0].Sections[0].Bars = 1
	if Catalogue()[0].Sections[0].Bars == 1 {
		t.Error("Catalogue shares its sections with callers")
	}
}

func TestTruth(t *testing.T) {
	for _, s := range Catalogue() {
		tr := s.Truth()
		spb := 60 / s.Tempo
		if tr.Tempo != s.Tempo || tr.Key != s.Key || tr.Mode != s.Mode || tr.TimeSignature != 4 {
			t.Errorf("%s: truth %+v disagrees with spec", s.ID, tr)
		}
		if len(tr.Beats) != 4*s.Bars()+1 {
			t.Errorf("%s: %d beats for %d bars", s.ID, len(tr.Beats), s.Bars())
		}
		if tr.Beats[0] != s.Offset {
			t.Errorf("%s: first beat %v, offset %v", s.ID, tr.Beats[0], s.Offset)
		}
		for i := 1; i < len(tr.Beats); i++ {
			if d := tr.Beats[i] - tr.Beats[i-1]; math.Abs(d-spb) > 1e-9 {
				t.Fatalf("%s: beat %d after %v s, want %v", s.ID, i, d, spb)
			}
		}
		for i, d := range tr.Downbeats {
			if d != tr.Beats[4*i] {
				t.Fatalf("%s: downbeat %d at %v, beat %d at %v", s.ID, i, d, 4*i, tr.Beats[4*i])
			}
		}
		if len(tr.Labels) != len(tr.Sections)-1 || len(tr.Labels) != len(s.Sections) {
			t.Errorf("%s: %d labels, %d boundaries", s.ID, len(tr.Labels), len(tr.Sections))
		}
		for i, b := range tr.Sections {
			if !containsNear(tr.Downbeats, b) {
				t.Errorf("%s: section boundary %d at %v is not a downbeat", s.ID, i, b)
			}
		}
		if last := tr.Beats[len(tr.Beats)-1]; last != tr.Sections[len(tr.Sections)-1] || last >= s.Duration()-2 {
			t.Errorf("%s: final beat %v, last boundary %v, duration %v", s.ID, last, tr.Sections[len(tr.Sections)-1], s.Duration())
		}
	}
}

func containsNear(xs []float64, x float64) bool {
	for _, v := range xs {
		if math.Abs(v-x) < 1e-9 {
			return true
		}
	}
	return false
}

// shortSpec cuts a track to at most 8 bars a section: every section
// kind, and a whole chord progression in each, at about half the length.
func shortSpec(s Spec) Spec { return s.Short(8) }

// shortRenders renders every catalogue track's shortSpec once per test
// binary.
var shortRenders = sync.OnceValue(func() []*audio.PCM {
	specs := Catalogue()
	out := make([]*audio.PCM, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() { out[i] = shortSpec(s).Render() })
	}
	wg.Wait()
	return out
})

func TestRenderSound(t *testing.T) {
	for i, s := range Catalogue() {
		s = shortSpec(s)
		p := shortRenders()[i]
		if p.Frames() != s.Frames() {
			t.Errorf("%s: %d frames, Spec says %d", s.ID, p.Frames(), s.Frames())
		}
		var peak float64
		for j, v := range p.Samples {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: sample %d is %v", s.ID, j, v)
			}
			peak = math.Max(peak, math.Abs(float64(v)))
		}
		if peak >= 1 || peak < 0.5 {
			t.Errorf("%s: peak %.3f, want in [0.5, 1)", s.ID, peak)
		}
		if l := loudness(p.Samples); l < -14 || l > -10 {
			t.Errorf("%s: %.1f LUFS, want -14 to -10", s.ID, l)
		}
		// Both channels carry sound but differ: there is a stereo image.
		var side, mid float64
		for j := 0; j < len(p.Samples); j += 2 {
			l, r := float64(p.Samples[j]), float64(p.Samples[j+1])
			mid += (l + r) * (l + r)
			side += (l - r) * (l - r)
		}
		if ratio := side / mid; ratio < 0.005 || ratio > 0.5 {
			t.Errorf("%s: side/mid energy %.4f", s.ID, ratio)
		}
		// The offset before the first downbeat is silent.
		lead := frameAt(s.Offset) - 2
		for j := 0; j < 2*lead; j++ {
			if p.Samples[j] != 0 {
				t.Fatalf("%s: sound at frame %d, before the first beat at %.3f s", s.ID, j/2, s.Offset)
			}
		}
	}
}

func hashPCM(p *audio.PCM) [32]byte {
	h := sha256.New()
	b := make([]byte, 4*len(p.Samples))
	for i, v := range p.Samples {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	h.Write(b)
	return [32]byte(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	specs := Catalogue()
	s := specs[1].Short(2)
	first := hashPCM(s.Render())
	// Renders running alongside each other share nothing.
	var wg sync.WaitGroup
	hashes := make([][32]byte, 3)
	for i := range hashes {
		wg.Go(func() { hashes[i] = hashPCM(s.Render()) })
	}
	wg.Wait()
	for i, h := range hashes {
		if h != first {
			t.Fatalf("render %d differs from the first", i)
		}
	}
	if hashPCM(specs[2].Short(2).Render()) == first {
		t.Fatal("two different tracks render the same")
	}
	other := s
	other.Seed++
	if hashPCM(other.Render()) == first {
		t.Fatal("the seed changes nothing")
	}
}

// flux is a spectral-flux onset strength envelope of p's mono mixdown,
// one value per hop frames.
func flux(p *audio.PCM, hop int) []float64 {
	const n = 1024
	mono := p.Mono(nil)
	fft := fourier.NewFFT(n)
	win := make([]float64, n)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n)
	}
	frame := make([]float64, n)
	var coef []complex128
	prev := make([]float64, n/2+1)
	var out []float64
	for start := 0; start+n <= len(mono); start += hop {
		for i := range frame {
			frame[i] = float64(mono[start+i]) * win[i]
		}
		coef = fft.Coefficients(coef, frame)
		var f float64
		for k, c := range coef {
			m := math.Log1p(100 * cmplx.Abs(c))
			if d := m - prev[k]; d > 0 {
				f += d
			}
			prev[k] = m
		}
		out = append(out, f)
	}
	return out
}

// TestBeatsHaveOnsets checks that the ground-truth beats fall where the
// sound has its onsets: in every drummed section, onset strength at the
// beats beats onset strength at the eighth and sixteenth notes between.
func TestBeatsHaveOnsets(t *testing.T) {
	const hop = 512
	for i, s := range Catalogue() {
		s = shortSpec(s)
		tr := s.Truth()
		var env []float64
		var from int
		// The analysis frame centred on time x starts n/2 frames earlier.
		at := func(x float64) float64 {
			c := (x*sr - float64(from) - 512) / hop
			best := 0.0
			for k := int(c) - 1; k <= int(c)+2; k++ {
				if k >= 0 && k < len(env) {
					best = math.Max(best, env[k])
				}
			}
			return best
		}
		var on, eighth, sixteenth float64
		var n int
		for k := 0; k+1 < len(tr.Sections); k++ {
			switch tr.Labels[k] {
			case "verse", "chorus", "drop":
			default:
				continue
			}
			from = frameAt(tr.Sections[k])
			env = flux(shortRenders()[i].Slice(from, frameAt(tr.Sections[k+1])), hop)
			spb := 60 / s.Tempo
			for _, b := range tr.Beats {
				if b < tr.Sections[k] || b >= tr.Sections[k+1] {
					continue
				}
				on += at(b)
				eighth += at(b + spb/2)
				sixteenth += at(b + spb/4)
				n++
			}
		}
		if n == 0 {
			t.Fatalf("%s: no drummed beats", s.ID)
		}
		if on < 1.15*eighth || on < 1.5*sixteenth {
			t.Errorf("%s: onset strength at beats %.1f, eighths %.1f, sixteenths %.1f", s.ID, on/float64(n), eighth/float64(n), sixteenth/float64(n))
		} else {
			t.Logf("%s: beats/eighths %.2f, beats/sixteenths %.2f", s.ID, on/eighth, on/sixteenth)
		}
	}
}

// Krumhansl-Kessler key profiles, from C.
var (
	majorProfile = [12]float64{6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88}
	minorProfile = [12]float64{6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17}
)

// chroma sums spectral magnitude per pitch class over 50 Hz - 5 kHz.
func chroma(p *audio.PCM) [12]float64 {
	const n = 1 << 15 // 1.3 Hz bins: semitones apart even at 50 Hz
	mono := p.Mono(nil)
	fft := fourier.NewFFT(n)
	frame := make([]float64, n)
	var coef []complex128
	var c [12]float64
	lo, hi := 38, 3715 // bins of 50 Hz and 5 kHz
	pcs := make([]int, hi)
	for k := lo; k < hi; k++ {
		pcs[k] = mod(int(math.Round(12*math.Log2(float64(k)*sr/n/440)))+9, 12)
	}
	for start := 0; start+n <= len(mono); start += n {
		for i := range frame {
			frame[i] = float64(mono[start+i]) * (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n))
		}
		coef = fft.Coefficients(coef, frame)
		for k := lo; k < hi; k++ {
			c[pcs[k]] += cmplx.Abs(coef[k])
		}
	}
	return c
}

func correlate(a, b [12]float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i] / 12
		mb += b[i] / 12
	}
	var ab, aa, bb float64
	for i := range a {
		ab += (a[i] - ma) * (b[i] - mb)
		aa += (a[i] - ma) * (a[i] - ma)
		bb += (b[i] - mb) * (b[i] - mb)
	}
	return ab / math.Sqrt(aa*bb)
}

// TestKey checks the rendered harmony against the ground-truth key: the
// Krumhansl-Schmuckler key finder on the track's chroma names it, most of
// the chroma lies in the scale, and the tonic is prominent.
func TestKey(t *testing.T) {
	for i, s := range Catalogue() {
		c := chroma(shortRenders()[i])
		bestKey, bestMode, best := -1, -1, math.Inf(-1)
		for mode, prof := range [2][12]float64{Minor: minorProfile, Major: majorProfile} {
			for k := range 12 {
				var rot [12]float64
				for j := range 12 {
					rot[j] = prof[mod(j-k, 12)]
				}
				if r := correlate(c, rot); r > best {
					bestKey, bestMode, best = k, mode, r
				}
			}
		}
		if bestKey != s.Key || bestMode != s.Mode {
			got := Spec{Key: bestKey, Mode: bestMode}.KeyName()
			t.Errorf("%s: key finder says %s (r=%.2f), truth %s", s.ID, got, best, s.KeyName())
		}
		// The tonic is among the strongest pitch classes of the whole.
		stronger := 0
		for j := range 12 {
			if c[j] > c[s.Key] {
				stronger++
			}
		}
		// In the breakdown, with the drums out, nearly all the energy is
		// in the scale.
		tr := shortSpec(s).Truth()
		var from, to int
		for k, l := range tr.Labels {
			if l == "breakdown" {
				from, to = frameAt(tr.Sections[k]), frameAt(tr.Sections[k+1])
			}
		}
		c = chroma(shortRenders()[i].Slice(from, to))
		var in, all float64
		for _, d := range scales[s.Mode] {
			in += c[mod(s.Key+d, 12)]
		}
		for j := range 12 {
			all += c[j]
		}
		if in/all < 0.8 || stronger > 2 {
			t.Errorf("%s: tonic rank %d, %.0f%% of the breakdown's chroma in the scale", s.ID, stronger+1, 100*in/all)
		} else {
			t.Logf("%s: tonic rank %d, %.0f%% of the breakdown's chroma in the scale", s.ID, stronger+1, 100*in/all)
		}
	}
}

// TestBalance renders each instrument group of a track's drop alone and
// checks that every one is there and none buries the others: within the
// drop, each group's loudness is within 12 LU of the drums.
func TestBalance(t *testing.T) {
	for _, i := range []int{0, 3} { // a house track and a slow half-time one
		s := Catalogue()[i]
		s.Sections = []Section{{Drop, 4}}
		level := func(layers int) float64 {
			r := newRenderer(s)
			r.raw = true
			out, err := r.render(context.Background(), layers)
			if err != nil {
				t.Fatal(err)
			}
			return loudness(out[:2*frameAt(s.Truth().Sections[1])])
		}
		drums := level(layerDrums)
		for _, g := range []struct {
			name  string
			layer int
		}{{"bass", layerBass}, {"harmony", layerHarmony}, {"lead", layerLead}} {
			l := level(g.layer)
			if l < drums-12 || l > drums+3 {
				t.Errorf("%s: %s at %.1f LUFS against drums at %.1f", s.ID, g.name, l, drums)
			} else {
				t.Logf("%s: %s at %.1f LUFS against drums at %.1f", s.ID, g.name, l, drums)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	for _, s := range Catalogue() {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
		if err := s.Short(1).Validate(); err != nil {
			t.Error(err)
		}
	}
	good := Catalogue()[0]
	bad := map[string]func(s *Spec){
		"zero tempo":    func(s *Spec) { s.Tempo = 0 },
		"NaN tempo":     func(s *Spec) { s.Tempo = math.NaN() },
		"key 12":        func(s *Spec) { s.Key = 12 },
		"mode 2":        func(s *Spec) { s.Mode = 2 },
		"negative bars": func(s *Spec) { s.Sections = []Section{{Drop, -4}} },
		"no bars":       func(s *Spec) { s.Sections = nil },
		"unknown kind":  func(s *Spec) { s.Sections = []Section{{SectionKind(99), 4}} },
		"an hour":       func(s *Spec) { s.Sections = []Section{{Drop, 2000}} },
		"NaN offset":    func(s *Spec) { s.Offset = math.NaN() },
	}
	for name, f := range bad {
		s := good
		f(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
		if _, err := (Source{Dir: t.TempDir()}).Load(context.Background(), s); err == nil {
			t.Errorf("%s: Load accepted it", name)
		}
	}
}
