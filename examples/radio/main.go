// Command radio assembles forever's packages into an endless, beat-matched
// radio station, and offers the same machinery offline.
//
//	radio [-music DIR] [-addr HOST:PORT]   serve the radio (default: the demo catalogue)
//	radio analyze [-summary] FILE...       print the analysis of each file as JSON
//	radio mix A B [C ...] -o OUT           render a DJ set of the given files
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// A command is one sub-command of radio. Each lives in its own file and
// registers itself in init, so that the sub-commands stay independent.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	args := os.Args[1:]
	name := "serve"
	if len(args) > 0 {
		if _, ok := commands[args[0]]; ok {
			name, args = args[0], args[1:]
		} else if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			usage()
			return
		}
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "radio: unknown command %q\n", name)
		usage()
		os.Exit(2)
	}
	if err := cmd.run(ctx, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "radio %s: %v\n", name, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: radio [command] [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nWith no command, radio serves the stream (radio serve -h for its flags).")
}
