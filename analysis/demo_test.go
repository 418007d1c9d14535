package analysis_test

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/source/demo"
)

// demoResult is one demo track's analysis next to its truth.
type demoResult struct {
	spec  demo.Spec
	truth demo.Truth
	a     *analysis.Analysis
}

var (
	demoOnce    sync.Once
	demoResults []demoResult
)

// analyzedDemos renders and analyses the demo catalogue once per test
// binary, on all cores.
func analyzedDemos(t *testing.T) []demoResult {
	t.Helper()
	demoOnce.Do(func() {
		specs := demo.Catalogue()
		res := make([]demoResult, len(specs))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for i, s := range specs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				// Eight bars of every section keep the test quick while
				// still holding every part of the arrangement.
				s = s.Short(8)
				p := s.Render()
				a, err := analysis.Analyze(context.Background(), p)
				if err != nil {
					panic(err)
				}
				res[i] = demoResult{spec: s, truth: s.Truth(), a: a}
			}()
		}
		wg.Wait()
		demoResults = res
	})
	return demoResults
}

func TestDemoCatalogue(t *testing.T) {
	if testing.Short() {
		t.Skip("renders the whole demo catalogue")
	}
	res := analyzedDemos(t)
	for _, r := range res {
		checkProperties(t, r.a)
	}
	var tempoOK, keyOK, downOK int
	var fsum float64
	var bHit, bAll, brk int
	var offSum float64 // signed error of matched beats
	var offN int
	for _, r := range res {
		a, tr := r.a, r.truth
		// Section boundaries: true inner boundaries found within 4 s.
		for _, bt := range tr.Sections[1 : len(tr.Sections)-1] {
			bAll++
			for _, s := range a.Sections[1:] {
				if math.Abs(s.Start-bt) <= 4 {
					bHit++
					break
				}
			}
		}
		// The breakdown's middle lies in a section labelled breakdown.
		for i, l := range tr.Labels {
			if l != "breakdown" {
				continue
			}
			mid := (tr.Sections[i] + tr.Sections[i+1]) / 2
			for _, s := range a.Sections {
				if s.Start <= mid && mid < s.End() && s.Label == "breakdown" {
					brk++
				}
			}
		}
		f := fMeasure(tr.Beats, starts(a.Beats))
		for _, q := range a.Beats {
			for _, rb := range tr.Beats {
				if d := q.Start - rb; math.Abs(d) < 0.07 {
					offSum += d
					offN++
				}
			}
		}
		fd := fMeasure(tr.Downbeats, starts(a.Bars))
		ok := math.Abs(a.Tempo-tr.Tempo) <= 0.04*tr.Tempo
		if ok {
			tempoOK++
		}
		if a.TimeSignature != tr.TimeSignature {
			t.Errorf("%s: %d beats to the bar, want %d", r.spec.ID, a.TimeSignature, tr.TimeSignature)
		}
		if a.Key == tr.Key && a.Mode == tr.Mode {
			keyOK++
		}
		if fd > 0.8 {
			downOK++
		}
		fsum += f
		t.Logf("%-28s tempo %6.2f (true %5.1f) conf %.2f  beatF %.3f  downF %.3f  key %d/%d (true %d/%d) sig %d  secs %d (true %d)",
			r.spec.ID, a.Tempo, tr.Tempo, a.TempoConfidence, f, fd, a.Key, a.Mode, tr.Key, tr.Mode,
			a.TimeSignature, len(a.Sections), len(tr.Sections)-1)
	}
	t.Logf("tempo within 4%%: %d/%d, mean beat F %.3f, downbeats F>0.8: %d/%d, key: %d/%d",
		tempoOK, len(res), fsum/float64(len(res)), downOK, len(res), keyOK, len(res))
	t.Logf("mean signed beat error %+.1f ms over %d matched beats", 1000*offSum/float64(max(offN, 1)), offN)
	if off := offSum / float64(max(offN, 1)); math.Abs(off) > 0.005 {
		t.Errorf("beats are %+.1f ms off on average; a mixer needs them within 5 ms", 1000*off)
	}
	t.Logf("section boundaries within 4 s: %d/%d; breakdowns labelled: %d/%d", bHit, bAll, brk, len(res))
	if bHit*2 < bAll {
		t.Errorf("only %d of %d section boundaries found", bHit, bAll)
	}
	n := len(res)
	if tempoOK < n-1 || fsum/float64(n) < 0.85 || downOK < n-3 || keyOK < n-3 {
		t.Errorf("demo accuracy below the bar: tempo %d/%d, beat F %.3f, downbeats %d/%d, key %d/%d",
			tempoOK, n, fsum/float64(n), downOK, n, keyOK, n)
	}
}
