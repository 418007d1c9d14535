package tsplib

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/foreverfm/forever/internal/shared"
	"github.com/foreverfm/forever/tsp"
)

const coords5 = `NODE_COORD_SECTION
1 38.24 20.42
2 39.57 26.15
3 40.56 25.32
4 -36.26 -23.12
5 33.48 10.54
EOF
`

// TestRounding checks each metric against the values TSPLIB's reference
// rules give for the same five points (computed with the tourlen.py
// checker in ../shared/tsplib, which reproduces published optima).
func TestRounding(t *testing.T) {
	want := map[string][]float64{
		"GEO":     {509, 501, 9474, 1019, 126, 9894, 1526, 9944, 1516, 8584},
		"ATT":     {2, 2, 28, 4, 1, 29, 6, 29, 6, 25},
		"EUC_2D":  {6, 5, 86, 11, 1, 90, 17, 91, 16, 77},
		"CEIL_2D": {6, 6, 87, 11, 2, 91, 17, 91, 17, 78},
		"MAN_2D":  {7, 7, 118, 15, 2, 125, 22, 125, 22, 103},
		"MAX_2D":  {6, 5, 75, 10, 1, 76, 16, 77, 15, 70},
	}
	for typ, w := range want {
		src := "NAME : five\nTYPE : TSP\nDIMENSION : 5\nEDGE_WEIGHT_TYPE : " + typ + "\n" + coords5
		in, err := Read(strings.NewReader(src))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		d := in.Distance()
		var got []float64
		for i := 0; i < 5; i++ {
			for j := i + 1; j < 5; j++ {
				got = append(got, d.Dist(i, j))
				if d.Dist(i, j) != d.Dist(j, i) {
					t.Errorf("%s: not symmetric at %d, %d", typ, i, j)
				}
			}
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s: got %v, want %v", typ, got, w)
		}
		_, planar := d.(tsp.Planar)
		if wantPlanar := typ == "EUC_2D" || typ == "CEIL_2D" || typ == "ATT"; planar != wantPlanar {
			t.Errorf("%s: planar %v, want %v", typ, planar, wantPlanar)
		}
	}
}

func TestExplicitFormats(t *testing.T) {
	full := [][]int{
		{0, 3, 5, 9},
		{3, 0, 4, 7},
		{5, 4, 0, 2},
		{9, 7, 2, 0},
	}
	layouts := map[string]func(i, j int) bool{
		"FULL_MATRIX":    func(i, j int) bool { return true },
		"UPPER_ROW":      func(i, j int) bool { return j > i },
		"LOWER_ROW":      func(i, j int) bool { return j < i },
		"UPPER_DIAG_ROW": func(i, j int) bool { return j >= i },
		"LOWER_DIAG_ROW": func(i, j int) bool { return j <= i },
	}
	for format, keep := range layouts {
		var b strings.Builder
		fmt.Fprintf(&b, "NAME: four\nTYPE: TSP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: %s\nEDGE_WEIGHT_SECTION\n", format)
		k := 0
		for i := range full {
			for j := range full[i] {
				if keep(i, j) {
					// Numbers wrap across lines arbitrarily, as in real files.
					fmt.Fprintf(&b, "%d", full[i][j])
					k++
					if k%3 == 0 {
						b.WriteString("\n")
					} else {
						b.WriteString(" ")
					}
				}
			}
		}
		b.WriteString("\nDISPLAY_DATA_SECTION\n1 0 0\n2 1 0\n3 1 1\n4 0 1\nEOF\n")
		in, err := Read(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		d := in.Distance()
		for i := range full {
			for j := range full[i] {
				if got := d.Dist(i, j); got != float64(full[i][j]) {
					t.Errorf("%s: d(%d, %d) = %v, want %d", format, i, j, got, full[i][j])
				}
			}
		}
	}
}

func TestReadErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no dimension":    "TYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n",
		"coords first":    "EDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\nDIMENSION: 1\n",
		"missing node":    "DIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n",
		"duplicate node":  "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n1 1 1\nEOF\n",
		"node range":      "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n3 1 1\nEOF\n",
		"bad coordinate":  "DIMENSION: 1\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 x\n",
		"nan coordinate":  "DIMENSION: 1\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 NaN\n",
		"asymmetric":      "TYPE: ATSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2 0\n",
		"not symmetric":   "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2 0\n",
		"short matrix":    "DIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n1 2\n",
		"negative weight": "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n-1\n",
		"no format":       "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_SECTION\n1\n",
		"unknown type":    "DIMENSION: 2\nEDGE_WEIGHT_TYPE: XRAY1\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n",
		"huge dimension":  "DIMENSION: 99999999999\n",
		"junk":            "hello world\n",
		"empty":           "",
	} {
		_, err := Read(strings.NewReader(src))
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v does not wrap ErrFormat", name, err)
		}
	}
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.tsp"))
	if err == nil || !strings.Contains(err.Error(), "missing.tsp") {
		t.Errorf("missing file: %v", err)
	}
}

func TestTourRoundTrip(t *testing.T) {
	want := &Tour{Name: "x.tour", Comment: "two\nlines", Dimension: 5, Nodes: []int{4, 0, 3, 1, 2}}
	var b bytes.Buffer
	if err := WriteTour(&b, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTour(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.Dimension != 5 || !slices.Equal(got.Nodes, want.Nodes) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Layouts other tools write: ids several per line, no -1, no header.
	got, err = ReadTour(strings.NewReader("TOUR_SECTION\n3 1 2\n4\nEOF\n"))
	if err != nil || !slices.Equal(got.Nodes, []int{2, 0, 1, 3}) || got.Dimension != 4 {
		t.Errorf("got %+v, %v", got, err)
	}
	for name, src := range map[string]string{
		"repeat":      "TOUR_SECTION\n1 2 1 -1\n",
		"short":       "DIMENSION: 3\nTOUR_SECTION\n1 2 -1\n",
		"range":       "DIMENSION: 2\nTOUR_SECTION\n1 3 -1\n",
		"gap":         "TOUR_SECTION\n1 3 -1\n",
		"no section":  "NAME: x\n",
		"not a tour":  "TYPE: TSP\nTOUR_SECTION\n1 -1\n",
		"not numbers": "TOUR_SECTION\n1 two -1\n",
	} {
		if _, err := ReadTour(strings.NewReader(src)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want an ErrFormat error", name, err)
		}
	}
}

// sharedDir returns ../shared/tsplib relative to the module root, or
// skips the test.
func sharedDir(t testing.TB) string {
	t.Helper()
	return filepath.Dir(shared.Path(t, "tsplib", "optima.txt"))
}

type known struct {
	name    string
	optimum float64
}

func readOptima(t testing.TB, dir string) []known {
	f, err := os.Open(filepath.Join(dir, "optima.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []known
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		v, err := strconv.ParseFloat(fs[1], 64)
		if err != nil {
			t.Fatalf("optima.txt: %v", err)
		}
		out = append(out, known{fs[0], v})
	}
	return out
}

// TestSharedInstances solves every instance of ../shared/tsplib with a
// small, fixed number of kicks (so the result does not depend on the
// machine's speed) and checks the tours. The full-budget figures come
// from BenchmarkSolve and scripts/tsp-bench.
func TestSharedInstances(t *testing.T) {
	dir := sharedDir(t)
	for _, k := range readOptima(t, dir) {
		t.Run(k.name, func(t *testing.T) {
			in, err := ReadFile(filepath.Join(dir, k.name+".tsp"))
			if err != nil {
				t.Fatal(err)
			}
			if in.Name != k.name {
				t.Errorf("NAME %q, want %q", in.Name, k.name)
			}
			iters := 3000
			if testing.Short() {
				iters = 300
			}
			res, err := tsp.Solve(context.Background(), in.Dimension, in.Distance(), tsp.Options{MaxIterations: iters, Stall: -1, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			seen := make([]bool, in.Dimension)
			for _, c := range res.Tour {
				if seen[c] {
					t.Fatalf("node %d visited twice", c+1)
				}
				seen[c] = true
			}
			if len(res.Tour) != in.Dimension {
				t.Fatalf("tour has %d nodes, want %d", len(res.Tour), in.Dimension)
			}
			gap := res.Length/k.optimum - 1
			t.Logf("%s: length %.0f, optimum %.0f, gap %.2f%% after %d kicks", k.name, res.Length, k.optimum, 100*gap, iters)
			if gap < 0 {
				t.Errorf("length %.0f beats the optimum %.0f: the metric is wrong", res.Length, k.optimum)
			}
			// Local search alone is within about 5%; the kicks help most
			// on the small instances.
			limit := 0.05
			if in.Dimension <= 200 && !testing.Short() {
				limit = 0.01
			}
			if gap > limit {
				t.Errorf("gap %.2f%% above %.0f%%", 100*gap, 100*limit)
			}
		})
	}
}

// TestTourFileChecker writes a tour and has TSPLIB's reference checker
// (tourlen.py, in ../shared/tsplib) measure it.
func TestTourFileChecker(t *testing.T) {
	dir := sharedDir(t)
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("python3 not available")
	}
	for _, name := range []string{"kroA100", "att532"} {
		path := filepath.Join(dir, name+".tsp")
		in, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tsp.Solve(context.Background(), in.Dimension, in.Distance(), tsp.Options{MaxIterations: 200})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), name+".tour")
		if err := WriteTourFile(out, &Tour{Name: name + ".tour", Nodes: res.Tour}); err != nil {
			t.Fatal(err)
		}
		b, err := exec.Command(python, filepath.Join(dir, "tourlen.py"), path, out).Output()
		if err != nil {
			t.Fatalf("tourlen.py: %v", err)
		}
		if got := strings.TrimSpace(string(b)); got != strconv.FormatFloat(res.Length, 'f', 0, 64) {
			t.Errorf("%s: tourlen.py says %s, solver %.0f", name, got, res.Length)
		}
	}
}
