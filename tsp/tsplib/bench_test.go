package tsplib

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/foreverfm/forever/tsp"
)

// BenchmarkSolve solves every instance of ../shared/tsplib in quick mode
// (50 ms) and with the full budget (1 s up to 1,100 points, 10 s beyond),
// and reports the gap to the optimum beside the nearest-neighbour tour's.
// Run it with -benchtime=1x: each op is one solve with a fixed budget.
//
//	go test ./tsp/tsplib -run '^$' -bench Solve -benchtime 1x
func BenchmarkSolve(b *testing.B) {
	dir := sharedDir(b)
	for _, k := range readOptima(b, dir) {
		in, err := ReadFile(filepath.Join(dir, k.name+".tsp"))
		if err != nil {
			b.Fatal(err)
		}
		d := in.Distance()
		nn := tsp.TourLength(tsp.NearestNeighbor(in.Dimension, d, 0), d)
		full := time.Second
		if in.Dimension > 1100 {
			full = 10 * time.Second
		}
		for _, limit := range []time.Duration{50 * time.Millisecond, full} {
			b.Run(fmt.Sprintf("%s/%v", k.name, limit), func(b *testing.B) {
				var gap float64
				var kicks int
				for i := 0; i < b.N; i++ {
					res, err := tsp.Solve(context.Background(), in.Dimension, d, tsp.Options{TimeLimit: limit, Stall: -1, Seed: uint64(i)})
					if err != nil {
						b.Fatal(err)
					}
					gap += 100 * (res.Length/k.optimum - 1)
					kicks += res.Iterations
				}
				b.ReportMetric(gap/float64(b.N), "gap%")
				b.ReportMetric(100*(nn/k.optimum-1), "nn-gap%")
				b.ReportMetric(float64(kicks)/float64(b.N), "kicks")
			})
		}
	}
}
