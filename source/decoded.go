package source

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime/debug"
	"sync"

	"github.com/foreverfm/forever/audio"
)

// Decoded is a track's decoded audio kept in a temporary file as 16-bit
// stereo and read by window: an audio.FrameReader whose memory does not
// grow with the track's length (a 2-hour mix is 1.3 GB as PCM and a few
// kilobytes as a Decoded), for a player that reads only where the mixer
// is. Close removes the file.
type Decoded struct {
	f      *os.File
	frames int
	scale  float32

	mu  sync.Mutex
	buf []byte
}

// Decode decodes t and writes it to a file in dir ("" means the system's
// temporary directory), returning it open for reading. The decode itself
// still holds the audio as float32 while it runs; it is handed back to
// the operating system before Decode returns.
func Decode(ctx context.Context, t Track, dir string) (*Decoded, error) {
	p, err := open(ctx, t)
	if err != nil {
		return nil, err
	}
	c := audio.Compact(p)
	p = nil
	debug.FreeOSMemory() // the float32 decode was the large part
	f, err := os.CreateTemp(dir, "forever-pcm-*.s16")
	if err != nil {
		return nil, fmt.Errorf("source: decoding %s to disk: %w", t.Source, err)
	}
	// Unlinked at once where the system allows: the file goes when the
	// process does, crash or not.
	name := f.Name()
	removed := os.Remove(name) == nil
	w := bufio.NewWriterSize(f, 1<<16)
	err = binary.Write(w, binary.LittleEndian, c.Samples)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		if !removed {
			os.Remove(name)
		}
		return nil, fmt.Errorf("source: decoding %s to disk: %w", t.Source, err)
	}
	return &Decoded{f: f, frames: c.Frames(), scale: c.Scale}, nil
}

// Frames implements audio.FrameReader.
func (d *Decoded) Frames() int { return d.frames }

// ReadFramesAt implements audio.FrameReader. A read error (the disk gone)
// reads as the end of the track.
func (d *Decoded) ReadFramesAt(dst []float32, frame int) int {
	if frame < 0 || frame >= d.frames {
		return 0
	}
	n := min(len(dst)/audio.Channels, d.frames-frame)
	d.mu.Lock()
	defer d.mu.Unlock()
	if cap(d.buf) < 2*audio.Channels*n {
		d.buf = make([]byte, 2*audio.Channels*n)
	}
	b := d.buf[:2*audio.Channels*n]
	got, _ := d.f.ReadAt(b, int64(frame)*2*audio.Channels)
	n = got / (2 * audio.Channels)
	k := d.scale / 32767
	for i := range n * audio.Channels {
		dst[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) * k
	}
	return n
}

// Close closes and removes the file.
func (d *Decoded) Close() error {
	name := d.f.Name()
	err := d.f.Close()
	os.Remove(name) // already gone where unlinking open files works
	return err
}
