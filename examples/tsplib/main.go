// Command tsplib solves a TSPLIB problem with package tsp and prints the
// tour length and the time taken, with the gap to a known optimum.
//
//	tsplib [-time 1s] [-opt N] [-o FILE.tour] [-seed S] [-quick] [-iter N] FILE.tsp
//
// The tour written with -o is in TSPLIB's TOUR format, so any TSPLIB tool
// can check it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/foreverfm/forever/tsp"
	"github.com/foreverfm/forever/tsp/tsplib"
)

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
	iter := fs.Int("iter", 0, "cap on iterations (kicks), for repeatable runs; 0: none")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tsplib [-time 1s] [-opt N] [-o FILE.tour] [-seed S] [-quick] [-iter N] FILE.tsp")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("need exactly one FILE.tsp")
	}
	in, err := tsplib.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	o := tsp.Options{TimeLimit: *limit, Seed: *seed, MaxIterations: *iter, Stall: -1}
	if *quick {
		o.TimeLimit = 50 * time.Millisecond
	}
	res, err := tsp.Solve(ctx, in.Dimension, in.Distance(), o)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	fmt.Printf("%s: n=%d length=%.0f time=%v iterations=%d", in.Name, in.Dimension, res.Length, res.Elapsed.Round(time.Millisecond), res.Iterations)
	if *opt > 0 {
		fmt.Printf(" optimum=%.0f gap=%.3f%%", *opt, 100*(res.Length / *opt - 1))
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
