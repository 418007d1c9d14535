// Package tsp finds short tours through points for any symmetric distance:
// closed tours, or open paths from a fixed start, as when a radio orders
// the tracks to come after the one now playing.
//
// The solver builds a greedy-edge tour over candidate edges from
// k-nearest-neighbour lists, improves it with 2-opt, Or-opt (moving a
// segment of up to three points, either way round) and Lin-Kernighan-style
// moves of two flips (sequential 3-opt), using the neighbour lists and
// "don't look" bits, and then runs an iterated
// local search: each iteration applies a double-bridge kick confined to a
// short stretch of the tour, re-optimises only around it, and keeps the
// result unless it is longer. Costs per iteration do not grow with n, so
// large problems get as many kicks per second as small ones.
//
// Results are deterministic for a given seed and number of iterations; a
// time limit or a cancelled context only decides when to stop, and the
// best tour found so far is returned. Problems of up to 12 points are solved
// exactly by Held-Karp (see Exact).
//
// Sub-package tsplib reads and writes TSPLIB files, and sub-package order
// uses the solver to order music tracks.
package tsp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// DefaultTimeLimit bounds the search when Options sets no time limit and no
// iteration cap, and the context has no deadline.
const DefaultTimeLimit = time.Second

// exactMax is the size up to which Solve uses Held-Karp.
const exactMax = 12

// Options tune a solve. The zero value is ready to use.
type Options struct {
	// TimeLimit bounds the whole solve. Zero means DefaultTimeLimit when
	// MaxIterations is zero too, and no limit otherwise.
	TimeLimit time.Duration

	// MaxIterations caps the kicks of the iterated local search; with it
	// (and no time limit) a solve is deterministic and repeatable.
	// Negative means local search only, with no kicks.
	MaxIterations int

	// Stall stops the search after this many kicks in a row fail to
	// shorten the tour. Zero means 100·n + 10000; negative means never.
	Stall int

	// Seed seeds the kicks.
	Seed uint64

	// Neighbors is the length of each point's candidate list (default 10).
	// Longer lists find a few more improvements at a higher cost per move.
	Neighbors int

	// KickLength is the longest of the two segments a kick swaps
	// (default 50).
	KickLength int
}

// Result is a solved tour or path.
type Result struct {
	// Tour visits every point once. A closed tour starts at 0, goes
	// first to the smaller-numbered of its two neighbours and returns to 0;
	// a path starts at the given start.
	Tour []int

	// Length is the length of the tour (closing edge included) or path.
	Length float64

	// Iterations is the number of kicks tried.
	Iterations int

	// Exact is set when Tour is known optimal (small problems).
	Exact bool

	// Elapsed is the wall-clock time the solve took.
	Elapsed time.Duration
}

// Solve returns a short closed tour through the n points.
func Solve(ctx context.Context, n int, d Distance, o Options) (Result, error) {
	return solve(ctx, n, d, -1, o)
}

// SolvePath returns a short open path through the n points that starts at
// start and ends wherever is best.
func SolvePath(ctx context.Context, n int, d Distance, start int, o Options) (Result, error) {
	if start < 0 || start >= n {
		return Result{}, fmt.Errorf("tsp: start %d out of range [0, %d)", start, n)
	}
	return solve(ctx, n, d, start, o)
}

func solve(ctx context.Context, n int, d Distance, start int, o Options) (Result, error) {
	began := time.Now()
	if n < 0 {
		return Result{}, fmt.Errorf("tsp: negative number of points %d", n)
	}
	if n <= exactMax {
		var tour []int
		var length float64
		var err error
		if start < 0 {
			tour, length, err = Exact(n, d)
		} else {
			tour, length, err = ExactPath(n, d, start)
		}
		return Result{Tour: tour, Length: length, Exact: true, Elapsed: time.Since(began)}, err
	}

	limit := o.TimeLimit
	if limit == 0 && o.MaxIterations == 0 {
		limit = DefaultTimeLimit
	}
	var deadline time.Time
	if limit > 0 {
		deadline = began.Add(limit)
	}
	stop := func() bool {
		return ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline))
	}
	k := o.Neighbors
	if k <= 0 {
		k = 10
	}
	k = min(k, n-1)
	kickLen := o.KickLength
	if kickLen <= 0 {
		kickLen = 50
	}
	stall := o.Stall
	if stall == 0 {
		stall = 100*n + 10000
	}

	nb, err := neighbors(ctx, n, k, d)
	if err != nil {
		return Result{}, fmt.Errorf("tsp: %w", err)
	}
	tour, err := greedy(ctx, n, d, nb, k)
	if err != nil {
		return Result{}, fmt.Errorf("tsp: %w", err)
	}

	sd := d
	if start >= 0 {
		// An open path is a tour through a dummy point at distance 0
		// from all others, with the dummy–start edge pinned.
		sd = pathDistance{d: d, n: n}
		dummy := int32(n)
		row := make([]int32, 0, k)
		row = append(row, int32(start))
		row = append(row, nb[start*k:start*k+k-1]...)
		nb = append(nb, row...)
		for p, c := range tour {
			if c == int32(start) {
				tour = append(tour[p:], tour[:p]...)
				break
			}
		}
		tour = append(tour, dummy)
	}
	for i := 1; i < len(tour); i++ {
		if w := sd.Dist(int(tour[i-1]), int(tour[i])); math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return Result{}, fmt.Errorf("tsp: distance between %d and %d is %v", tour[i-1], tour[i], w)
		}
	}

	s := newSearch(sd, tour, nb, k)
	if start >= 0 {
		s.fixA, s.fixB = int32(n), int32(start)
	}
	for _, c := range tour {
		s.push(c)
	}
	s.run(stop)

	res := Result{}
	if o.MaxIterations >= 0 && s.qLen == 0 {
		rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
		since := 0
		for o.MaxIterations == 0 || res.Iterations < o.MaxIterations {
			if res.Iterations&15 == 0 && stop() {
				break
			}
			if stall > 0 && since >= stall {
				break
			}
			res.Iterations++
			s.logging = true
			s.log = s.log[:0]
			delta := s.kick(rng, int32(kickLen))
			delta -= s.run(nil)
			switch {
			case delta < -eps:
				since = 0
			case delta <= eps:
				// Equal length: keep it, to drift across plateaus.
				since++
			default:
				s.undo()
				since++
			}
		}
		s.logging = false
	}

	res.Tour = make([]int, 0, n)
	if start < 0 {
		// Canonical form: from 0, towards the smaller of its neighbours.
		fwd := s.succ(0) < s.pred(0)
		c := int32(0)
		for i := 0; i < n; i++ {
			res.Tour = append(res.Tour, int(c))
			c = s.step(c, fwd)
		}
		res.Length = TourLength(res.Tour, d)
	} else {
		fwd := s.pred(int32(start)) == int32(n)
		c := int32(start)
		for i := 0; i < n; i++ {
			res.Tour = append(res.Tour, int(c))
			c = s.step(c, fwd)
		}
		res.Length = PathLength(res.Tour, d)
	}
	res.Elapsed = time.Since(began)
	return res, nil
}
