package tsp

import (
	"context"
	"slices"
)

// greedy builds a tour by the greedy edge heuristic over the candidate
// edges of the neighbour lists: shortest edges first, skipping any that
// would give a point three edges or close a cycle early. The resulting
// fragments are then chained, each to the nearest free end of another.
// On Euclidean instances greedy tours are typically 15-20% above optimal,
// better than nearest neighbour's 25%, and a better start for 2-opt.
func greedy(ctx context.Context, n int, d Distance, nb []int32, k int) ([]int32, error) {
	type edge struct {
		a, b int32
		w    float64
	}
	edges := make([]edge, 0, n*k)
	for i := 0; i < n; i++ {
		for _, j := range nb[i*k : i*k+k] {
			a, b := int32(i), j
			if a > b {
				a, b = b, a
			}
			edges = append(edges, edge{a, b, d.Dist(int(a), int(b))})
		}
	}
	slices.SortFunc(edges, func(x, y edge) int {
		switch {
		case x.w < y.w:
			return -1
		case x.w > y.w:
			return 1
		case x.a != y.a:
			return int(x.a - y.a)
		}
		return int(x.b - y.b)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	deg := make([]uint8, n)
	adj := make([]int32, 2*n)
	for i := range adj {
		adj[i] = -1
	}
	link := func(a, b int32) {
		adj[2*a+int32(deg[a])] = b
		adj[2*b+int32(deg[b])] = a
		deg[a]++
		deg[b]++
	}
	for m, e := range edges {
		if m > 0 && e.a == edges[m-1].a && e.b == edges[m-1].b {
			continue
		}
		if deg[e.a] == 2 || deg[e.b] == 2 {
			continue
		}
		ra, rb := find(e.a), find(e.b)
		if ra == rb {
			continue
		}
		parent[ra] = rb
		link(e.a, e.b)
	}

	// Free ends: points with fewer than two edges. ends[] lists them and
	// at[] locates each in ends for O(1) removal.
	var ends []int32
	at := make([]int32, n)
	for i := 0; i < n; i++ {
		at[i] = -1
		if deg[i] < 2 {
			at[i] = int32(len(ends))
			ends = append(ends, int32(i))
		}
	}
	remove := func(c int32) {
		p := at[c]
		if p < 0 {
			return
		}
		last := ends[len(ends)-1]
		ends[p] = last
		at[last] = p
		ends = ends[:len(ends)-1]
		at[c] = -1
	}

	tour := make([]int32, 0, n)
	cur := ends[0]
	for {
		// Walk the fragment from its end cur to its other end.
		remove(cur)
		prev := int32(-1)
		x := cur
		for {
			tour = append(tour, x)
			next := adj[2*x]
			if next == prev || next < 0 {
				next = adj[2*x+1]
				if next == prev {
					next = -1
				}
			}
			if next < 0 {
				break
			}
			prev, x = x, next
		}
		remove(x)
		if len(ends) == 0 {
			break
		}
		if len(tour)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		// The nearest free end: from the neighbour list when it has one,
		// else by scanning every free end.
		best := int32(-1)
		for _, c := range nb[int(x)*k : int(x)*k+k] {
			if at[c] >= 0 {
				best = c
				break
			}
		}
		if best < 0 {
			bw := 0.0
			for _, c := range ends {
				if w := d.Dist(int(x), int(c)); best < 0 || w < bw || (w == bw && c < best) {
					best, bw = c, w
				}
			}
		}
		cur = best
	}
	return tour, nil
}
