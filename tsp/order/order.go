// Package order arranges tracks into an endless sequence in which each
// track flows into the next, as Forever.fm did: it measures how far apart
// two tracks sound with a weighted sum of small criteria (tempo, key,
// timbre, loudness, ...) and orders them along a short travelling-salesman
// path (package tsp) that starts at the track now playing.
//
// # Tuning the weights
//
// The default weights (DefaultMetric) are a reasoned starting point, not a
// fit. The ground truth to tune them against is how well consecutive tracks
// actually mix: package align's Find returns a Match whose Score (in
// [0, 1]) rates the best overlap of one track's end with the next one's
// start. Command tune (go run ./tsp/order/tune [FILE...]) analyses the demo
// catalogue or the files given, scores every ordered pair with align.Find,
// and prints the rank correlation of each criterion's closeness with the
// Score, over all pairs and per outgoing track, and the mean Score along
// the metric's path against random orders. Raise the weights of criteria
// that correlate positively, lower the others, and check that the path's
// mean Score rises.
//
// Measured on the ten-track demo catalogue (sections cut to 8 bars), the
// Score does not reward closeness: every criterion except Energy
// correlates negatively with it (about -0.2 to -0.4), and the metric's path
// scores 0.416 per transition against 0.404 for random orders. The Score
// standardises each feature column before comparing, so it rates how well
// the two tracks' patterns line up, not whether they sound alike, and it
// ignores the tempo ratio and the keys. It is therefore not used to set the
// defaults: tuning on it would favour clashing keys and large stretches. A
// transition score that also counts stretch and key is the ground truth to
// fit against when one exists.
package order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/foreverfm/forever/tsp"
)

// ErrNoTracks is returned by Next when there is nothing to play.
var ErrNoTracks = errors.New("order: no tracks to play")

// DefaultWindow is the number of most recent tracks a Generator will not
// repeat when Window is zero.
const DefaultWindow = 20

// DefaultSolveTime bounds each solve when Solver sets neither a time
// limit nor an iteration cap.
const DefaultSolveTime = 500 * time.Millisecond

// Generator yields the tracks to play, one at a time, forever. Set its
// exported fields before the first call; after that its methods are safe
// for concurrent use (the radio's admin handlers and its mixer may call it
// from different goroutines).
//
// Next plans a path through the candidates (plus the force-mix tracks,
// minus the blacklisted and the recently played ones) that starts at the
// track now playing, and yields it in order; tracks queued with PlayNext
// come first. When the candidate set changes, or after a track queued with
// PlayNext, the rest of the plan is solved again from the track now
// playing. When the plan runs out, the next one is solved from where it
// ended.
type Generator struct {
	// Metric measures how far apart two tracks sound (nil: DefaultMetric).
	Metric Metric
	// Window is how many of the most recently played tracks are never
	// repeated (0: DefaultWindow; negative: no restriction). With fewer
	// candidates than that, the window shrinks to leave one.
	Window int
	// Solver tunes each solve; with neither TimeLimit nor MaxIterations
	// set, solves are bounded by DefaultSolveTime.
	Solver tsp.Options
	// Logger receives "Solving TSP on N tracks..." and "Solved TSP in X
	// ms." (nil: nothing is logged).
	Logger *slog.Logger
	// OnSolve, when set, is called after each solve with the number of
	// tracks and the time taken, e.g. to feed a metrics histogram. It is
	// called from Next, without the generator's lock held.
	OnSolve func(tracks int, took time.Duration)

	// next serialises calls to Next; mu guards the state below and is
	// never held while solving, so that the other methods stay quick.
	next       sync.Mutex
	mu         sync.Mutex
	candidates []Track
	force      []Track
	blacklist  map[string]bool
	immediate  []Track
	nowPlaying *Track
	history    []string // IDs played, oldest first, at most window long
	plan       []Track
	gen        uint64 // counts changes that call for a new plan
	planGen    uint64 // gen when the plan was solved
	planWindow int    // the no-repeat window in force for the plan
	lastN      int
	lastTook   time.Duration
	solves     int
}

// SetCandidates replaces the set of tracks to choose from. The plan is
// solved again, from the track now playing, when the set of IDs changed.
func (g *Generator) SetCandidates(tracks []Track) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !sameIDs(g.candidates, tracks) {
		g.gen++
	}
	g.candidates = slices.Clone(tracks)
}

func sameIDs(a, b []Track) bool {
	if len(a) != len(b) {
		return false
	}
	ids := make(map[string]bool, len(a))
	for _, t := range a {
		ids[t.ID] = true
	}
	for _, t := range b {
		if !ids[t.ID] {
			return false
		}
	}
	return true
}

// ForceMix adds tracks to the candidates even if the candidate set does
// not list them (tracks a listener asked for, to be mixed in where they
// fit rather than next).
func (g *Generator) ForceMix(tracks ...Track) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.force = append(g.force, tracks...)
	g.gen++
}

// Blacklist removes tracks by ID from everything still to come except
// tracks queued with PlayNext.
func (g *Generator) Blacklist(ids ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blacklist == nil {
		g.blacklist = map[string]bool{}
	}
	for _, id := range ids {
		g.blacklist[id] = true
	}
	g.gen++
}

// Unblacklist lets tracks back in.
func (g *Generator) Unblacklist(ids ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range ids {
		delete(g.blacklist, id)
	}
	g.gen++
}

// PlayNext queues tracks to be played next, in order, before the plan
// resumes. They are played even if blacklisted or recently played.
func (g *Generator) PlayNext(tracks ...Track) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.immediate = append(g.immediate, tracks...)
}

// Playing records that a track is playing now, for a radio that starts
// from a track it chose itself or resumes after a restart. The plan is
// solved again from it. Tracks yielded by Next are recorded already.
func (g *Generator) Playing(t Track) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.record(t)
	g.gen++
}

// LastSolve reports the size and duration of the most recent solve, and
// how many solves there have been.
func (g *Generator) LastSolve() (tracks int, took time.Duration, solves int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastN, g.lastTook, g.solves
}

// Plan returns the tracks planned after the current one (the queued
// PlayNext tracks first), without consuming them. Blacklisted or recently
// played tracks still in the plan are skipped by Next.
func (g *Generator) Plan() []Track {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append(slices.Clone(g.immediate), g.plan...)
}

// Next returns the track to play after the one now playing, and records it
// as playing. It solves a new plan when needed, which takes up to the
// solver's time budget; ctx bounds that too.
func (g *Generator) Next(ctx context.Context) (Track, error) {
	g.next.Lock()
	defer g.next.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.immediate) > 0 {
		t := g.immediate[0]
		g.immediate = g.immediate[1:]
		g.record(t)
		// Continue from the queued track, not from where the plan was.
		g.gen++
		return t, nil
	}
	for solves := 0; ; solves++ {
		for len(g.plan) > 0 && g.planGen == g.gen {
			t := g.plan[0]
			g.plan = g.plan[1:]
			if g.blacklist[t.ID] || g.recent(t.ID, g.planWindow) {
				continue
			}
			g.record(t)
			return t, nil
		}
		if solves == 3 {
			return Track{}, ErrNoTracks
		}
		if err := g.replan(ctx, solves); err != nil {
			return Track{}, err
		}
	}
}

// Upcoming returns up to n of the tracks that Next will yield, in order,
// without consuming them: the queued PlayNext tracks, then the plan. Unlike
// Plan, it first solves a new plan when the old one is out of date or used
// up, as Next would, so a radio can always show what comes next.
func (g *Generator) Upcoming(ctx context.Context, n int) ([]Track, error) {
	g.next.Lock()
	defer g.next.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.plan) == 0 || g.planGen != g.gen {
		if err := g.replan(ctx, 0); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(g.immediate)
	for _, t := range g.plan {
		if len(out) >= n {
			break
		}
		if !g.blacklist[t.ID] && !g.recent(t.ID, g.planWindow) {
			out = append(out, t)
		}
	}
	return out[:min(n, len(out))], nil
}

// replan solves a new plan from the track now playing. It is called with
// g.next and g.mu held, and releases g.mu while solving; attempt counts the
// solves already made for one call of Next.
func (g *Generator) replan(ctx context.Context, attempt int) error {
	job := g.prepare()
	gen := g.gen
	if len(job.nodes) == 0 {
		g.plan, g.planGen = nil, gen
		return ErrNoTracks
	}
	g.mu.Unlock()
	plan, err := g.solve(ctx, job)
	g.mu.Lock()
	if err != nil {
		return err
	}
	g.plan, g.planWindow = plan, job.window
	g.lastN, g.lastTook = len(job.nodes), job.took
	g.solves++
	g.planGen = gen
	if g.gen != gen && attempt == 2 {
		// The state keeps changing under us: play this plan (Next
		// still skips blacklisted and recent tracks) rather than
		// solve forever.
		g.planGen = g.gen
	}
	return nil
}

func (g *Generator) window(pool int) int {
	w := g.Window
	if w == 0 {
		w = DefaultWindow
	}
	return max(0, min(w, pool-1))
}

func (g *Generator) recent(id string, window int) bool {
	h := g.history
	if len(h) > window {
		h = h[len(h)-window:]
	}
	return slices.Contains(h, id)
}

func (g *Generator) record(t Track) {
	now := t
	g.nowPlaying = &now
	g.history = append(g.history, t.ID)
	keep := g.Window
	if keep == 0 {
		keep = DefaultWindow
	}
	keep = max(keep, 1)
	if len(g.history) > 2*keep {
		g.history = slices.Clone(g.history[len(g.history)-keep:])
	}
}

// pool returns the candidates plus force-mix tracks, minus the
// blacklisted, each ID once.
func (g *Generator) pool() []Track {
	seen := map[string]bool{}
	var out []Track
	for _, list := range [][]Track{g.force, g.candidates} {
		for _, t := range list {
			if seen[t.ID] || g.blacklist[t.ID] {
				continue
			}
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	return out
}

// solveJob is what a solve needs, copied out of the generator so that it
// can run without the lock.
type solveJob struct {
	nodes     []Track // with the track now playing first when fromStart
	fromStart bool
	window    int
	took      time.Duration
}

// prepare picks the tracks of the next plan: the pool minus the track now
// playing and the recently played, with the window shrunk if it would
// leave nothing.
func (g *Generator) prepare() *solveJob {
	pool := g.pool()
	nowID := ""
	if g.nowPlaying != nil {
		nowID = g.nowPlaying.ID
	}
	w := g.window(len(pool))
	var eligible []Track
	for _, t := range pool {
		if t.ID != nowID && !g.recent(t.ID, w) {
			eligible = append(eligible, t)
		}
	}
	if len(eligible) == 0 {
		// Only the track now playing is left: play it again.
		eligible = pool
	}
	job := &solveJob{window: w}
	if len(eligible) == 0 {
		return job
	}
	job.nodes = eligible
	if g.nowPlaying != nil {
		job.nodes = append([]Track{*g.nowPlaying}, eligible...)
		job.fromStart = true
	}
	return job
}

// solve orders job.nodes and returns the plan. It reads only the
// generator's configuration, which does not change after first use.
func (g *Generator) solve(ctx context.Context, job *solveJob) ([]Track, error) {
	nodes := job.nodes
	log := g.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info(fmt.Sprintf("Solving TSP on %d tracks...", len(nodes)))
	began := time.Now()
	m := g.Metric
	if m == nil {
		m = DefaultMetric()
	}
	d := m.Prepare(nodes)
	o := g.Solver
	if o.TimeLimit == 0 && o.MaxIterations == 0 {
		o.TimeLimit = DefaultSolveTime
	}
	var res tsp.Result
	var err error
	if job.fromStart {
		res, err = tsp.SolvePath(ctx, len(nodes), d, 0, o)
		if err == nil {
			res.Tour = res.Tour[1:]
		}
	} else {
		res, err = tsp.Solve(ctx, len(nodes), d, o)
		if err == nil {
			res.Tour = cutLongest(res.Tour, d)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("order: solving %d tracks: %w", len(nodes), err)
	}
	job.took = time.Since(began)
	plan := make([]Track, len(res.Tour))
	for i, c := range res.Tour {
		plan[i] = nodes[c]
	}
	log.Info(fmt.Sprintf("Solved TSP in %d ms.", job.took.Milliseconds()), "tracks", len(nodes), "length", res.Length, "iterations", res.Iterations)
	if g.OnSolve != nil {
		g.OnSolve(len(nodes), job.took)
	}
	return plan, nil
}

// cutLongest opens a closed tour at its longest edge, the transition a
// path can best do without.
func cutLongest(tour []int, d tsp.Distance) []int {
	if len(tour) < 3 {
		return tour
	}
	best, at := math.Inf(-1), 0
	for i := range tour {
		if w := d.Dist(tour[i], tour[(i+1)%len(tour)]); w > best {
			best, at = w, i
		}
	}
	return append(slices.Clone(tour[at+1:]), tour[:at+1]...)
}
