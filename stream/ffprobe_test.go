package stream

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"
)

// TestFFprobeSeesTitle plays the stream to a real client: ffprobe must
// decode it and show the ICY title, as VLC and mpv do.
func TestFFprobeSeesTitle(t *testing.T) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed")
	}
	ts := start(t, &sine{freq: 440}, Options{Name: "forever test"})
	ts.waitPCM(t, 60)
	ts.Announce(Action{Kind: "playback", Tracks: []TrackInfo{{Title: "Tone", Artist: "Sine"}}, Start: 0, Frames: 100 * SampleRate})
	ts.clock.Step(t, 3*time.Second, ts.batch())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", ts.srv.URL+"/all.mp3").Output()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var probe struct {
		Streams []struct {
			CodecName  string `json:"codec_name"`
			SampleRate string `json:"sample_rate"`
			Channels   int    `json:"channels"`
		} `json:"streams"`
		Format struct {
			Tags map[string]string `json:"tags"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(probe.Streams) != 1 || probe.Streams[0].CodecName != "mp3" || probe.Streams[0].SampleRate != "44100" || probe.Streams[0].Channels != 2 {
		t.Errorf("streams %+v", probe.Streams)
	}
	if got := probe.Format.Tags["StreamTitle"]; got != "Sine - Tone" {
		t.Errorf("ffprobe title %q, want %q (tags %v)", got, "Sine - Tone", probe.Format.Tags)
	}
}
