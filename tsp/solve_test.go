package tsp

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func randomPoints(rng *rand.Rand, n int) Euclidean {
	p := make(Euclidean, n)
	for i := range p {
		p[i] = Point{rng.Float64() * 1000, rng.Float64() * 1000}
	}
	return p
}

func checkPermutation(t *testing.T, tour []int, n int) {
	t.Helper()
	if len(tour) != n {
		t.Fatalf("tour has %d points, want %d", len(tour), n)
	}
	seen := make([]bool, n)
	for _, c := range tour {
		if c < 0 || c >= n || seen[c] {
			t.Fatalf("tour is not a permutation: %v", tour)
		}
		seen[c] = true
	}
}

// asGeneric hides the Planar methods so that the generic neighbour search
// is used.
type asGeneric struct{ d Distance }

func (g asGeneric) Dist(i, j int) float64 { return g.d.Dist(i, j) }

func TestSolveMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	var worst float64
	misses := 0
	cases := 0
	for n := 3; n <= 16; n++ {
		for rep := 0; rep < 6; rep++ {
			pts := randomPoints(rng, n)
			var d Distance = pts
			if rep%2 == 1 {
				d = asGeneric{pts}
			}
			for _, path := range []bool{false, true} {
				var got Result
				var want float64
				var err error
				if path {
					start := rng.IntN(n)
					got, err = SolvePath(ctx, n, d, start, Options{MaxIterations: 2000, Seed: uint64(rep)})
					if err != nil {
						t.Fatal(err)
					}
					if got.Tour[0] != start {
						t.Fatalf("n=%d: path starts at %d, want %d", n, got.Tour[0], start)
					}
					_, want, err = ExactPath(n, d, start)
				} else {
					got, err = Solve(ctx, n, d, Options{MaxIterations: 2000, Seed: uint64(rep)})
					if err != nil {
						t.Fatal(err)
					}
					_, want, err = Exact(n, d)
				}
				if err != nil {
					t.Fatal(err)
				}
				checkPermutation(t, got.Tour, n)
				length := TourLength(got.Tour, d)
				if path {
					length = PathLength(got.Tour, d)
				}
				if math.Abs(length-got.Length) > 1e-6 {
					t.Fatalf("n=%d path=%v: reported length %v, actual %v", n, path, got.Length, length)
				}
				if got.Length < want-1e-6 {
					t.Fatalf("n=%d path=%v: length %v beats the exact optimum %v", n, path, got.Length, want)
				}
				gap := got.Length/want - 1
				worst = max(worst, gap)
				if gap > 1e-9 {
					misses++
				}
				cases++
			}
		}
	}
	t.Logf("%d cases, %d not optimal, worst gap %.3f%%", cases, misses, 100*worst)
	if worst > 0.02 || misses > cases/20 {
		t.Errorf("%d of %d not optimal, worst gap %.3f%%", misses, cases, 100*worst)
	}
}

func TestExactBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 7; n++ {
		m := NewMatrix(n)
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				m.Set(i, j, float64(rng.IntN(100)))
			}
		}
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		bestTour, bestPath := math.Inf(1), math.Inf(1)
		var permute func(k int)
		permute = func(k int) {
			if k == n {
				if perm[0] == 0 {
					bestTour = min(bestTour, TourLength(perm, m))
				}
				if n == 1 || perm[0] == n-1 {
					bestPath = min(bestPath, PathLength(perm, m))
				}
				return
			}
			for i := k; i < n; i++ {
				perm[k], perm[i] = perm[i], perm[k]
				permute(k + 1)
				perm[k], perm[i] = perm[i], perm[k]
			}
		}
		permute(0)
		tour, l, err := Exact(n, m)
		if err != nil {
			t.Fatal(err)
		}
		if l != bestTour || TourLength(tour, m) != l {
			t.Errorf("n=%d: Exact gives %v (tour %v of length %v), brute force %v", n, l, tour, TourLength(tour, m), bestTour)
		}
		path, l, err := ExactPath(n, m, n-1)
		if err != nil {
			t.Fatal(err)
		}
		if l != bestPath || PathLength(path, m) != l || path[0] != n-1 {
			t.Errorf("n=%d: ExactPath gives %v (path %v), brute force %v", n, l, path, bestPath)
		}
	}
}

// TestMovesKeepLength checks the bookkeeping of every move: after kicks
// and local search the tour length changes by exactly the reported gains,
// positions stay the inverse of the tour, and undo restores the tour.
func TestMovesKeepLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ctx := context.Background()
	for _, n := range []int{14, 30, 101} {
		for _, path := range []bool{false, true} {
			pts := randomPoints(rng, n)
			var d Distance = pts
			k := 8
			nb, err := neighbors(ctx, n, k, d)
			if err != nil {
				t.Fatal(err)
			}
			tour := make([]int32, n)
			for i, c := range rng.Perm(n) {
				tour[i] = int32(c)
			}
			if path {
				d = pathDistance{d: pts, n: n}
				nb = append(nb, nb[:k]...)
				tour = append(tour, int32(n))
			}
			s := newSearch(d, tour, nb, k)
			if path {
				s.fixA, s.fixB = int32(n), tour[0]
			}
			length := func() float64 {
				var sum float64
				for p := range s.tour {
					sum += s.dist(s.tour[p], s.tour[(p+1)%len(s.tour)])
				}
				return sum
			}
			check := func() {
				for p, c := range s.tour {
					if s.pos[c] != int32(p) {
						t.Fatalf("pos[%d] = %d, want %d", c, s.pos[c], p)
					}
				}
				if path && s.succ(s.fixA) != s.fixB && s.pred(s.fixA) != s.fixB {
					t.Fatalf("fixed edge removed")
				}
			}
			for _, c := range s.tour {
				s.push(c)
			}
			before := length()
			gain := s.run(nil)
			check()
			if got := length(); math.Abs(before-gain-got) > 1e-6 {
				t.Fatalf("n=%d: length %v after gain %v from %v", n, got, gain, before)
			}
			for it := 0; it < 300; it++ {
				saved := slices.Clone(s.tour)
				before := length()
				s.logging = true
				s.log = s.log[:0]
				delta := s.kick(rng, 10)
				delta -= s.run(nil)
				check()
				if got := length(); math.Abs(before+delta-got) > 1e-6 {
					t.Fatalf("n=%d it=%d: length %v, want %v", n, it, got, before+delta)
				}
				if it%2 == 0 {
					s.undo()
					check()
					if !slices.Equal(saved, s.tour) {
						t.Fatalf("undo did not restore the tour")
					}
				}
			}
		}
	}
}

func TestSolveDeterministic(t *testing.T) {
	pts := randomPoints(rand.New(rand.NewPCG(7, 8)), 300)
	o := Options{MaxIterations: 3000, Seed: 42}
	a, err := Solve(context.Background(), len(pts), pts, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Solve(context.Background(), len(pts), pts, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Tour, b.Tour) || a.Length != b.Length {
		t.Errorf("same seed, different tours: %v vs %v", a.Length, b.Length)
	}
}

// TestDescentNeighbors checks that NN-descent, used for large problems
// without coordinates, finds most true nearest neighbours.
func TestDescentNeighbors(t *testing.T) {
	n, k := 3000, 10
	pts := randomPoints(rand.New(rand.NewPCG(9, 9)), n)
	ctx := context.Background()
	exact, err := neighbors(ctx, n, k, pts) // grid: exact
	if err != nil {
		t.Fatal(err)
	}
	approx, err := descentNeighbors(ctx, n, k, pts, make([]int32, n*k))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i := 0; i < n; i++ {
		for _, j := range exact[i*k : i*k+k] {
			if slices.Contains(approx[i*k:i*k+k], j) {
				found++
			}
		}
		row := approx[i*k : i*k+k]
		for a := 1; a < k; a++ {
			if pts.Dist(i, int(row[a])) < pts.Dist(i, int(row[a-1])) || int(row[a]) == i {
				t.Fatalf("row %d not sorted or lists itself: %v", i, row)
			}
		}
	}
	recall := float64(found) / float64(n*k)
	t.Logf("NN-descent recall %.3f", recall)
	if recall < 0.9 {
		t.Errorf("recall %.3f, want >= 0.9", recall)
	}
}

// TestSolveDeadline stops solves at every stage: the result is either the
// context's error (no tour yet) or a valid tour.
func TestSolveDeadline(t *testing.T) {
	pts := randomPoints(rand.New(rand.NewPCG(10, 10)), 20000)
	for _, limit := range []time.Duration{0, time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		res, err := Solve(ctx, len(pts), pts, Options{})
		cancel()
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("limit %v: %v", limit, err)
			}
			continue
		}
		checkPermutation(t, res.Tour, len(pts))
	}
}
