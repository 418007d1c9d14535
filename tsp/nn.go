package tsp

// NearestNeighbor returns the nearest-neighbour tour from start: it always
// moves to the nearest point not yet visited (ties to the lowest index).
// It takes O(n²) time and is meant as a baseline: on Euclidean instances
// its tours are typically about 25% above optimal.
func NearestNeighbor(n int, d Distance, start int) []int {
	if n <= 0 {
		return nil
	}
	left := make([]int, 0, n-1)
	for i := 0; i < n; i++ {
		if i != start {
			left = append(left, i)
		}
	}
	tour := append(make([]int, 0, n), start)
	cur := start
	for len(left) > 0 {
		bk := 0
		bd := d.Dist(cur, left[0])
		for k := 1; k < len(left); k++ {
			j := left[k]
			if w := d.Dist(cur, j); w < bd || (w == bd && j < left[bk]) {
				bk, bd = k, w
			}
		}
		cur = left[bk]
		tour = append(tour, cur)
		left[bk] = left[len(left)-1]
		left = left[:len(left)-1]
	}
	return tour
}
