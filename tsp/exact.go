package tsp

import (
	"fmt"
	"math"
)

// MaxExact is the largest problem Exact and ExactPath accept; Held-Karp
// needs n²·2ⁿ steps and n·2ⁿ memory.
const MaxExact = 16

// Exact returns an optimal closed tour of the n points, starting at 0, by
// Held-Karp dynamic programming. It is meant for checking heuristics on
// small cases; n must be at most MaxExact.
func Exact(n int, d Distance) ([]int, float64, error) {
	return heldKarp(n, d, 0, true)
}

// ExactPath returns an optimal open path through the n points that starts
// at start and may end anywhere. n must be at most MaxExact.
func ExactPath(n int, d Distance, start int) ([]int, float64, error) {
	return heldKarp(n, d, start, false)
}

func heldKarp(n int, d Distance, start int, closed bool) ([]int, float64, error) {
	if n < 0 || n > MaxExact {
		return nil, 0, fmt.Errorf("tsp: exact solver needs 0 <= n <= %d, got %d", MaxExact, n)
	}
	if n == 0 {
		return []int{}, 0, nil
	}
	if start < 0 || start >= n {
		return nil, 0, fmt.Errorf("tsp: start %d out of range [0, %d)", start, n)
	}
	if n == 1 {
		return []int{start}, 0, nil
	}
	// Points other than start are numbered 0..m-1 in the subsets.
	m := n - 1
	other := make([]int, 0, m)
	for i := 0; i < n; i++ {
		if i != start {
			other = append(other, i)
		}
	}
	full := 1<<m - 1
	// cost[mask*m+j]: shortest path from start through the set mask,
	// ending at other[j] (which is in mask).
	cost := make([]float64, (full+1)*m)
	for i := range cost {
		cost[i] = math.Inf(1)
	}
	for j := 0; j < m; j++ {
		w := d.Dist(start, other[j])
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, 0, fmt.Errorf("tsp: distance between %d and %d is %v", start, other[j], w)
		}
		cost[(1<<j)*m+j] = w
	}
	// Distances among the others, once.
	dm := make([]float64, m*m)
	for a := 0; a < m; a++ {
		for b := 0; b < m; b++ {
			if a != b {
				w := d.Dist(other[a], other[b])
				if math.IsNaN(w) || math.IsInf(w, 0) {
					return nil, 0, fmt.Errorf("tsp: distance between %d and %d is %v", other[a], other[b], w)
				}
				dm[a*m+b] = w
			}
		}
	}
	for mask := 1; mask <= full; mask++ {
		for j := 0; j < m; j++ {
			c := cost[mask*m+j]
			if mask&(1<<j) == 0 || math.IsInf(c, 1) {
				continue
			}
			for k := 0; k < m; k++ {
				if mask&(1<<k) != 0 {
					continue
				}
				nm := mask | 1<<k
				if v := c + dm[j*m+k]; v < cost[nm*m+k] {
					cost[nm*m+k] = v
				}
			}
		}
	}
	best, last := math.Inf(1), -1
	for j := 0; j < m; j++ {
		v := cost[full*m+j]
		if closed {
			v += d.Dist(other[j], start)
		}
		if v < best {
			best, last = v, j
		}
	}
	// Walk back from the last point.
	path := make([]int, n)
	path[0] = start
	mask := full
	for p := n - 1; p >= 1; p-- {
		path[p] = other[last]
		prevMask := mask &^ (1 << last)
		if prevMask == 0 {
			break
		}
		want := cost[mask*m+last]
		next := -1
		for j := 0; j < m; j++ {
			if prevMask&(1<<j) == 0 {
				continue
			}
			if v := cost[prevMask*m+j] + dm[j*m+last]; next < 0 || math.Abs(v-want) < math.Abs(cost[prevMask*m+next]+dm[next*m+last]-want) {
				next = j
			}
		}
		mask, last = prevMask, next
	}
	return path, best, nil
}
