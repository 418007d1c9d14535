package hls

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/audio/lame"
	"github.com/foreverfm/forever/stream"
	"github.com/foreverfm/forever/stream/mp3frame"
)

// chunkFeed replays ready-made chunks, then reports the station stopped.
type chunkFeed struct{ chunks []*stream.Chunk }

func (f *chunkFeed) Next(ctx context.Context) ([]*stream.Chunk, error) {
	if len(f.chunks) == 0 {
		return nil, stream.ErrStopped
	}
	n := min(3, len(f.chunks))
	c := f.chunks[:n]
	f.chunks = f.chunks[n:]
	return c, nil
}

// toneChunks encodes seconds of a tone with LAME and cuts it into chunks
// of 8 frames, titled "A" for the first half and "B" after.
func toneChunks(t *testing.T, seconds float64, startSeq int64) []*stream.Chunk {
	t.Helper()
	var mp3b bytes.Buffer
	enc, err := lame.NewEncoder(&mp3b, lame.Options{Bitrate: 128, Quality: 7})
	if err != nil {
		t.Fatal(err)
	}
	n := int(seconds * stream.SampleRate)
	pcm := make([]float32, 2*n)
	for i := range n {
		v := float32(0.4 * math.Sin(2*math.Pi*440*float64(i)/stream.SampleRate))
		pcm[2*i], pcm[2*i+1] = v, v
	}
	if err := enc.Write(pcm); err != nil {
		t.Fatal(err)
	}
	enc.Close()
	frames := mp3frame.Frames(mp3b.Bytes())
	var out []*stream.Chunk
	for i := 0; i+8 <= len(frames); i += 8 {
		seq := startSeq + int64(i)
		c := &stream.Chunk{Seq: seq, Frames: 8, Title: "Ann - A",
			Time:     time.Duration(seq * stream.FrameSamples * int64(time.Second) / stream.SampleRate),
			Duration: 8 * stream.FrameDuration}
		if i >= len(frames)/2 {
			c.Title = "Bob - B"
		}
		for _, f := range frames[i : i+8] {
			c.Data = append(c.Data, f...)
		}
		out = append(out, c)
	}
	return out
}

// parseID3 returns the PTS and title of the ID3 tag at the start of b, and
// the bytes after the tag.
func parseID3(t *testing.T, b []byte) (pts uint64, title string, rest []byte) {
	t.Helper()
	if len(b) < 10 || string(b[:3]) != "ID3" || b[3] != 4 {
		t.Fatalf("segment does not start with an ID3v2.4 tag: % x", b[:min(10, len(b))])
	}
	size := int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9])
	tag, rest := b[10:10+size], b[10+size:]
	hasPTS := false
	for len(tag) >= 10 {
		id := string(tag[:4])
		n := int(tag[4])<<21 | int(tag[5])<<14 | int(tag[6])<<7 | int(tag[7])
		body := tag[10 : 10+n]
		switch id {
		case "PRIV":
			owner, data, _ := bytes.Cut(body, []byte{0})
			if string(owner) != "com.apple.streaming.transportStreamTimestamp" || len(data) != 8 {
				t.Fatalf("PRIV %q % x", owner, data)
			}
			pts, hasPTS = binary.BigEndian.Uint64(data), true
		case "TIT2":
			title = string(body[1:])
		}
		tag = tag[10+n:]
	}
	if !hasPTS {
		t.Fatal("no timestamp PRIV frame")
	}
	return pts, title, rest
}

func TestSegmentsAndPlaylist(t *testing.T) {
	dir := t.TempDir()
	const startSeq = 1000
	chunks := toneChunks(t, 20, startSeq)
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	w := &Writer{Dir: dir, SegmentDuration: 3 * time.Second, Window: 4, Now: func() time.Time { return base }, EndOnStop: true}
	if err := w.Run(context.Background(), &chunkFeed{chunks}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	get := func(name string) []byte {
		resp, err := http.Get(srv.URL + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", name, resp.Status)
		}
		return b
	}
	pl := string(get(PlaylistName))
	for _, want := range []string{"#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXT-X-MEDIA-SEQUENCE:", "#EXT-X-PROGRAM-DATE-TIME:2026-11-25T12:00:", "#EXT-X-ENDLIST"} {
		if !strings.Contains(pl, want) {
			t.Errorf("playlist lacks %q:\n%s", want, pl)
		}
	}
	var segs []string
	var pdt []time.Time
	var total float64
	sc := bufio.NewScanner(strings.NewReader(pl))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			tm, err := time.Parse("2006-01-02T15:04:05.000Z", v)
			if err != nil {
				t.Fatal(err)
			}
			pdt = append(pdt, tm)
		}
		if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			var d float64
			fmt.Sscanf(v, "%f", &d)
			total += d
		}
		if !strings.HasPrefix(line, "#") && line != "" {
			segs = append(segs, line)
		}
	}
	if len(segs) != 4 {
		t.Fatalf("%d segments in the playlist, want the window of 4:\n%s", len(segs), pl)
	}
	titles := map[string]bool{}
	var prevEnd uint64
	for i, name := range segs {
		pts, title, body := parseID3(t, get(name))
		titles[title] = true
		fr := mp3frame.Frames(body)
		n := 0
		for _, f := range fr {
			n += len(f)
		}
		if n != len(body) {
			t.Fatalf("%s: %d of %d bytes are frames", name, n, len(body))
		}
		// Timestamps run on without gaps, and match the date-times.
		if i > 0 && (pts+1 < prevEnd || pts > prevEnd+1) { // rounding to 90 kHz
			t.Errorf("%s: PTS %d, previous segment ends at %d", name, pts, prevEnd)
		}
		prevEnd = pts + uint64(len(fr)*stream.FrameSamples*90000/stream.SampleRate)
		wantTime := base.Add(time.Duration(float64(pts)/90000*float64(time.Second)) - time.Duration(startSeq*stream.FrameSamples*int64(time.Second)/stream.SampleRate))
		if d := pdt[i].Sub(wantTime); d < -2*time.Millisecond || d > 2*time.Millisecond {
			t.Errorf("%s: program date-time %v, PTS says %v", name, pdt[i], wantTime)
		}
		// The audio decodes to the tone.
		p, err := audio.Decode(bytes.NewReader(body), "mp3")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := len(fr) * stream.FrameSamples; p.Frames() < want-2*stream.FrameSamples {
			t.Errorf("%s decodes to %d frames, want about %d", name, p.Frames(), want)
		}
	}
	if !titles["Bob - B"] {
		t.Errorf("titles %v: want the second title in the window", titles)
	}
	// Nothing else in the directory is served.
	for _, p := range []string{"/", "/.tmp-1", "/../hls.go", "/seg1.mp3.bak", "/LIVE.m3u8"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}

	// ffmpeg, a real HLS client, must accept the playlist.
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", srv.URL+"/"+PlaylistName, "-f", "s16le", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg -i playlist: %v", err)
	}
	if secs := float64(len(out)) / 4 / stream.SampleRate; math.Abs(secs-total) > 0.2 {
		t.Errorf("ffmpeg decoded %.2f s from the playlist, which lists %.2f s", secs, total)
	}
}

func TestGapMarksDiscontinuity(t *testing.T) {
	dir := t.TempDir()
	a := toneChunks(t, 4, 0)
	b := toneChunks(t, 4, 5000)
	w := &Writer{Dir: dir, SegmentDuration: 2 * time.Second, Window: 10, Logger: slog.New(slog.DiscardHandler)}
	if err := w.Run(context.Background(), &chunkFeed{append(a, b...)}); err != nil {
		t.Fatal(err)
	}
	pl, err := readFile(dir + "/" + PlaylistName)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(pl, "#EXT-X-DISCONTINUITY\n") != 1 {
		t.Errorf("want one discontinuity:\n%s", pl)
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// A writer started again on the same directory continues the playlist:
// the media sequence goes on, a discontinuity marks the restart, and
// ffmpeg reads the audio of both runs from the one playlist.
func TestRestartContinuesThePlaylist(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	first := &Writer{Dir: dir, SegmentDuration: 2 * time.Second, Window: 10, Logger: quiet}
	if err := first.Run(context.Background(), &chunkFeed{toneChunks(t, 6, 0)}); err != nil {
		t.Fatal(err)
	}
	pl1, err := readFile(dir + "/" + PlaylistName)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(pl1, "#EXT-X-ENDLIST") {
		t.Errorf("the playlist was ended on stop:\n%s", pl1)
	}
	n1 := strings.Count(pl1, "#EXTINF")
	// The new station starts its stream at frame 0 again.
	second := &Writer{Dir: dir, SegmentDuration: 2 * time.Second, Window: 10, Logger: quiet, EndOnStop: true}
	if err := second.Run(context.Background(), &chunkFeed{toneChunks(t, 6, 0)}); err != nil {
		t.Fatal(err)
	}
	pl, err := readFile(dir + "/" + PlaylistName)
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(pl, "#EXTINF")
	if !strings.Contains(pl, "#EXT-X-MEDIA-SEQUENCE:0\n") || n <= n1 {
		t.Fatalf("want the first run's %d segments still listed from sequence 0, then the second's:\n%s", n1, pl)
	}
	// The first new segment follows the old ones, after a discontinuity.
	want := fmt.Sprintf("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:")
	i := strings.Index(pl, want)
	if i < 0 || strings.Count(pl, "#EXT-X-DISCONTINUITY\n") != 1 || !strings.Contains(pl[i:], fmt.Sprintf("seg%d.mp3", n1)) {
		t.Errorf("want one discontinuity, before seg%d.mp3:\n%s", n1, pl)
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", srv.URL+"/"+PlaylistName, "-f", "s16le", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg -i playlist: %v", err)
	}
	var total float64
	for _, line := range strings.Split(pl, "\n") {
		if d, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			var v float64
			fmt.Sscanf(d, "%f", &v)
			total += v
		}
	}
	if secs := float64(len(out)) / 4 / stream.SampleRate; math.Abs(secs-total) > 0.3 {
		t.Errorf("ffmpeg decoded %.2f s across the restart, the playlist lists %.2f s", secs, total)
	}
}

type reports struct {
	up     int
	failed []error
}

func (r *reports) Up()              { r.up++ }
func (r *reports) Failed(err error) { r.failed = append(r.failed, err) }

// A directory that cannot be written (here: replaced by a file) is
// reported, the writer keeps consuming the stream, and it writes again once
// the directory is back, with a discontinuity for what it lost.
func TestWriteFailureReportedAndRecovered(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hls")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var logs strings.Builder
	var rep reports
	w := &Writer{Dir: dir, SegmentDuration: 2 * time.Second, Window: 20, Report: &rep,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }}
	chunks := toneChunks(t, 12, 0)
	feed := &stepFeed{chunks: chunks, before: func(i int) {
		now = now.Add(chunks[0].Duration)
		switch i {
		case 15: // after the first segments
			os.RemoveAll(dir)
			os.WriteFile(dir, []byte("not a directory"), 0o644)
		case 40:
			os.Remove(dir)
			os.Mkdir(dir, 0o755)
		}
	}}
	if err := w.Run(context.Background(), feed); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.failed) == 0 || rep.up == 0 {
		t.Fatalf("reports: %d up, failures %v", rep.up, rep.failed)
	}
	if !strings.Contains(logs.String(), "cannot write") || !strings.Contains(logs.String(), "writing again") {
		t.Errorf("log:\n%s", logs.String())
	}
	pl, err := readFile(filepath.Join(dir, PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pl, "#EXT-X-DISCONTINUITY") || strings.Count(pl, "#EXTINF") < 2 {
		t.Errorf("playlist after the outage:\n%s", pl)
	}
}

// stepFeed hands out one chunk at a time, calling before(i) first.
type stepFeed struct {
	chunks []*stream.Chunk
	i      int
	before func(int)
}

func (f *stepFeed) Next(ctx context.Context) ([]*stream.Chunk, error) {
	if f.i == len(f.chunks) {
		return nil, stream.ErrStopped
	}
	f.before(f.i)
	f.i++
	return f.chunks[f.i-1 : f.i], nil
}
