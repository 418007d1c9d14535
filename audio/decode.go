package audio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MaxDuration is the longest audio Decode accepts. Longer input fails with
// ErrTooLong rather than growing memory without bound: two hours of
// forever's PCM is about 2.5 GB.
const MaxDuration = 2 * time.Hour

// maxInputBytes bounds how much compressed input Decode buffers (MP3 is
// read whole so that its tags can be inspected): more than two hours at
// 320 kb/s plus room for large embedded artwork.
const maxInputBytes = 400 << 20

var (
	// ErrFormat means the data is not in a format Decode knows, or not in
	// the format it claims to be.
	ErrFormat = errors.New("unknown or unsupported audio format")
	// ErrTooLong means the audio is longer than MaxDuration.
	ErrTooLong = errors.New("audio longer than " + MaxDuration.String())
	// ErrNoAudio means the input is well formed but holds no samples.
	ErrNoAudio = errors.New("no audio")
)

// Formats lists the format names Decode accepts.
func Formats() []string { return []string{"wav", "mp3", "flac", "ogg"} }

// DecodeFile decodes the audio file at path. The format is taken from the
// file's extension and checked against its content; when the two disagree
// the content wins, so a FLAC named .mp3 still decodes. Errors name the
// file.
//
// If the file ends early, DecodeFile returns the audio decoded so far
// together with an error wrapping io.ErrUnexpectedEOF, like Decode.
func DecodeFile(path string) (*PCM, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	defer f.Close()
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	switch format {
	case "wave":
		format = "wav"
	case "oga":
		format = "ogg"
	case "mp2", "mpga":
		format = "mp3"
	case "wav", "mp3", "flac", "ogg":
	default:
		format = "" // unknown extension: go by content alone
	}
	p, err := decode(f, format)
	if err != nil {
		return p, fmt.Errorf("audio: %s: %w", path, err)
	}
	return p, nil
}

// Decode decodes audio in the given format ("wav", "mp3", "flac" or
// "ogg"; "" to detect it from the content) into 44.1 kHz stereo. Mono is
// copied to both channels, more than two channels are mixed down, and
// other sample rates are resampled with Resample. MP3 encoder and decoder
// delay is removed (see the package documentation).
//
// The content is sniffed first; if it clearly belongs to another known
// format, that format is decoded instead of the named one.
//
// If the input ends early (a truncated file), Decode returns the audio
// decoded so far together with an error wrapping io.ErrUnexpectedEOF;
// callers who would rather have part of a track than none can keep it.
// Every other error comes with a nil PCM.
func Decode(r io.Reader, format string) (*PCM, error) {
	p, err := decode(r, strings.ToLower(format))
	if err != nil {
		return p, fmt.Errorf("audio: %w", err)
	}
	return p, nil
}

func decode(r io.Reader, format string) (*PCM, error) {
	n, err := decodeNative(r, format)
	if n == nil {
		return nil, err
	}
	p := n.toPCM()
	if p.Frames() == 0 && err == nil {
		return nil, fmt.Errorf("%s: %w", n.format, ErrNoAudio)
	}
	if err != nil {
		return p, fmt.Errorf("%s: %w", n.format, err)
	}
	return p, nil
}

// native is decoded audio before conversion: interleaved at the source's
// own rate and channel count.
type native struct {
	format   string
	samples  []float32
	rate     int
	channels int
	layout   []speaker // per channel; nil means the format's default order
}

// decodeNative decodes without converting rate or channels. On a
// truncated stream it returns what it has and an error wrapping
// io.ErrUnexpectedEOF; on any other error the native is nil.
func decodeNative(r io.Reader, format string) (*native, error) {
	avail := remaining(r)
	br := bufio.NewReaderSize(r, 64<<10)
	head, perr := br.Peek(64)
	sniffed := sniff(head)
	if len(head) == 0 && perr != nil && !errors.Is(perr, io.EOF) {
		return nil, perr
	}
	if len(head) == 0 {
		name := format
		if name == "" {
			name = "audio"
		}
		return nil, fmt.Errorf("%s: empty input: %w", name, ErrNoAudio)
	}
	if sniffed != "" && sniffed != "mp3" {
		// Container magic is unambiguous; MP3 sync words are not, so an
		// explicit request for another format is never overridden by them.
		format = sniffed
	}
	if format == "" {
		format = sniffed
	}
	switch {
	case format == "flac" && sniffed != "flac" && string(head[:min(3, len(head))]) != "ID3":
		return nil, fmt.Errorf("flac: no fLaC signature: %w", ErrFormat)
	case format == "ogg" && sniffed != "ogg":
		return nil, fmt.Errorf("ogg: no OggS capture pattern: %w", ErrFormat)
	}
	var (
		n   *native
		err error
	)
	switch format {
	case "wav":
		n, err = guard(format, func() (*native, error) { return decodeWAV(br, avail) })
	case "mp3":
		n, err = guard(format, func() (*native, error) { return decodeMP3(br) })
	case "flac":
		n, err = guard(format, func() (*native, error) { return decodeFLAC(br, avail) })
	case "ogg":
		n, err = guard(format, func() (*native, error) { return decodeOgg(br) })
	case "":
		return nil, fmt.Errorf("content not recognised: %w", ErrFormat)
	default:
		return nil, fmt.Errorf("%q: %w", format, ErrFormat)
	}
	if n != nil {
		n.format = format
	}
	if err != nil {
		if n == nil || !errors.Is(err, io.ErrUnexpectedEOF) || len(n.samples) == 0 {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
	}
	return n, err
}

// guard turns a panic inside a third-party decoder into an error: a
// malformed file must never take the process down.
func guard(format string, f func() (*native, error)) (n *native, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = nil, fmt.Errorf("decoder failed on malformed data: %v", v)
		}
	}()
	return f()
}

// sniff names the format whose signature starts head, or "".
func sniff(head []byte) string {
	switch {
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return "wav"
	case len(head) >= 4 && string(head[:4]) == "fLaC":
		return "flac"
	case len(head) >= 4 && string(head[:4]) == "OggS":
		return "ogg"
	case len(head) >= 3 && string(head[:3]) == "ID3":
		// FLAC files occasionally carry an ID3v2 tag too; the MP3 path
		// checks for that after skipping the tag.
		return "mp3"
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE6 == 0xE2:
		return "mp3"
	}
	return ""
}

// maxFrames is MaxDuration in frames at rate.
func maxFrames(rate int) int { return int(MaxDuration/time.Second) * rate }

// readAllLimited reads r to EOF, failing once more than limit bytes arrive.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("input larger than %d MB: %w", limit>>20, ErrTooLong)
	}
	return buf.Bytes(), nil
}

// remaining is how many bytes a regular file has left to read, or -1 for
// other readers. It bounds an allocation by what the input really holds,
// where a header's claim cannot be trusted.
func remaining(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil || off > st.Size() {
		return -1
	}
	return st.Size() - off
}
