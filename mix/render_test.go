package mix

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/internal/cputime"
)

func renderAll(a Action, blk int) []float32 {
	out := make([]float32, 0, 2*a.Len())
	buf := make([]float32, 2*blk)
	for {
		n := a.Render(buf)
		out = append(out, buf[:2*n]...)
		if n == 0 {
			return out
		}
	}
}

// Synthetic audio is shared between tests: it takes a moment to make.
var (
	audioOnce sync.Once
	tracksA   map[string]*Track
)

func withAudio(id string) *Track {
	audioOnce.Do(func() {
		tracksA = map[string]*Track{}
		for _, s := range []spec{specA, specB, specC} {
			tracksA[s.id] = s.track(true)
		}
	})
	return tracksA[id]
}

func TestFadesIndependentOfBlocks(t *testing.T) {
	// A constant signal shows the envelope itself.
	tr := &Track{ID: "dc", Audio: audio.NewPCM(50000)}
	for i := range tr.Audio.Samples {
		tr.Audio.Samples[i] = 0.5
	}
	for _, mk := range []func() Action{
		func() Action { return Fadein(tr, 1000, 40000, -6) },
		func() Action { return Fadeout(tr, 1000, 40000, -6) },
	} {
		ref := renderAll(mk(), 40000)
		kind := mk().Info().Kind
		for _, blk := range []int{1, 3, 1000, 4096} {
			if got := renderAll(mk(), blk); !slices.Equal(got, ref) {
				t.Errorf("%s rendered in blocks of %d differs from one block", kind, blk)
			}
		}
		if len(ref) != 80000 {
			t.Fatalf("%s: %d samples", kind, len(ref))
		}
		g := 0.5 * DB(-6)
		first, last := float64(ref[0]), float64(ref[len(ref)-1])
		for i := 2; i < len(ref); i += 2 {
			up := ref[i] >= ref[i-2]
			if up != (kind == KindFadein) && ref[i] != ref[i-2] {
				t.Fatalf("%s moves the wrong way at frame %d", kind, i/2)
			}
		}
		if kind == KindFadein && (first != 0 || math.Abs(last-g) > 1e-4) || kind == KindFadeout && (math.Abs(first-g) > 1e-6 || last > 1e-4) {
			t.Errorf("%s goes from %v to %v, gain %v", kind, first, last, g)
		}
	}
}

// ramp is a track whose sample values say where they come from.
func ramp(id string, frames int, scale float32) *Track {
	t := &Track{ID: id, Audio: audio.NewPCM(frames)}
	for i := 0; i < frames; i++ {
		t.Audio.Samples[2*i] = float32(i) * scale
		t.Audio.Samples[2*i+1] = -float32(i) * scale
	}
	return t
}

// The fallback crossfade reads each track where its span says, at its gain.
func TestCrossfadePositionsAndGains(t *testing.T) {
	a, b := ramp("a", 100000, 1e-5), ramp("b", 100000, 2e-6)
	const n, fa, fb = 30000, 60000, 5000
	x := Crossfade(a, fa, b, fb, n, -3, 4)
	out := renderAll(x, 777)
	if len(out) != 2*n || x.Err() != nil {
		t.Fatalf("%d frames, err %v", len(out)/2, x.Err())
	}
	for i := 0; i < n; i++ {
		p := float64(i) / n
		want := DB(-3)*math.Cos(math.Pi/2*p)*float64(fa+i)*1e-5 + DB(4)*math.Sin(math.Pi/2*p)*float64(fb+i)*2e-6
		if d := math.Abs(float64(out[2*i]) - want); d > 1e-5 {
			t.Fatalf("frame %d: %v, want %v", i, out[2*i], want)
		}
	}
	// Beyond the audio it plays silence and says so.
	x = Crossfade(a, 90000, b, 0, n, 0, 0)
	renderAll(x, 4096)
	if x.Err() == nil {
		t.Error("reading past the end reported no error")
	}
}

// crossmatchFor plans the transition between two tracks as the Mixer does.
func crossmatchFor(t testing.TB, a, b *Track) *crossmatch {
	m := New(Options{Logger: slog.New(slog.DiscardHandler)})
	acts, _ := m.transition(a, 0, a.Analysis.StartOfFadeOut, b)
	x, ok := acts[1].(*crossmatch)
	if !ok {
		t.Fatalf("%s → %s: no crossmatch but %s", a.ID, b.ID, acts[1].Info().Kind)
	}
	return x
}

// Joins into and out of a crossmatch continue the neighbouring playbacks:
// the output around each join is the tracks' own audio at their gain.
func TestJoinsAreSeamless(t *testing.T) {
	for _, pair := range [][2]string{{"A", "B"}, {"B", "C"}} {
		a, b := withAudio(pair[0]), withAudio(pair[1])
		x := crossmatchFor(t, a, b)
		info := x.Info()
		sa, sb := info.Tracks[0], info.Tracks[1]
		const pre = 44100
		seq := Sequence(
			Playback(a, sa.StartFrame-pre, pre, sa.Gain),
			x,
			Playback(b, sb.StartFrame+sb.Frames, pre, sb.Gain),
		)
		out := renderAll(seq, 1000)
		if seq.Err() != nil {
			t.Fatal(seq.Err())
		}
		if len(out) != 2*(2*pre+x.Len()) {
			t.Fatalf("sequence of %d frames, want %d", len(out)/2, 2*pre+x.Len())
		}
		// Compare 2000 frames either side of each join with the track
		// continuing untouched; fades are at 1 and 0 there, within 1e-3.
		for _, j := range []struct {
			at   int // join frame in out
			tr   *Track
			src  int // frame of tr at the join
			gain float64
		}{
			{pre, a, sa.StartFrame, sa.Gain},
			{pre + x.Len(), b, sb.StartFrame + sb.Frames, sb.Gain},
		} {
			g := DB(j.gain)
			var worst, jump, material float64
			for i := -2000; i < 2000; i++ {
				for ch := 0; ch < 2; ch++ {
					want := g * float64(j.tr.Audio.Samples[2*(j.src+i)+ch])
					worst = max(worst, math.Abs(float64(out[2*(j.at+i)+ch])-want))
					d := math.Abs(float64(out[2*(j.at+i)+ch] - out[2*(j.at+i-1)+ch]))
					if i == 0 {
						jump = max(jump, d)
					} else {
						material = max(material, d)
					}
				}
			}
			t.Logf("%s→%s join at %d: deviation %.2g, step %.3g vs material's largest %.3g", a.ID, b.ID, j.at, worst, jump, material)
			if worst > 2e-3 || jump > material {
				t.Errorf("%s→%s join at %d: deviation %.3g from the track, step %.3g (material %.3g)", a.ID, b.ID, j.at, worst, jump, material)
			}
		}
	}
}

// onsetFrames finds the kicks of the synthetic tracks: frames where the
// energy of the first difference (which keeps the noisy kicks and drops the
// low chord) in 32-frame windows jumps from quiet to loud.
func onsetFrames(s []float32) []int {
	var on []int
	const w = 32
	diff := func(j int) float64 {
		if j == 0 {
			return 0
		}
		return float64(s[2*j] - s[2*j-2])
	}
	var hist [4]float64
	for i := 0; i+w <= len(s)/2; i += w / 2 {
		var e float64
		for j := i; j < i+w; j++ {
			e += diff(j) * diff(j)
		}
		e /= w
		if e > 0.01 && hist[0] < 0.001 && (len(on) == 0 || i > on[len(on)-1]+4000) {
			k := i
			for k < i+w && math.Abs(diff(k)) < 0.1 {
				k++
			}
			on = append(on, k)
		}
		copy(hist[:], hist[1:])
		hist[3] = e
	}
	return on
}

// beatOffsets renders each track of a crossmatch alone at full level and
// returns, for every kick of the incoming track, the distance in ms to the
// nearest kick of the outgoing one.
func beatOffsets(t testing.TB, x *crossmatch) []float64 {
	var parts [2][]float32
	for j := range 2 {
		y := *x
		y.tracks = x.tracks
		y.tracks[1-j] = nil
		y.env = [2]envelope{newEnvelope(Flat, 0, x.Len()), newEnvelope(Flat, 0, x.Len())}
		y.ready, y.pos, y.err = false, 0, nil
		parts[j] = renderAll(&y, 4096)
	}
	on0, on1 := onsetFrames(parts[0]), onsetFrames(parts[1])
	if len(on0) < 20 || len(on1) < 20 {
		t.Fatalf("%d and %d kicks found", len(on0), len(on1))
	}
	var offs []float64
	for _, o := range on1 {
		i := sort.SearchInts(on0, o)
		best := math.Inf(1)
		for _, k := range []int{i - 1, i} {
			if k >= 0 && k < len(on0) {
				best = min(best, math.Abs(float64(o-on0[k])))
			}
		}
		offs = append(offs, best/audio.SampleRate*1000)
	}
	sort.Float64s(offs)
	return offs
}

func quantile(s []float64, q float64) float64 { return s[int(q*float64(len(s)-1)+0.5)] }

// In a crossmatch, the beats of both tracks land together all the way
// through: 120→126 BPM, and 126→68 BPM with the slower track doubled.
func TestCrossmatchBeatsCoincide(t *testing.T) {
	for _, pair := range [][2]string{{"A", "B"}, {"B", "C"}} {
		x := crossmatchFor(t, withAudio(pair[0]), withAudio(pair[1]))
		offs := beatOffsets(t, x)
		med, p90 := quantile(offs, 0.5), quantile(offs, 0.9)
		t.Logf("%s→%s: %d beats, offsets median %.2f ms, p90 %.2f ms, max %.2f ms", pair[0], pair[1], len(offs), med, p90, offs[len(offs)-1])
		if med > 5 || p90 > 10 {
			t.Errorf("%s→%s: beat offsets median %.2f ms, p90 %.2f ms", pair[0], pair[1], med, p90)
		}
	}
}

func TestPlayerRendersTheMix(t *testing.T) {
	short := func(s spec) *Track {
		s.dur, s.fadeOut = 100, 95
		return s.track(true)
	}
	a, b := short(specA), short(specB)
	ctx := context.Background()
	m := New(Options{Logger: slog.New(slog.DiscardHandler)})
	var plan []Info
	for act := range m.Actions(ctx, slices.Values([]*Track{a, b})) {
		plan = append(plan, act.Info())
	}
	var events []Info
	p := NewPlayer(ctx, m.Actions(ctx, slices.Values([]*Track{a, b})), PlayerOptions{
		OnStart: func(i Info) { events = append(events, i) },
	})
	defer p.Close()
	buf := make([]float32, 2*3000)
	var total int
	var peak float32
	for {
		n, err := p.Read(buf)
		for _, v := range buf[:2*n] {
			peak = max(peak, float32(math.Abs(float64(v))))
		}
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	last := plan[len(plan)-1]
	if want := int(last.Start) + last.Frames + p.Limiter().Delay(); total != want {
		t.Errorf("rendered %d frames, want %d", total, want)
	}
	if len(events) != len(plan) {
		t.Fatalf("%d start events for %d actions", len(events), len(plan))
	}
	for i, e := range events {
		if e.Kind != plan[i].Kind || e.Start != plan[i].Start+int64(p.Limiter().Delay()) {
			t.Errorf("event %d: %s at %d, planned %s at %d", i, e.Kind, e.Start, plan[i].Kind, plan[i].Start)
		}
	}
	if float64(peak) > p.Limiter().Ceiling() || p.Limiter().Clipped() != 0 {
		t.Errorf("peak %v above ceiling %v (%d clipped)", peak, p.Limiter().Ceiling(), p.Limiter().Clipped())
	}
}

func TestPlayerCloseAndLive(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan *Track)
	m := New(Options{Logger: slog.New(slog.DiscardHandler)})
	p := NewPlayer(ctx, m.Actions(ctx, Tracks(ctx, ch)), PlayerOptions{Live: true})
	// Nothing to play yet: live, it plays silence rather than wait.
	buf := make([]float32, 2048)
	n, err := p.Read(buf)
	if n != len(buf)/2 || err != nil || slices.ContainsFunc(buf, func(v float32) bool { return v != 0 }) {
		t.Errorf("live read without tracks: %d, %v", n, err)
	}
	cancel()
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	<-done // a leak would hang here and time the test out
	if _, err := p.Read(buf); err == nil {
		t.Error("read after close succeeded")
	}
}

func BenchmarkCrossmatch(b *testing.B) {
	x0 := crossmatchFor(b, withAudio("A"), withAudio("B"))
	buf := make([]float32, 2*4096)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cputime.Self()
	for range b.N {
		x := *x0
		x.ready, x.pos = false, 0
		x.anchors = x.beats
		for x.Render(buf) > 0 {
		}
	}
	secs := float64(x0.Len()) / audio.SampleRate * float64(b.N)
	b.ReportMetric(secs/b.Elapsed().Seconds(), "x_realtime")
	if c := (cputime.Self() - c0).Seconds(); c > 0 {
		// Per core: CPU seconds, not wall-clock, on a shared machine.
		b.ReportMetric(secs/c, "x_realtime_per_cpu")
	}
}
