package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/foreverfm/forever/audio/internal/mpa"
	"github.com/foreverfm/forever/internal/shared"
)

// psnr compares decoded samples with a 16-bit reference: peak 32767 over
// the mean squared error across the reference's length (samples missing
// from got count as silence).
func psnr(got []int16, want []int16) float64 {
	if len(want) == 0 {
		return math.Inf(1)
	}
	var se float64
	for i, w := range want {
		var a float64
		if i < len(got) {
			a = float64(got[i])
		}
		se += (a - float64(w)) * (a - float64(w))
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(32767.0*32767.0*float64(len(want))/se)
}

// conformanceFloor records streams that do not pass (> 96 dB), with the
// PSNR (dB) they must not drop more than 0.5 dB below, or "error" for a
// stream that must keep failing cleanly, so that the test fails on a
// regression. Streams not listed must pass. Every stream passes now.
var conformanceFloor = map[string]string{}

// TestMinimp3Conformance decodes every minimp3 conformance stream at its
// own rate and channel count and compares it with the reference PCM. A
// stream passes at PSNR > 96 dB, or, where the reference is empty
// (corrupt or audio-free streams), with a clean error or no samples. The
// table it logs is the one in the README.
func TestMinimp3Conformance(t *testing.T) {
	dir := shared.Path(t, "testdata", "minimp3")
	bits, _ := filepath.Glob(filepath.Join(dir, "*.bit"))
	if len(bits) == 0 {
		t.Skip("no minimp3 streams in ../shared")
	}
	sort.Strings(bits)
	var report strings.Builder
	report.WriteString("| stream | result | PSNR dB | samples (got/ref) | note |\n|---|---|---|---|---|\n")
	passed, unscored := 0, 0
	for _, bit := range bits {
		name := strings.TrimSuffix(filepath.Base(bit), ".bit")
		data, err := os.ReadFile(bit)
		if err != nil {
			t.Fatal(err)
		}
		// A stream without a reference (l3-nonstandard-big-iscf) only has
		// to decode or fail cleanly; it is reported, not scored.
		ref, err := os.ReadFile(strings.TrimSuffix(bit, ".bit") + ".pcm")
		noRef := errors.Is(err, os.ErrNotExist)
		if err != nil && !noRef {
			t.Fatal(err)
		}
		want := make([]int16, len(ref)/2)
		for i := range want {
			want[i] = int16(binary.LittleEndian.Uint16(ref[2*i:]))
		}
		// minimp3 honours a LAME tag's delay and padding and compares
		// everything else untrimmed.
		s, perr := parseMP3(data)
		trim := perr == nil && s.hasTag && s.tag.HasLAME
		n, err := decodeMP3Bytes(data, trim)
		partial := err != nil && errors.Is(err, io.ErrUnexpectedEOF) && n != nil
		var result, note string
		var p float64
		var gotLen int
		switch {
		case n == nil || (err != nil && !partial):
			if len(want) == 0 {
				result = "pass"
			} else {
				result = "error"
			}
			note = err.Error()
		default:
			// minimp3 writes each frame with its own channel count
			// (l3-he_mode switches between mono and stereo). Where no
			// frame was dropped, the output maps onto the frames.
			spf := s.first.SamplesPerFrame()
			mapped := len(n.samples) == 2*spf*len(s.offsets)
			got := make([]int16, 0, len(n.samples))
			for i := 0; i+1 < len(n.samples); i += 2 {
				ch := s.first.Channels
				if mapped {
					h, _ := mpa.ParseHeader(data[s.offsets[i/2/spf]:])
					ch = h.Channels
				}
				for c := range ch {
					v := math.Round(float64(n.samples[i+c]) * 32768)
					got = append(got, int16(max(-32768, min(32767, v))))
				}
			}
			gotLen = len(got)
			p = psnr(got, want)
			result = "FAIL"
			if p > 96 {
				result = "pass"
			}
			if err != nil {
				note = err.Error()
			}
		}
		if noRef {
			unscored++
			result = "no reference"
		}
		if result == "pass" {
			passed++
		}
		psnrText := "-"
		if result != "error" && !(result == "pass" && n == nil) {
			psnrText = fmt.Sprintf("%.1f", p)
			if math.IsInf(p, 1) {
				psnrText = "exact"
			}
		}
		fmt.Fprintf(&report, "| %s | %s | %s | %d/%d | %s |\n", name, result, psnrText, gotLen, len(want), note)

		floor, listed := conformanceFloor[name]
		switch {
		case noRef:
		case !listed && result != "pass":
			t.Errorf("%s: %s (PSNR %.1f dB, %v), expected to pass", name, result, p, err)
		case listed && floor == "error" && result != "error":
			t.Errorf("%s: now %s at %.1f dB; update conformanceFloor", name, result, p)
		case listed && floor != "error":
			f, _ := strconv.ParseFloat(floor, 64)
			if result == "error" || p < f-0.5 {
				t.Errorf("%s: %s at %.1f dB, was %s dB (%v)", name, result, p, floor, err)
			}
		}
	}
	// The summary line ends in "streams pass": scripts/audio-conformance
	// picks it out.
	t.Logf("%d without a reference decode or fail cleanly; %d of %d streams pass\n%s", unscored, passed, len(bits)-unscored, report.String())
}
