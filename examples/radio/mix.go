package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/audio/lame"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/source/demo"
	"github.com/foreverfm/forever/tsp"
	"github.com/foreverfm/forever/tsp/order"
)

func init() {
	commands["mix"] = command{
		summary: "render a beat-matched DJ set of the given files to WAV or MP3",
		run:     runMix,
	}
}

func runMix(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mix", flag.ContinueOnError)
	out := fs.String("o", "", "output file, .wav or .mp3 (required)")
	planPath := fs.String("plan", "", "write the plan (every action) as JSON to this file")
	plotPath := fs.String("plot", "", "draw a transition to this PNG file")
	plotN := fs.Int("plot-n", 1, "which transition to draw (1: the first)")
	reorder := fs.Bool("order", false, "let the tsp package choose the order of the tracks")
	target := fs.Float64("target", -14, "loudness every track is brought to, LUFS")
	transition := fs.Duration("transition", 30*time.Second, "length of a beat-matched transition")
	bitrate := fs.Int("bitrate", 192, "MP3 bitrate, kb/s")
	quiet := fs.Bool("q", false, "no progress or decision lines on stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: radio mix A B [C ...] -o OUT.mp3|OUT.wav [-plan plan.json] [-plot transition.png] [-order]")
		fmt.Fprintln(fs.Output(), "\nA, B, ... are audio files (WAV, MP3, FLAC, Ogg) or demo tracks, demo:all for all of them:")
		for _, s := range demo.Catalogue() {
			fmt.Fprintf(fs.Output(), "  %-28s %s, %.0f BPM\n", s.ID, s.Title, s.Tempo)
		}
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	// Flags may come before, between or after the files.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		if fs.Arg(0) == "demo:all" {
			for _, s := range demo.Catalogue() {
				files = append(files, s.ID)
			}
		} else {
			files = append(files, fs.Arg(0))
		}
		args = fs.Args()[1:]
	}
	if len(files) == 0 || *out == "" {
		fs.Usage()
		return flag.ErrHelp
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if ext != ".wav" && ext != ".mp3" {
		return fmt.Errorf("output %s: want a .wav or .mp3 file", *out)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	progress := io.Writer(os.Stderr)
	if *quiet {
		logger = slog.New(slog.DiscardHandler)
		progress = io.Discard
	}

	tracks, err := loadTracks(ctx, files, progress)
	if err != nil {
		return err
	}
	if *reorder {
		if tracks, err = orderTracks(ctx, tracks); err != nil {
			return err
		}
	}

	m := mix.New(mix.Options{Target: *target, Transition: *transition, Logger: logger})
	actions := slices.Collect(m.Actions(ctx, slices.Values(tracks)))
	if err := m.Err(); err != nil {
		return err
	}
	if len(actions) == 0 {
		return errors.New("nothing to mix: every track was skipped")
	}
	printPlan(os.Stdout, actions)
	if *planPath != "" {
		if err := writePlan(*planPath, actions); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		if err := plotTransition(*plotPath, actions, *plotN); err != nil {
			return err
		}
	}
	return renderMix(ctx, *out, ext, *bitrate, actions, progress)
}

// loadTracks decodes and analyses the files, two at a time.
func loadTracks(ctx context.Context, files []string, progress io.Writer) ([]*mix.Track, error) {
	tracks := make([]*mix.Track, len(files))
	errs := make([]error, len(files))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			t, err := loadTrack(f)
			if err != nil {
				errs[i] = err
				return
			}
			a, err := analysis.Analyze(ctx, t.Audio)
			if err != nil {
				errs[i] = fmt.Errorf("analysing %s: %w", f, err)
				return
			}
			t.Analysis = a
			tracks[i] = t
			base := filepath.Base(f)
			mu.Lock()
			done++
			fmt.Fprintf(progress, "analysed %d/%d %s: %.1fs, %.1f BPM, %.1f LUFS\n", done, len(files), base, a.Duration, a.Tempo, a.Loudness)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return tracks, nil
}

// loadTrack decodes a file, or synthesises a demo track named by its ID
// ("demo:01-glass-harbour"; radio mix -h lists them).
func loadTrack(name string) (*mix.Track, error) {
	if strings.HasPrefix(name, "demo:") {
		spec, ok := demo.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("%s: no such demo track", name)
		}
		return &mix.Track{ID: spec.ID, Title: spec.Title, Artist: spec.Artist, Source: spec.ID, Audio: spec.Render()}, nil
	}
	p, err := audio.DecodeFile(name)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(name)
	return &mix.Track{ID: name, Title: strings.TrimSuffix(base, filepath.Ext(base)), Source: name, Audio: p}, nil
}

// orderTracks puts the tracks on a short path through the order package's
// distance, starting from the first one given.
func orderTracks(ctx context.Context, tracks []*mix.Track) ([]*mix.Track, error) {
	ot := make([]order.Track, len(tracks))
	for i, t := range tracks {
		ot[i] = order.Track{ID: t.ID, Analysis: t.Analysis}
	}
	d := order.DefaultMetric().Prepare(ot)
	res, err := tsp.SolvePath(ctx, len(ot), d, 0, tsp.Options{})
	if err != nil {
		return nil, fmt.Errorf("ordering the tracks: %w", err)
	}
	sorted := make([]*mix.Track, len(res.Tour))
	for i, k := range res.Tour {
		sorted[i] = tracks[k]
	}
	return sorted, nil
}

func fmtTime(frames int64) string {
	s := float64(frames) / audio.SampleRate
	return fmt.Sprintf("%d:%06.3f", int(s)/60, s-float64(int(s)/60*60))
}

func printPlan(w io.Writer, actions []mix.Action) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	for _, a := range actions {
		in := a.Info()
		fmt.Fprintf(bw, "%s  %-10s %7.2fs ", fmtTime(in.Start), in.Kind, in.Duration)
		for i, s := range in.Tracks {
			if i > 0 {
				fmt.Fprint(bw, "  +  ")
			}
			fmt.Fprintf(bw, "%s [%.2fs +%.2fs] %+.1f dB", s.Source, s.Start, s.Duration, s.Gain)
		}
		if m := in.Match; m != nil {
			fmt.Fprintf(bw, "  (%d %s, %.1f→%.1f BPM, score %.2f", m.Quanta, m.Rate, m.TempoFrom, m.TempoTo, m.Score)
			if m.Downbeat {
				fmt.Fprint(bw, ", on the downbeat")
			}
			if m.Phrase > 0 {
				fmt.Fprintf(bw, ", %d-bar phrase", m.Phrase)
			}
			fmt.Fprint(bw, ")")
		}
		fmt.Fprintln(bw)
	}
}

func writePlan(path string, actions []mix.Action) error {
	infos := make([]mix.Info, len(actions))
	for i, a := range actions {
		infos[i] = a.Info()
	}
	b, err := json.MarshalIndent(infos, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

// renderMix plays the actions through a Player into the output file.
func renderMix(ctx context.Context, path, ext string, bitrate int, actions []mix.Action, progress io.Writer) (err error) {
	last := actions[len(actions)-1].Info()
	total := last.Start + int64(last.Frames)
	p := mix.NewPlayer(ctx, slices.Values(actions), mix.PlayerOptions{})
	defer p.Close()
	total += int64(p.Limiter().Delay())

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	var write func([]float32) error
	var finish func() error
	var pcm *audio.PCM
	if ext == ".mp3" {
		enc, err := lame.NewEncoder(f, lame.Options{Bitrate: bitrate})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		write, finish = enc.Write, enc.Close
	} else {
		// WriteWAV takes the whole PCM.
		pcm = &audio.PCM{Samples: make([]float32, 0, 2*total)}
		write = func(s []float32) error { pcm.Samples = append(pcm.Samples, s...); return nil }
		finish = func() error { return audio.WriteWAV(f, pcm) }
	}
	// On a terminal the progress line redraws itself; elsewhere a line a
	// minute of output.
	tty := progress == io.Writer(os.Stderr) && term.IsTerminal(int(os.Stderr.Fd()))
	cr, nl := "", "\n"
	if tty {
		cr, nl = "\r", ""
	}
	buf := make([]float32, 2*audio.SampleRate)
	var rendered int64
	began := time.Now()
	for {
		n, rerr := p.Read(buf)
		if werr := write(buf[:2*n]); werr != nil {
			return fmt.Errorf("%s: %w", path, werr)
		}
		rendered += int64(n)
		if tty || rendered%(60*audio.SampleRate) < audio.SampleRate || rerr != nil {
			fmt.Fprintf(progress, "%srendering %s / %s%s", cr, fmtTime(rendered), fmtTime(total), nl)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	secs := float64(rendered) / audio.SampleRate
	fmt.Fprintf(progress, "%srendered %.1fs in %.1fs (%.0fx real time), limiter delay %d frames, %d samples clamped\n",
		map[bool]string{true: "\n"}[tty], secs, time.Since(began).Seconds(), secs/time.Since(began).Seconds(), p.Limiter().Delay(), p.Limiter().Clipped())
	if err := finish(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
