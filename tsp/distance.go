package tsp

import (
	"fmt"
	"math"
)

// Distance gives the cost of travelling between two of the n points of a
// problem, numbered from 0. It must be symmetric, non-negative and finite;
// it need not obey the triangle inequality. Dist is called many times, so
// it should be cheap: problems with many points should compute it from
// per-point data (coordinates, feature vectors) rather than store n×n values.
type Distance interface {
	Dist(i, j int) float64
}

// DistanceFunc adapts a function to the Distance interface.
type DistanceFunc func(i, j int) float64

// Dist returns f(i, j).
func (f DistanceFunc) Dist(i, j int) float64 { return f(i, j) }

// Planar is a Distance between points of the plane that grows with the
// Euclidean distance between their coordinates (Euclidean itself, or a
// rounded or scaled version of it). The solver uses the coordinates only to
// find each point's nearest neighbours with a grid, in O(n) memory and about
// O(n log n) time, instead of comparing every pair.
type Planar interface {
	Distance
	Coord(i int) (x, y float64)
}

// Point is a point of the plane.
type Point struct{ X, Y float64 }

// Euclidean is the straight-line distance between points of the plane.
type Euclidean []Point

// Dist returns the Euclidean distance between p[i] and p[j].
func (p Euclidean) Dist(i, j int) float64 {
	dx, dy := p[i].X-p[j].X, p[i].Y-p[j].Y
	return math.Sqrt(dx*dx + dy*dy)
}

// Coord returns the coordinates of p[i].
func (p Euclidean) Coord(i int) (x, y float64) { return p[i].X, p[i].Y }

// Matrix is a dense symmetric distance matrix. It needs n² values, so it
// suits problems of up to a few thousand points whose distances are costly
// to compute or given explicitly.
type Matrix struct {
	n int
	d []float64
}

// NewMatrix returns an n×n matrix of zeros.
func NewMatrix(n int) *Matrix {
	if n < 0 {
		panic(fmt.Sprintf("tsp: negative matrix size %d", n))
	}
	return &Matrix{n: n, d: make([]float64, n*n)}
}

// Len returns the number of points.
func (m *Matrix) Len() int { return m.n }

// Set sets the distance between i and j, in both directions.
func (m *Matrix) Set(i, j int, v float64) {
	m.d[i*m.n+j] = v
	m.d[j*m.n+i] = v
}

// Dist returns the distance between i and j.
func (m *Matrix) Dist(i, j int) float64 { return m.d[i*m.n+j] }

// TourLength returns the length of the closed tour visiting tour in order
// and returning to its first point.
func TourLength(tour []int, d Distance) float64 {
	if len(tour) < 2 {
		return 0
	}
	sum := d.Dist(tour[len(tour)-1], tour[0])
	return sum + PathLength(tour, d)
}

// PathLength returns the length of the open path visiting path in order.
func PathLength(path []int, d Distance) float64 {
	var sum float64
	for i := 1; i < len(path); i++ {
		sum += d.Dist(path[i-1], path[i])
	}
	return sum
}

// pathDistance adds a dummy point n, at distance 0 from every point, so that
// a closed tour through it is an open path with free ends; the solver keeps
// the edge between the dummy and the start fixed to pin one end.
type pathDistance struct {
	d Distance
	n int
}

func (p pathDistance) Dist(i, j int) float64 {
	if i == p.n || j == p.n {
		return 0
	}
	return p.d.Dist(i, j)
}
