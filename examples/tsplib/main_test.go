package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foreverfm/forever/tsp/tsplib"
)

func writeInstance(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "NAME : grid%d\nTYPE : TSP\nDIMENSION : %d\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n", n, n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d %d %d\n", i+1, (i%5)*10, (i/5)*10)
	}
	b.WriteString("EOF\n")
	path := filepath.Join(dir, fmt.Sprintf("grid%d.tsp", n))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunWritesTour(t *testing.T) {
	dir := t.TempDir()
	path := writeInstance(t, dir, 30)
	out := filepath.Join(dir, "grid30.tour")
	if err := run(context.Background(), []string{"-iter", "50", "-opt", "300", "-o", out, path}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tour, err := tsplib.ReadTour(f)
	if err != nil {
		t.Fatal(err)
	}
	if tour.Dimension != 30 || len(tour.Nodes) != 30 {
		t.Errorf("tour of %d nodes (dimension %d), want 30", len(tour.Nodes), tour.Dimension)
	}
}

func TestRunTable(t *testing.T) {
	dir := t.TempDir()
	writeInstance(t, dir, 20)
	writeInstance(t, dir, 25)
	if err := os.WriteFile(filepath.Join(dir, "optima.txt"), []byte("grid20 200 EUC_2D\ngrid25 250 EUC_2D\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-table", "-iter", "20", dir}); err != nil {
		t.Fatal(err)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tsp")
	os.WriteFile(bad, []byte("DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n"), 0o644)
	err := run(context.Background(), []string{bad})
	if err == nil || !strings.Contains(err.Error(), "bad.tsp") {
		t.Errorf("bad file: got %v, want an error naming it", err)
	}
	if err := run(context.Background(), nil); err == nil {
		t.Error("no file: no error")
	}
}
