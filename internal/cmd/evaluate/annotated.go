package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/foreverfm/forever/internal/eval"
	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/source/demo"
)

// Music in Debian whose beats are known exactly, because a MIDI file times
// it. Frets on Fire songs are studio recordings (backing and guitar stems)
// with a chart whose tempo map the charter synchronised with the audio: a
// human beat annotation of real recorded music. The MIDI packages hold
// game soundtracks written by people, which fluidsynth renders with a
// General MIDI sound font: real compositions and arrangements, played to a
// grid. LMMS ships electronic songs as projects, which LMMS renders with
// its own synthesisers and samples, to the project's tempo.
var (
	recordedPackages = []string{"fretsonfire-songs-sectoid", "fretsonfire-songs-muldjord"}
	lmmsPackages     = []string{"lmms-common"}
	midiPackages     = []string{
		"openttd-openmsx", "simutrans-data", "planetblupi-music-midi", "freedink-data",
		"crimson", "kobodeluxe-data", "liquidwar-data", "pangzero", "pinball-table-hurd-data",
	}
)

// The sound font that fluidsynth renders with (apt fluid-soundfont-gm).
const soundFont = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

// A piece is steady when its beat rate stays within this ratio while notes
// sound; only steady pieces count towards tempo accuracy, as the issue of
// a single "right tempo" only has an answer for them.
const steadyRatio = 1.04

// Pieces shorter than this are jingles, not music to mix.
const minPieceSeconds = 30

// A MIDI file with fewer of its notes on a sequencer's grid than this was
// played in live without a click, or sits off its grid (eval.Score.OnGrid):
// its tempo map does not follow the music, so it is analysed without
// truth, like unannotated music. In Debian's game packages the sequenced
// files score 0.66 and above, the others 0.00-0.51.
const minOnGrid = 0.6

// LMMS's songs: its demos and its short pieces, not its templates and
// tutorials.
var lmmsSongDirs = []string{"demos", "shorties"}

// annotatedItems fetches the packages above into dir (once: later runs
// reuse what is there), prepares one WAV file per piece beside them, and
// returns the pieces with their annotations as truth. At most max pieces
// are taken from each package (0: all). LMMS's songs are left out, with a
// warning, where LMMS is not installed.
func annotatedItems(ctx context.Context, dir string, max int) ([]*item, error) {
	if _, err := exec.LookPath("fluidsynth"); err != nil {
		return nil, errors.New("fluidsynth not installed (apt install fluidsynth fluid-soundfont-gm)")
	}
	if _, err := os.Stat(soundFont); err != nil {
		return nil, fmt.Errorf("sound font missing (apt install fluid-soundfont-gm): %w", err)
	}
	type fileSet struct {
		group string
		keep  func(path string) bool
		pkgs  []string
	}
	sets := []fileSet{
		{"recorded", nameIs("notes.mid"), recordedPackages},
		{"midi", nameIs("*.mid"), midiPackages},
	}
	if _, err := exec.LookPath("lmms"); err != nil {
		slog.Warn("lmms not installed (apt install lmms); leaving out its songs")
	} else {
		sets = append(sets, fileSet{"lmms", isLMMSSong, lmmsPackages})
	}
	var jobs []*piece
	for _, set := range sets {
		for _, pkg := range set.pkgs {
			root, err := download(ctx, dir, pkg)
			if err != nil {
				slog.Warn("fetch failed; skipping package", "package", pkg, "err", err)
				continue
			}
			files, err := findFiles(root, set.keep)
			if err != nil {
				return nil, err
			}
			for _, f := range spread(files, max) {
				p := &piece{group: set.group, pkg: pkg, score: f}
				if set.group == "recorded" {
					p.stems = stemsOf(filepath.Dir(f))
				}
				jobs = append(jobs, p)
			}
		}
	}
	out := filepath.Join(dir, "annotated")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	// Prepare in parallel: rendering and mixing are the slow part.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			progress("preparing annotated music %d/%d", i+1, len(jobs))
			p.err = p.prepare(ctx, out)
		}()
	}
	wg.Wait()
	progress("")
	var items []*item
	for _, p := range jobs {
		if p.err != nil {
			if !errors.Is(p.err, errSkip) {
				slog.Warn("skipping annotated piece", "file", p.score, "err", p.err)
			}
			continue
		}
		it := &item{group: p.group, name: p.name, path: p.wav, truth: p.truth, varies: !p.steady}
		if p.onGrid < minOnGrid {
			it.group, it.truth = p.group+" (notes off its grid: no truth)", nil
		}
		items = append(items, it)
	}
	return items, ctx.Err()
}

// errSkip marks a piece left out on purpose (too short to be music).
var errSkip = errors.New("skipped")

// nameIs keeps the files whose base names match a pattern, in any case.
func nameIs(pattern string) func(path string) bool {
	return func(path string) bool {
		ok, _ := filepath.Match(pattern, strings.ToLower(filepath.Base(path)))
		return ok
	}
}

// isLMMSSong keeps LMMS projects in the folders of its songs.
func isLMMSSong(path string) bool {
	ext := filepath.Ext(path)
	if ext != ".mmp" && ext != ".mmpz" {
		return false
	}
	// The folder right below projects says what kind of project it is.
	for dir := filepath.Dir(path); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if filepath.Base(filepath.Dir(dir)) == "projects" {
			return slices.Contains(lmmsSongDirs, filepath.Base(dir))
		}
	}
	return false
}

// piece is one annotated piece of music on its way to a WAV file.
type piece struct {
	group, pkg string
	score      string   // the tempo map: a MIDI file, or an LMMS project
	stems      []string // recorded audio to mix; none: render the score

	name   string
	wav    string
	truth  *demo.Truth
	steady bool
	onGrid float64
	err    error
}

func (p *piece) prepare(ctx context.Context, dir string) error {
	if p.group == "lmms" {
		return p.prepareLMMS(ctx, dir)
	}
	f, err := os.Open(p.score)
	if err != nil {
		return err
	}
	s, err := eval.ReadMIDI(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", p.score, err)
	}
	if s.LastNote-s.FirstNote < minPieceSeconds {
		return errSkip
	}
	p.steady = s.MaxBPM <= s.MinBPM*steadyRatio
	p.onGrid = s.OnGrid
	// Key is unknown (-1): a MIDI key signature is optional and often a
	// default, so it is no annotation.
	p.truth = &demo.Truth{Tempo: s.Tempo(), Beats: s.Beats, Downbeats: s.Downbeats, Key: -1}
	base := strings.TrimSuffix(filepath.Base(p.score), filepath.Ext(p.score))
	if len(p.stems) > 0 {
		base = filepath.Base(filepath.Dir(p.score)) // the song's folder names it
	}
	err = p.produce(dir, base, func(tmp string) error {
		if len(p.stems) > 0 {
			return mixStems(tmp, p.stems)
		}
		return renderMIDI(ctx, tmp, p.score)
	})
	if err != nil {
		return err
	}
	if len(p.stems) == 0 {
		return checkRender(p.wav, p.score, s.LastNote)
	}
	return nil
}

// prepareLMMS renders an LMMS project and annotates the rendering with the
// project's grid where it sounds. A project keeps no list of its notes
// that is simple to read (patterns, beat/bassline tracks and samples all
// play), so the rendering itself says where the music starts and ends.
func (p *piece) prepareLMMS(ctx context.Context, dir string) error {
	f, err := os.Open(p.score)
	if err != nil {
		return err
	}
	proj, err := eval.ReadLMMS(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", p.score, err)
	}
	base := strings.TrimSuffix(filepath.Base(p.score), filepath.Ext(p.score))
	if err := p.produce(dir, base, func(tmp string) error { return renderLMMS(ctx, tmp, p.score) }); err != nil {
		return err
	}
	pcm, err := audio.DecodeFile(p.wav)
	if err != nil {
		return err
	}
	from, to := soundingSpan(pcm)
	if to-from < minPieceSeconds {
		return errSkip
	}
	s := proj.Grid(from, to)
	p.steady, p.onGrid = !proj.Automated, s.OnGrid
	p.truth = &demo.Truth{Tempo: s.Tempo(), Beats: s.Beats, Downbeats: s.Downbeats, Key: -1}
	return nil
}

// produce names the piece's WAV file in dir after base and, unless it is
// there from an earlier run, makes it with render, which writes the path
// it is given.
func (p *piece) produce(dir, base string, render func(path string) error) error {
	p.name = base
	p.wav = filepath.Join(dir, p.pkg+"-"+strings.ReplaceAll(base, " ", "_")+".wav")
	if _, err := os.Stat(p.wav); err == nil {
		return nil
	}
	// Renderers name their output by its extension: keep it last.
	tmp := strings.TrimSuffix(p.wav, ".wav") + ".tmp.wav"
	if err := render(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, p.wav)
}

// Where a rendering sounds: the first and the last 50 ms window whose
// level is within silenceBelow dB of the loudest window's.
const (
	spanWindow   = 0.05 // seconds
	silenceBelow = 50.0 // dB
)

// soundingSpan returns where p sounds, in seconds (0, 0 for silence).
func soundingSpan(p *audio.PCM) (from, to float64) {
	win := int(spanWindow * audio.SampleRate)
	n := p.Frames() / win
	level := make([]float64, n)
	var loudest float64
	for w := range level {
		var ss float64
		for _, v := range p.Samples[w*win*audio.Channels : (w+1)*win*audio.Channels] {
			ss += float64(v) * float64(v)
		}
		level[w] = ss
		loudest = max(loudest, ss)
	}
	if loudest <= 0 {
		return 0, 0
	}
	floor := loudest * math.Pow(10, -silenceBelow/10)
	first, last := -1, -1
	for w, l := range level {
		if l > floor {
			if first < 0 {
				first = w
			}
			last = w
		}
	}
	return float64(first) * spanWindow, float64(last+1) * spanWindow
}

// fluidsynth writes 16-bit stereo at the rate renderMIDI asks for.
const renderedBytesPerSecond = 44100 * 2 * 2

// checkRender reports a rendering that stops before the last note. Some
// files render to nothing at all: fluidsynth gives up on files that
// eval.ReadMIDI reads, such as those of more than 128 tracks (a sequencer
// can write one track per pattern).
func checkRender(wav, midi string, lastNote float64) error {
	st, err := os.Stat(wav)
	if err != nil {
		return err
	}
	if got := float64(st.Size()) / renderedBytesPerSecond; got < lastNote {
		return fmt.Errorf("%s: fluidsynth rendered %.1f s of a piece whose last note is at %.1f s", midi, got, lastNote)
	}
	return nil
}

// stemsOf lists the audio of a Frets on Fire song: the backing track and
// the guitar (and rhythm guitar, where there is one), which the game plays
// together.
func stemsOf(dir string) []string {
	var stems []string
	for _, n := range []string{"song.ogg", "guitar.ogg", "rhythm.ogg"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			stems = append(stems, filepath.Join(dir, n))
		}
	}
	return stems
}

// mixStems sums the stems, all starting together, into one WAV file.
func mixStems(path string, stems []string) error {
	var sum *audio.PCM
	for _, s := range stems {
		p, err := audio.DecodeFile(s)
		if err != nil {
			return err
		}
		if sum == nil || len(p.Samples) > len(sum.Samples) {
			p, sum = sum, p
		}
		if p != nil {
			for i, v := range p.Samples {
				sum.Samples[i] += v
			}
		}
	}
	if sum == nil {
		return errors.New("no stems")
	}
	// The stems are mastered to be played together; only keep the sum
	// out of clipping.
	var peak float32
	for _, v := range sum.Samples {
		peak = max(peak, v, -v)
	}
	if peak > 1 {
		for i := range sum.Samples {
			sum.Samples[i] /= peak
		}
	}
	return writeWAV(path, sum)
}

// renderMIDI plays a MIDI file through fluidsynth into a 44.1 kHz WAV file.
// fluidsynth starts the song's tick 0 at the file's first sample, so the
// annotation needs no offset.
func renderMIDI(ctx context.Context, path, midi string) error {
	cmd := exec.CommandContext(ctx, "fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "44100", "-T", "wav", "-F", path, soundFont, midi)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fluidsynth %s: %w\n%s", midi, err, out)
	}
	return nil
}

// renderLMMS renders an LMMS project into a 44.1 kHz WAV file with LMMS's
// command line, which starts the song's first tick at the file's first
// sample. LMMS needs a display platform even to render (Qt's offscreen one
// will do) and refuses to run as root unless told it may.
func renderLMMS(ctx context.Context, path, project string) error {
	args := []string{"render", project, "--format", "wav", "--output", path}
	if os.Geteuid() == 0 {
		args = append([]string{"--allowroot"}, args...)
	}
	cmd := exec.CommandContext(ctx, "lmms", args...)
	cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen")
	if out, err := cmd.CombinedOutput(); err != nil {
		// The output is mostly a progress bar: its end says what failed.
		return fmt.Errorf("lmms render %s: %w\n%s", project, err, out[max(0, len(out)-2000):])
	}
	return nil
}

// findFiles lists the files under root whose paths keep accepts, in name
// order.
func findFiles(root string, keep func(name string) bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && keep(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	return files, nil
}
