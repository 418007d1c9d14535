package tsp

import (
	"context"
	"math"
	"math/rand/v2"
)

// exactNeighborsMax is the largest n for which neighbors compares every
// pair of a non-planar distance; larger problems use NN-descent. For a
// cheap distance comparing every pair is faster up to about 20,000 points;
// for a costly one (a track metric) NN-descent wins from a few thousand.
const exactNeighborsMax = 5000

// neighbors returns the k nearest other points of each of the n points,
// nearest first, as a flat slice: the neighbours of i are nb[i*k : i*k+k].
// Planar distances use a grid. Others compare every pair, in O(n²) time
// but O(nk) memory, up to exactNeighborsMax points, and beyond that use
// NN-descent, which finds nearly all of the true neighbours with about
// 20·n·k² distance evaluations.
func neighbors(ctx context.Context, n, k int, d Distance) ([]int32, error) {
	if k > n-1 {
		k = n - 1
	}
	nb := make([]int32, n*k)
	if k == 0 {
		return nb, nil
	}
	if p, ok := d.(Planar); ok {
		if err := gridNeighbors(ctx, n, k, p, nb); err != nil {
			return nil, err
		}
		return nb, nil
	}
	if n > exactNeighborsMax {
		return descentNeighbors(ctx, n, k, d, nb)
	}
	bd := make([]float64, k)
	bi := make([]int32, k)
	for i := 0; i < n; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		m := 0
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			m = insertNearest(bd, bi, m, d.Dist(i, j), int32(j))
		}
		copy(nb[i*k:], bi[:m])
	}
	return nb, nil
}

// insertNearest keeps the m best (smallest) candidates in bd/bi, sorted,
// and returns the new count.
func insertNearest(bd []float64, bi []int32, m int, v float64, j int32) int {
	k := len(bd)
	if m == k && !(v < bd[k-1]) {
		return m
	}
	if m < k {
		m++
	}
	p := m - 1
	for p > 0 && v < bd[p-1] {
		bd[p], bi[p] = bd[p-1], bi[p-1]
		p--
	}
	bd[p], bi[p] = v, j
	return m
}

// gridNeighbors buckets the points into a grid of about two points per cell
// and searches rings of cells around each point until no closer point can
// remain. Candidates are found by Euclidean distance on the coordinates
// and then ordered by the problem's own distance.
func gridNeighbors(ctx context.Context, n, k int, p Planar, nb []int32) error {
	xs := make([]float64, n)
	ys := make([]float64, n)
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for i := 0; i < n; i++ {
		x, y := p.Coord(i)
		xs[i], ys[i] = x, y
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	w, h := maxX-minX, maxY-minY
	cells := float64(n) / 2
	side := math.Sqrt(w * h / cells)
	if !(side > 0) || math.IsInf(side, 0) {
		side = math.Max(w, h) / cells
	}
	if !(side > 0) || math.IsInf(side, 0) || math.IsNaN(side) {
		side = 1
	}
	gw := int(math.Min(w/side, cells)) + 1
	gh := int(math.Min(h/side, cells)) + 1
	cellOf := func(x, y float64) (int, int) {
		cx := int((x - minX) / side)
		cy := int((y - minY) / side)
		return min(max(cx, 0), gw-1), min(max(cy, 0), gh-1)
	}
	// Counting sort of the points by cell.
	start := make([]int32, gw*gh+1)
	for i := 0; i < n; i++ {
		cx, cy := cellOf(xs[i], ys[i])
		start[cy*gw+cx+1]++
	}
	for c := 1; c < len(start); c++ {
		start[c] += start[c-1]
	}
	fill := make([]int32, gw*gh)
	copy(fill, start[:gw*gh])
	order := make([]int32, n)
	for i := 0; i < n; i++ {
		cx, cy := cellOf(xs[i], ys[i])
		c := cy*gw + cx
		order[fill[c]] = int32(i)
		fill[c]++
	}

	bd := make([]float64, k)
	bi := make([]int32, k)
	for i := 0; i < n; i++ {
		if i%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		x, y := xs[i], ys[i]
		cx, cy := cellOf(x, y)
		m := 0
		for r := 0; ; r++ {
			// Every point in ring r is at least (r-1)*side away along one
			// axis, so once the k-th best is closer than that we are done.
			if m == k && float64(r-1)*side >= math.Sqrt(bd[k-1]) {
				break
			}
			if cx-r < 0 && cy-r < 0 && cx+r >= gw && cy+r >= gh {
				break
			}
			for gy := cy - r; gy <= cy+r; gy++ {
				if gy < 0 || gy >= gh {
					continue
				}
				step := 1
				if gy != cy-r && gy != cy+r {
					step = 2 * r
				}
				for gx := cx - r; gx <= cx+r; gx += max(step, 1) {
					if gx < 0 || gx >= gw {
						continue
					}
					c := gy*gw + gx
					for _, j := range order[start[c]:start[c+1]] {
						if int(j) == i {
							continue
						}
						dx, dy := xs[j]-x, ys[j]-y
						m = insertNearest(bd, bi, m, dx*dx+dy*dy, j)
					}
				}
			}
		}
		row := nb[i*k : i*k+k]
		copy(row, bi[:m])
		// Order by the problem's distance, which may round Euclidean
		// distances; ties keep the Euclidean order.
		for a := range row {
			bd[a] = p.Dist(i, int(row[a]))
		}
		for a := 1; a < len(row); a++ {
			for b := a; b > 0 && bd[b] < bd[b-1]; b-- {
				bd[b], bd[b-1] = bd[b-1], bd[b]
				row[b], row[b-1] = row[b-1], row[b]
			}
		}
	}
	return nil
}

// descentNeighbors fills nb by NN-descent (Dong, Moses and Li, 2011): start
// from random lists and repeatedly offer each point the neighbours of its
// neighbours, since a neighbour of a neighbour is likely a neighbour,
// until the lists barely change.
func descentNeighbors(ctx context.Context, n, k int, d Distance, nb []int32) ([]int32, error) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(k)))
	nd := make([]float64, n*k)
	count := make([]int, n)
	// insert offers j to i's list and reports whether it went in.
	insert := func(i, j int32, w float64) bool {
		if i == j {
			return false
		}
		row, drow := nb[int(i)*k:int(i)*k+k], nd[int(i)*k:int(i)*k+k]
		m := count[i]
		if m == k && !(w < drow[k-1]) {
			return false
		}
		for _, x := range row[:m] {
			if x == j {
				return false
			}
		}
		count[i] = insertNearest(drow, row, m, w, j)
		return true
	}
	for i := 0; i < n; i++ {
		for count[i] < k {
			j := int32(rng.IntN(n))
			insert(int32(i), j, d.Dist(i, int(j)))
		}
	}
	cand := make([]int32, 0, 2*k)
	for iter := 0; iter < 40; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		updates := 0
		for i := 0; i < n; i++ {
			// Neighbours of neighbours, taken once each per round.
			cand = cand[:0]
			for _, j := range nb[i*k : i*k+k] {
				cand = append(cand, nb[int(j)*k:int(j)*k+k]...)
			}
			for _, l := range cand {
				if int(l) == i {
					continue
				}
				w := d.Dist(i, int(l))
				if insert(int32(i), l, w) {
					updates++
				}
				if insert(l, int32(i), w) {
					updates++
				}
			}
		}
		if updates <= n*k/5000 {
			break
		}
	}
	return nb, nil
}
