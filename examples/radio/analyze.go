package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/foreverfm/forever/analysis"
)

func init() {
	commands["analyze"] = command{
		summary: "print the analysis of each audio file as JSON (-summary: one line each)",
		run:     runAnalyze,
	}
}

func runAnalyze(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	summary := fs.Bool("summary", false, "print a one-line summary per file instead of JSON")
	jobs := fs.Int("j", runtime.GOMAXPROCS(0), "files analysed in parallel")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: radio analyze [-summary] [-j N] FILE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	var bar *progress
	if len(files) > 1 && term.IsTerminal(int(os.Stderr.Fd())) {
		bar = &progress{w: os.Stderr, total: len(files)}
	}
	return analyzeFiles(ctx, files, max(*jobs, 1), *summary, os.Stdout, os.Stderr, bar)
}

// analyzeFiles analyses files on up to jobs workers and prints the results
// in the order given, each as soon as it and all before it are done. A
// failed file is reported on errw and does not stop the others.
func analyzeFiles(ctx context.Context, files []string, jobs int, summary bool, out, errw io.Writer, bar *progress) error {
	type result struct {
		a   *analysis.Analysis
		err error
	}
	results := make([]chan result, len(files))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				a, err := analysis.AnalyzeFile(ctx, files[i])
				results[i] <- result{a, err}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range files {
			select {
			case next <- i:
			case <-ctx.Done():
				for j := i; j < len(files); j++ {
					results[j] <- result{err: ctx.Err()}
				}
				return
			}
		}
	}()
	defer wg.Wait()

	failed := 0
	enc := json.NewEncoder(out)
	for i, name := range files {
		r := <-results[i]
		bar.step(name)
		if r.err != nil {
			failed++
			bar.clear()
			fmt.Fprintf(errw, "radio analyze: %s: %v\n", name, r.err)
			continue
		}
		bar.clear()
		if summary {
			fmt.Fprintln(out, summarize(name, r.a))
		} else if err := enc.Encode(r.a); err != nil {
			return err
		}
	}
	bar.clear()
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}

var keyNames = [12]string{"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"}

// summarize is the one-line description printed by -summary.
func summarize(name string, a *analysis.Analysis) string {
	mode := "minor"
	if a.Mode == 1 {
		mode = "major"
	}
	key := "?"
	if a.Key >= 0 && a.Key < 12 {
		key = keyNames[a.Key]
	}
	return fmt.Sprintf("%s: %.1f BPM (conf %.2f), %d/4, %s %s, %.1f LUFS, %s, %d beats, %d bars, %d segments, %d sections",
		name, a.Tempo, a.TempoConfidence, a.TimeSignature, key, mode, a.Loudness,
		clock(a.Duration), len(a.Beats), len(a.Bars), len(a.Segments), len(a.Sections))
}

func clock(sec float64) string {
	s := int(sec + 0.5)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// progress draws a one-line bar on a terminal. A nil *progress draws
// nothing.
type progress struct {
	w     io.Writer
	total int
	done  int
	mu    sync.Mutex
}

func (p *progress) step(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	const width = 30
	n := p.done * width / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s\x1b[K", strings.Repeat("#", n), strings.Repeat(".", width-n), p.done, p.total, trim(name, 40))
}

func (p *progress) clear() {
	if p == nil {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
