// Command evaluate scores forever's analysis against ground truth, and
// optionally against aubio, the open-source beat tracker people would
// otherwise reach for.
//
// It renders the demo catalogue (whose tempo, beats, downbeats and key are
// known exactly) to WAV files in a temporary directory, analyses each file
// with analysis.AnalyzeFile (decoding included), and prints per track and
// on average: tempo within 4% and octave errors, beat F-measure (±70 ms),
// CMLt and AMLt (as mir_eval computes them, beats before 5 s trimmed),
// downbeat F-measure, and key. Real recordings without annotations
// (../shared/testdata/music, and with -fetch Debian's game-music and
// sample packages) are analysed too, but can only be compared with aubio:
// a peer tool is not ground truth, so for them the figures are agreement.
//
// With -annotated, real music whose beats are known exactly is fetched from
// Debian and scored like the demo: Frets on Fire songs (studio recordings
// whose charts' tempo maps were synchronised with them by hand), game
// soundtracks written in MIDI, rendered with fluidsynth, and the electronic
// songs LMMS ships as projects, rendered with LMMS (when it is installed).
// Tempo accuracy counts only pieces of steady tempo.
//
// With -aubio, `aubio tempo` and `aubio beat` run on the same files; the
// wall time of `aubio tempo FILE` (a whole process, as a user runs it) and
// of our decode+analysis of the same file are measured alternately in one
// run and reported as a ratio. With -essentia, Essentia's
// RhythmExtractor2013 (essentia.js from npm, under Node) scores the same
// files with ground truth, beside ours.
//
//	go run ./internal/cmd/evaluate            # demo + shared music
//	go run ./internal/cmd/evaluate -aubio     # side by side with aubio
//	go run ./internal/cmd/evaluate -aubio -fetch sonic-pi-samples -match 'loop_*'
//	go run ./internal/cmd/evaluate -aubio -annotated -max-files 0 -keep ~/.cache/forever/eval
//	go run ./internal/cmd/evaluate -essentia -annotated -max-files 0 -keep ~/.cache/forever/eval
package main

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/internal/eval"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/internal/cputime"
	"github.com/foreverfm/forever/source/demo"
	"golang.org/x/term"
)

func main() {
	var o options
	flag.BoolVar(&o.demo, "demo", true, "evaluate on the demo catalogue")
	flag.IntVar(&o.demoTracks, "demo-tracks", 0, "evaluate only the first N demo tracks (0: all)")
	flag.StringVar(&o.music, "music", "", "directory of unannotated music (default ../shared/testdata/music when present; - for none)")
	flag.BoolVar(&o.aubio, "aubio", false, "also run aubio tempo and aubio beat on every file and compare")
	flag.BoolVar(&o.essentia, "essentia", false, "also run Essentia's RhythmExtractor2013 (essentia.js "+essentiaVersion+" from npm, under Node; about 12x real time) on every file with ground truth and compare")
	flag.StringVar(&o.fetch, "fetch", "", "comma-separated Debian packages of music to apt-get download into the temporary directory (e.g. sonic-pi-samples,nexuiz-music)")
	flag.IntVar(&o.maxFiles, "max-files", 10, "at most this many audio files from each fetched package")
	flag.StringVar(&o.match, "match", "", "only fetched files whose base name matches this glob (e.g. 'loop_*' for sonic-pi-samples, whose other files are one-shot hits)")
	flag.Float64Var(&o.tol, "tol", 0.04, "relative tempo tolerance")
	flag.BoolVar(&o.annotated, "annotated", false, "also evaluate on real music with exact beat annotations, fetched from Debian: Frets on Fire recordings with their charts, game soundtracks in MIDI rendered with fluidsynth (needs fluidsynth and fluid-soundfont-gm), and LMMS's songs rendered with LMMS (when lmms is installed); use -keep to fetch and render once")
	flag.StringVar(&o.keep, "keep", "", "keep fetched packages in this directory, and reuse them, instead of a temporary one")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: evaluate [flags] [audio files...]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	o.extra = flag.Args()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		os.Exit(1)
	}
}

type options struct {
	demo       bool
	demoTracks int
	music      string
	aubio      bool
	essentia   bool
	fetch      string
	maxFiles   int
	match      string
	tol        float64
	keep       string
	annotated  bool
	extra      []string

	aubioStartup   time.Duration // measured: aubio tempo on a 0.1 s file
	essentiaScript string        // set up by run
}

// item is one audio file and what each side made of it.
type item struct {
	group string // "demo", "music", or a package name
	name  string
	path  string
	truth *demo.Truth // Key -1: unknown
	// varies: the annotated tempo changes, so there is no one right
	// tempo to score (beats are still scored).
	varies bool

	ours     *analysis.Analysis
	oursTime time.Duration
	oursCPU  time.Duration // user+system time of this process meanwhile
	oursErr  error

	aubioBPM   float64
	aubioBeats []float64
	aubioTime  time.Duration // of `aubio tempo`
	aubioCPU   time.Duration // user+system time of the `aubio tempo` process
	aubioErr   error

	essentia peerResult
}

func run(ctx context.Context, o options) error {
	if o.aubio {
		if _, err := exec.LookPath("aubio"); err != nil {
			return fmt.Errorf("aubio not installed (apt install aubio-tools): %w", err)
		}
	}
	// Demo renders always go to a fresh directory, so that they match the
	// catalogue compiled into this binary.
	tmp, err := os.MkdirTemp("", "forever-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := o.keep
	if dir == "" {
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	var items []*item
	if o.demo {
		demos, err := renderDemos(ctx, tmp, o.demoTracks)
		if err != nil {
			return err
		}
		items = append(items, demos...)
	}
	music := o.music
	if music == "" {
		music = sharedMusic()
	}
	if music != "" && music != "-" {
		files, err := audioFiles(music, "", 0)
		if err != nil {
			return err
		}
		for _, f := range files {
			items = append(items, &item{group: "music", name: filepath.Base(f), path: f})
		}
	}
	for _, f := range o.extra {
		items = append(items, &item{group: "files", name: filepath.Base(f), path: f})
	}
	if o.annotated {
		ann, err := annotatedItems(ctx, dir, o.maxFiles)
		if err != nil {
			return err
		}
		items = append(items, ann...)
	}
	if o.fetch != "" {
		for _, pkg := range strings.Split(o.fetch, ",") {
			files, err := fetchPackage(ctx, dir, strings.TrimSpace(pkg), o.match, o.maxFiles)
			if err != nil {
				slog.Warn("fetch failed; skipping package", "package", pkg, "err", err)
				continue
			}
			for _, f := range files {
				items = append(items, &item{group: pkg, name: filepath.Base(f), path: f})
			}
		}
	}
	if len(items) == 0 {
		return errors.New("nothing to evaluate")
	}
	if o.aubio {
		o.aubioStartup = aubioStartup(ctx, tmp)
	}
	if o.essentia {
		if o.essentiaScript, err = setupEssentia(ctx, dir); err != nil {
			return err
		}
	}

	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		progress("[%d/%d] %s", i+1, len(items), it.name)
		// Alternate who goes first, so that neither side always meets a
		// cold page cache or a busy neighbour.
		if i%2 == 1 && o.aubio {
			runAubio(ctx, it)
		}
		start, cpu := time.Now(), cputime.Self()
		it.ours, it.oursErr = analysis.AnalyzeFile(ctx, it.path)
		it.oursTime, it.oursCPU = time.Since(start), cputime.Self()-cpu
		if i%2 == 0 && o.aubio {
			runAubio(ctx, it)
		}
		if o.essentia && it.truth != nil {
			runEssentia(ctx, o.essentiaScript, tmp, it)
		}
	}
	progress("")
	report(os.Stdout, items, o)
	return nil
}

// progress shows a one-line status on a terminal; an empty format clears
// it.
func progress(format string, args ...any) {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return
	}
	fmt.Fprintf(os.Stderr, "\r\033[K"+format, args...)
}

// renderDemos writes the demo catalogue as 16-bit WAV files.
func renderDemos(ctx context.Context, dir string, n int) ([]*item, error) {
	specs := demo.Catalogue()
	if n > 0 && n < len(specs) {
		specs = specs[:n]
	}
	items := make([]*item, len(specs))
	for i, s := range specs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("rendering demo %d/%d", i+1, len(specs))
		path := filepath.Join(dir, fmt.Sprintf("demo-%02d.wav", i+1))
		if err := writeWAV(path, s.Render()); err != nil {
			return nil, err
		}
		t := s.Truth()
		items[i] = &item{group: "demo", name: s.Title, path: path, truth: &t}
	}
	return items, nil
}

func writeWAV(path string, p *audio.PCM) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = audio.WriteWAV(w, p)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// sharedMusic finds ../shared/testdata/music from the module root, or "".
func sharedMusic() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			m := filepath.Join(filepath.Dir(dir), "shared", "testdata", "music")
			if _, err := os.Stat(m); err == nil {
				return m
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

var audioExt = map[string]bool{".wav": true, ".mp3": true, ".flac": true, ".ogg": true}

// audioFiles lists the audio files under dir whose base names match the
// glob match (all when empty), in name order, at most max of them (0: all)
// spread over the whole listing.
func audioFiles(dir, match string, max int) ([]string, error) {
	if _, err := filepath.Match(match, ""); err != nil {
		return nil, fmt.Errorf("bad -match pattern %q: %w", match, err)
	}
	files, err := findFiles(dir, func(name string) bool {
		ok, _ := filepath.Match(match, name)
		return (match == "" || ok) && audioExt[strings.ToLower(filepath.Ext(name))]
	})
	return spread(files, max), err
}

// spread picks max of files (all when max is 0), evenly over the list.
func spread(files []string, max int) []string {
	if max <= 0 || len(files) <= max {
		return files
	}
	picked := make([]string, max)
	for i := range picked {
		picked[i] = files[i*len(files)/max]
	}
	return picked
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// unzipAudio extracts the audio files of a zip archive into dir, flat,
// each at most 200 MB.
func unzipAudio(archive, dir string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	defer zr.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range zr.File {
		name := filepath.Base(f.Name)
		if f.FileInfo().IsDir() || !audioExt[strings.ToLower(filepath.Ext(name))] {
			continue
		}
		if err := extract(f, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %s: %w", archive, f.Name, err)
		}
	}
	return nil
}

func extract(f *zip.File, path string) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, io.LimitReader(r, 200<<20))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// fetchPackage downloads a Debian package with apt-get and extracts its
// audio files into dir. Nothing fetched goes into the repository.
func fetchPackage(ctx context.Context, dir, pkg, match string, max int) ([]string, error) {
	root, err := download(ctx, dir, pkg)
	if err != nil {
		return nil, err
	}
	pdir := filepath.Dir(root)
	if un := filepath.Join(pdir, "unzipped"); dirExists(un) {
		a, err := audioFiles(root, match, 0)
		if err != nil {
			return nil, err
		}
		b, err := audioFiles(un, match, 0)
		if err != nil {
			return nil, err
		}
		return spread(append(a, b...), max), nil
	}
	return audioFiles(root, match, max)
}

// download fetches a Debian package with apt-get into dir, unpacks it, and
// returns the root it was unpacked into. A package already there is reused.
func download(ctx context.Context, dir, pkg string) (string, error) {
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`).MatchString(pkg) {
		return "", fmt.Errorf("bad package name %q", pkg)
	}
	pdir := filepath.Join(dir, "pkg-"+pkg)
	root := filepath.Join(pdir, "root")
	if _, err := os.Stat(root); err == nil {
		return root, nil
	}
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "apt-get download %s\n", pkg)
	cmd := exec.CommandContext(ctx, "apt-get", "download", pkg)
	cmd.Dir = pdir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %w\n%s", pkg, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(pdir, "*.deb"))
	if len(debs) == 0 {
		return "", fmt.Errorf("apt-get download %s: no .deb", pkg)
	}
	// Unpack beside, then rename: an interrupted unpack is not mistaken
	// for a finished one next time.
	tmp := root + ".tmp"
	os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], tmp).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x %s: %w\n%s", debs[0], err, out)
	}
	// Games keep their music in zip archives (Quake-style .pk3).
	var archives []string
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".pk3") {
			archives = append(archives, p)
		}
		return nil
	})
	for _, a := range archives {
		if err := unzipAudio(a, filepath.Join(pdir, "unzipped", filepath.Base(a))); err != nil {
			return "", err
		}
	}
	return root, os.Rename(tmp, root)
}

// aubioStartup times `aubio tempo` on a 0.1 s silent file, best of three:
// what every aubio run pays before reading any audio.
func aubioStartup(ctx context.Context, dir string) time.Duration {
	path := filepath.Join(dir, "startup-silence.wav")
	if err := writeWAV(path, audio.NewPCM(audio.SampleRate/10)); err != nil {
		return 0
	}
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		if err := exec.CommandContext(ctx, "aubio", "tempo", path).Run(); err != nil {
			return 0
		}
		best = min(best, time.Since(start))
	}
	return best
}

var aubioBPM = regexp.MustCompile(`([\d.]+)\s*bpm`)

// runAubio runs `aubio tempo` (timed) and `aubio beat` on it.path.
func runAubio(ctx context.Context, it *item) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, "aubio", "tempo", it.path)
	out, err := cmd.Output()
	it.aubioTime = time.Since(start)
	if cmd.ProcessState != nil {
		it.aubioCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		it.aubioErr = fmt.Errorf("aubio tempo: %w", err)
		return
	}
	if m := aubioBPM.FindSubmatch(out); m != nil {
		it.aubioBPM, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	out, err = exec.CommandContext(ctx, "aubio", "beat", it.path).Output()
	if err != nil {
		it.aubioErr = fmt.Errorf("aubio beat: %w", err)
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			it.aubioBeats = append(it.aubioBeats, v)
		}
	}
}

func beatTimes(qs []analysis.Quantum) []float64 {
	t := make([]float64, len(qs))
	for i, q := range qs {
		t[i] = q.Start
	}
	return t
}

// scores of one side on one track.
type scores struct {
	ok, tempoOK, octave bool
	beat                eval.BeatScores
	beatOK              bool // beat scores computed
	downbeatF           float64
	keyOK               bool
}

func score(truth *demo.Truth, tempo float64, beats []float64, tol float64) scores {
	var s scores
	s.ok = true
	s.tempoOK, s.octave = eval.TempoWithin(truth.Tempo, tempo, tol)
	if b, err := eval.EvaluateBeats(truth.Beats, beats); err == nil {
		s.beat, s.beatOK = b, true
	}
	return s
}

// mean accumulates a column's average.
type mean struct {
	sum float64
	n   int
}

func (m *mean) add(v float64) { m.sum += v; m.n++ }
func (m *mean) addBool(v bool) {
	if v {
		m.add(1)
	} else {
		m.add(0)
	}
}
func (m mean) String() string {
	if m.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", m.sum/float64(m.n))
}

// upToOctave counts the tempi right or an octave off, from the means of
// each over the same tracks.
func upToOctave(right, octave mean) string {
	return mean{sum: right.sum + octave.sum, n: right.n}.pct()
}

func (m mean) pct() string {
	if m.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%% (%d/%d)", 100*m.sum/float64(m.n), int(math.Round(m.sum)), m.n)
}

func report(w io.Writer, items []*item, o options) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var (
		agreeTempo, agreeF    mean
		oursTotal, aubioTotal time.Duration
		oursSecs, audioSecs   float64
	)
	hasTruth := slices.ContainsFunc(items, func(it *item) bool { return it.truth != nil })
	if hasTruth {
		reportTruth(w, tw, items, o, &oursTotal, &aubioTotal, &oursSecs, &audioSecs)
	}
	var rest []*item
	for _, it := range items {
		if it.truth == nil {
			rest = append(rest, it)
		}
	}
	if len(rest) > 0 {
		fmt.Fprintln(w, "No ground truth: real recordings. aubio is a peer, not the truth; the columns say where the two agree.")
		header := "group\tfile\tours BPM\t"
		if o.aubio {
			header += "aubio BPM\ttempo agree\tbeat F vs aubio\tours s\taubio s\taubio/ours\t"
		} else {
			header += "beats\tkey\tloudness\tours s\t"
		}
		fmt.Fprintln(tw, header)
		for _, it := range rest {
			row := []string{it.group, it.name}
			if it.oursErr != nil {
				row = append(row, "error: "+it.oursErr.Error())
				fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
				continue
			}
			a := it.ours
			row = append(row, fmt.Sprintf("%.1f", a.Tempo))
			if o.aubio {
				if it.aubioErr != nil {
					row = append(row, "error: "+it.aubioErr.Error())
				} else {
					ok, oct := eval.TempoWithin(it.aubioBPM, a.Tempo, o.tol)
					agreeTempo.addBool(ok)
					f := eval.BeatFMeasure(it.aubioBeats, beatTimes(a.Beats))
					agreeF.add(f)
					row = append(row, fmt.Sprintf("%.1f", it.aubioBPM), strings.TrimSpace(mark(ok, oct)), f3(f))
					row = append(row, timeColumns(it, &oursTotal, &aubioTotal)...)
				}
			} else {
				row = append(row, strconv.Itoa(len(a.Beats)), keyName(a.Key, a.Mode),
					fmt.Sprintf("%.1f LUFS", a.Loudness), fmt.Sprintf("%.2f", it.oursTime.Seconds()))
			}
			oursSecs += it.oursTime.Seconds()
			audioSecs += a.Duration
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		tw.Flush()
		if o.aubio {
			fmt.Fprintf(w, "agreement with aubio: tempo %s, mean beat F %s\n", agreeTempo.pct(), agreeF)
		}
		fmt.Fprintln(w)
	}
	if audioSecs > 0 {
		fmt.Fprintf(w, "ours: %.1f s of audio decoded and analysed in %.2f s wall (%.0fx real time, GOMAXPROCS default)\n",
			audioSecs, oursSecs, audioSecs/oursSecs)
	}
	if o.aubio && oursTotal > 0 {
		fmt.Fprintf(w, "speed, same files, one run, alternating: aubio tempo %.2f s, ours %.2f s; aubio/ours = %.2f (above 1: ours is faster)\n",
			aubioTotal.Seconds(), oursTotal.Seconds(), aubioTotal.Seconds()/oursTotal.Seconds())
		fmt.Fprintln(w, "(aubio's time is the `aubio tempo FILE` process, interpreter start included; ours is AnalyzeFile in-process, decoding included)")
		if cpuTotals[0] > 0 && cpuTotals[1] > 0 {
			fmt.Fprintf(w, "CPU time (user+system), same files: aubio %.2f s, ours %.2f s; aubio/ours = %.2f (steadier than wall time on a busy machine)\n",
				cpuTotals[1].Seconds(), cpuTotals[0].Seconds(), cpuTotals[1].Seconds()/cpuTotals[0].Seconds())
		}
		if o.aubioStartup > 0 {
			fmt.Fprintf(w, "aubio start-up alone (0.1 s file, best of 3): %.2f s per run\n", o.aubioStartup.Seconds())
		}
	}
	if o.essentia {
		essentiaSummary(w, essentiaTimes[1], essentiaTimes[0])
	}
}

// groupTitles say what each group's truth is.
var groupTitles = map[string]string{
	"demo":     "the demo catalogue (exact tempo, beats, downbeats, key)",
	"recorded": "real recordings (Frets on Fire songs) with their charts' beat annotations",
	"midi":     "game soundtracks in MIDI, rendered with fluidsynth (beats from the tempo map)",
	"lmms":     "electronic songs that ship with LMMS, rendered with LMMS (beats from the project's tempo)",
}

// reportTruth prints a table per group of tracks with ground truth, adding
// their times to the totals.
func reportTruth(w io.Writer, tw *tabwriter.Writer, items []*item, o options, oursTotal, aubioTotal *time.Duration, oursSecs, audioSecs *float64) {
	var groups []string
	for _, it := range items {
		if it.truth != nil && !slices.Contains(groups, it.group) {
			groups = append(groups, it.group)
		}
	}
	for _, g := range groups {
		title := groupTitles[g]
		if title == "" {
			title = g
		}
		fmt.Fprintf(w, "Ground truth: %s.\n", title)
		var in []*item
		for _, it := range items {
			if it.truth != nil && it.group == g {
				in = append(in, it)
			}
		}
		reportGroup(w, tw, in, o, oursTotal, aubioTotal, oursSecs, audioSecs)
	}
}

func reportGroup(w io.Writer, tw *tabwriter.Writer, items []*item, o options, oursTotal, aubioTotal *time.Duration, oursSecs, audioSecs *float64) {
	var (
		oTempo, oOct, oF, oCMLt, oAMLt, oDown, oKey mean
		aTempo, aOct, aF, aCMLt, aAMLt              mean
		eTempo, eOct, eF, eCMLt, eAMLt              mean
	)
	header := "track\ttruth BPM\tours BPM\tF\tCMLt\tAMLt\tbar F\tkey\t"
	if o.aubio {
		header += "aubio BPM\tF\tCMLt\tAMLt\tours s\taubio s\taubio/ours\t"
	} else {
		header += "ours s\t"
	}
	if o.essentia {
		header += "essentia BPM\tF\tCMLt\tAMLt\t"
	}
	fmt.Fprintln(tw, header)
	varies := 0
	for _, it := range items {
		truthBPM := fmt.Sprintf("%.1f", it.truth.Tempo)
		if it.varies {
			truthBPM += " (varies)"
			varies++
		}
		row := []string{it.name, truthBPM}
		if it.oursErr != nil {
			row = append(row, "error: "+it.oursErr.Error())
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
			continue
		}
		a := it.ours
		s := score(it.truth, a.Tempo, beatTimes(a.Beats), o.tol)
		s.downbeatF = eval.BeatFMeasure(it.truth.Downbeats, beatTimes(a.Bars))
		if !it.varies {
			oTempo.addBool(s.tempoOK)
			oOct.addBool(s.octave)
		}
		oF.add(s.beat.FMeasure)
		oCMLt.add(s.beat.CMLt)
		oAMLt.add(s.beat.AMLt)
		oDown.add(s.downbeatF)
		key := ""
		if it.truth.Key >= 0 {
			s.keyOK = a.Key == it.truth.Key && a.Mode == it.truth.Mode
			oKey.addBool(s.keyOK)
			key = "ok"
			if !s.keyOK {
				key = keyName(a.Key, a.Mode) + " (" + keyName(it.truth.Key, it.truth.Mode) + ")"
			}
		}
		row = append(row, fmt.Sprintf("%.1f%s", a.Tempo, mark(s.tempoOK, s.octave)),
			f3(s.beat.FMeasure), f3(s.beat.CMLt), f3(s.beat.AMLt), f3(s.downbeatF), key)
		if o.aubio {
			row = append(row, aubioColumns(it, o, &aTempo, &aOct, &aF, &aCMLt, &aAMLt)...)
			row = append(row, timeColumns(it, oursTotal, aubioTotal)...)
		} else {
			row = append(row, fmt.Sprintf("%.2f", it.oursTime.Seconds()))
		}
		if o.essentia {
			row = append(row, peerColumns(it.truth, it.essentia, it.varies, o, &eTempo, &eOct, &eF, &eCMLt, &eAMLt)...)
			if it.essentia.err == nil {
				essentiaTimes[0] += it.oursTime
				essentiaTimes[1] += it.essentia.compute
			}
		}
		*oursSecs += it.oursTime.Seconds()
		*audioSecs += a.Duration
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	meanRow := []string{"mean", "", "tempo " + oTempo.pct(), oF.String(), oCMLt.String(), oAMLt.String(), oDown.String(), oKey.pct()}
	if o.aubio {
		meanRow = append(meanRow, "tempo "+aTempo.pct(), aF.String(), aCMLt.String(), aAMLt.String(), "", "", "")
	} else {
		meanRow = append(meanRow, "")
	}
	if o.essentia {
		meanRow = append(meanRow, "tempo "+eTempo.pct(), eF.String(), eCMLt.String(), eAMLt.String())
	}
	fmt.Fprintln(tw, strings.Join(meanRow, "\t")+"\t")
	tw.Flush()
	fmt.Fprintf(w, "octave errors: ours %s", oOct.pct())
	if o.aubio {
		fmt.Fprintf(w, ", aubio %s", aOct.pct())
	}
	if o.essentia {
		fmt.Fprintf(w, ", essentia %s", eOct.pct())
	}
	fmt.Fprintf(w, "  (tempo tolerance %.0f%%; x2 = octave error, -- = wrong)\n", 100*o.tol)
	fmt.Fprintf(w, "right or an octave off: ours %s", upToOctave(oTempo, oOct))
	if o.aubio {
		fmt.Fprintf(w, ", aubio %s", upToOctave(aTempo, aOct))
	}
	if o.essentia {
		fmt.Fprintf(w, ", essentia %s", upToOctave(eTempo, eOct))
	}
	fmt.Fprintln(w)
	if varies > 0 {
		fmt.Fprintf(w, "%d pieces change tempo by more than %.0f%%: their beats are scored, their tempo is not.\n", varies, 100*(steadyRatio-1))
	}
	fmt.Fprintln(w)
}

func mark(ok, oct bool) string {
	switch {
	case ok:
		return " ok"
	case oct:
		return " x2"
	}
	return " --"
}

func aubioColumns(it *item, o options, aTempo, aOct, aF, aCMLt, aAMLt *mean) []string {
	return peerColumns(it.truth, peerResult{bpm: it.aubioBPM, beats: it.aubioBeats, err: it.aubioErr}, it.varies, o, aTempo, aOct, aF, aCMLt, aAMLt)
}

// peerColumns scores a peer tracker's result against the truth, adding to
// its means: tempo, F, CMLt, AMLt.
func peerColumns(truth *demo.Truth, r peerResult, varies bool, o options, tempo, oct, f, cmlt, amlt *mean) []string {
	if r.err != nil {
		return []string{"error: " + r.err.Error(), "", "", ""}
	}
	s := score(truth, r.bpm, r.beats, o.tol)
	if !varies {
		tempo.addBool(s.tempoOK)
		oct.addBool(s.octave)
	}
	f.add(s.beat.FMeasure)
	cmlt.add(s.beat.CMLt)
	amlt.add(s.beat.AMLt)
	return []string{fmt.Sprintf("%.1f%s", r.bpm, mark(s.tempoOK, s.octave)), f3(s.beat.FMeasure), f3(s.beat.CMLt), f3(s.beat.AMLt)}
}

func timeColumns(it *item, oursTotal, aubioTotal *time.Duration) []string {
	if it.aubioErr != nil || it.oursErr != nil {
		return []string{"", "", ""}
	}
	*oursTotal += it.oursTime
	*aubioTotal += it.aubioTime
	cpuTotals[0] += it.oursCPU
	cpuTotals[1] += it.aubioCPU
	return []string{fmt.Sprintf("%.2f", it.oursTime.Seconds()), fmt.Sprintf("%.2f", it.aubioTime.Seconds()),
		fmt.Sprintf("%.1f", it.aubioTime.Seconds()/it.oursTime.Seconds())}
}

// cpuTotals sums the CPU time of ours and aubio's over the timed files.
var cpuTotals [2]time.Duration

// essentiaTimes sums our wall time and Essentia's own computation time
// over the files Essentia analysed.
var essentiaTimes [2]time.Duration

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

var pitchNames = [12]string{"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"}

func keyName(key, mode int) string {
	m := "min"
	if mode == 1 {
		m = "maj"
	}
	return pitchNames[((key%12)+12)%12] + m
}
