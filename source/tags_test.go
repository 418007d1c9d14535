package source

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func TestReadTags(t *testing.T) {
	const frameSeconds = 1152.0 / 44100
	tests := []struct {
		name string
		data []byte
		want Tags
		tol  float64 // on Duration
	}{
		{
			name: "wav with INFO",
			data: makeWAV(22050, 22050, 1, "INAM", "Song", "IART", "Band", "IGNR", "Dub"),
			want: Tags{Format: "wav", Title: "Song", Artist: "Band", Genre: "Dub", Duration: 1},
		},
		{
			name: "wav stereo 48k without tags",
			data: makeWAV(24000, 48000, 2),
			want: Tags{Format: "wav", Duration: 0.5},
		},
		{
			name: "mp3 ID3v2.4 UTF-8",
			data: concat(id3v2(4, "TIT2", "Ünïcode Title", "TPE1", "Ärtist", "TCON", "Techno", "TALB", "LP"), mp3Silence(20)),
			want: Tags{Format: "mp3", Title: "Ünïcode Title", Artist: "Ärtist", Genre: "Techno", Album: "LP", Duration: 20 * frameSeconds},
			tol:  0.01,
		},
		{
			name: "mp3 ID3v2.3 UTF-16 with numeric genre and TLEN",
			data: concat(id3v2(3, "TIT2", "Title16", "TPE1", "Artist16", "TCON", "(17)", "TLEN", "2500"), mp3Silence(5)),
			want: Tags{Format: "mp3", Title: "Title16", Artist: "Artist16", Genre: "Rock", Duration: 2.5},
		},
		{
			name: "mp3 ID3v2.2",
			data: concat(id3v2(2, "TT2", "Old", "TP1", "Timer"), mp3Silence(3)),
			want: Tags{Format: "mp3", Title: "Old", Artist: "Timer", Duration: 3 * frameSeconds},
			tol:  0.01,
		},
		{
			name: "mp3 ID3v1 only",
			data: concat(mp3Silence(10), id3v1("V1 Title", "V1 Artist", 35)),
			want: Tags{Format: "mp3", Title: "V1 Title", Artist: "V1 Artist", Genre: "House", Duration: 10 * frameSeconds},
			tol:  0.01,
		},
		{
			name: "ID3v2 wins over ID3v1, which fills gaps",
			data: concat(id3v2(4, "TIT2", "New"), mp3Silence(4), id3v1("Old", "Fallback", 255)),
			want: Tags{Format: "mp3", Title: "New", Artist: "Fallback", Duration: 4 * frameSeconds},
			tol:  0.01,
		},
		{
			name: "mp3 Xing frame count",
			data: concat(xingFrame(1000), mp3Silence(3)),
			want: Tags{Format: "mp3", Duration: 1000 * frameSeconds},
			tol:  1e-9,
		},
		{
			name: "mp3 after junk bytes",
			data: concat([]byte("\x00\x00junk"), mp3Silence(4)),
			want: Tags{Format: "mp3", Duration: 4 * frameSeconds},
			tol:  0.01,
		},
		{
			name: "flac",
			data: flacHeader(48000, 96000, "TITLE=Fl", "artist=One", "ARTIST=Two", "GENRE=Ambient"),
			want: Tags{Format: "flac", Title: "Fl", Artist: "One, Two", Genre: "Ambient", Duration: 2},
		},
		{
			name: "flac behind an ID3v2 tag",
			data: concat(id3v2(3, "TIT2", "ignored"), flacHeader(44100, 44100, "TITLE=Inner")),
			want: Tags{Format: "flac", Title: "Inner", Duration: 1},
		},
		{
			name: "ogg vorbis",
			data: oggVorbisHeader(44100, 3*44100, "TITLE=Og", "ARTIST=Gg"),
			want: Tags{Format: "ogg", Title: "Og", Artist: "Gg", Duration: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadTags(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Duration-tt.want.Duration) > tt.tol+1e-9 {
				t.Errorf("Duration = %v, want %v", got.Duration, tt.want.Duration)
			}
			got.Duration = tt.want.Duration
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadTagsRejects(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":           nil,
		"short":           []byte("RIFF"),
		"text":            []byte("this is not audio, although it is named .mp3 and long enough"),
		"ID3 and nothing": id3v2(4, "TIT2", "x"),
		"html":            []byte("<!DOCTYPE html><html><body>404</body></html>"),
		"ogg opus": concat(
			oggPageBytes(1, 0, 0, []byte("OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00")),
			oggPageBytes(1, 1, 0, append([]byte("OpusTags"), vorbisComments("x", "TITLE=t")...)),
			oggPageBytes(1, 2, 96000, make([]byte, 50))),
	} {
		_, err := ReadTags(bytes.NewReader(data), int64(len(data)))
		if !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: err = %v, want ErrUnknownFormat", name, err)
		}
	}
}

func TestReadTagsSharedMusic(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "testdata", "music")
	files, _ := filepath.Glob(filepath.Join(dir, "*.ogg"))
	if len(files) == 0 {
		t.Skip("no Ogg files in", dir)
	}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		tags, err := ReadTags(f, fi.Size())
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		// Real recordings of a few minutes.
		if tags.Format != "ogg" || tags.Duration < 10 || tags.Duration > 3600 {
			t.Errorf("%s: %+v", path, tags)
		}
		t.Logf("%s: %+v", filepath.Base(path), tags)
	}
}

func FuzzReadTags(f *testing.F) {
	f.Add(makeWAV(100, 8000, 1, "INAM", "a"))
	f.Add(concat(id3v2(4, "TIT2", "t", "TPE1", "a"), mp3Silence(2)))
	f.Add(concat(id3v2(3, "TIT2", "t", "TCON", "(3)"), mp3Silence(2), id3v1("x", "y", 1)))
	f.Add(concat(id3v2(2, "TT2", "t"), mp3Silence(1)))
	f.Add(concat(xingFrame(10), mp3Silence(1)))
	f.Add(flacHeader(44100, 1000, "TITLE=x"))
	f.Add(oggVorbisHeader(44100, 1000, "TITLE=x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tags, err := ReadTags(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if tags.Format != "" {
				t.Errorf("format %q with error %v", tags.Format, err)
			}
			return
		}
		if d := tags.Duration; math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
			t.Errorf("Duration = %v", d)
		}
		for _, s := range []string{tags.Title, tags.Artist, tags.Album, tags.Genre} {
			if !utf8.ValidString(s) {
				t.Errorf("invalid UTF-8 %q", s)
			}
		}
	})
}

// TestReadTagsMinimp3 checks the MP3 frame finder and duration estimate
// on the minimp3 conformance streams, against the length of their
// reference PCM (16-bit, at the stream's rate and channel count).
func TestReadTagsMinimp3(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "testdata", "minimp3")
	for _, name := range []string{
		// Constant bitrate, or variable with a Xing header. (A variable
		// bitrate without one, like l3-he_44khz, is only estimated, here
		// 16% long.)
		"M2L3_compl24", "M2L3_noise", "l3-si", "l3-si_block", "l3-si_huff",
		"l3-test46", "l3-nonstandard-sin1k0db_lame_vbrtag", "l3-compl",
	} {
		bit, err := os.ReadFile(filepath.Join(dir, name+".bit"))
		if err != nil {
			t.Skip(err)
		}
		pcm, err := os.Stat(filepath.Join(dir, name+".pcm"))
		if err != nil {
			t.Skip(err)
		}
		tags, err := ReadTags(bytes.NewReader(bit), int64(len(bit)))
		if err != nil || tags.Format != "mp3" {
			t.Errorf("%s: %+v, %v", name, tags, err)
			continue
		}
		off, f, _ := findMP3Frame(bytes.NewReader(bit), 0, int64(len(bit)))
		channels := 2
		if f.mono {
			channels = 1
		}
		want := float64(pcm.Size()) / float64(2*channels*f.sampleRate)
		// The reference omits the decoder delay: allow two frames.
		if tol := 2 * float64(f.samples()) / float64(f.sampleRate); math.Abs(tags.Duration-want) > max(tol, 0.02*want) {
			t.Errorf("%s (offset %d, %+v): Duration %.3f, reference %.3f", name, off, f, tags.Duration, want)
		}
	}
	// Free-format streams are not decodable here, and are rejected.
	if free, err := os.ReadFile(filepath.Join(dir, "l3-he_free.bit")); err == nil {
		if _, err := ReadTags(bytes.NewReader(free), int64(len(free))); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("free format: %v", err)
		}
	}
}

// Cover art is often multiplexed into Ogg files as a Theora stream before
// the audio: the tags and length are those of the Vorbis stream.
func TestReadTagsOggWithPictureStream(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "art.ogg")
	cmd := exec.Command("ffmpeg", "-v", "error",
		"-f", "lavfi", "-i", "color=c=blue:s=32x32:d=1:r=1",
		"-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100:duration=2.5",
		"-map", "0:v", "-map", "1:a", "-c:v", "libtheora", "-c:a", "libvorbis",
		"-metadata", "title=Harbour Song", "-metadata", "artist=The Pictures", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make Theora+Vorbis here: %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	tags, err := ReadTags(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	if tags.Format != "ogg" || tags.Title != "Harbour Song" || tags.Artist != "The Pictures" {
		t.Errorf("tags %+v", tags)
	}
	if tags.Duration < 2.4 || tags.Duration > 2.6 {
		t.Errorf("duration %.3f s, want 2.5", tags.Duration)
	}
}
