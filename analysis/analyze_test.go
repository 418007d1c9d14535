package analysis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/internal/cputime"
)

// song synthesises a steady pop groove: kick on beats 1 and 3, snare on 2
// and 4, closed hats on eighths, a bass note on each beat and a sustained
// triad per bar following I-IV-V-I in the given major key. drift, when
// non-zero, makes the tempo wander sinusoidally by that fraction over the
// track, like a live band. It returns the audio and the true beat times.
func song(bpm float64, key int, seconds, drift float64, seed uint64) (*audio.PCM, []float64) {
	return songIn(4, bpm, key, seconds, drift, seed)
}

// songIn is song in bars of meter beats: for 3, a waltz with the kick on
// the downbeat and the snare on beats 2 and 3.
func songIn(meter int, bpm float64, key int, seconds, drift float64, seed uint64) (*audio.PCM, []float64) {
	const sr = audio.SampleRate
	n := int(seconds * sr)
	p := audio.NewPCM(n)
	rng := rand.New(rand.NewPCG(seed, 1))
	var beats []float64
	t, i := 0.3, 0
	for t < seconds-0.5 {
		beats = append(beats, t)
		local := bpm * (1 + drift*math.Sin(2*math.Pi*t/seconds))
		t += 60 / local
		i++
	}
	add := func(at float64, dur float64, amp float64, f func(x float64) float64) {
		a := int(at * sr)
		for j := 0; j < int(dur*sr) && a+j < n; j++ {
			v := float32(amp * f(float64(j)/sr))
			p.Samples[2*(a+j)] += v
			p.Samples[2*(a+j)+1] += v
		}
	}
	kick := func(x float64) float64 {
		return math.Sin(2*math.Pi*(50*x+60*(1-math.Exp(-x*30))/30)) * math.Exp(-x*12)
	}
	noise := func(decay float64) func(x float64) float64 {
		return func(x float64) float64 { return (2*rng.Float64() - 1) * math.Exp(-x*decay) }
	}
	tone := func(freq, decay float64) func(x float64) float64 {
		return func(x float64) float64 {
			return (math.Sin(2*math.Pi*freq*x) + 0.3*math.Sin(4*math.Pi*freq*x)) * math.Exp(-x*decay) * math.Min(1, x*200)
		}
	}
	major := []int{0, 2, 4, 5, 7, 9, 11}
	prog := []int{0, 3, 4, 0}
	for b, bt := range beats {
		next := bt + 60/bpm
		if b+1 < len(beats) {
			next = beats[b+1]
		}
		if k := b % meter; k == 0 || (meter == 4 && k == 2) {
			add(bt, 0.4, 0.8, kick)
		} else {
			add(bt, 0.2, 0.35, noise(25))
		}
		add(bt, 0.05, 0.12, noise(80))
		add((bt+next)/2, 0.05, 0.08, noise(80))
		deg := prog[(b/meter)%4]
		root := float64(key+major[deg]) + 36 // MIDI, C2 = 36
		add(bt, 0.3, 0.3, tone(440*math.Pow(2, (root-69)/12), 6))
		if b%meter == 0 {
			for k := 0; k < 3; k++ {
				d := deg + 2*k
				m := float64(key+major[d%7]+12*(d/7)) + 60
				add(bt, float64(meter)*(next-bt), 0.08, tone(440*math.Pow(2, (m-69)/12), 0.7))
			}
		}
	}
	return p, beats
}

// fMeasure is the beat F-measure with a ±70 ms window (mir_eval's
// definition: each reference beat matches at most one estimate). Beats in
// the first 5 s are ignored, as mir_eval does by default.
func fMeasure(ref, est []float64) float64 {
	ref, est = trim5(ref), trim5(est)
	if len(ref) == 0 || len(est) == 0 {
		return 0
	}
	used := make([]bool, len(est))
	hits := 0
	for _, r := range ref {
		best, bd := -1, 0.07
		for j, e := range est {
			if d := math.Abs(e - r); !used[j] && d <= bd {
				best, bd = j, d
			}
		}
		if best >= 0 {
			used[best] = true
			hits++
		}
	}
	p := float64(hits) / float64(len(est))
	r := float64(hits) / float64(len(ref))
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func trim5(x []float64) []float64 {
	var out []float64
	for _, v := range x {
		if v >= 5 {
			out = append(out, v)
		}
	}
	return out
}

func starts(qs []analysis.Quantum) []float64 {
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = q.Start
	}
	return out
}

func checkProperties(t *testing.T, a *analysis.Analysis) {
	t.Helper()
	if a.Version != analysis.Version {
		t.Errorf("version %d", a.Version)
	}
	if _, err := json.Marshal(a); err != nil {
		t.Fatalf("not JSON-serialisable: %v", err)
	}
	const eps = 1e-6
	in := func(name string, qs []analysis.Quantum) {
		for i, q := range qs {
			if q.Start < -eps || q.End() > a.Duration+eps || q.Duration <= 0 {
				t.Fatalf("%s[%d] = %+v outside track of %.3f s", name, i, q, a.Duration)
			}
			if i > 0 && q.Start <= qs[i-1].Start {
				t.Fatalf("%s[%d] starts at %.4f, not after %.4f", name, i, q.Start, qs[i-1].Start)
			}
			if i > 0 && q.Start < qs[i-1].End()-eps {
				t.Fatalf("%s[%d] overlaps the one before", name, i)
			}
			if q.Confidence < 0 || q.Confidence > 1 {
				t.Fatalf("%s[%d] confidence %v", name, i, q.Confidence)
			}
		}
	}
	in("beats", a.Beats)
	in("bars", a.Bars)
	in("tatums", a.Tatums)
	// Bars start and end on beats; tatums tile each beat.
	onBeat := func(x float64, end bool) bool {
		for _, b := range a.Beats {
			y := b.Start
			if end {
				y = b.End()
			}
			if math.Abs(x-y) < eps {
				return true
			}
		}
		return false
	}
	for i, b := range a.Bars {
		if !onBeat(b.Start, false) || !onBeat(b.End(), true) {
			t.Fatalf("bar %d %+v is not made of beats", i, b)
		}
	}
	j := 0
	for i, b := range a.Beats {
		var covered float64
		for j < len(a.Tatums) && a.Tatums[j].Start < b.End()-eps {
			tt := a.Tatums[j]
			if tt.Start < b.Start-eps || tt.End() > b.End()+eps {
				t.Fatalf("tatum %d %+v not nested in beat %d %+v", j, tt, i, b)
			}
			covered += tt.Duration
			j++
		}
		if math.Abs(covered-b.Duration) > eps {
			t.Fatalf("tatums cover %.4f of beat %d's %.4f s", covered, i, b.Duration)
		}
	}
	// Segments tile the track.
	if len(a.Segments) == 0 {
		t.Fatalf("no segments")
	}
	if a.Segments[0].Start != 0 || math.Abs(a.Segments[len(a.Segments)-1].End()-a.Duration) > eps {
		t.Fatalf("segments do not span [0, %.3f]", a.Duration)
	}
	for i, s := range a.Segments {
		if s.Duration <= 0 || (i > 0 && math.Abs(s.Start-a.Segments[i-1].End()) > eps) {
			t.Fatalf("segment %d %+v breaks the tiling", i, s)
		}
		if s.LoudnessMaxTime < 0 || s.LoudnessMaxTime > s.Duration+eps || s.LoudnessMax < s.LoudnessStart {
			t.Fatalf("segment %d loudness %+v", i, s)
		}
		for k := range 12 {
			if s.Pitches[k] < 0 || s.Pitches[k] > 1 || math.IsNaN(s.Timbre[k]) {
				t.Fatalf("segment %d pitches %v timbre %v", i, s.Pitches, s.Timbre)
			}
		}
	}
	// Sections tile the track too.
	if len(a.Sections) == 0 || a.Sections[0].Start != 0 ||
		math.Abs(a.Sections[len(a.Sections)-1].End()-a.Duration) > eps {
		t.Fatalf("sections do not span the track: %+v", a.Sections)
	}
	for _, v := range []float64{a.Energy, a.Danceability, a.TempoConfidence, a.KeyConfidence, a.ModeConfidence, a.TimeSignatureConfidence} {
		if v < 0 || v > 1 {
			t.Fatalf("a 0-1 value is %v", v)
		}
	}
	if a.Key < 0 || a.Key > 11 || (a.Mode != 0 && a.Mode != 1) {
		t.Fatalf("key %d mode %d", a.Key, a.Mode)
	}
	if a.EndOfFadeIn < 0 || a.StartOfFadeOut < a.EndOfFadeIn || a.StartOfFadeOut > a.Duration+eps {
		t.Fatalf("fades %.2f %.2f", a.EndOfFadeIn, a.StartOfFadeOut)
	}
}

func TestSynthetic(t *testing.T) {
	for _, c := range []struct {
		bpm, drift float64
		key        int
	}{
		{120, 0, 0}, {128, 0, 7}, {95, 0, 2}, {140, 0, 9}, {84, 0, 5}, {172, 0, 4}, {110, 0.03, 11}, {100, 0.06, 3},
	} {
		t.Run(fmt.Sprintf("%.0fbpm", c.bpm), func(t *testing.T) {
			t.Parallel()
			p, beats := song(c.bpm, c.key, 30, c.drift, uint64(c.bpm))
			a, err := analysis.Analyze(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			checkProperties(t, a)
			f := fMeasure(beats, starts(a.Beats))
			t.Logf("%.0f BPM drift %.2f key %d: tempo %.2f conf %.2f, F %.3f, key %d mode %d, sig %d, %d bars, %d segs, %d sections",
				c.bpm, c.drift, c.key, a.Tempo, a.TempoConfidence, f, a.Key, a.Mode, a.TimeSignature, len(a.Bars), len(a.Segments), len(a.Sections))
			if math.Abs(a.Tempo-c.bpm) > 0.04*c.bpm {
				t.Errorf("%.0f BPM: tempo %.2f", c.bpm, a.Tempo)
			}
			if f < 0.9 {
				t.Errorf("%.0f BPM: beat F-measure %.3f", c.bpm, f)
			}
			if a.Key != c.key || a.Mode != 1 {
				t.Errorf("%.0f BPM: key %d mode %d, want %d major", c.bpm, a.Key, a.Mode, c.key)
			}
		})
	}
}

func TestWaltz(t *testing.T) {
	p, beats := songIn(3, 150, 7, 30, 0, 3)
	a, err := analysis.Analyze(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	checkProperties(t, a)
	var downbeats []float64
	for i := 0; i < len(beats); i += 3 {
		downbeats = append(downbeats, beats[i])
	}
	f := fMeasure(downbeats, starts(a.Bars))
	t.Logf("waltz: tempo %.2f, %d/4 (conf %.2f), downbeat F %.3f", a.Tempo, a.TimeSignature, a.TimeSignatureConfidence, f)
	if a.TimeSignature != 3 || f < 0.9 || math.Abs(a.Tempo-150) > 6 {
		t.Errorf("waltz at 150 BPM: tempo %.2f, %d beats to the bar, downbeat F %.3f", a.Tempo, a.TimeSignature, f)
	}
}

// TestBadInput feeds degenerate signals: each must give a sane analysis
// (checked by checkProperties) or a clear error, quickly.
func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func(sec float64, f func(i int) float32) *audio.PCM {
		p := audio.NewPCM(int(sec * audio.SampleRate))
		for i := range p.Frames() {
			v := f(i)
			p.Samples[2*i], p.Samples[2*i+1] = v, v
		}
		return p
	}
	cases := map[string]*audio.PCM{
		"silence":     mk(20, func(int) float32 { return 0 }),
		"click":       mk(10, func(i int) float32 { return float32(b2f(i == 44100)) }),
		"noise":       mk(20, func(int) float32 { return float32(rng.NormFloat64() * 0.3) }),
		"half second": mk(0.5, func(i int) float32 { return float32(math.Sin(float64(i) * 0.05)) }),
		"one frame":   mk(1.0/audio.SampleRate, func(int) float32 { return 0.5 }),
		"dc offset":   mk(20, func(int) float32 { return 0.7 }),
		"nan":         mk(5, func(i int) float32 { return float32(math.NaN()) }),
		"inf":         mk(5, func(i int) float32 { return float32(math.Inf(1 - 2*(i%2))) }),
		"sine":        mk(15, func(i int) float32 { return float32(0.5 * math.Sin(float64(i)*2*math.Pi*440/audio.SampleRate)) }),
	}
	clipped, _ := song(125, 3, 20, 0, 9)
	for i, v := range clipped.Samples {
		clipped.Samples[i] = max(-1, min(1, 8*v))
	}
	cases["clipped"] = clipped
	offset, _ := song(125, 3, 20, 0, 9)
	for i := range offset.Samples {
		offset.Samples[i] = 0.5 + 0.5*offset.Samples[i]
	}
	cases["song with dc offset"] = offset
	if !testing.Short() {
		// Half an hour: the 20-second song over and over.
		long := audio.NewPCM(30 * 60 * audio.SampleRate)
		for i := 0; i < len(long.Samples); i += len(offset.Samples) {
			copy(long.Samples[i:], offset.Samples)
		}
		cases["30 minutes"] = long
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := analysis.Analyze(context.Background(), p)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			checkProperties(t, a)
			if name == "silence" && (len(a.Beats) > 0 || a.Loudness != analysis.AbsoluteGate) {
				t.Errorf("silence has %d beats, loudness %v", len(a.Beats), a.Loudness)
			}
			if (name == "song with dc offset" || name == "30 minutes") && math.Abs(a.Tempo-125) > 5 {
				t.Errorf("dc offset: tempo %.2f", a.Tempo)
			}
		})
	}
	if _, err := analysis.Analyze(context.Background(), &audio.PCM{}); !errors.Is(err, analysis.ErrEmpty) {
		t.Errorf("empty PCM: %v, want ErrEmpty", err)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestCancel(t *testing.T) {
	p, _ := song(120, 0, 60, 0, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := analysis.Analyze(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled analysis: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancelled analysis took %v", d)
	}
}

// sharedMusic returns the real recordings in ../shared, skipping without.
func sharedMusic(t testing.TB) []string {
	files := sharedMusicOrNil()
	if len(files) == 0 {
		t.Skip("../shared/testdata/music not present")
	}
	return files
}

// sharedMusicOrNil finds ../shared/testdata/music/*.ogg next to the module
// root.
func sharedMusicOrNil() []string {
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
	files, _ := filepath.Glob(filepath.Join(dir, "..", "shared", "testdata", "music", "*.ogg"))
	return files
}

func TestRealMusic(t *testing.T) {
	for _, f := range sharedMusic(t) {
		a, err := analysis.AnalyzeFile(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		checkProperties(t, a)
		if len(a.Beats) < int(a.Duration/2) {
			t.Errorf("%s: only %d beats in %.0f s", f, len(a.Beats), a.Duration)
		}
		t.Logf("%s: tempo %.2f conf %.2f, %d/4, key %d mode %d, %.1f LUFS, %d beats %d segs %d sections, fade %.1f..%.1f, energy %.2f dance %.2f",
			filepath.Base(f), a.Tempo, a.TempoConfidence, a.TimeSignature, a.Key, a.Mode, a.Loudness,
			len(a.Beats), len(a.Segments), len(a.Sections), a.EndOfFadeIn, a.StartOfFadeOut, a.Energy, a.Danceability)
	}
}

// reportSpeed reports how many seconds of audio were analysed per second:
// "xRT" of wall time, and "xRT-cpu" per second of CPU time used, which is
// per core (Analyze runs on one goroutine) and robust to a busy machine.
func reportSpeed(b *testing.B, audioSec float64, cpu0 time.Duration) {
	b.ReportMetric(audioSec/b.Elapsed().Seconds(), "xRT")
	if cpu := cputime.Self() - cpu0; cpu > 0 {
		b.ReportMetric(audioSec/cpu.Seconds(), "xRT-cpu")
	}
}

// BenchmarkAnalyze measures a 4-minute track already in memory.
func BenchmarkAnalyze(b *testing.B) {
	p, _ := song(124, 9, 240, 0, 7)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Self()
	for b.Loop() {
		if _, err := analysis.Analyze(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	reportSpeed(b, p.Seconds()*float64(b.N), cpu0)
}

// BenchmarkAnalyzeFile includes decoding: the real Ogg Vorbis recordings
// in ../shared, and the 4-minute synthetic track as a WAV file.
func BenchmarkAnalyzeFile(b *testing.B) {
	p, _ := song(124, 9, 240, 0, 7)
	wav := filepath.Join(b.TempDir(), "song.wav")
	w, err := os.Create(wav)
	if err != nil {
		b.Fatal(err)
	}
	if err := audio.WriteWAV(w, p); err != nil {
		b.Fatal(err)
	}
	w.Close()
	files := append([]string{wav}, sharedMusicOrNil()...)
	for _, f := range files {
		b.Run(filepath.Base(f), func(b *testing.B) {
			var secs float64
			cpu0 := cputime.Self()
			for b.Loop() {
				a, err := analysis.AnalyzeFile(context.Background(), f)
				if err != nil {
					b.Fatal(err)
				}
				secs += a.Duration
			}
			reportSpeed(b, secs, cpu0)
		})
	}
}

// BenchmarkMemory reports the heap a 10-minute analysis needs above its
// PCM: the peak of live heap sampled while Analyze runs.
func BenchmarkMemory(b *testing.B) {
	p, _ := song(124, 9, 600, 0, 7)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	for b.Loop() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := analysis.Analyze(context.Background(), p); err != nil {
				b.Error(err)
			}
		}()
		tick := time.NewTicker(5 * time.Millisecond)
	loop:
		for {
			select {
			case <-done:
				break loop
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
		tick.Stop()
	}
	b.ReportMetric(float64(peak-min(peak, base.HeapAlloc))/1e6, "MB-above-PCM")
}
