package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/foreverfm/forever/audio"
)

// Essentia (MTG, Barcelona) is the strongest open-source beat tracker this
// machine can run: its RhythmExtractor2013 in "multifeature" mode runs five
// onset functions through a committee of trackers (Zapata et al., 2014).
// It comes from npm as essentia.js, the C++ library compiled to
// WebAssembly, and runs under Node on the same decoded audio as ours.
const essentiaVersion = "0.1.3"

// essentiaScript reads mono 44.1 kHz float32 little-endian samples from
// the file named by its argument and prints the tempo, the beats, and the
// seconds RhythmExtractor2013 took, as JSON.
const essentiaScript = `const fs = require('fs');
const { Essentia, EssentiaWASM } = require('essentia.js');
const essentia = new Essentia(EssentiaWASM);
const buf = fs.readFileSync(process.argv[2]);
const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
const t0 = process.hrtime.bigint();
const r = essentia.RhythmExtractor2013(essentia.arrayToVector(x), 208, 'multifeature', 40);
const t1 = process.hrtime.bigint();
process.stdout.write(JSON.stringify({bpm: r.bpm, beats: Array.from(essentia.vectorToArray(r.ticks)), seconds: Number(t1 - t0) / 1e9}) + '\n');
`

// peerResult is what a peer tracker made of one file.
type peerResult struct {
	bpm     float64
	beats   []float64
	compute time.Duration // the tracker's own time, without decoding or start-up
	err     error
}

// setupEssentia installs essentia.js under dir (once) and returns the path
// of the script that runs it.
func setupEssentia(ctx context.Context, dir string) (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("-essentia needs %s (apt install nodejs npm): %w", tool, err)
		}
	}
	edir := filepath.Join(dir, "essentia")
	if _, err := os.Stat(filepath.Join(edir, "node_modules", "essentia.js", "package.json")); err != nil {
		fmt.Fprintf(os.Stderr, "npm install essentia.js@%s\n", essentiaVersion)
		cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", edir, "--no-audit", "--no-fund", "essentia.js@"+essentiaVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("npm install essentia.js: %w\n%s", err, out)
		}
	}
	script := filepath.Join(edir, "rhythm.js")
	return script, os.WriteFile(script, []byte(essentiaScript), 0o644)
}

// runEssentia decodes it.path with our decoder, hands Essentia the mono
// mix, and records its tempo and beats.
func runEssentia(ctx context.Context, script, tmp string, it *item) {
	it.essentia = essentiaOn(ctx, script, filepath.Join(tmp, "essentia-input.f32"), it.path)
}

func essentiaOn(ctx context.Context, script, input, path string) peerResult {
	p, err := audio.DecodeFile(path)
	if err != nil {
		return peerResult{err: fmt.Errorf("essentia: decoding: %w", err)}
	}
	if err := writeMonoF32(input, p); err != nil {
		return peerResult{err: fmt.Errorf("essentia: %w", err)}
	}
	defer os.Remove(input)
	cmd := exec.CommandContext(ctx, "node", script, input)
	cmd.Dir = filepath.Dir(script) // where node_modules is
	out, err := cmd.Output()
	if err != nil {
		return peerResult{err: fmt.Errorf("essentia: %w", err)}
	}
	return parseEssentia(out)
}

// writeMonoF32 writes the mean of p's channels as float32 little-endian
// samples, Essentia's input.
func writeMonoF32(path string, p *audio.PCM) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b [4]byte
	for i := 0; i+1 < len(p.Samples); i += 2 {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits((p.Samples[i]+p.Samples[i+1])/2))
		if _, err = w.Write(b[:]); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func parseEssentia(out []byte) peerResult {
	var r struct {
		BPM     float64   `json:"bpm"`
		Beats   []float64 `json:"beats"`
		Seconds float64   `json:"seconds"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return peerResult{err: fmt.Errorf("essentia: reading its output: %w", err)}
	}
	return peerResult{bpm: r.BPM, beats: r.Beats, compute: time.Duration(r.Seconds * float64(time.Second))}
}

// essentiaSummary prints the speed line for Essentia over the timed files.
func essentiaSummary(w io.Writer, essentiaTotal, oursTotal time.Duration) {
	if essentiaTotal <= 0 || oursTotal <= 0 {
		return
	}
	fmt.Fprintf(w, "speed, same files, one run: essentia RhythmExtractor2013 %.2f s (its own computation: no decoding, no Node start), ours %.2f s (decoding included); essentia/ours = %.2f\n",
		essentiaTotal.Seconds(), oursTotal.Seconds(), essentiaTotal.Seconds()/oursTotal.Seconds())
}
