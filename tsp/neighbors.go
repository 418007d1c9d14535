package tsp

import (
	"context"
	"math"
)

// neighbors returns the k nearest other points of each of the n points,
// nearest first, as a flat slice: the neighbours of i are nb[i*k : i*k+k].
// Planar distances use a grid; others compare every pair, in O(n²) time but
// O(nk) memory.
func neighbors(ctx context.Context, n, k int, d Distance) ([]int32, error) {
	if k > n-1 {
		k = n - 1
	}
	nb := make([]int32, n*k)
	if k == 0 {
		return nb, nil
	}
	if p, ok := d.(Planar); ok {
		gridNeighbors(n, k, p, nb)
		return nb, nil
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
func gridNeighbors(n, k int, p Planar, nb []int32) {
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
}
