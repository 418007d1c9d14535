package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Tags is what a file's container says about its contents, read without
// decoding any audio: the format, the usual text tags, and the duration when
// the headers give it.
type Tags struct {
	Format string // "wav", "mp3", "flac" or "ogg"
	Title  string
	Artist string
	Album  string
	Genre  string
	// Duration is in seconds, 0 when unknown. It is exact for WAV, FLAC and
	// Ogg, and for MP3 files with a TLEN frame or a Xing/Info/VBRI header;
	// for other MP3 files it is estimated from the first frame's bitrate.
	Duration float64
}

// fill sets t's empty text fields from u.
func (t *Tags) fill(u Tags) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&t.Title, u.Title}, {&t.Artist, u.Artist}, {&t.Album, u.Album}, {&t.Genre, u.Genre},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
}

// ErrUnknownFormat is returned by ReadTags for bytes that are none of the
// formats forever decodes.
var ErrUnknownFormat = errors.New("not a WAV, MP3, FLAC or Ogg file")

// Bounds on what ReadTags reads, so that a hostile or broken file costs
// little: tags bigger than these (embedded artwork, mostly) are skipped.
const (
	maxTagBlock  = 1 << 20 // one FLAC/ID3 frame/Ogg packet of text tags
	maxTagFrame  = 64 << 10
	maxTagBlocks = 4096 // FLAC metadata blocks, ID3 frames, RIFF chunks, Ogg pages
	mp3SyncScan  = 8 << 10
	mp3Sample    = 128 << 10 // bytes of frames measured for an MP3's mean bitrate
	oggTailScan  = 64 << 10
)

// ReadTags reads the format, text tags and duration of the encoded audio in
// r, which holds size bytes. It reads only headers, a few kilobytes in the
// usual case and never more than about a megabyte, so listing a large folder
// stays cheap. Missing tags are left empty; damaged tag blocks are ignored
// when the format itself is recognised. The error is ErrUnknownFormat (or
// wraps it) when the bytes are not WAV, MP3, FLAC or Ogg.
func ReadTags(r io.ReaderAt, size int64) (Tags, error) {
	var t Tags
	head := make([]byte, 12)
	n, err := r.ReadAt(head, 0)
	if n < len(head) {
		if err == nil || errors.Is(err, io.EOF) {
			return t, fmt.Errorf("%w: only %d bytes", ErrUnknownFormat, n)
		}
		return t, err
	}
	switch {
	case string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		t.Format = "wav"
		readRIFF(r, size, &t)
		return t, nil
	case string(head[:4]) == "fLaC":
		t.Format = "flac"
		readFLAC(r, 4, size, &t)
		return t, nil
	case string(head[:4]) == "OggS":
		t.Format = "ogg"
		if codec := readOgg(r, size, &t); codec != "vorbis" {
			return Tags{}, fmt.Errorf("%w: an Ogg stream of %s, not Vorbis", ErrUnknownFormat, codec)
		}
		return t, nil
	}
	var start int64
	var tlen float64
	if string(head[:3]) == "ID3" {
		start, tlen = readID3v2(r, size, &t)
		var magic [4]byte
		if _, err := r.ReadAt(magic[:], start); err == nil && string(magic[:]) == "fLaC" {
			// Some taggers put ID3v2 in front of FLAC; the stream still is
			// FLAC, and its own comments come first.
			id3 := t
			t = Tags{Format: "flac"}
			readFLAC(r, start+4, size, &t)
			t.fill(id3)
			return t, nil
		}
	}
	off, fr, ok := findMP3Frame(r, start, size)
	if !ok {
		if start > 0 {
			return t, fmt.Errorf("%w: ID3 tag but no MP3 frame after it", ErrUnknownFormat)
		}
		return t, ErrUnknownFormat
	}
	t.Format = "mp3"
	hasV1 := readID3v1(r, size, &t)
	end := size
	if hasV1 {
		end -= 128
	}
	switch {
	case tlen > 0:
		t.Duration = tlen
	default:
		t.Duration = mp3Duration(r, off, end, fr)
	}
	return t, nil
}

// headReader serves reads within the first bytes of a file from memory:
// reading tags makes many small reads there, a system call each.
type headReader struct {
	r    io.ReaderAt
	head []byte
}

func newHeadReader(r io.ReaderAt, size int64) headReader {
	b := make([]byte, min(size, 16<<10))
	n, _ := r.ReadAt(b, 0)
	return headReader{r, b[:n]}
}

func (h headReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= 0 && off+int64(len(p)) <= int64(len(h.head)) {
		return copy(p, h.head[off:]), nil
	}
	return h.r.ReadAt(p, off)
}

// sniffFormat names the format of encoded audio from its first bytes (at
// least 12 are needed, a few kilobytes let it find MP3 frames after junk or
// a short ID3 tag). It returns "" when it cannot tell.
func sniffFormat(b []byte) string {
	t, err := ReadTags(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return ""
	}
	return t.Format
}

// readAt reads n bytes at off, or returns nil if they are not all there.
func readAt(r io.ReaderAt, off int64, n int) []byte {
	if off < 0 || n < 0 {
		return nil
	}
	b := make([]byte, n)
	if m, _ := r.ReadAt(b, off); m < n {
		return nil
	}
	return b
}

// ---- RIFF/WAVE ----

func readRIFF(r io.ReaderAt, size int64, t *Tags) {
	var rate, blockAlign uint32
	var dataSize int64 = -1
	off := int64(12)
	for i := 0; i < maxTagBlocks && off+8 <= size; i++ {
		h := readAt(r, off, 8)
		if h == nil {
			break
		}
		id, n := string(h[:4]), int64(binary.LittleEndian.Uint32(h[4:]))
		body := off + 8
		switch id {
		case "fmt ":
			if b := readAt(r, body, 16); b != nil && n >= 16 {
				rate = binary.LittleEndian.Uint32(b[4:])
				blockAlign = uint32(binary.LittleEndian.Uint16(b[12:]))
			}
		case "data":
			// Streamed WAVs leave the size at 0 or 0xFFFFFFFF: the data then
			// runs to the end of the file.
			dataSize = n
			if n == 0 || body+n > size {
				dataSize = size - body
			}
		case "LIST":
			if n >= 4 && n <= maxTagBlock {
				if b := readAt(r, body, int(n)); b != nil && string(b[:4]) == "INFO" {
					readRIFFInfo(b[4:], t)
				}
			}
		}
		off = body + n + n&1
	}
	if rate > 0 && blockAlign > 0 && dataSize > 0 {
		t.Duration = float64(dataSize/int64(blockAlign)) / float64(rate)
	}
}

func readRIFFInfo(b []byte, t *Tags) {
	for len(b) >= 8 {
		id, n := string(b[:4]), int(binary.LittleEndian.Uint32(b[4:]))
		b = b[8:]
		if n < 0 || n > len(b) {
			return
		}
		v := text8(bytes.TrimRight(b[:n], "\x00"))
		switch id {
		case "INAM":
			t.Title = v
		case "IART":
			t.Artist = v
		case "IPRD":
			t.Album = v
		case "IGNR":
			t.Genre = v
		}
		n += n & 1
		if n > len(b) {
			return
		}
		b = b[n:]
	}
}

// ---- FLAC ----

func readFLAC(r io.ReaderAt, off, size int64, t *Tags) {
	for i := 0; i < maxTagBlocks && off+4 <= size; i++ {
		h := readAt(r, off, 4)
		if h == nil {
			return
		}
		last, typ := h[0]&0x80 != 0, h[0]&0x7f
		n := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		body := off + 4
		switch typ {
		case 0: // STREAMINFO
			if b := readAt(r, body, 18); b != nil && n >= 18 {
				rate := uint32(b[10])<<12 | uint32(b[11])<<4 | uint32(b[12])>>4
				total := uint64(b[13]&0x0f)<<32 | uint64(binary.BigEndian.Uint32(b[14:]))
				if rate > 0 {
					t.Duration = float64(total) / float64(rate)
				}
			}
		case 4: // VORBIS_COMMENT
			if n <= maxTagBlock {
				if b := readAt(r, body, int(n)); b != nil {
					readVorbisComments(b, t)
				}
			}
		case 127:
			return
		}
		if last {
			return
		}
		off = body + n
	}
}

// readVorbisComments parses a Vorbis comment block (little-endian lengths,
// "KEY=value" pairs), as used by FLAC, Ogg Vorbis and Opus.
func readVorbisComments(b []byte, t *Tags) {
	u32 := func() (int, bool) {
		if len(b) < 4 {
			return 0, false
		}
		v := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(v) > uint64(len(b)) {
			return 0, false
		}
		return int(v), true
	}
	n, ok := u32()
	if !ok {
		return
	}
	b = b[n:]
	if len(b) < 4 {
		return
	}
	count := min(binary.LittleEndian.Uint32(b), maxTagBlocks)
	b = b[4:]
	var artists []string
	for range count {
		n, ok := u32()
		if !ok {
			break
		}
		kv := b[:n]
		b = b[n:]
		k, v, found := bytes.Cut(kv, []byte("="))
		if !found {
			continue
		}
		val := text8(v)
		if val == "" {
			continue
		}
		switch strings.ToUpper(string(k)) {
		case "TITLE":
			if t.Title == "" {
				t.Title = val
			}
		case "ARTIST":
			artists = append(artists, val)
		case "ALBUM":
			if t.Album == "" {
				t.Album = val
			}
		case "GENRE":
			if t.Genre == "" {
				t.Genre = val
			}
		}
	}
	if len(artists) > 0 {
		t.Artist = strings.Join(artists, ", ")
	}
}

// ---- Ogg ----

// oggPage is the part of an Ogg page header that the tag reader needs.
type oggPage struct {
	bos     bool // the first page of its logical stream
	granule int64
	serial  uint32
	lacing  []byte
	body    int64 // offset of the page body
}

// oggAudioSerial picks the logical stream to describe: the first whose
// beginning-of-stream page holds an audio codec's identification header.
// Files made from music with cover art often put a Theora picture stream
// first. All beginning-of-stream pages precede any data page, so the scan
// stops at the first page that is not one. Without an audio stream, it
// returns the first stream's serial.
func oggAudioSerial(r io.ReaderAt) uint32 {
	var first uint32
	off := int64(0)
	for i := 0; i < maxTagBlocks; i++ {
		p, ok := readOggPage(r, off)
		if ok && i == 0 {
			first = p.serial
		}
		if !ok || !p.bos {
			break
		}
		if len(p.lacing) > 0 && p.lacing[0] >= 8 {
			id := string(readAt(r, p.body, 8))
			for _, magic := range []string{"\x01vorbis", "OpusHead", "\x7fFLAC", "Speex   "} {
				if strings.HasPrefix(id, magic) {
					return p.serial
				}
			}
		}
		off = p.body
		for _, l := range p.lacing {
			off += int64(l)
		}
	}
	return first
}

func readOggPage(r io.ReaderAt, off int64) (oggPage, bool) {
	h := readAt(r, off, 27)
	if h == nil || string(h[:4]) != "OggS" || h[4] != 0 {
		return oggPage{}, false
	}
	lacing := readAt(r, off+27, int(h[26]))
	if lacing == nil {
		return oggPage{}, false
	}
	return oggPage{
		bos:     h[5]&2 != 0,
		granule: int64(binary.LittleEndian.Uint64(h[6:])),
		serial:  binary.LittleEndian.Uint32(h[14:]),
		lacing:  lacing,
		body:    off + 27 + int64(len(lacing)),
	}, true
}

// readOgg reads the tags and length of the audio stream of an Ogg file
// and names its codec: "vorbis", "opus", or another word when not one of
// those (only Vorbis is decoded by forever).
func readOgg(r io.ReaderAt, size int64, t *Tags) (codec string) {
	serial := oggAudioSerial(r)
	// Gather the first two packets of that logical stream: the
	// identification header and the comment header.
	var packets [][]byte
	var cur []byte
	var rate float64
	var preSkip int64
	off := int64(0)
pages:
	for i := 0; i < maxTagBlocks && len(packets) < 2; i++ {
		p, ok := readOggPage(r, off)
		if !ok {
			break
		}
		pos := p.body
		for _, l := range p.lacing {
			pos += int64(l)
		}
		if p.serial == serial {
			seg := p.body
			for _, l := range p.lacing {
				if len(cur)+int(l) > maxTagBlock {
					break pages // a comment packet this large holds artwork, not names
				}
				b := readAt(r, seg, int(l))
				if b == nil {
					break pages
				}
				cur = append(cur, b...)
				seg += int64(l)
				if l < 255 {
					packets = append(packets, cur)
					cur = nil
					if len(packets) == 2 {
						break
					}
				}
			}
		}
		off = pos
	}
	codec = "an unknown codec"
	if len(packets) >= 1 {
		id := packets[0]
		switch {
		case len(id) >= 16 && string(id[:7]) == "\x01vorbis":
			codec = "vorbis"
			rate = float64(binary.LittleEndian.Uint32(id[12:]))
		case len(id) >= 12 && string(id[:8]) == "OpusHead":
			codec = "opus"
			rate = 48000 // Opus granules always count 48 kHz samples
			preSkip = int64(binary.LittleEndian.Uint16(id[10:]))
		case len(id) >= 5 && string(id[:5]) == "\x7fFLAC":
			codec = "flac"
		case len(id) >= 8 && string(id[:8]) == "Speex   ":
			codec = "speex"
		case len(id) >= 7 && string(id[1:7]) == "theora":
			codec = "theora"
		}
	}
	if len(packets) >= 2 {
		c := packets[1]
		switch {
		case len(c) >= 7 && string(c[:7]) == "\x03vorbis":
			readVorbisComments(c[7:], t)
		case len(c) >= 8 && string(c[:8]) == "OpusTags":
			readVorbisComments(c[8:], t)
		}
	}
	if rate <= 0 {
		return codec
	}
	// The last page of the stream holds its length in samples.
	from := max(0, size-oggTailScan)
	tail := readAt(r, from, int(size-from))
	for i := bytes.LastIndex(tail, []byte("OggS")); i >= 0; i = bytes.LastIndex(tail[:i], []byte("OggS")) {
		p, ok := readOggPage(r, from+int64(i))
		if ok && p.serial == serial && p.granule > preSkip {
			t.Duration = float64(p.granule-preSkip) / rate
			return codec
		}
	}
	return codec
}

// ---- ID3 ----

// readID3v2 reads the ID3v2 tag at the start of r and returns the offset
// just past it, and the TLEN length in seconds (0 when absent).
func readID3v2(r io.ReaderAt, size int64, t *Tags) (end int64, tlen float64) {
	h := readAt(r, 0, 10)
	if h == nil {
		return 0, 0
	}
	ver, flags := h[3], h[5]
	n, ok := syncsafe(h[6:10])
	if !ok {
		return 0, 0
	}
	end = 10 + n
	if ver == 4 && flags&0x10 != 0 {
		end += 10 // footer
	}
	if ver < 2 || ver > 4 {
		return end, 0
	}
	var fr io.ReaderAt = r
	lo, hi := int64(10), min(10+n, size)
	if flags&0x80 != 0 && ver < 4 {
		// Whole-tag unsynchronisation: undo it in memory, if small enough.
		if hi-lo > maxTagBlock {
			return end, 0
		}
		b := readAt(r, lo, int(hi-lo))
		if b == nil {
			return end, 0
		}
		b = unsync(b)
		fr, lo, hi = bytes.NewReader(b), 0, int64(len(b))
	}
	if flags&0x40 != 0 && ver >= 3 { // extended header
		x := readAt(fr, lo, 4)
		if x == nil {
			return end, 0
		}
		if ver == 3 {
			lo += 4 + int64(binary.BigEndian.Uint32(x))
		} else {
			m, ok := syncsafe(x)
			if !ok {
				return end, 0
			}
			lo += m
		}
	}
	hdrLen := int64(10)
	if ver == 2 {
		hdrLen = 6
	}
	for i := 0; i < maxTagBlocks && lo+hdrLen <= hi; i++ {
		fh := readAt(fr, lo, int(hdrLen))
		if fh == nil || fh[0] == 0 {
			break // padding
		}
		var id string
		var fn int64
		var fflags byte
		switch ver {
		case 2:
			id, fn = string(fh[:3]), int64(fh[3])<<16|int64(fh[4])<<8|int64(fh[5])
		case 3:
			id, fn, fflags = string(fh[:4]), int64(binary.BigEndian.Uint32(fh[4:])), fh[9]
		case 4:
			id, fflags = string(fh[:4]), fh[9]
			m, ok := syncsafe(fh[4:8])
			if !ok {
				return end, tlen
			}
			fn = m
		}
		body := lo + hdrLen
		lo = body + fn
		if lo > hi {
			break
		}
		field := id3Field(id)
		if field == "" || fn > maxTagFrame {
			continue
		}
		b := readAt(fr, body, int(fn))
		if b == nil {
			break
		}
		if b, ok = id3FrameBody(ver, fflags, b); !ok {
			continue
		}
		v := id3Text(b)
		switch field {
		case "title":
			t.Title = v
		case "artist":
			t.Artist = v
		case "album":
			t.Album = v
		case "genre":
			t.Genre = id3Genre(v)
		case "length":
			if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e9 {
				tlen = ms / 1000
			}
		}
	}
	return end, tlen
}

func id3Field(id string) string {
	switch id {
	case "TIT2", "TT2":
		return "title"
	case "TPE1", "TP1":
		return "artist"
	case "TALB", "TAL":
		return "album"
	case "TCON", "TCO":
		return "genre"
	case "TLEN", "TLE":
		return "length"
	}
	return ""
}

// id3FrameBody undoes the per-frame encodings of ID3v2.3/4 that are cheap to
// undo and refuses the others (compression, encryption).
func id3FrameBody(ver, flags byte, b []byte) ([]byte, bool) {
	switch ver {
	case 3:
		if flags&0xc0 != 0 {
			return nil, false
		}
		if flags&0x20 != 0 { // group id
			if len(b) < 1 {
				return nil, false
			}
			b = b[1:]
		}
	case 4:
		if flags&0x0c != 0 {
			return nil, false
		}
		if flags&0x40 != 0 {
			if len(b) < 1 {
				return nil, false
			}
			b = b[1:]
		}
		if flags&0x01 != 0 { // data length indicator
			if len(b) < 4 {
				return nil, false
			}
			b = b[4:]
		}
		if flags&0x02 != 0 {
			b = unsync(b)
		}
	}
	return b, true
}

func syncsafe(b []byte) (int64, bool) {
	var n int64
	for _, c := range b[:4] {
		if c&0x80 != 0 {
			return 0, false
		}
		n = n<<7 | int64(c)
	}
	return n, true
}

// unsync removes the zero byte that ID3 unsynchronisation puts after 0xFF.
func unsync(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xff && i+1 < len(b) && b[i+1] == 0 {
			i++
		}
	}
	return out
}

// id3Text decodes an ID3v2 text frame: an encoding byte, then one or more
// NUL-separated strings, joined here with ", ".
func id3Text(b []byte) string {
	if len(b) < 1 {
		return ""
	}
	enc, b := b[0], b[1:]
	var parts []string
	switch enc {
	case 1, 2: // UTF-16 with BOM, UTF-16BE
		for len(b) >= 2 {
			end := len(b) &^ 1
			for i := 0; i+1 < len(b); i += 2 {
				if b[i] == 0 && b[i+1] == 0 {
					end = i
					break
				}
			}
			parts = append(parts, utf16Text(b[:end], enc == 2))
			b = b[min(end+2, len(b)):]
		}
	default: // 0 ISO-8859-1, 3 UTF-8
		for _, p := range bytes.Split(b, []byte{0}) {
			if enc == 3 {
				parts = append(parts, text8(p))
			} else {
				parts = append(parts, latin1(p))
			}
		}
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func utf16Text(b []byte, bigEndian bool) string {
	if len(b) >= 2 {
		switch {
		case b[0] == 0xff && b[1] == 0xfe:
			bigEndian, b = false, b[2:]
		case b[0] == 0xfe && b[1] == 0xff:
			bigEndian, b = true, b[2:]
		}
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
		} else {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
	}
	return clean(string(utf16.Decode(u)))
}

// text8 reads text that should be UTF-8 but, in old files, is often Latin-1.
func text8(b []byte) string {
	if utf8.Valid(b) {
		return clean(string(b))
	}
	return latin1(b)
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return clean(string(r))
}

// clean drops control characters (NULs, newlines) that have no place in a
// title and trims the spaces that fixed-width fields are padded with.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// readID3v1 fills the fields still empty from an ID3v1 tag at the end of r
// and reports whether there was one.
func readID3v1(r io.ReaderAt, size int64, t *Tags) bool {
	b := readAt(r, size-128, 128)
	if b == nil || string(b[:3]) != "TAG" {
		return false
	}
	field := func(f []byte) string {
		if i := bytes.IndexByte(f, 0); i >= 0 {
			f = f[:i]
		}
		return latin1(f)
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&t.Title, field(b[3:33]))
	fill(&t.Artist, field(b[33:63]))
	fill(&t.Album, field(b[63:93]))
	if g := int(b[127]); g < len(id3Genres) {
		fill(&t.Genre, id3Genres[g])
	}
	return true
}

// id3Genre resolves the numeric genre references of ID3v1 and early ID3v2
// ("(17)", "17", "(17)Rock").
func id3Genre(v string) string {
	s := v
	if strings.HasPrefix(s, "(") {
		i := strings.IndexByte(s, ')')
		if i < 0 {
			return v
		}
		if rest := strings.TrimSpace(s[i+1:]); rest != "" {
			return rest
		}
		s = s[1:i]
	}
	if g, err := strconv.Atoi(s); err == nil {
		if g >= 0 && g < len(id3Genres) {
			return id3Genres[g]
		}
		return ""
	}
	return v
}

// id3Genres are the genres of the ID3v1 specification.
var id3Genres = [...]string{
	"Blues", "Classic Rock", "Country", "Dance", "Disco", "Funk", "Grunge",
	"Hip-Hop", "Jazz", "Metal", "New Age", "Oldies", "Other", "Pop", "R&B",
	"Rap", "Reggae", "Rock", "Techno", "Industrial", "Alternative", "Ska",
	"Death Metal", "Pranks", "Soundtrack", "Euro-Techno", "Ambient",
	"Trip-Hop", "Vocal", "Jazz+Funk", "Fusion", "Trance", "Classical",
	"Instrumental", "Acid", "House", "Game", "Sound Clip", "Gospel", "Noise",
	"AlternRock", "Bass", "Soul", "Punk", "Space", "Meditative",
	"Instrumental Pop", "Instrumental Rock", "Ethnic", "Gothic", "Darkwave",
	"Techno-Industrial", "Electronic", "Pop-Folk", "Eurodance", "Dream",
	"Southern Rock", "Comedy", "Cult", "Gangsta", "Top 40", "Christian Rap",
	"Pop/Funk", "Jungle", "Native American", "Cabaret", "New Wave",
	"Psychadelic", "Rave", "Showtunes", "Trailer", "Lo-Fi", "Tribal",
	"Acid Punk", "Acid Jazz", "Polka", "Retro", "Musical", "Rock & Roll",
	"Hard Rock",
}

// ---- MPEG audio frames ----

type mp3Frame struct {
	version    int // 1, 2, or 25 for MPEG 2.5
	layer      int
	bitrate    int // kb/s
	sampleRate int
	mono       bool
	length     int // bytes, including the header
}

func (f mp3Frame) samples() int {
	switch {
	case f.layer == 1:
		return 384
	case f.layer == 3 && f.version != 1:
		return 576
	}
	return 1152
}

var mp3Bitrates = [...][16]int{
	{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448}, // V1 L1
	{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},    // V1 L2
	{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},     // V1 L3
	{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},    // V2 L1
	{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},         // V2 L2, L3
}

func parseMP3Header(h []byte) (mp3Frame, bool) {
	if len(h) < 4 || h[0] != 0xff || h[1]&0xe0 != 0xe0 {
		return mp3Frame{}, false
	}
	var f mp3Frame
	switch (h[1] >> 3) & 3 {
	case 0:
		f.version = 25
	case 2:
		f.version = 2
	case 3:
		f.version = 1
	default:
		return f, false
	}
	f.layer = 4 - int((h[1]>>1)&3)
	bi, si := h[2]>>4, (h[2]>>2)&3
	if f.layer == 4 || bi == 0 || bi == 15 || si == 3 {
		return f, false // reserved values, or free format, which we do not size
	}
	f.sampleRate = [3]int{44100, 48000, 32000}[si]
	switch f.version {
	case 2:
		f.sampleRate /= 2
	case 25:
		f.sampleRate /= 4
	}
	table := f.layer - 1
	if f.version != 1 {
		table = 4
		if f.layer == 1 {
			table = 3
		}
	}
	f.bitrate = mp3Bitrates[table][bi]
	pad := int(h[2]>>1) & 1
	f.mono = h[3]>>6 == 3
	switch {
	case f.layer == 1:
		f.length = (12*f.bitrate*1000/f.sampleRate + pad) * 4
	case f.layer == 3 && f.version != 1:
		f.length = 72*f.bitrate*1000/f.sampleRate + pad
	default:
		f.length = 144*f.bitrate*1000/f.sampleRate + pad
	}
	return f, f.length >= 4
}

// findMP3Frame looks for the first MPEG audio frame at or shortly after
// start, confirmed by a second frame header right after it (or by the end
// of the file), so that stray sync bits in garbage are not taken for audio.
func findMP3Frame(r io.ReaderAt, start, size int64) (int64, mp3Frame, bool) {
	n := min(int64(mp3SyncScan), size-start)
	if n < 4 {
		return 0, mp3Frame{}, false
	}
	b := readAt(r, start, int(n))
	if b == nil {
		return 0, mp3Frame{}, false
	}
	for i := 0; i+4 <= len(b); i++ {
		if b[i] != 0xff {
			continue
		}
		f, ok := parseMP3Header(b[i:])
		if !ok {
			continue
		}
		next := start + int64(i) + int64(f.length)
		if next >= size {
			return start + int64(i), f, true
		}
		if h := readAt(r, next, 4); h != nil {
			if g, ok := parseMP3Header(h); ok && g.version == f.version && g.layer == f.layer && g.sampleRate == f.sampleRate {
				return start + int64(i), f, true
			}
			// A single frame followed by trailing tags.
			if s := string(h[:3]); s == "TAG" || s == "APE" || s == "LYR" || s == "ID3" {
				return start + int64(i), f, true
			}
		}
	}
	return 0, mp3Frame{}, false
}

// mp3Duration reads a Xing/Info or VBRI header in the first frame, at off,
// for the number of frames, and otherwise estimates the duration of the
// audio running to end from the mean length of the frames in the first
// mp3Sample bytes, which is exact for constant bitrates.
func mp3Duration(r io.ReaderAt, off, end int64, f mp3Frame) float64 {
	side := 32
	switch {
	case f.version == 1 && f.mono:
		side = 17
	case f.version != 1 && !f.mono:
		side = 17
	case f.version != 1:
		side = 9
	}
	perFrame := float64(f.samples()) / float64(f.sampleRate)
	if f.layer == 3 {
		if x := readAt(r, off+4+int64(side), 12); x != nil {
			if tag := string(x[:4]); (tag == "Xing" || tag == "Info") && x[7]&1 != 0 {
				if n := binary.BigEndian.Uint32(x[8:]); n > 0 {
					return float64(n) * perFrame
				}
			}
		}
		if v := readAt(r, off+4+32, 18); v != nil && string(v[:4]) == "VBRI" {
			if n := binary.BigEndian.Uint32(v[14:]); n > 0 {
				return float64(n) * perFrame
			}
		}
	}
	if end <= off {
		return 0
	}
	n := min(end-off, mp3Sample)
	b := readAt(r, off, int(n))
	if b == nil {
		return 0
	}
	frames, pos := 0, 0
	for pos+4 <= len(b) {
		g, ok := parseMP3Header(b[pos:])
		if !ok || g.sampleRate != f.sampleRate || g.layer != f.layer {
			break
		}
		frames++
		pos += g.length
	}
	if frames == 0 {
		return 0
	}
	meanLen := float64(min(pos, len(b))) / float64(frames)
	return float64(end-off) / meanLen * perFrame
}
