package source

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/foreverfm/forever/internal/shared"
)

// makeWAV returns a 16-bit PCM WAV of a 440 Hz sine, with a LIST/INFO
// chunk holding info (pairs of chunk id and text) when given.
func makeWAV(frames, rate, channels int, info ...string) []byte {
	var data bytes.Buffer
	for i := range frames {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		for range channels {
			binary.Write(&data, binary.LittleEndian, v)
		}
	}
	var list bytes.Buffer
	if len(info) > 0 {
		list.WriteString("INFO")
		for i := 0; i+1 < len(info); i += 2 {
			v := append([]byte(info[i+1]), 0)
			list.WriteString(info[i])
			binary.Write(&list, binary.LittleEndian, uint32(len(v)))
			list.Write(v)
			if len(v)%2 == 1 {
				list.WriteByte(0)
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	size := 4 + 8 + 16 + 8 + data.Len()
	if list.Len() > 0 {
		size += 8 + list.Len()
	}
	binary.Write(&b, binary.LittleEndian, uint32(size))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{
		uint32(16), uint16(1), uint16(channels), uint32(rate),
		uint32(rate * channels * 2), uint16(channels * 2), uint16(16),
	} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	if list.Len() > 0 {
		b.WriteString("LIST")
		binary.Write(&b, binary.LittleEndian, uint32(list.Len()))
		b.Write(list.Bytes())
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

// mp3Silence returns n silent MPEG-1 Layer III frames, 128 kb/s, 44.1 kHz,
// stereo: valid headers and side information that code no audio data.
func mp3Silence(n int) []byte {
	frame := make([]byte, 417)
	copy(frame, []byte{0xff, 0xfb, 0x90, 0x00})
	return bytes.Repeat(frame, n)
}

// xingFrame returns a silent first frame carrying a Xing header that says
// the stream has frames frames.
func xingFrame(frames uint32) []byte {
	f := mp3Silence(1)
	copy(f[4+32:], "Xing")
	binary.BigEndian.PutUint32(f[4+32+4:], 1)
	binary.BigEndian.PutUint32(f[4+32+8:], frames)
	return f
}

// id3v2 builds an ID3v2.ver tag of text frames (pairs of id and text),
// encoded as UTF-8 for 2.4 and UTF-16 with BOM for 2.2 and 2.3.
func id3v2(ver byte, frames ...string) []byte {
	var body bytes.Buffer
	for i := 0; i+1 < len(frames); i += 2 {
		var text []byte
		if ver == 4 {
			text = append([]byte{3}, frames[i+1]...)
		} else {
			text = []byte{1, 0xff, 0xfe}
			for _, r := range frames[i+1] { // BMP only, enough for tests
				text = binary.LittleEndian.AppendUint16(text, uint16(r))
			}
			text = append(text, 0, 0)
		}
		body.WriteString(frames[i])
		n := len(text)
		switch ver {
		case 2:
			body.Write([]byte{byte(n >> 16), byte(n >> 8), byte(n)})
		case 3:
			binary.Write(&body, binary.BigEndian, uint32(n))
			body.Write([]byte{0, 0})
		case 4:
			body.Write(syncsafeBytes(n))
			body.Write([]byte{0, 0})
		}
		body.Write(text)
	}
	body.Write(make([]byte, 32)) // padding
	var b bytes.Buffer
	b.Write([]byte{'I', 'D', '3', ver, 0, 0})
	b.Write(syncsafeBytes(body.Len()))
	b.Write(body.Bytes())
	return b.Bytes()
}

func syncsafeBytes(n int) []byte {
	return []byte{byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
}

func id3v1(title, artist string, genre byte) []byte {
	b := make([]byte, 128)
	copy(b, "TAG")
	copy(b[3:33], title)
	copy(b[33:63], artist)
	b[127] = genre
	return b
}

func vorbisComments(vendor string, kv ...string) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(len(vendor)))
	b.WriteString(vendor)
	binary.Write(&b, binary.LittleEndian, uint32(len(kv)))
	for _, c := range kv {
		binary.Write(&b, binary.LittleEndian, uint32(len(c)))
		b.WriteString(c)
	}
	return b.Bytes()
}

// flacHeader returns the metadata of a FLAC stream of samples samples at
// rate, with Vorbis comments kv; no audio frames follow.
func flacHeader(rate int, samples uint64, kv ...string) []byte {
	var b bytes.Buffer
	b.WriteString("fLaC")
	si := make([]byte, 34)
	binary.BigEndian.PutUint16(si[0:], 4096)
	binary.BigEndian.PutUint16(si[2:], 4096)
	si[10] = byte(rate >> 12)
	si[11] = byte(rate >> 4)
	si[12] = byte(rate<<4) | 1<<1 // 2 channels
	si[13] = 15<<4 | byte(samples>>32&0x0f)
	binary.BigEndian.PutUint32(si[14:], uint32(samples))
	b.Write([]byte{0, 0, 0, 34})
	b.Write(si)
	vc := vorbisComments("test", kv...)
	b.Write([]byte{0x80 | 4, byte(len(vc) >> 16), byte(len(vc) >> 8), byte(len(vc))})
	b.Write(vc)
	return b.Bytes()
}

// oggPageBytes builds one Ogg page holding packets whole (each under 255
// bytes times 255). The CRC is left zero: the tag reader does not check it.
func oggPageBytes(serial uint32, seq uint32, granule int64, packets ...[]byte) []byte {
	var lacing []byte
	var body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := make([]byte, 27)
	copy(h, "OggS")
	binary.LittleEndian.PutUint64(h[6:], uint64(granule))
	binary.LittleEndian.PutUint32(h[14:], serial)
	binary.LittleEndian.PutUint32(h[18:], seq)
	h[26] = byte(len(lacing))
	return append(append(h, lacing...), body...)
}

// oggVorbisHeader returns the pages of an Ogg Vorbis stream's headers and a
// last page whose granule says it lasts samples samples at rate.
func oggVorbisHeader(rate int, samples int64, kv ...string) []byte {
	id := make([]byte, 30)
	copy(id, "\x01vorbis")
	id[11] = 2
	binary.LittleEndian.PutUint32(id[12:], uint32(rate))
	comment := append([]byte("\x03vorbis"), vorbisComments("test", kv...)...)
	comment = append(comment, 1)
	var b []byte
	b = append(b, oggPageBytes(7, 0, 0, id)...)
	b = append(b, oggPageBytes(7, 1, 0, comment)...)
	b = append(b, oggPageBytes(7, 2, samples, make([]byte, 100))...)
	return b
}

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	var buf logBuffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sharedDir returns ../shared beside the module root, or skips t.
func sharedDir(t testing.TB) string {
	t.Helper()
	return shared.Path(t)
}
