// Command tsplib solves TSPLIB problems with package tsp and prints the
// tour length and the time taken, with the gap to a known optimum.
//
//	tsplib [-time 1s] [-opt N] [-o FILE.tour] [-seed S] [-quick] [-iter N] FILE.tsp
//	tsplib -table [-time 1s] DIR|FILE.tsp...
//
// The tour written with -o is in TSPLIB's TOUR format, so any TSPLIB tool
// can check it. With -table it solves every instance given (every .tsp in
// a directory) and prints a table of gaps and times beside the
// nearest-neighbour baseline and the quick mode, with the wall-clock and
// CPU time of each solve; optima come from an optima.txt beside the
// instances (name, optimum per line).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/foreverfm/forever/internal/cputime"
	"github.com/foreverfm/forever/tsp"
	"github.com/foreverfm/forever/tsp/tsplib"
)

// quickLimit is the budget of -quick.
const quickLimit = 50 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tsplib:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tsplib", flag.ContinueOnError)
	limit := fs.Duration("time", time.Second, "time budget for the search")
	opt := fs.Float64("opt", 0, "known optimal length, to print the gap")
	out := fs.String("o", "", "write the tour to this file in TSPLIB TOUR format")
	seed := fs.Uint64("seed", 1, "random seed")
	quick := fs.Bool("quick", false, "quick mode: a 50ms budget")
	iter := fs.Int("iter", 0, "cap on iterations (kicks), for repeatable runs; -1: local search only")
	table := fs.Bool("table", false, "solve every instance given and print a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tsplib [-time 1s] [-opt N] [-o FILE.tour] [-seed S] [-quick] [-iter N] FILE.tsp")
		fmt.Fprintln(fs.Output(), "       tsplib -table [-time 1s] DIR|FILE.tsp...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := tsp.Options{TimeLimit: *limit, Seed: *seed, MaxIterations: *iter, Stall: -1}
	if *iter != 0 && !isSet(fs, "time") {
		o.TimeLimit = 0
	}
	if *quick {
		o.TimeLimit = quickLimit
	}
	if *table {
		return runTable(ctx, fs.Args(), o)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("need exactly one FILE.tsp")
	}
	in, err := tsplib.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	res, err := tsp.Solve(ctx, in.Dimension, in.Distance(), o)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	fmt.Printf("%s: n=%d length=%.0f time=%v iterations=%d", in.Name, in.Dimension, res.Length, res.Elapsed.Round(time.Millisecond), res.Iterations)
	if *opt > 0 {
		fmt.Printf(" optimum=%.0f gap=%.3f%%", *opt, gap(res.Length, *opt))
	}
	fmt.Println()
	if *out != "" {
		t := &tsplib.Tour{Name: in.Name + ".tour", Comment: fmt.Sprintf("length %.0f, found by forever/tsp", res.Length), Dimension: in.Dimension, Nodes: res.Tour}
		if err := tsplib.WriteTourFile(*out, t); err != nil {
			return err
		}
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func gap(length, opt float64) float64 { return 100 * (length/opt - 1) }

func runTable(ctx context.Context, args []string, o tsp.Options) error {
	var files []string
	for _, a := range args {
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			m, _ := filepath.Glob(filepath.Join(a, "*.tsp"))
			files = append(files, m...)
		} else {
			files = append(files, a)
		}
	}
	if len(files) == 0 {
		return errors.New("no instances given")
	}
	type row struct {
		in   *tsplib.Instance
		file string
	}
	var rows []row
	for _, f := range files {
		in, err := tsplib.ReadFile(f)
		if err != nil {
			return err
		}
		rows = append(rows, row{in, f})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].in.Dimension < rows[j].in.Dimension })
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "instance\tn\toptimum\tNN gap%%\tquick gap%%\tquick ms\tcpu ms\tgap%%\tms\tcpu ms\tkicks\t\n")
	for _, r := range rows {
		optimum := readOptimum(r.file, r.in.Name)
		d := r.in.Distance()
		nn := tsp.TourLength(tsp.NearestNeighbor(r.in.Dimension, d, 0), d)
		qo := o
		qo.TimeLimit, qo.MaxIterations = quickLimit, 0
		c0 := cputime.Self()
		q, err := tsp.Solve(ctx, r.in.Dimension, d, qo)
		if err != nil {
			return fmt.Errorf("%s: %w", r.file, err)
		}
		c1 := cputime.Self()
		res, err := tsp.Solve(ctx, r.in.Dimension, d, o)
		if err != nil {
			return fmt.Errorf("%s: %w", r.file, err)
		}
		c2 := cputime.Self()
		g := func(l float64) string {
			if optimum <= 0 {
				return "?"
			}
			return fmt.Sprintf("%.2f", gap(l, optimum))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t%d\t\n", r.in.Name, r.in.Dimension, optimum,
			g(nn), g(q.Length), q.Elapsed.Milliseconds(), (c1 - c0).Milliseconds(),
			g(res.Length), res.Elapsed.Milliseconds(), (c2 - c1).Milliseconds(), res.Iterations)
	}
	return tw.Flush()
}

// readOptimum looks name up in an optima.txt beside file.
func readOptimum(file, name string) float64 {
	f, err := os.Open(filepath.Join(filepath.Dir(file), "optima.txt"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 2 && fs[0] == name {
			v, _ := strconv.ParseFloat(fs[1], 64)
			return v
		}
	}
	return 0
}
