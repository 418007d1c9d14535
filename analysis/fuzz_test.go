package analysis_test

import (
	"context"
	"encoding/binary"
	"math"
	"testing"

	"github.com/foreverfm/forever/analysis"
	"github.com/foreverfm/forever/audio"
)

// FuzzAnalyze treats arbitrary bytes as little-endian float32 samples,
// repeated to one second so that every stage has frames to work on:
// whatever a broken decoder might hand over, Analyze must return a sane,
// serialisable analysis without panicking.
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 128, 63, 0, 0, 128, 191})        // +1, -1
	f.Add([]byte{0, 0, 192, 127, 0, 0, 128, 127, 1, 2}) // NaN, +Inf, stray bytes
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 65}) // silence then 10
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 4
		if n == 0 {
			if _, err := analysis.Analyze(context.Background(), &audio.PCM{}); err == nil {
				t.Fatal("empty PCM analysed without error")
			}
			return
		}
		pattern := make([]float32, n)
		for i := range pattern {
			pattern[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		p := audio.NewPCM(audio.SampleRate)
		for i := range p.Samples {
			p.Samples[i] = pattern[i%n]
		}
		a, err := analysis.Analyze(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		checkProperties(t, a)
	})
}
