//go:build eval

// The evaluation against rubberband: go test -tags eval -run Eval -v ./mix/stretch/
// (scripts/mix-eval). It needs the rubberband command (apt rubberband-cli).

package stretch

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source/demo"
)

const (
	fftN   = 2048
	fftHop = 256
)

// spectrogram returns log-magnitude frames (dB, floored at -100) of the mono
// mixdown of s, bins up to 16 kHz.
func spectrogram(s []float32) [][]float64 {
	mono := (&audio.PCM{Samples: s}).Mono(nil)
	fft := fourier.NewFFT(fftN)
	win := make([]float64, fftN)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/fftN)
	}
	bins := 16000 * fftN / rate
	buf := make([]float64, fftN)
	var coef []complex128
	var out [][]float64
	for at := 0; at+fftN <= len(mono); at += fftHop {
		for i := range buf {
			buf[i] = float64(mono[at+i]) * win[i]
		}
		coef = fft.Coefficients(coef, buf)
		row := make([]float64, bins)
		for k := range row {
			m := math.Hypot(real(coef[k+1]), imag(coef[k+1]))
			row[k] = max(20*math.Log10(m+1e-12), -100)
		}
		out = append(out, row)
	}
	return out
}

// lsd is the log-spectral distance between two spectrograms, frame by
// frame, in dB (mean over frames of the RMS difference over bins), after
// shifting a by level dB.
func lsd(a, b [][]float64, level float64) float64 {
	n := min(len(a), len(b))
	var sum float64
	for i := 0; i < n; i++ {
		var s float64
		for k := range a[i] {
			d := max(a[i][k]-level, -100) - b[i][k]
			s += d * d
		}
		sum += math.Sqrt(s / float64(len(a[i])))
	}
	return sum / float64(n)
}

// ltas is the long-term average spectrum in dB.
func ltas(sp [][]float64) []float64 {
	l := make([]float64, len(sp[0]))
	for _, r := range sp {
		for k, v := range r {
			l[k] += math.Pow(10, v/10)
		}
	}
	for k := range l {
		l[k] = 10 * math.Log10(l[k]/float64(len(sp)))
	}
	return l
}

// ltasDistance is the RMS difference of two long-term spectra in dB after
// removing their mean difference, returned as level: the shape of the
// spectrum, apart from the overall level.
func ltasDistance(a, b []float64) (shape, level float64) {
	for k := range a {
		level += a[k] - b[k]
	}
	level /= float64(len(a))
	var s float64
	for k := range a {
		d := a[k] - b[k] - level
		s += d * d
	}
	return math.Sqrt(s / float64(len(a))), level
}

// flux is the positive spectral flux per spectrogram frame.
func flux(sp [][]float64) []float64 {
	f := make([]float64, len(sp))
	for i := 1; i < len(sp); i++ {
		for k := range sp[i] {
			f[i] += max(sp[i][k]-sp[i-1][k], 0)
		}
	}
	return f
}

// sharpness reports, for onsets expected at the given seconds, the mean of
// the flux peak within ±20 ms over the median flux (how much attacks stand
// out), and the median distance of that peak from where it was expected.
func sharpness(fl []float64, onsets []float64) (ratio, timing float64) {
	sorted := append([]float64(nil), fl...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2] + 1e-9
	var peaks, errs []float64
	for _, o := range onsets {
		c := o*rate/fftHop - fftN/2/fftHop // frame whose centre is at o
		lo, hi := int(c-0.02*rate/fftHop), int(c+0.02*rate/fftHop)+1
		if lo < 1 || hi >= len(fl) {
			continue
		}
		best, at := 0.0, lo
		for i := lo; i <= hi; i++ {
			if fl[i] > best {
				best, at = fl[i], i
			}
		}
		peaks = append(peaks, best/med)
		errs = append(errs, math.Abs(float64(at)-c)*fftHop/rate*1000)
	}
	var s float64
	for _, p := range peaks {
		s += p
	}
	sort.Float64s(errs)
	return s / float64(len(peaks)), errs[len(errs)/2]
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func childCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func wsola(src []float32, from, inLen, outLen int, beats []int) []float32 {
	out, in := []int{0}, []int{from}
	for _, b := range beats {
		o := int(math.Round(float64(b-from) * float64(outLen) / float64(inLen)))
		if b > from && b < from+inLen && o > out[len(out)-1] {
			out, in = append(out, o), append(in, b)
		}
	}
	out, in = append(out, outLen), append(in, from+inLen)
	var o Options
	// MIX_EVAL_WINDOW=2048 (say) tries another grain length, with a
	// tolerance of a quarter of it.
	if w, err := strconv.Atoi(os.Getenv("MIX_EVAL_WINDOW")); err == nil {
		o.Window, o.Tolerance = w, w/4
	}
	s, err := New(src, out, in, o)
	if err != nil {
		panic(err)
	}
	buf := make([]float32, 2*outLen)
	s.Read(buf)
	return buf
}

func rubberband(t *testing.T, dir string, src []float32, timeRatio float64, outLen int, engine string) []float32 {
	in := filepath.Join(dir, "in.wav")
	out := filepath.Join(dir, "out.wav")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := audio.WriteWAV(f, &audio.PCM{Samples: src}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command("rubberband", engine, "-q", "-t", fmt.Sprint(timeRatio), in, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rubberband: %v: %s", err, b)
	}
	p, err := audio.DecodeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Samples
	if len(s) < 2*outLen {
		s = append(s, make([]float32, 2*outLen-len(s))...)
	}
	return s[:2*outLen]
}

// TestEvalAgainstRubberband stretches the same excerpts with this package's
// WSOLA (plain, and locked to the beats as the mixer runs it) and with
// rubberband's R2 and R3 engines, and compares them by log-spectral distance
// to a ground truth (a demo track synthesised at the target tempo), drift of
// the long-term spectrum, onset sharpness and timing, and CPU time.
func TestEvalAgainstRubberband(t *testing.T) {
	if _, err := exec.LookPath("rubberband"); err != nil {
		t.Skip("no rubberband")
	}
	dir := t.TempDir()
	spec := demo.Catalogue()[0].Short(8)
	const start, secs = 30.0, 20.0
	var report strings.Builder
	fmt.Fprintf(&report, "%-16s %6s %8s %9s %8s %8s %10s %9s %8s\n", "method", "tempo", "LSD dB", "LSD lvl", "LTAS dB", "level dB", "sharpness", "onset ms", "x real")
	orig := spec.Render()
	// The analysis's beats of the original, as the mixer would have them.
	an, err := analysis.Analyze(context.Background(), orig)
	if err != nil {
		t.Fatal(err)
	}
	var beats []int
	for _, q := range an.Beats {
		beats = append(beats, audio.FrameAt(q.Start))
	}
	tempos := []float64{0.9, 0.95, 1.05, 1.1}
	if os.Getenv("MIX_EVAL_QUICK") != "" {
		tempos = []float64{0.9, 1.1}
	}
	for _, tr := range tempos {
		// The truth: the same arrangement played at tempo×tr; the excerpt
		// covers the same bars.
		truthSpec := spec
		truthSpec.Tempo = spec.Tempo * tr
		truth := truthSpec.Render()
		from := audio.FrameAt(spec.Offset + (start - spec.Offset))
		inLen := audio.FrameAt(secs)
		tFrom := audio.FrameAt(truthSpec.Offset + (start-spec.Offset)/tr)
		outLen := audio.FrameAt(secs / tr)
		src := orig.Samples[2*from : 2*(from+inLen)]
		ref := truth.Samples[2*tFrom : 2*(tFrom+outLen)]
		var onsets []float64 // beats in the output, seconds
		for _, b := range truthSpec.Truth().Beats {
			if o := b - float64(tFrom)/rate; o > 0.05 && o < secs/tr-0.05 {
				onsets = append(onsets, o)
			}
		}
		refSp := spectrogram(ref)
		refL := ltas(refSp)
		rs, rt := sharpness(flux(refSp), onsets)
		fmt.Fprintf(&report, "%-16s %6.2f %8s %9s %8s %8s %10.2f %9.1f\n", "truth", tr, "-", "-", "-", "-", rs, rt)
		methods := []struct {
			name string
			run  func() []float32
		}{
			{"wsola", func() []float32 { return wsola(orig.Samples, from, inLen, outLen, nil) }},
			{"wsola+beats", func() []float32 { return wsola(orig.Samples, from, inLen, outLen, beats) }},
			{"rubberband R2", func() []float32 { return rubberband(t, dir, src, 1/tr, outLen, "-2") }},
			{"rubberband R3", func() []float32 { return rubberband(t, dir, src, 1/tr, outLen, "-3") }},
		}
		if os.Getenv("MIX_EVAL_QUICK") != "" {
			methods = methods[:2]
		}
		for _, m := range methods {
			c0, k0 := cpu(), childCPU()
			out := m.run()
			took := (cpu() - c0) + (childCPU() - k0)
			sp := spectrogram(out)
			sh, tm := sharpness(flux(sp), onsets)
			shape, level := ltasDistance(ltas(sp), refL)
			fmt.Fprintf(&report, "%-16s %6.2f %8.2f %9.2f %8.2f %+8.2f %10.2f %9.1f %8.0f\n", m.name, tr, lsd(sp, refSp, 0), lsd(sp, refSp, level), shape, level, sh, tm, secs/tr/took.Seconds())
		}
	}
	t.Log("\n" + report.String())
	if out := os.Getenv("MIX_EVAL_OUT"); out != "" {
		os.WriteFile(out, []byte(report.String()), 0o644)
	}
}
