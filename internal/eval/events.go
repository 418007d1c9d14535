package eval

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// MaxTime is the latest event time the Evaluate functions accept, as in
// mir_eval: later times are almost certainly not in seconds.
const MaxTime = 30000.0

// ErrInvalid is wrapped by the errors of the Evaluate and Read functions for
// annotations that mir_eval would reject.
var ErrInvalid = errors.New("eval: invalid annotation")

// ValidateEvents reports whether events are finite, within MaxTime, and in
// non-decreasing order.
func ValidateEvents(events []float64) error {
	for i, t := range events {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("%w: event %d is %v", ErrInvalid, i, t)
		}
		if t > MaxTime {
			return fmt.Errorf("%w: event at %v s is later than %v s (not seconds?)", ErrInvalid, t, MaxTime)
		}
		if i > 0 && t < events[i-1] {
			return fmt.Errorf("%w: events not in increasing order at %d (%v after %v)", ErrInvalid, i, t, events[i-1])
		}
	}
	return nil
}

// Matches returns the size of a maximum matching between reference and
// estimated events in which a pair may match when they are at most window
// apart, each event matching at most once. This is mir_eval's
// util.match_events; the F-measures of beats, onsets and boundaries count
// its pairs.
func Matches(ref, est []float64, window float64) int {
	if len(ref) == 0 || len(est) == 0 {
		return 0
	}
	// Candidate references of each estimate, found in a sorted copy the
	// way mir_eval does, so that ties at the window's edge agree.
	order := make([]int, len(ref))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ref[order[a]] < ref[order[b]] })
	sorted := make([]float64, len(ref))
	for i, j := range order {
		sorted[i] = ref[j]
	}
	adj := make([][]int, len(est))
	for j, e := range est {
		lo := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= e-window })
		hi := sort.Search(len(sorted), func(i int) bool { return sorted[i] > e+window })
		for i := lo; i < hi; i++ {
			adj[j] = append(adj[j], order[i])
		}
	}
	return maxBipartite(adj, len(ref))
}

// maxBipartite returns the size of a maximum matching of the bipartite
// graph whose left vertex j has the right neighbours adj[j] (Hopcroft-Karp).
func maxBipartite(adj [][]int, nRight int) int {
	const inf = math.MaxInt
	matchL := make([]int, len(adj))
	matchR := make([]int, nRight)
	for i := range matchL {
		matchL[i] = -1
	}
	for i := range matchR {
		matchR[i] = -1
	}
	dist := make([]int, len(adj))
	queue := make([]int, 0, len(adj))
	bfs := func() bool {
		queue = queue[:0]
		for u := range adj {
			if matchL[u] < 0 {
				dist[u] = 0
				queue = append(queue, u)
			} else {
				dist[u] = inf
			}
		}
		found := false
		for k := 0; k < len(queue); k++ {
			u := queue[k]
			for _, v := range adj[u] {
				w := matchR[v]
				if w < 0 {
					found = true
				} else if dist[w] == inf {
					dist[w] = dist[u] + 1
					queue = append(queue, w)
				}
			}
		}
		return found
	}
	var dfs func(u int) bool
	dfs = func(u int) bool {
		for _, v := range adj[u] {
			w := matchR[v]
			if w < 0 || (dist[w] == dist[u]+1 && dfs(w)) {
				matchL[u], matchR[v] = v, u
				return true
			}
		}
		dist[u] = inf
		return false
	}
	n := 0
	for bfs() {
		for u := range adj {
			if matchL[u] < 0 && dfs(u) {
				n++
			}
		}
	}
	return n
}

// FMeasure is the weighted harmonic mean of precision and recall (beta 1
// weighs them equally), 0 when both are 0.
func FMeasure(precision, recall, beta float64) float64 {
	if precision == 0 && recall == 0 {
		return 0
	}
	b2 := beta * beta
	return (1 + b2) * precision * recall / (b2*precision + recall)
}

// matchScores returns the F-measure, precision and recall of est against
// ref with the given window, all 0 when either is empty.
func matchScores(ref, est []float64, window float64) (f, precision, recall float64) {
	if len(ref) == 0 || len(est) == 0 {
		return 0, 0, 0
	}
	m := float64(Matches(ref, est, window))
	precision = m / float64(len(est))
	recall = m / float64(len(ref))
	return FMeasure(precision, recall, 1), precision, recall
}

// OnsetWindow is the tolerance of onset detection, ±50 ms.
const OnsetWindow = 0.05

// OnsetScores are mir_eval.onset.evaluate's scores.
type OnsetScores struct {
	FMeasure, Precision, Recall float64
}

// Onsets scores estimated onsets against reference onsets within window
// seconds (OnsetWindow in mir_eval), by maximum matching; all 0 when either
// list is empty.
func Onsets(ref, est []float64, window float64) OnsetScores {
	f, p, r := matchScores(ref, est, window)
	return OnsetScores{FMeasure: f, Precision: p, Recall: r}
}

// EvaluateOnsets is mir_eval.onset.evaluate: Onsets with OnsetWindow, after
// checking both lists.
func EvaluateOnsets(ref, est []float64) (OnsetScores, error) {
	if err := ValidateEvents(ref); err != nil {
		return OnsetScores{}, fmt.Errorf("reference onsets: %w", err)
	}
	if err := ValidateEvents(est); err != nil {
		return OnsetScores{}, fmt.Errorf("estimated onsets: %w", err)
	}
	return Onsets(ref, est, OnsetWindow), nil
}
