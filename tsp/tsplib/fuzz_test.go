package tsplib

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/foreverfm/forever/tsp"
)

// FuzzRead checks that Read never panics or hangs on arbitrary input, and
// that whatever it accepts is a usable problem: finite symmetric
// distances and, for small ones, a valid tour from the solver.
func FuzzRead(f *testing.F) {
	f.Add([]byte("NAME : five\nTYPE : TSP\nDIMENSION : 5\nEDGE_WEIGHT_TYPE : EUC_2D\n" + coords5))
	f.Add([]byte("DIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n1 2\n3\nEOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := in.Dimension
		d := in.Distance()
		if n < 1 || d == nil {
			t.Fatalf("accepted dimension %d, distance %v", n, d)
		}
		for i := 0; i < min(n, 20); i++ {
			for j := 0; j < min(n, 20); j++ {
				v := d.Dist(i, j)
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v != d.Dist(j, i) {
					t.Fatalf("d(%d, %d) = %v, d(%d, %d) = %v", i, j, v, j, i, d.Dist(j, i))
				}
			}
		}
		if n > 200 {
			return
		}
		res, err := tsp.Solve(context.Background(), n, d, tsp.Options{MaxIterations: 50})
		if err != nil {
			t.Fatalf("solve: %v", err)
		}
		seen := make([]bool, n)
		for _, c := range res.Tour {
			if seen[c] {
				t.Fatalf("tour visits %d twice", c)
			}
			seen[c] = true
		}
		if len(res.Tour) != n {
			t.Fatalf("tour of %d nodes, want %d", len(res.Tour), n)
		}
	})
}

// FuzzReadTour checks that ReadTour never panics and that what it accepts
// survives a write and read back unchanged.
func FuzzReadTour(f *testing.F) {
	f.Add([]byte("NAME : x.tour\nTYPE : TOUR\nDIMENSION : 4\nTOUR_SECTION\n1\n3\n2\n4\n-1\nEOF\n"))
	f.Add([]byte("TOUR_SECTION 2 1 3 -1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tour, err := ReadTour(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteTour(&b, tour); err != nil {
			t.Fatal(err)
		}
		again, err := ReadTour(&b)
		if err != nil {
			t.Fatalf("cannot read back %q: %v", b.String(), err)
		}
		if len(again.Nodes) != len(tour.Nodes) || again.Dimension != tour.Dimension {
			t.Fatalf("round trip changed the tour: %+v vs %+v", again, tour)
		}
		for i := range tour.Nodes {
			if again.Nodes[i] != tour.Nodes[i] {
				t.Fatalf("round trip changed node %d", i)
			}
		}
	})
}
