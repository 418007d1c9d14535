package tsp

import "math/rand/v2"

// eps is the smallest gain the local search acts on, so that rounding
// noise in the distance sums never makes it cycle.
const eps = 1e-9

// maxSegment is the longest segment Or-opt moves.
const maxSegment = 3

// search is the state of the local search: the tour as an array with its
// inverse, neighbour lists, a queue of points whose neighbourhood may hold
// an improving move (points not in it have their "don't look" bit set),
// and a log of reversals so that a rejected kick can be undone.
type search struct {
	n    int32
	d    Distance
	tour []int32 // tour[p] is the point at position p
	pos  []int32 // pos[c] is the position of point c
	nb   []int32
	k    int32

	// fixA–fixB is an edge the search never removes (the dummy point
	// of an open path and the path's start), or -1.
	fixA, fixB int32

	queue   []int32 // ring buffer of active points
	qHead   int
	qLen    int
	inQueue []bool

	logging bool
	log     []int32 // pairs (start position, length) of reversals done
}

func newSearch(d Distance, tour []int32, nb []int32, k int) *search {
	n := int32(len(tour))
	s := &search{
		n: n, d: d, tour: tour, pos: make([]int32, n), nb: nb, k: int32(k),
		fixA: -1, fixB: -1,
		queue: make([]int32, n), inQueue: make([]bool, n),
	}
	for p, c := range tour {
		s.pos[c] = int32(p)
	}
	return s
}

func (s *search) dist(a, b int32) float64 { return s.d.Dist(int(a), int(b)) }

func (s *search) succ(c int32) int32 {
	p := s.pos[c] + 1
	if p == s.n {
		p = 0
	}
	return s.tour[p]
}

func (s *search) pred(c int32) int32 {
	p := s.pos[c] - 1
	if p < 0 {
		p = s.n - 1
	}
	return s.tour[p]
}

// step returns the neighbour of c in the tour, forward or backward.
func (s *search) step(c int32, forward bool) int32 {
	if forward {
		return s.succ(c)
	}
	return s.pred(c)
}

func (s *search) fixed(a, b int32) bool {
	return (a == s.fixA && b == s.fixB) || (a == s.fixB && b == s.fixA)
}

func (s *search) push(c int32) {
	if s.inQueue[c] {
		return
	}
	s.inQueue[c] = true
	t := s.qHead + s.qLen
	if t >= len(s.queue) {
		t -= len(s.queue)
	}
	s.queue[t] = c
	s.qLen++
}

func (s *search) pop() int32 {
	c := s.queue[s.qHead]
	s.qHead++
	if s.qHead == len(s.queue) {
		s.qHead = 0
	}
	s.qLen--
	s.inQueue[c] = false
	return c
}

// reverse reverses the l points from position i onwards, wrapping around.
func (s *search) reverse(i, l int32) {
	if l < 2 {
		return
	}
	if s.logging {
		s.log = append(s.log, i, l)
	}
	j := i + l - 1
	if j >= s.n {
		j -= s.n
	}
	for m := l / 2; m > 0; m-- {
		a, b := s.tour[i], s.tour[j]
		s.tour[i], s.tour[j] = b, a
		s.pos[b], s.pos[a] = i, j
		i++
		if i == s.n {
			i = 0
		}
		j--
		if j < 0 {
			j = s.n - 1
		}
	}
}

// reversePath reverses the path from position i forward to position j, or
// the rest of the tour when that is shorter: both give the same cycle.
func (s *search) reversePath(i, j int32) {
	l := j - i
	if l < 0 {
		l += s.n
	}
	l++
	if 2*l > s.n {
		i = j + 1
		if i == s.n {
			i = 0
		}
		l = s.n - l
	}
	s.reverse(i, l)
}

// move2 removes the edges a–b and c–d and adds a–c and b–d, where b and d
// follow a and c in the same direction around the tour.
func (s *search) move2(a, b, c, d int32) {
	if s.succ(a) == b {
		s.reversePath(s.pos[b], s.pos[c])
	} else {
		s.reversePath(s.pos[a], s.pos[d])
	}
}

// undo reverts the logged reversals, newest first.
func (s *search) undo() {
	was := s.logging
	s.logging = false
	for m := len(s.log) - 2; m >= 0; m -= 2 {
		s.reverse(s.log[m], s.log[m+1])
	}
	s.log = s.log[:0]
	s.logging = was
}

// run applies improving moves until the queue is empty, or until stop
// reports true (checked now and then), and returns the total gain.
func (s *search) run(stop func() bool) float64 {
	var total float64
	for polls := 0; s.qLen > 0; polls++ {
		if polls&1023 == 1023 && stop != nil && stop() {
			break
		}
		c := s.pop()
		for {
			g := s.improveLK(c)
			if g == 0 {
				g = s.improveOrOpt(c)
			}
			if g == 0 {
				break
			}
			total += g
		}
	}
	return total
}

// improveOrOpt tries moving a segment of up to maxSegment points that ends
// at t1 elsewhere in the tour, either way round, next to a neighbour of one
// of its ends. It applies the first improving move and returns its gain.
func (s *search) improveOrOpt(t1 int32) float64 {
	if s.n < 2*maxSegment+2 {
		return 0
	}
	for _, fwd := range [2]bool{true, false} {
		s1, s2 := t1, t1
		for l := 1; l <= maxSegment; l++ {
			if l > 1 {
				s2 = s.step(s2, fwd)
			}
			p := s.step(s1, !fwd)
			nx := s.step(s2, fwd)
			if s.fixed(p, s1) || s.fixed(s2, nx) {
				break
			}
			g0 := s.dist(p, s1) + s.dist(s2, nx) - s.dist(p, nx)
			if g0 <= eps {
				continue
			}
			for _, end := range [2]int32{s1, s2} {
				for _, c := range s.nb[end*s.k : end*s.k+s.k] {
					g1 := g0 - s.dist(end, c)
					if g1 <= eps {
						break
					}
					if s.inSegment(c, s1, l, fwd) {
						continue
					}
					// The two tour edges at c, as (c0, e0) with e0 after c0.
					for _, side := range [2]bool{true, false} {
						c0, e0 := c, s.step(c, fwd)
						if !side {
							c0, e0 = s.step(c, !fwd), c
						}
						if s.inSegment(c0, s1, l, fwd) || s.inSegment(e0, s1, l, fwd) || s.fixed(c0, e0) {
							continue
						}
						d0 := s.dist(c0, e0)
						// Reversed: c0–s2 … s1–e0; kept: c0–s1 … s2–e0.
						rev := s.dist(c0, s2) + s.dist(s1, e0) - d0
						keep := s.dist(c0, s1) + s.dist(s2, e0) - d0
						add, reversed := keep, false
						if rev < keep {
							add, reversed = rev, true
						}
						if g := g0 - add; g > eps {
							s.move2(p, s1, c0, e0)
							s.move2(p, c0, nx, s2)
							if !reversed {
								s.move2(c0, s2, s1, e0)
							}
							for _, x := range [...]int32{p, nx, s1, s2, c0, e0} {
								s.push(x)
							}
							return g
						}
					}
				}
			}
		}
	}
	return 0
}

// inSegment reports whether c is one of the l points from s1 onwards in
// direction fwd.
func (s *search) inSegment(c, s1 int32, l int, fwd bool) bool {
	off := s.pos[c] - s.pos[s1]
	if !fwd {
		off = -off
	}
	if off < 0 {
		off += s.n
	}
	return off < int32(l)
}

// kick applies a double bridge confined to a short stretch of the tour: it
// swaps two adjacent segments of at most maxLen points each, so it costs
// O(maxLen) whatever n is. It returns the change in length and queues the
// six points whose edges changed.
func (s *search) kick(rng *rand.Rand, maxLen int32) float64 {
	maxLen = min(maxLen, (s.n-2)/2)
	if maxLen < 1 {
		return 0
	}
	for try := 0; ; try++ {
		i := int32(rng.IntN(int(s.n)))
		l1 := 1 + int32(rng.IntN(int(maxLen)))
		l2 := 1 + int32(rng.IntN(int(maxLen)))
		at := func(off int32) int32 { return s.tour[(i+off)%s.n] }
		x, a1, a2 := at(0), at(1), at(l1)
		b1, b2, y := at(l1+1), at(l1+l2), at(l1+l2+1)
		if s.fixed(x, a1) || s.fixed(a2, b1) || s.fixed(b2, y) {
			if try < 100 {
				continue
			}
			return 0
		}
		delta := s.dist(x, b1) + s.dist(b2, a1) + s.dist(a2, y) -
			s.dist(x, a1) - s.dist(a2, b1) - s.dist(b2, y)
		p := (i + 1) % s.n
		s.reverse(p, l1+l2)
		s.reverse(p, l2)
		s.reverse((p+l2)%s.n, l1)
		for _, c := range [...]int32{x, a1, a2, b1, b2, y} {
			s.push(c)
		}
		return delta
	}
}

// lkBreadth[l] is how many tentative flips improveLK tries at depth l.
// Two levels (moves of up to two flips) gave the lowest gaps for the same
// CPU time on the TSPLIB instances: deeper moves find more per kick but
// cost more than the extra kicks they displace.
var lkBreadth = [...]int{0, 5}

// maxTentative bounds the length of a tentative (not yet improving) flip,
// so that deep moves stay cheap on large problems.
const maxTentative = 1000

// improveLK looks for a sequential move made of 2-opt flips, Lin-Kernighan
// style: it removes the edge t1–t2, adds t2–t3 for a near neighbour t3
// while the partial gain stays positive, and closes the tour at each
// depth; the first depth whose closing gain is positive is kept. Depth 1
// is plain 2-opt; depth 2 adds the sequential 3-opt moves that two flips
// make.
// It returns the gain (0 if there is none).
func (s *search) improveLK(t1 int32) float64 {
	// A failed search leaves the same cycle, but perhaps stored mirrored,
	// so take both tour neighbours of t1 first.
	for _, t2 := range [2]int32{s.succ(t1), s.pred(t1)} {
		if s.fixed(t1, t2) {
			continue
		}
		if g := s.lkStep(1, t1, t2, s.dist(t1, t2)); g > 0 {
			return g
		}
	}
	return 0
}

// lkStep extends a move whose last added edge, t1–t2, is to be removed
// again; gain is the sum of removed minus added lengths without it.
func (s *search) lkStep(depth int, t1, t2 int32, gain float64) float64 {
	tried := 0
	for _, t3 := range s.nb[t2*s.k : t2*s.k+s.k] {
		g := gain - s.dist(t2, t3)
		if g <= eps {
			break
		}
		if t3 == t1 {
			continue
		}
		// Taking back a tentative flip may leave the tour stored
		// mirrored, so the direction is read afresh each time.
		fwd := s.succ(t1) == t2
		t4 := s.step(t3, !fwd)
		if t4 == t2 || s.fixed(t3, t4) {
			continue
		}
		g34 := g + s.dist(t3, t4)
		if closed := g34 - s.dist(t4, t1); closed > eps {
			s.move2(t1, t2, t4, t3)
			s.push(t1)
			s.push(t2)
			s.push(t3)
			s.push(t4)
			return closed
		}
		if depth >= len(lkBreadth) || tried >= lkBreadth[depth] {
			continue
		}
		if s.flipLength(t1, t2, t4, t3) > maxTentative {
			continue
		}
		tried++
		s.move2(t1, t2, t4, t3)
		if closed := s.lkStep(depth+1, t1, t4, g34); closed > 0 {
			s.push(t2)
			s.push(t3)
			return closed
		}
		s.move2(t1, t4, t2, t3) // take the tentative flip back
	}
	return 0
}

// flipLength is the number of points move2(a, b, c, d) would reverse.
func (s *search) flipLength(a, b, c, d int32) int32 {
	var l int32
	if s.succ(a) == b {
		l = s.pos[c] - s.pos[b]
	} else {
		l = s.pos[d] - s.pos[a]
	}
	if l < 0 {
		l += s.n
	}
	l++
	return min(l, s.n-l)
}
