// Package hls writes a forever station as HTTP Live Streaming: MP3
// segments of a few seconds and a live playlist, in a directory that any
// web server or CDN can serve.
//
// Each segment is raw MPEG audio, so, as the HLS specification requires
// for such segments, it starts with an ID3 tag whose PRIV frame
// com.apple.streaming.transportStreamTimestamp gives the 90 kHz timestamp
// of its first sample. The same tag carries the title on air (TIT2, and
// TXXX "StreamTitle") as timed metadata; a segment is cut early when the
// title changes so that the title is right from its first sample. The
// playlist slides over the last few segments and stamps each with
// EXT-X-PROGRAM-DATE-TIME. Files are written to a temporary name and
// renamed, so a server never serves half a file.
package hls

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/foreverfm/forever/stream"
)

// A Feed yields the stream's chunks as they are released;
// *stream.Subscription is one.
type Feed interface {
	Next(ctx context.Context) ([]*stream.Chunk, error)
}

// PlaylistName is the name of the playlist in the directory.
const PlaylistName = "live.m3u8"

// Writer writes segments and the playlist into Dir. Set the fields, then
// call Run.
type Writer struct {
	Dir string
	// SegmentDuration is the target length of a segment; default 6 s.
	SegmentDuration time.Duration
	// Window is the number of segments in the playlist; default 6.
	Window int
	Logger *slog.Logger // nil: no log lines
	// Report, if set, hears of every failure to write and of recovery;
	// (*stream.Station).Relay("hls") gives one that logs with backoff,
	// counts in /metrics and shows on /monitor.
	Report Reporter
	// EndOnStop closes the playlist with EXT-X-ENDLIST when the station
	// stops, for a broadcast that ends for good. By default the playlist
	// stays live, so that players holding it carry on when the writer
	// starts again.
	EndOnStop bool
	// Now gives the wall-clock time of the first chunk, from which
	// EXT-X-PROGRAM-DATE-TIME is reckoned along the stream; default
	// time.Now.
	Now func() time.Time

	segs     []segment
	discSeq  int           // discontinuities that have slid out of the window
	seq      int           // media sequence number of the next segment
	base     time.Time     // wall-clock time of baseTime
	baseTime time.Duration // stream time at base
	nextSeq  int64         // stream frame expected next
	started  bool
	disc     bool // the next segment follows a gap
	cur      bytes.Buffer
	curStart time.Duration // stream time of the segment's first frame
	curDur   time.Duration
	curN     int
	curTitle string
	failing  bool
	retryAt  time.Time     // after a failed write, no writes before this
	backoff  time.Duration // doubles while writes keep failing
}

// A Reporter hears how an output fares; *stream.Relay is one.
type Reporter interface {
	Up()
	Failed(err error)
}

type noReport struct{}

func (noReport) Up()          {}
func (noReport) Failed(error) {}

type segment struct {
	Name     string    `json:"name"`
	Seq      int       `json:"seq"`
	Duration float64   `json:"duration"`
	Time     time.Time `json:"time"`
	Title    string    `json:"title,omitempty"`
	Disc     bool      `json:"disc,omitempty"`
}

// Run writes segments from feed until ctx is done or the feed ends (on
// stream.ErrStopped it writes what it has and returns nil).
//
// A failed write (a full disk, a directory gone) does not stop it: the
// segment is dropped, the failure reported, and writing tried again
// after a backoff (1 s doubling to a minute), the next segment marked as
// a discontinuity. The media sequence, the discontinuity sequence and the
// window are kept in a state file beside the segments (StateName), so a
// Writer started again on the same directory continues the playlist where
// the last one stopped, with a discontinuity, rather than at sequence 0.
func (w *Writer) Run(ctx context.Context, feed Feed) error {
	if w.Dir == "" {
		return errors.New("hls: Writer.Dir is empty")
	}
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	if w.SegmentDuration <= 0 {
		w.SegmentDuration = 6 * time.Second
	}
	if w.Window <= 0 {
		w.Window = 6
	}
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Report == nil {
		w.Report = noReport{}
	}
	w.loadState()
	for {
		chunks, err := feed.Next(ctx)
		if errors.Is(err, stream.ErrStopped) {
			if w.curN > 0 {
				w.cut()
			}
			if w.EndOnStop {
				return w.writePlaylist(true)
			}
			return nil
		}
		if err != nil {
			return err
		}
		for _, c := range chunks {
			if !w.started {
				w.started = true
				w.base, w.baseTime, w.nextSeq = w.Now(), c.Time, c.Seq
			}
			if c.Seq != w.nextSeq {
				// The feed skipped ahead: close what we have and
				// mark the break for players.
				if w.curN > 0 {
					w.cut()
				}
				w.Logger.Warn("hls: gap in the stream", "frames", c.Seq-w.nextSeq)
				w.disc = true
				w.base, w.baseTime = w.Now(), c.Time
			}
			if w.curN > 0 && c.Title != w.curTitle {
				w.cut()
			}
			if w.curN == 0 {
				w.curStart, w.curTitle = c.Time, c.Title
			}
			w.cur.Write(c.Data)
			w.curN += c.Frames
			w.curDur += c.Duration
			w.nextSeq = c.Seq + int64(c.Frames)
			if w.curDur >= w.SegmentDuration {
				w.cut()
			}
		}
	}
}

// cut writes the current segment, the playlist and the state. A failure
// is reported and the segment dropped; the stream goes on.
func (w *Writer) cut() {
	pts := uint64(w.curStart.Seconds()*90000+0.5) & (1<<33 - 1)
	var b bytes.Buffer
	b.Write(id3Tag(pts, w.curTitle))
	b.Write(w.cur.Bytes())
	s := segment{
		Name:     fmt.Sprintf("seg%d.mp3", w.seq),
		Seq:      w.seq,
		Duration: w.curDur.Seconds(),
		Time:     w.base.Add(w.curStart - w.baseTime),
		Title:    w.curTitle,
		Disc:     w.disc,
	}
	w.cur.Reset()
	w.curN, w.curDur = 0, 0
	if now := w.Now(); now.Before(w.retryAt) {
		w.disc = true // this segment is lost: mark the gap
		return
	}
	if err := w.writeSegment(s, b.Bytes()); err != nil {
		w.fail(err)
		return
	}
	if w.failing {
		w.failing = false
		w.Logger.Info("hls: writing again", "dir", w.Dir)
	}
	w.backoff = 0
	w.Report.Up()
}

func (w *Writer) fail(err error) {
	w.Report.Failed(err)
	if !w.failing {
		w.Logger.Error("hls: cannot write; dropping segments and retrying", "dir", w.Dir, "err", err)
	}
	w.failing = true
	w.disc = true
	w.backoff = min(max(2*w.backoff, time.Second), time.Minute)
	w.retryAt = w.Now().Add(w.backoff)
}

func (w *Writer) writeSegment(s segment, data []byte) error {
	if err := writeAtomic(filepath.Join(w.Dir, s.Name), data); err != nil {
		return err
	}
	w.disc = false
	w.seq++
	w.segs = append(w.segs, s)
	var old []segment
	if len(w.segs) > w.Window {
		old = append(old, w.segs[:len(w.segs)-w.Window]...)
		for _, o := range old {
			if o.Disc {
				w.discSeq++
			}
		}
		w.segs = append(w.segs[:0], w.segs[len(w.segs)-w.Window:]...)
	}
	if err := w.writePlaylist(false); err != nil {
		return err
	}
	if err := w.saveState(); err != nil {
		return err
	}
	// Players that read the previous playlist may still fetch segments
	// that just left it; remove only those two segments further back.
	for _, o := range old {
		os.Remove(filepath.Join(w.Dir, fmt.Sprintf("seg%d.mp3", o.Seq-2)))
	}
	return nil
}

// StateName is the file, beside the segments, where a Writer keeps what
// the next one on the directory continues from. The Handler does not serve
// it.
const StateName = ".hls-state.json"

type state struct {
	Seq      int       `json:"seq"`      // media sequence of the next segment
	DiscSeq  int       `json:"disc_seq"` // discontinuities slid out of the window
	Segments []segment `json:"segments"` // the window
}

func (w *Writer) saveState() error {
	b, err := json.Marshal(state{Seq: w.seq, DiscSeq: w.discSeq, Segments: w.segs})
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(w.Dir, StateName), b)
}

// loadState continues from the last Writer on the directory, if any: the
// window it left (those of its segments still on disk), its sequence
// numbers, and a discontinuity before the first new segment.
func (w *Writer) loadState() {
	b, err := os.ReadFile(filepath.Join(w.Dir, StateName))
	if err != nil {
		return
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil || st.Seq < 0 || st.DiscSeq < 0 {
		w.Logger.Warn("hls: ignoring a damaged state file; the media sequence starts again", "file", filepath.Join(w.Dir, StateName), "err", err)
		return
	}
	w.seq, w.discSeq = st.Seq, st.DiscSeq
	for _, s := range st.Segments {
		if !servable.MatchString("/"+s.Name) || s.Seq >= st.Seq {
			continue
		}
		if _, err := os.Stat(filepath.Join(w.Dir, s.Name)); err != nil {
			continue
		}
		w.segs = append(w.segs, s)
	}
	if len(w.segs) > w.Window {
		for _, o := range w.segs[:len(w.segs)-w.Window] {
			if o.Disc {
				w.discSeq++
			}
		}
		w.segs = w.segs[len(w.segs)-w.Window:]
	}
	w.disc = true
	w.Logger.Info("hls: continuing the playlist", "dir", w.Dir, "media_sequence", w.seq)
}

func (w *Writer) writePlaylist(end bool) error {
	var b strings.Builder
	maxDur := 1
	for _, s := range w.segs {
		maxDur = max(maxDur, int(math.Ceil(s.Duration)))
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n", maxDur)
	first := w.seq
	if len(w.segs) > 0 {
		first = w.segs[0].Seq
	}
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", first)
	if w.discSeq > 0 {
		fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", w.discSeq)
	}
	for _, s := range w.segs {
		if s.Disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", s.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
		fmt.Fprintf(&b, "#EXTINF:%.3f,%s\n%s\n", s.Duration, strings.NewReplacer("\n", " ", "\r", " ").Replace(s.Title), s.Name)
	}
	if end {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return writeAtomic(filepath.Join(w.Dir, PlaylistName), []byte(b.String()))
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("hls: writing %s: %w", path, err)
	}
	return nil
}

// id3Tag builds the ID3v2.4 tag that starts each segment: the transport
// stream timestamp and the title.
func id3Tag(pts uint64, title string) []byte {
	var frames bytes.Buffer
	priv := append([]byte("com.apple.streaming.transportStreamTimestamp\x00"), binary.BigEndian.AppendUint64(nil, pts)...)
	id3Frame(&frames, "PRIV", priv)
	if title != "" {
		id3Frame(&frames, "TIT2", append([]byte{3}, title...)) // 3: UTF-8
		id3Frame(&frames, "TXXX", append(append([]byte{3}, "StreamTitle\x00"...), title...))
	}
	tag := []byte{'I', 'D', '3', 4, 0, 0}
	tag = append(tag, syncsafe(frames.Len())...)
	return append(tag, frames.Bytes()...)
}

func id3Frame(b *bytes.Buffer, id string, body []byte) {
	b.WriteString(id)
	b.Write(syncsafe(len(body)))
	b.Write([]byte{0, 0})
	b.Write(body)
}

func syncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
}

var servable = regexp.MustCompile(`^/(live\.m3u8|seg[0-9]{1,12}\.mp3)$`)

// Handler serves the playlist and segments from dir, and nothing else:
// any other name is 404, so the directory may hold other files safely.
func Handler(dir string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := r.URL.Path
		if i := strings.LastIndexByte(name, '/'); i > 0 {
			name = name[i:]
		}
		if !servable.MatchString(name) {
			http.NotFound(rw, r)
			return
		}
		f, err := os.Open(filepath.Join(dir, name[1:]))
		if err != nil {
			http.NotFound(rw, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			http.NotFound(rw, r)
			return
		}
		if name == "/"+PlaylistName {
			rw.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			rw.Header().Set("Cache-Control", "no-cache")
		} else {
			rw.Header().Set("Content-Type", "audio/mpeg")
			rw.Header().Set("Cache-Control", "max-age=60")
		}
		http.ServeContent(rw, r, "", fi.ModTime(), f)
	})
}
