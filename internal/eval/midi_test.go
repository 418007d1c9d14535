package eval

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// smf builds a Standard MIDI File from tracks of raw event bytes (each
// event: delta-time VLQ, then the message).
func smf(format, division uint16, tracks ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("MThd")
	binary.Write(&b, binary.BigEndian, uint32(6))
	binary.Write(&b, binary.BigEndian, format)
	binary.Write(&b, binary.BigEndian, uint16(len(tracks)))
	binary.Write(&b, binary.BigEndian, division)
	for _, t := range tracks {
		b.WriteString("MTrk")
		binary.Write(&b, binary.BigEndian, uint32(len(t)))
		b.Write(t)
	}
	return b.Bytes()
}

// vlq encodes a MIDI variable-length quantity.
func vlq(v uint32) []byte {
	out := []byte{byte(v & 0x7f)}
	for v >>= 7; v > 0; v >>= 7 {
		out = append([]byte{byte(v&0x7f) | 0x80}, out...)
	}
	return out
}

func ev(delta uint32, msg ...byte) []byte { return append(vlq(delta), msg...) }

func tempo(delta uint32, bpm float64) []byte {
	us := uint32(math.Round(60e6 / bpm))
	return ev(delta, 0xff, 0x51, 3, byte(us>>16), byte(us>>8), byte(us))
}

func meterEv(delta uint32, num, denPow byte) []byte {
	return ev(delta, 0xff, 0x58, 4, num, denPow, 24, 8)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var endOfTrack = ev(0, 0xff, 0x2f, 0)

// near allows for tempi stored in whole microseconds per quarter.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-5*max(1, math.Abs(b)) }

func TestReadMIDISteady(t *testing.T) {
	// 120 BPM, 3/4, 480 ticks per quarter: notes from bar 1 to the end of
	// bar 3, with running status for the note-offs and a sysex between.
	conductor := cat(tempo(0, 120), meterEv(0, 3, 2), endOfTrack)
	notes := cat(
		ev(0, 0x90, 60, 100),
		ev(480, 0x80, 60, 0),
		ev(0, 0xf0, 2, 0x7e, 0xf7),
		ev(0, 0x90, 64, 90),
		ev(480*8-480, 0x90, 64, 0), // velocity 0: a note-off
		endOfTrack,
	)
	s, err := ReadMIDI(bytes.NewReader(smf(1, 480, conductor, notes)))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Beats) != 8 { // beats 0..7 at 0.5 s: the last note ends on beat 8
		t.Fatalf("%d beats %v, want 8", len(s.Beats), s.Beats)
	}
	for i, b := range s.Beats {
		if !near(b, 0.5*float64(i)) {
			t.Errorf("beat %d at %v, want %v", i, b, 0.5*float64(i))
		}
	}
	want := []float64{0, 1.5, 3}
	if len(s.Downbeats) != len(want) {
		t.Fatalf("downbeats %v, want %v", s.Downbeats, want)
	}
	for i := range want {
		if !near(s.Downbeats[i], want[i]) {
			t.Errorf("downbeat %d at %v, want %v", i, s.Downbeats[i], want[i])
		}
	}
	if !near(s.Tempo(), 120) || !near(s.MinBPM, 120) || !near(s.MaxBPM, 120) {
		t.Errorf("tempo %v [%v, %v], want 120", s.Tempo(), s.MinBPM, s.MaxBPM)
	}
	if s.OnGrid != 1 {
		t.Errorf("on grid %v, want 1", s.OnGrid)
	}
	if !near(s.FirstNote, 0) || !near(s.LastNote, 4) {
		t.Errorf("notes span %v-%v, want 0-4", s.FirstNote, s.LastNote)
	}
}

func TestReadMIDITempoChangeAndCompoundMetre(t *testing.T) {
	// Format 0: 6/8 at quarter = 90 (dotted quarter = 60) for one bar, then
	// the quarter speeds up to 180 (dotted quarter 120) for one more bar.
	track := cat(
		tempo(0, 90), meterEv(0, 6, 3),
		ev(0, 0x90, 48, 100),
		tempo(720, 180), // one 6/8 bar = 3 quarters = 720 ticks at 240 ppq
		ev(720, 0x80, 48, 0),
		endOfTrack,
	)
	s, err := ReadMIDI(bytes.NewReader(smf(0, 240, track)))
	if err != nil {
		t.Fatal(err)
	}
	// Dotted-quarter beats: 1 s apart in bar 1 (2 s long), 0.5 s in bar 2.
	want := []float64{0, 1, 2, 2.5}
	if len(s.Beats) != len(want) {
		t.Fatalf("beats %v, want %v", s.Beats, want)
	}
	for i := range want {
		if !near(s.Beats[i], want[i]) {
			t.Errorf("beat %d at %v, want %v", i, s.Beats[i], want[i])
		}
	}
	if len(s.Downbeats) != 2 || !near(s.Downbeats[1], 2) {
		t.Errorf("downbeats %v, want [0 2]", s.Downbeats)
	}
	if !near(s.MinBPM, 60) || !near(s.MaxBPM, 120) {
		t.Errorf("tempo range [%v, %v], want [60, 120]", s.MinBPM, s.MaxBPM)
	}
}

func TestReadMIDIDefaults(t *testing.T) {
	// No tempo and no time signature: 120 BPM in 4/4, as the standard says.
	track := cat(ev(0, 0x90, 60, 1), ev(96*8, 0x80, 60, 0), endOfTrack)
	s, err := ReadMIDI(bytes.NewReader(smf(0, 96, track)))
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.Tempo(), 120) || len(s.Downbeats) != 2 || len(s.Beats) != 8 {
		t.Errorf("tempo %v, %d beats, %d downbeats; want 120, 8, 2", s.Tempo(), len(s.Beats), len(s.Downbeats))
	}
}

func TestReadMIDIErrors(t *testing.T) {
	note := cat(ev(0, 0x90, 60, 1), ev(96, 0x80, 60, 0), endOfTrack)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not midi":  []byte("RIFF....WAVEfmt "),
		"smpte":     smf(0, 0xe728, note),
		"division0": smf(0, 0, note),
		"no notes":  smf(0, 96, cat(tempo(0, 100), endOfTrack)),
		"no status": smf(0, 96, []byte{0, 0x3c, 0x40}),
		"short hdr": []byte("MThd\x00\x00\x00\x06\x00\x01"),
	} {
		_, err := ReadMIDI(bytes.NewReader(data))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestReadMIDITruncated(t *testing.T) {
	// A track cut mid-event keeps what it had, as players do.
	track := cat(ev(0, 0x90, 60, 1), ev(480, 0x80, 60, 0), ev(0, 0x90, 62))
	data := smf(0, 480, track)
	s, err := ReadMIDI(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.LastNote, 0.5) {
		t.Errorf("last note ends at %v, want 0.5", s.LastNote)
	}
}

func FuzzReadMIDI(f *testing.F) {
	f.Add(smf(1, 480, cat(tempo(0, 120), meterEv(0, 3, 2), endOfTrack), cat(ev(0, 0x90, 60, 100), ev(480, 0x80, 60, 0), endOfTrack)))
	f.Add(smf(0, 240, cat(tempo(0, 90), meterEv(0, 6, 3), ev(0, 0x90, 48, 100), tempo(720, 180), ev(720, 0x80, 48, 0), endOfTrack)))
	f.Add(smf(0, 1, cat(tempo(0, 1e7), ev(0, 0x90, 1, 1), ev(0x0fffffff, 0x80, 1, 0))))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadMIDI(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, b := range s.Beats {
			if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b < s.Beats[i-1]) {
				t.Fatalf("beat %d at %v after %v", i, b, s.Beats[max(i-1, 0)])
			}
		}
		if len(s.Downbeats) > len(s.Beats) {
			t.Fatalf("%d downbeats for %d beats", len(s.Downbeats), len(s.Beats))
		}
	})
}

func TestReadMIDIOnGrid(t *testing.T) {
	// At 480 ticks per quarter: on the beat, a sixteenth (120), a triplet
	// eighth (320), one tick early for the next beat (959, within a 48th),
	// and two notes played loose (50 and 1300).
	var track []byte
	last := uint32(0)
	for _, tick := range []uint32{0, 120, 320, 959, 1050 + 250, 50 + 1920} {
		track = append(track, ev(tick-last, 0x90, 60, 100)...)
		last = tick
	}
	track = append(track, cat(ev(480, 0x80, 60, 0), endOfTrack)...)
	s, err := ReadMIDI(bytes.NewReader(smf(0, 480, track)))
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.OnGrid, 4.0/6) {
		t.Errorf("on grid %v, want 4/6", s.OnGrid)
	}
}

// untimedSignature builds a file at 120 BPM, 96 ticks per quarter, with no
// time signature, whose notes start at the given eighths of every bar of
// barEighths eighths, for bars bars, after a rest of lead eighths.
func untimedSignature(lead int, barEighths int, eighths []int, bars int) []byte {
	var notes []byte
	last := 0 // tick of the last event
	for b := range bars {
		for _, e := range eighths {
			at := (lead + b*barEighths + e) * 48
			notes = append(notes, ev(uint32(at-last), 0x90, 60, 100)...)
			notes = append(notes, ev(24, 0x80, 60, 0)...)
			last = at + 24
		}
	}
	return smf(0, 96, cat(tempo(0, 120), notes, endOfTrack))
}

func TestReadMIDIInfersCompoundMetre(t *testing.T) {
	cases := []struct {
		name       string
		lead, bar  int
		eighths    []int
		beatEighth int // the beat's length in eighths
		first      float64
	}{
		// Quarter and eighth, twice a bar: 6/8 all through.
		{"long-short 6/8", 0, 6, []int{0, 2, 3, 5}, 3, 0},
		// The same, entering on the second eighth: the beat is where most
		// notes start, not the file's first tick.
		{"6/8 off the first tick", 1, 6, []int{0, 1, 3, 4}, 3, 0.25},
		// Running eighths fill every place: the standard's 4/4 stands.
		{"running eighths", 0, 8, []int{0, 1, 2, 3, 4, 5, 6, 7}, 2, 0},
		// Only beats of two eighths: every place in turn, 4/4 stands.
		{"quarters", 0, 8, []int{0, 2, 4, 6}, 2, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ReadMIDI(bytes.NewReader(untimedSignature(c.lead, c.bar, c.eighths, 16)))
			if err != nil {
				t.Fatal(err)
			}
			want := 120.0 * 2 / float64(c.beatEighth)
			if got := s.Tempo(); !near(got, want) {
				t.Errorf("tempo %.3f BPM, want %.3f", got, want)
			}
			if s.MinBPM != s.MaxBPM {
				t.Errorf("beat rate %.3f-%.3f BPM, want one", s.MinBPM, s.MaxBPM)
			}
			if !near(s.Beats[0], c.first) {
				t.Errorf("first beat at %.3f s, want %.3f", s.Beats[0], c.first)
			}
		})
	}
	// Too few notes to tell: 4/4.
	s, err := ReadMIDI(bytes.NewReader(untimedSignature(0, 6, []int{0, 2, 3, 5}, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Tempo(); !near(got, 120) {
		t.Errorf("16 notes: tempo %.3f BPM, want the standard's 120", got)
	}
}
