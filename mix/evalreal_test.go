//go:build evalreal

package mix

// The real-music transition evaluation of scripts/mix-eval-real: drum
// performances of the Groove MIDI Dataset (played to a click, so that the
// MIDI's grid is their true beat and bar) rendered with fluidsynth, their
// true beats and downbeats marked as tone bursts in anti-phase on the two
// channels, mixed as one set in tempo order, before (the Mixer as it plans
// alone) and after (its transitions rendered in the styles WithStyles picks),
// and measured from the bursts found in the side channel of the output and
// from ffmpeg's ebur128 meter.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/internal/eval"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/internal/shared"
)

// Marker tones: each track's beats and downbeats at two frequencies, the
// set's tracks alternating between two pairs, so that the two tracks of a
// transition are always told apart.
var markerHz = [2][2]float64{{5000, 7000}, {11000, 13500}} // [track parity][beat, downbeat]

const (
	burstFrames = 706 // 16 ms
	burstAmp    = 0.25
)

type evalTrack struct {
	name             string
	bpm              float64
	beats, downbeats []float64
	clean, marked    *audio.PCM
	cleanA, markedA  *analysis.Analysis
	identical        bool
	differ           []string
}

// differingFields lists the top-level fields of two analyses' JSON that
// differ.
func differingFields(a, b *analysis.Analysis) []string {
	var ma, mb map[string]json.RawMessage
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	var d []string
	for k, v := range ma {
		if !bytes.Equal(v, mb[k]) {
			d = append(d, k)
		}
	}
	slices.Sort(d)
	return d
}

func TestEvalReal(t *testing.T) {
	dir := os.Getenv("FOREVER_SHARED")
	if dir == "" {
		dir = shared.Dir()
	}
	if dir == "" {
		t.Skip("no shared test data (set FOREVER_SHARED)")
	}
	for _, tool := range []string{"fluidsynth", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	sf2 := "/usr/share/sounds/sf2/FluidR3_GM.sf2"
	cache := os.Getenv("FOREVER_EVAL_CACHE")
	if cache == "" {
		cache = t.TempDir()
	}
	out := os.Getenv("FOREVER_EVAL_OUT")
	if out == "" {
		out = t.TempDir()
	}
	n, _ := strconv.Atoi(os.Getenv("FOREVER_EVAL_TRACKS"))
	if n <= 1 {
		n = 10
	}
	groove := filepath.Join(dir, "testdata", "groove")
	picks := pickGroove(t, groove, n)
	ctx := context.Background()
	var tracks []*evalTrack
	for i, p := range picks {
		mid := filepath.Join(groove, p.file)
		wav := filepath.Join(cache, strings.ReplaceAll(p.file, "/", "_")+".wav")
		if _, err := os.Stat(wav); err != nil {
			cmd := exec.Command("fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", "44100", "-F", wav, sf2, mid)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("fluidsynth %s: %v\n%s", mid, err, b)
			}
		}
		f, err := os.Open(mid)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := eval.ReadMIDI(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", mid, err)
		}
		clean, err := audio.DecodeFile(wav)
		if err != nil {
			t.Fatal(err)
		}
		// The kit is panned: its cymbals in the side channel would be
		// found as bursts. Both channels get the mono mixdown (exact: the
		// sum of two 16-bit values halved), so that the side channel holds
		// the markers alone, and the mono mixdown is unchanged.
		for i := 0; i+1 < len(clean.Samples); i += 2 {
			m := (clean.Samples[i] + clean.Samples[i+1]) / 2
			clean.Samples[i], clean.Samples[i+1] = m, m
		}
		et := &evalTrack{name: strings.TrimSuffix(strings.ReplaceAll(p.file, "/", "_"), ".mid"), bpm: p.bpm, beats: sc.Beats, downbeats: sc.Downbeats, clean: clean}
		et.marked = mark(clean, sc.Beats, sc.Downbeats, markerHz[i%2])
		if et.cleanA, err = analysis.Analyze(ctx, clean); err != nil {
			t.Fatal(err)
		}
		if et.markedA, err = analysis.Analyze(ctx, et.marked); err != nil {
			t.Fatal(err)
		}
		et.differ = differingFields(et.cleanA, et.markedA)
		et.identical = len(et.differ) == 0
		tracks = append(tracks, et)
		t.Logf("track %d: %s, %.0f BPM (analysed %.1f), analysis with markers differs in %v", i+1, et.name, p.bpm, et.markedA.Tempo, et.differ)
	}

	// The plan from the clean analyses must be the plan from the marked
	// ones, which the renders use.
	plan := func(useMarked bool, styles bool) []Action {
		var ts []*Track
		for _, et := range tracks {
			// The renders play the marked audio planned from the clean
			// analysis: the two analyses differ at most in what the
			// loudness meter reads (it sums the channels' energies, which
			// the bursts add to), and the plans are compared below.
			a, au := et.cleanA, et.marked
			if useMarked {
				a = et.markedA
			}
			ts = append(ts, &Track{ID: et.name, Title: et.name, Analysis: a, Audio: au})
		}
		m := New(Options{Logger: slog.New(slog.DiscardHandler)})
		acts := slices.Collect(m.Actions(ctx, slices.Values(ts)))
		if styles {
			acts = slices.Collect(WithStyles(slices.Values(acts)))
		}
		return acts
	}
	var planReport string
	for _, styles := range []bool{false, true} {
		p1, _ := json.Marshal(plan(false, styles))
		p2, _ := json.Marshal(plan(true, styles))
		planReport += fmt.Sprintf("plan (styles %v) identical from the analyses with and without markers: %v\n", styles, bytes.Equal(p1, p2))
	}

	var report strings.Builder
	for _, mode := range []string{"before", "after"} {
		acts := plan(false, mode == "after")
		pcm, delay := renderActions(t, acts)
		wav := filepath.Join(out, "mix-"+mode+".wav")
		writeWAV(t, wav, pcm)
		st, tp := ffmpegShortTerm(t, wav)
		fmt.Fprintf(&report, "\n== %s: %s, true peak %.2f dBTP (ffmpeg)\n", mode, wav, tp)
		fmt.Fprintf(&report, "%-3s %-10s %-12s %6s %6s %6s %5s %5s %-9s %-9s %6s %6s\n", "#", "kind", "style", "med", "p90", "max", "anti", "bars", "A entry", "B entry", "lowdB", "LUdev")
		var pooled []float64
		var matched, total, anti, barsOK, e4, e8, e16, entries, lowOK, luOK int
		ti := 0
		for _, a := range acts {
			info := a.Info()
			if info.Kind != KindCrossmatch && info.Kind != KindCrossfade {
				continue
			}
			total++
			ti++
			A, B := trackByName(tracks, info.Tracks[0].ID), trackByName(tracks, info.Tracks[1].ID)
			ia, ib := indexOf(tracks, A), indexOf(tracks, B)
			s0, s1 := int(info.Start)+delay, int(info.Start)+delay+info.Frames
			style := "-"
			if s, ok := StyleOf(a); ok {
				style = string(s.Kind)
			}
			ta := findBursts(pcm, markerHz[ia%2][0], s0, s1)
			tb := findBursts(pcm, markerHz[ib%2][0], s0, s1)
			da := findBursts(pcm, markerHz[ia%2][1], s0, s1)
			db := findBursts(pcm, markerHz[ib%2][1], s0, s1)
			beatA := 60 / A.bpm * audio.SampleRate
			offs := nearestOffsets(ta, tb, beatA)
			med, p90, mx := stats(offs)
			isAnti, aligned := false, false
			if info.Kind == KindCrossmatch {
				matched++
				pooled = append(pooled, offs...)
				isAnti = len(offs) > 0 && med > 0.25*beatA
				dOffs := nearestOffsets(da, db, 4*beatA)
				dm, _, _ := stats(dOffs)
				aligned = len(dOffs) > 0 && dm < 0.25*beatA
				if isAnti {
					anti++
				}
				if aligned {
					barsOK++
				}
			}
			ea := entryBar(A, info.Tracks[0].StartFrame)
			eb := entryBar(B, info.Tracks[1].StartFrame)
			for _, e := range []int{ea, eb} {
				entries++
				if e >= 0 && e%4 == 0 {
					e4++
				}
				if e >= 0 && e%8 == 0 {
					e8++
				}
				if e >= 0 && e%16 == 0 {
					e16++
				}
			}
			low := lowBandExcess(pcm, s0, s1)
			if low <= 1 {
				lowOK++
			}
			lu := loudnessDeviation(st, s0, s1)
			if math.Abs(lu) <= 1.5 {
				luOK++
			}
			fmt.Fprintf(&report, "%-3d %-10s %-12s %6.1f %6.1f %6.1f %5v %5v %-9s %-9s %+6.1f %+6.1f  %s -> %s\n", ti, info.Kind, style,
				ms(med), ms(p90), ms(mx), isAnti, aligned, barName(ea), barName(eb), low, lu, A.name, B.name)
			fmt.Fprintf(&report, "    output %.1f-%.1f s", float64(s0)/audio.SampleRate, float64(s1)/audio.SampleRate)
			if s, ok := StyleOf(a); ok {
				fmt.Fprintf(&report, "; %s, switch %.1f s in: %s", s.Kind, float64(s.Switch)/audio.SampleRate, s.Reason)
			}
			fmt.Fprintln(&report)
		}
		med, p90, mx := stats(pooled)
		fmt.Fprintf(&report, "pooled: beat-matched %d of %d; beat offset median %.1f ms, p90 %.1f ms, max %.1f ms; in anti-phase %d; bars aligned %d of %d; entries on 4/8/16-bar boundaries %d/%d/%d of %d; low band within 1 dB of the louder deck %d of %d; short-term loudness within 1.5 LU %d of %d\n",
			matched, total, ms(med), ms(p90), ms(mx), anti, barsOK, matched, e4, e8, e16, entries, lowOK, total, luOK, total)
	}
	var ident int
	for _, et := range tracks {
		if et.identical {
			ident++
		}
	}
	fmt.Fprintf(&report, "analyses identical with and without markers: %d of %d", ident, len(tracks))
	differ := map[string]int{}
	for _, et := range tracks {
		for _, k := range et.differ {
			differ[k]++
		}
	}
	fmt.Fprintf(&report, " (fields that differ, in how many: %v)\n", differ)
	fmt.Fprint(&report, planReport)
	t.Log(report.String())
	if err := os.WriteFile(filepath.Join(out, "report.txt"), []byte(report.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

type groovePick struct {
	file string
	bpm  float64
	dur  float64
}

// pickGroove takes n steady 4/4 beats of 110-200 s from the dataset's
// index, spread evenly over the tempo range, in tempo order.
func pickGroove(t *testing.T, dir string, n int) []groovePick {
	f, err := os.Open(filepath.Join(dir, "info.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var all []groovePick
	for _, r := range rows[1:] {
		bpm, _ := strconv.ParseFloat(r[4], 64)
		dur, _ := strconv.ParseFloat(r[8], 64)
		if r[5] == "beat" && r[6] == "4-4" && dur >= 110 && dur <= 200 {
			all = append(all, groovePick{r[7], bpm, dur})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].bpm != all[j].bpm {
			return all[i].bpm < all[j].bpm
		}
		return all[i].file < all[j].file
	})
	var picks []groovePick
	for i := 0; i < n && len(all) > 0; i++ {
		picks = append(picks, all[i*(len(all)-1)/max(n-1, 1)])
	}
	return picks
}

// mark returns p with a burst added on every beat (at hz[0]) and downbeat
// (at hz[1]), in anti-phase on the two channels: the mono mixdown cancels
// them.
func mark(p *audio.PCM, beats, downbeats []float64, hz [2]float64) *audio.PCM {
	q := &audio.PCM{Samples: slices.Clone(p.Samples)}
	frames := len(q.Samples) / 2
	for k, ts := range [2][]float64{beats, downbeats} {
		w := 2 * math.Pi * hz[k] / audio.SampleRate
		for _, tm := range ts {
			c := audio.FrameAt(tm)
			for i := 0; i < burstFrames; i++ {
				f := c - burstFrames/2 + i
				if f < 0 || f >= frames {
					continue
				}
				env := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/burstFrames)
				// On the 16-bit grid, as the audio is: x+v and y-v are
				// exact in float32, so (x+v)+(y-v) is x+y to the bit.
				v := float32(math.Round(burstAmp*env*math.Sin(w*float64(i))*32768) / 32768)
				q.Samples[2*f] += v
				q.Samples[2*f+1] -= v
			}
		}
	}
	return q
}

func renderActions(t *testing.T, acts []Action) ([]float32, int) {
	last := acts[len(acts)-1].Info()
	total := int(last.Start) + last.Frames
	p := NewPlayer(context.Background(), slices.Values(acts), PlayerOptions{Logger: slog.New(slog.DiscardHandler)})
	defer p.Close()
	total += p.Limiter().Delay()
	out := make([]float32, 2*total)
	for at := 0; at < total; {
		n, err := p.Read(out[2*at : 2*min(at+audio.SampleRate, total)])
		at += n
		if err != nil || n == 0 {
			break
		}
	}
	return out, p.Limiter().Delay()
}

func writeWAV(t *testing.T, path string, pcm []float32) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := audio.WriteWAV(f, &audio.PCM{Samples: pcm}); err != nil {
		t.Fatal(err)
	}
}

// ffmpegShortTerm returns ffmpeg's short-term loudness every 100 ms (LUFS)
// and the true peak (dBTP) of a file.
func ffmpegShortTerm(t *testing.T, path string) ([]float64, float64) {
	meta := path + ".meta"
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostats", "-i", path,
		"-af", "ebur128=peak=true:metadata=1,ametadata=mode=print:file="+meta, "-f", "null", "-")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	var st []float64
	var peak float64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch {
		case k == "lavfi.r128.S":
			st = append(st, x)
		case strings.HasPrefix(k, "lavfi.r128.true_peaks_ch"):
			peak = max(peak, x)
		}
	}
	return st, 20 * math.Log10(peak)
}

// findBursts returns the output frames of the bursts at hz in the side
// channel within [from, to): the peaks of its demodulated envelope (read
// every few frames) that are the largest within a short beat and stand above
// a third of the largest within two seconds.
func findBursts(pcm []float32, hz float64, from, to int) []float64 {
	frames := len(pcm) / 2
	from, to = max(from, 0), min(to, frames)
	if to <= from {
		return nil
	}
	w := 2 * math.Pi * hz / audio.SampleRate
	const box, hop = burstFrames, 8
	n := to - from
	re, im := make([]float64, n+1), make([]float64, n+1)
	for i := 0; i < n; i++ {
		f := from + i
		s := float64(pcm[2*f]-pcm[2*f+1]) / 2
		re[i+1] = re[i] + s*math.Cos(w*float64(f))
		im[i+1] = im[i] + s*math.Sin(w*float64(f))
	}
	env := make([]float64, n/hop)
	for k := range env {
		i := k * hop
		if i < box/2 || i+box/2 > n {
			continue
		}
		env[k] = math.Hypot(re[i+box/2]-re[i-box/2], im[i+box/2]-im[i-box/2])
	}
	const near = 4000 / hop // no two bursts of one kind closer (a beat at 330 BPM)
	r := 2 * audio.SampleRate / hop
	local, wide := slidingMax(env, near), slidingMax(env, r)
	// The floor: the mean envelope within two seconds, which the sparse
	// bursts hardly raise and the music's own side content at the
	// marker's frequency (cymbals panned) sets. A burst of a deck faded
	// far down sinks into it and is not counted, rather than a cymbal
	// counted in its place.
	cum := make([]float64, len(env)+1)
	for k, v := range env {
		cum[k+1] = cum[k] + v
	}
	var out []float64
	for k := 1; k+1 < len(env); k++ {
		lo, hi := max(k-r, 0), min(k+r, len(env))
		floor := (cum[hi] - cum[lo]) / float64(hi-lo)
		if env[k] <= 0 || env[k] < local[k] || env[k] < wide[k]/3 || env[k] < 8*floor {
			continue
		}
		d := env[k-1] - 2*env[k] + env[k+1]
		x := float64(k)
		if d != 0 {
			x += 0.5 * (env[k-1] - env[k+1]) / d
		}
		f := float64(from) + x*hop
		if len(out) > 0 && f-out[len(out)-1] < near*hop {
			continue
		}
		out = append(out, f)
	}
	return out
}

// slidingMax returns m with m[k] the largest of x[k-r .. k+r].
func slidingMax(x []float64, r int) []float64 {
	m := make([]float64, len(x))
	var q []int // indices of decreasing values
	for i := 0; i < len(x)+r; i++ {
		if i < len(x) {
			for len(q) > 0 && x[q[len(q)-1]] <= x[i] {
				q = q[:len(q)-1]
			}
			q = append(q, i)
		}
		k := i - r
		if k < 0 {
			continue
		}
		for q[0] < k-r {
			q = q[1:]
		}
		m[k] = x[q[0]]
	}
	return m
}

// nearestOffsets returns, for each of a, the distance in frames to the
// nearest of b, when it is within limit.
func nearestOffsets(a, b []float64, limit float64) []float64 {
	var o []float64
	for _, x := range a {
		i := sort.SearchFloat64s(b, x)
		d := math.Inf(1)
		if i < len(b) {
			d = b[i] - x
		}
		if i > 0 && x-b[i-1] < math.Abs(d) {
			d = x - b[i-1]
		}
		if math.Abs(d) <= limit {
			o = append(o, math.Abs(d))
		}
	}
	return o
}

func stats(x []float64) (med, p90, mx float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2], s[min(int(0.9*float64(len(s))), len(s)-1)], s[len(s)-1]
}

func ms(frames float64) float64 { return frames / audio.SampleRate * 1000 }

// entryBar returns the index of the true bar of t starting at its frame f,
// within a tenth of a beat, or -1 when f is not on a downbeat.
func entryBar(t *evalTrack, f int) int {
	tm := float64(f) / audio.SampleRate
	tol := 0.1 * 60 / t.bpm
	for k, d := range t.downbeats {
		if math.Abs(d-tm) <= tol {
			return k
		}
	}
	return -1
}

func barName(k int) string {
	if k < 0 {
		return "off-bar"
	}
	return fmt.Sprintf("bar %d", k)
}

// lowBandExcess reports how far, in dB, the output's level below 150 Hz in
// its loudest second of the overlap [s0, s1) exceeds the loudest second of
// the two tracks playing alone just around it: the eight seconds before (the
// outgoing one) and after (the incoming one).
func lowBandExcess(pcm []float32, s0, s1 int) float64 {
	frames := len(pcm) / 2
	lp := newChain([]Band{{Kind: LowPass, Freq: Const(150)}, {Kind: LowPass, Freq: Const(150)}})
	lo, hi := max(s0-8*audio.SampleRate, 0), min(s1+8*audio.SampleRate, frames)
	buf := slices.Clone(pcm[2*lo : 2*hi])
	lp.process(buf, 0)
	level := func(a, b int) float64 { // frames of pcm
		var s float64
		for f := a; f < b; f++ {
			v := float64(buf[2*(f-lo)] + buf[2*(f-lo)+1])
			s += v * v
		}
		return 10 * math.Log10(s/float64(max(b-a, 1))+1e-12)
	}
	sec := audio.SampleRate
	loudest := func(a, b int) float64 {
		m := math.Inf(-1)
		for f := a; f+sec <= b; f += sec / 2 {
			m = max(m, level(f, f+sec))
		}
		return m
	}
	return loudest(s0, s1) - max(loudest(lo, s0), loudest(s1, hi))
}

// loudnessDeviation reports the largest deviation, in LU, of the short-term
// loudness through the overlap [s0, s1) from the straight line between its
// mean over the ten seconds before and the ten seconds after.
func loudnessDeviation(st []float64, s0, s1 int) float64 {
	at := func(f int) int { return min(max(f*10/audio.SampleRate, 0), len(st)-1) } // 100 ms steps
	mean := func(a, b int) float64 {
		var s float64
		for i := at(a); i < at(b); i++ {
			s += st[i]
		}
		return s / float64(max(at(b)-at(a), 1))
	}
	// Short-term loudness looks back 3 s: read the "before" level before
	// the overlap's influence, the "after" level 3 s after its end.
	before := mean(s0-10*audio.SampleRate, s0)
	after := mean(s1+3*audio.SampleRate, s1+13*audio.SampleRate)
	var worst float64
	for i := at(s0 + 3*audio.SampleRate); i < at(s1); i++ {
		x := float64(i-at(s0)) / float64(max(at(s1)-at(s0), 1))
		d := st[i] - (before + (after-before)*x)
		if math.Abs(d) > math.Abs(worst) {
			worst = d
		}
	}
	return worst
}

func trackByName(ts []*evalTrack, name string) *evalTrack {
	for _, t := range ts {
		if t.name == name {
			return t
		}
	}
	return nil
}

func indexOf(ts []*evalTrack, t *evalTrack) int {
	for i, x := range ts {
		if x == t {
			return i
		}
	}
	return -1
}
