package eval

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/foreverfm/forever/internal/shared"
)

// mirEvalDir returns ../shared/testdata/mir_eval relative to the module
// root, skipping the test when it is absent.
func mirEvalDir(t *testing.T) string {
	t.Helper()
	return shared.Path(t, "testdata", "mir_eval")
}

// vectors returns the numbered test cases of one kind: the suffix of each
// output*.json.
func vectors(t *testing.T, kind string) (dir string, ids []string) {
	t.Helper()
	dir = filepath.Join(mirEvalDir(t), kind)
	outs, err := filepath.Glob(filepath.Join(dir, "output*.json"))
	if err != nil || len(outs) == 0 {
		t.Fatalf("no output*.json in %s", dir)
	}
	for _, o := range outs {
		b := filepath.Base(o)
		ids = append(ids, b[len("output"):len(b)-len(".json")])
	}
	return dir, ids
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readEventsFile(t *testing.T, path string) []float64 {
	t.Helper()
	ev, err := ReadEvents(open(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ev
}

// compare checks every score mir_eval wrote against ours, and that we know
// every name it wrote.
func compare(t *testing.T, want map[string]any, got map[string]float64) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("score %q not computed", name)
			continue
		}
		var wv float64
		switch v := w.(type) {
		case float64:
			wv = v
		case bool:
			if v {
				wv = 1
			}
		default:
			t.Errorf("score %q: unexpected value %v", name, w)
			continue
		}
		if math.Abs(g-wv) > 1e-6 || math.IsNaN(g) {
			t.Errorf("%s = %.12g, mir_eval %.12g", name, g, wv)
		}
	}
}

func TestMirEvalBeat(t *testing.T) {
	dir, ids := vectors(t, "beat")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			ref := readEventsFile(t, filepath.Join(dir, "ref"+id+".txt"))
			est := readEventsFile(t, filepath.Join(dir, "est"+id+".txt"))
			s, err := EvaluateBeats(ref, est)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, readJSON(t, filepath.Join(dir, "output"+id+".json")), map[string]float64{
				"F-measure":                       s.FMeasure,
				"Cemgil":                          s.Cemgil,
				"Cemgil Best Metric Level":        s.CemgilBestMetricLevel,
				"Goto":                            s.Goto,
				"P-score":                         s.PScore,
				"Correct Metric Level Continuous": s.CMLc,
				"Correct Metric Level Total":      s.CMLt,
				"Any Metric Level Continuous":     s.AMLc,
				"Any Metric Level Total":          s.AMLt,
				"Information gain":                s.InformationGain,
			})
		})
	}
}

func TestMirEvalOnset(t *testing.T) {
	dir, ids := vectors(t, "onset")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			ref := readEventsFile(t, filepath.Join(dir, "ref"+id+".txt"))
			est := readEventsFile(t, filepath.Join(dir, "est"+id+".txt"))
			s, err := EvaluateOnsets(ref, est)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, readJSON(t, filepath.Join(dir, "output"+id+".json")), map[string]float64{
				"F-measure": s.FMeasure, "Precision": s.Precision, "Recall": s.Recall,
			})
		})
	}
}

func TestMirEvalTempo(t *testing.T) {
	dir, ids := vectors(t, "tempo")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			ref, w, err := ReadTempo(open(t, filepath.Join(dir, "ref"+id+".lab")))
			if err != nil {
				t.Fatal(err)
			}
			est, _, err := ReadTempo(open(t, filepath.Join(dir, "est"+id+".lab")))
			if err != nil {
				t.Fatal(err)
			}
			s, err := EvaluateTempo(ref, w, est, TempoTolerance)
			if err != nil {
				t.Fatal(err)
			}
			b := func(v bool) float64 {
				if v {
					return 1
				}
				return 0
			}
			compare(t, readJSON(t, filepath.Join(dir, "output"+id+".json")), map[string]float64{
				"P-score": s.PScore, "One-correct": b(s.OneCorrect), "Both-correct": b(s.BothCorrect),
			})
		})
	}
	// The bad*.lab references must be refused, by the reader or the
	// evaluation, as mir_eval refuses them.
	bad, _ := filepath.Glob(filepath.Join(dir, "bad*.lab"))
	if len(bad) == 0 {
		t.Error("no bad*.lab vectors")
	}
	for _, f := range bad {
		ref, w, err := ReadTempo(open(t, f))
		if err == nil {
			_, err = EvaluateTempo(ref, w, [2]float64{60, 120}, TempoTolerance)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: accepted (error %v)", filepath.Base(f), err)
		}
	}
}

func TestMirEvalSegment(t *testing.T) {
	dir, ids := vectors(t, "segment")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			refIv, refLab, err := ReadLabeledIntervals(open(t, filepath.Join(dir, "ref"+id+".lab")))
			if err != nil {
				t.Fatal(err)
			}
			estIv, estLab, err := ReadLabeledIntervals(open(t, filepath.Join(dir, "est"+id+".lab")))
			if err != nil {
				t.Fatal(err)
			}
			s, err := EvaluateSegments(refIv, refLab, estIv, estLab)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, readJSON(t, filepath.Join(dir, "output"+id+".json")), map[string]float64{
				"Precision@0.5":                 s.Precision05,
				"Recall@0.5":                    s.Recall05,
				"F-measure@0.5":                 s.FMeasure05,
				"Precision@3.0":                 s.Precision3,
				"Recall@3.0":                    s.Recall3,
				"F-measure@3.0":                 s.FMeasure3,
				"Ref-to-est deviation":          s.RefToEstDeviation,
				"Est-to-ref deviation":          s.EstToRefDeviation,
				"Pairwise Precision":            s.PairwisePrecision,
				"Pairwise Recall":               s.PairwiseRecall,
				"Pairwise F-measure":            s.PairwiseFMeasure,
				"Rand Index":                    s.RandIndex,
				"Adjusted Rand Index":           s.AdjustedRandIndex,
				"Mutual Information":            s.MutualInformation,
				"Adjusted Mutual Information":   s.AdjustedMutualInformation,
				"Normalized Mutual Information": s.NormalizedMutualInformation,
				"NCE Over":                      s.NCEOver,
				"NCE Under":                     s.NCEUnder,
				"NCE F-measure":                 s.NCEFMeasure,
				"V Precision":                   s.VPrecision,
				"V Recall":                      s.VRecall,
				"V-measure":                     s.VMeasure,
			})
		})
	}
}
