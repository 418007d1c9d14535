package mp3

import (
	"math"
	"testing"
)

// FuzzDecode feeds whole streams, split into frames the simple way, to
// one Decoder: no panic, and every sample finite. The seed corpus holds
// short MPEG-1 joint stereo, MPEG-2 mono, MPEG-2.5 and free-format
// streams made with FFmpeg's libmp3lame.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		var out []float32
		for _, fr := range frames(data) {
			out, _ = d.DecodeFrame(fr, out[:0])
			if len(out)%(2*576) != 0 {
				t.Fatalf("%d samples: not whole granules", len(out))
			}
			for i, v := range out {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("sample %d is %v", i, v)
				}
			}
		}
	})
}
