// Command tune measures how well the order's track distance predicts good
// transitions, using package align's match Score as the ground truth. It
// analyses the demo catalogue (or the audio files given), scores every
// ordered pair of tracks with align.Find, and prints, for the whole metric
// and for each criterion alone, the Spearman rank correlation between
// closeness (minus the distance) and the Score, and the mean Score of the
// transitions in the metric's tour against that of random orders.
//
//	go run ./tsp/order/tune [-bars 8] [-transition 15s] [FILE...]
//
// Weights whose criterion correlates poorly (or negatively) with the Score
// are candidates to lower; see the order package documentation.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/foreverfm/forever/align"
	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/source/demo"
	"github.com/foreverfm/forever/tsp"
	"github.com/foreverfm/forever/tsp/order"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tune:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tune", flag.ContinueOnError)
	bars := fs.Int("bars", 8, "cut each demo section to this many bars (0: full tracks)")
	transition := fs.Duration("transition", 15*time.Second, "overlap length asked of align.Find")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tracks, err := load(ctx, fs.Args(), *bars)
	if err != nil {
		return err
	}
	n := len(tracks)
	if n < 3 {
		return fmt.Errorf("need at least 3 tracks, have %d", n)
	}
	// score[i*n+j]: how well track i's end lines up with track j's start.
	score := make([]float64, n*n)
	failed := 0
	for i := range tracks {
		for j := range tracks {
			if i == j {
				continue
			}
			m, err := align.Find(align.Request{Out: tracks[i].Analysis, In: tracks[j].Analysis, Duration: transition.Seconds()}, nil)
			if err != nil {
				failed++
				continue
			}
			score[i*n+j] = m.Score
		}
	}
	fmt.Printf("%d tracks, %d ordered pairs scored by align.Find (%d failed and count as 0)\n", n, n*(n-1), failed)
	fmt.Printf("Spearman correlation of closeness (-distance) with the Score, over all pairs\n")
	fmt.Printf("and averaged per outgoing track (which next track is best for this one):\n\n")

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "criterion\tweight\tall pairs\tper outgoing track\t\n")
	metric := order.DefaultMetric()
	for _, t := range metric {
		d := t.Criterion.Prepare(tracks)
		x := func(i, j int) float64 { return -d(i, j) }
		fmt.Fprintf(tw, "%s\t%.2f\t%.3f\t%.3f\t\n", reflect.TypeOf(t.Criterion).Name(), t.Weight, spearman(n, x, score), rowSpearman(n, x, score))
	}
	dm := metric.Prepare(tracks)
	x := func(i, j int) float64 { return -dm.Dist(i, j) }
	fmt.Fprintf(tw, "DefaultMetric\t\t%.3f\t%.3f\t\n", spearman(n, x, score), rowSpearman(n, x, score))
	tw.Flush()

	res, err := tsp.SolvePath(ctx, n, dm, 0, tsp.Options{MaxIterations: 5000})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var random float64
	const perms = 2000
	for r := 0; r < perms; r++ {
		p := rng.Perm(n)
		random += meanScore(p, score, n)
	}
	random /= perms
	fmt.Printf("\nmean align Score per transition: metric's path %.3f, random orders %.3f\n", meanScore(res.Tour, score, n), random)
	return nil
}

func load(ctx context.Context, files []string, bars int) ([]order.Track, error) {
	var out []order.Track
	if len(files) > 0 {
		for _, f := range files {
			a, err := analysis.AnalyzeFile(ctx, f)
			if err != nil {
				return nil, err
			}
			out = append(out, order.Track{ID: filepath.Base(f), Analysis: a})
		}
		return out, nil
	}
	for _, sp := range demo.Catalogue() {
		if bars > 0 {
			sp = sp.Short(bars)
		}
		a, err := analysis.Analyze(ctx, sp.Render())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.ID, err)
		}
		out = append(out, order.Track{ID: sp.ID, Analysis: a})
	}
	return out, nil
}

func meanScore(path []int, score []float64, n int) float64 {
	var s float64
	for k := 1; k < len(path); k++ {
		s += score[path[k-1]*n+path[k]]
	}
	return s / float64(len(path)-1)
}

// spearman returns the rank correlation between x(i, j) and score over all
// ordered pairs i != j.
func spearman(n int, x func(i, j int) float64, score []float64) float64 {
	var xs, ys []float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				xs = append(xs, x(i, j))
				ys = append(ys, score[i*n+j])
			}
		}
	}
	return pearson(ranks(xs), ranks(ys))
}

// rowSpearman averages, over outgoing tracks i, the rank correlation
// between x(i, j) and score over the incoming tracks j: it leaves out how
// well a track mixes in general and keeps how well it mixes with each.
func rowSpearman(n int, x func(i, j int) float64, score []float64) float64 {
	var sum float64
	rows := 0
	for i := 0; i < n; i++ {
		var xs, ys []float64
		for j := 0; j < n; j++ {
			if i != j {
				xs = append(xs, x(i, j))
				ys = append(ys, score[i*n+j])
			}
		}
		if r := pearson(ranks(xs), ranks(ys)); !math.IsNaN(r) {
			sum += r
			rows++
		}
	}
	if rows == 0 {
		return math.NaN()
	}
	return sum / float64(rows)
}

// ranks returns the ranks of v, ties sharing their mean rank.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for a := 0; a < len(idx); {
		b := a
		for b+1 < len(idx) && v[idx[b+1]] == v[idx[a]] {
			b++
		}
		for k := a; k <= b; k++ {
			r[idx[k]] = float64(a+b) / 2
		}
		a = b + 1
	}
	return r
}

func pearson(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}
