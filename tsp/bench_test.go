package tsp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkKick measures one iteration of the iterated local search (a
// segment-local double bridge and the re-optimisation around it) on random
// uniform instances; its cost should not grow with n.
func BenchmarkKick(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			pts := randomPoints(rand.New(rand.NewPCG(1, uint64(n))), n)
			res, err := Solve(context.Background(), n, pts, Options{MaxIterations: -1})
			if err != nil {
				b.Fatal(err)
			}
			nb, _ := neighbors(context.Background(), n, 10, pts)
			tour := make([]int32, n)
			for i, c := range res.Tour {
				tour[i] = int32(c)
			}
			s := newSearch(pts, tour, nb, 10)
			rng := rand.New(rand.NewPCG(2, 2))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.logging = true
				s.log = s.log[:0]
				if s.kick(rng, 50)-s.run(nil) > 0 {
					s.undo()
				}
			}
		})
	}
}

// BenchmarkConstruct measures neighbour lists, greedy construction and the
// first local search, without kicks.
func BenchmarkConstruct(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			pts := randomPoints(rand.New(rand.NewPCG(1, uint64(n))), n)
			for i := 0; i < b.N; i++ {
				if _, err := Solve(context.Background(), n, pts, Options{MaxIterations: -1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
