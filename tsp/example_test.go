package tsp_test

import (
	"context"
	"fmt"
	"math"

	"github.com/foreverfm/forever/tsp"
)

// Twenty points on a circle, listed out of order: the shortest tour walks
// round the circle.
func ExampleSolve() {
	pts := make(tsp.Euclidean, 20)
	for i := range pts {
		a := 2 * math.Pi * float64(i*7%20) / 20
		pts[i] = tsp.Point{X: math.Cos(a), Y: math.Sin(a)}
	}
	res, err := tsp.Solve(context.Background(), len(pts), pts, tsp.Options{MaxIterations: 100})
	if err != nil {
		panic(err)
	}
	fmt.Printf("length %.4f (circumference %.4f)\n", res.Length, 2*math.Pi)
	fmt.Println(res.Tour)
	// Output:
	// length 6.2574 (circumference 6.2832)
	// [0 3 6 9 12 15 18 1 4 7 10 13 16 19 2 5 8 11 14 17]
}

// An open path from a fixed start, over any distance given as a function:
// here points on a line, starting at 0.
func ExampleSolvePath() {
	xs := []float64{5, 1, 9, 3, 7, 0, 4, 8, 2, 6, 10, 11, 12, 13}
	d := tsp.DistanceFunc(func(i, j int) float64 { return math.Abs(xs[i] - xs[j]) })
	res, err := tsp.SolvePath(context.Background(), len(xs), d, 5, tsp.Options{MaxIterations: 100})
	if err != nil {
		panic(err)
	}
	for _, c := range res.Tour {
		fmt.Print(xs[c], " ")
	}
	fmt.Println("length", res.Length)
	// Output:
	// 0 1 2 3 4 5 6 7 8 9 10 11 12 13 length 13
}
