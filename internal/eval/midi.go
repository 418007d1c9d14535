package eval

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// A Score is the metrical grid of a Standard MIDI File: where its beats and
// bars fall in seconds, from its tempo map and time signatures. A MIDI file
// that was rendered to audio, or a rhythm-game chart whose tempo map a
// person synchronised with a recording, is an exact beat annotation.
type Score struct {
	// Beats and Downbeats in seconds, while notes sound. The
	// beat is the time signature's counting unit: the quarter in 4/4, the
	// half in 2/2, the dotted quarter in compound metres such as 6/8 and
	// 12/8. A file without a time signature is counted in 4/4, as the
	// standard asks, unless its notes group in threes of eighths all
	// through: then in 6/8.
	Beats, Downbeats []float64
	// FirstNote and LastNote bound the notes: the start of the first and
	// the end of the last, in seconds.
	FirstNote, LastNote float64
	// MinBPM and MaxBPM are the slowest and fastest beat rates in force
	// while notes sound; equal for a steady tempo.
	MinBPM, MaxBPM float64
	// OnGrid is the share of notes that start on the grid a sequencer
	// quantises to: a sixteenth or a triplet eighth of the quarter note,
	// within two 48ths. A sequenced file scores near 1. One played in live
	// without a click scores near 0.5, one whose notes all sit off its
	// grid near 0: its tempo map does not follow the music, and its grid
	// is no annotation of it.
	OnGrid float64
}

// Tempo is the score's beat rate, BPM: the median inter-beat interval's,
// the one a listener would report for a steady piece.
func (s *Score) Tempo() float64 {
	if len(s.Beats) < 2 {
		return 0
	}
	d := make([]float64, len(s.Beats)-1)
	for i := range d {
		d[i] = s.Beats[i+1] - s.Beats[i]
	}
	slices.Sort(d)
	return 60 / d[len(d)/2]
}

// Limits that keep a hostile file from costing more than a real one could.
const (
	maxMIDIBytes  = 32 << 20
	maxMIDITracks = 1024
	maxMIDIHours  = 4
	maxMIDIBeats  = 100000 // 4 hours at 400 BPM

	// minCompoundNotes is how many notes on the eighth grid it takes to
	// tell a compound metre from a simple one.
	minCompoundNotes = 48
)

// ReadMIDI reads the tempo map, time signatures and note span of a
// Standard MIDI File (format 0 or 1; in format 2 every track is taken as
// part of one timeline) and returns its metrical grid. Files timed in
// SMPTE frames, which carry no beat, are an error, as is a file without
// notes.
func ReadMIDI(r io.Reader) (*Score, error) {
	br := bufio.NewReader(io.LimitReader(r, maxMIDIBytes))
	id, body, err := readChunk(br)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty MIDI file", ErrInvalid)
	}
	if err != nil {
		return nil, err
	}
	if id != "MThd" || len(body) < 6 {
		return nil, fmt.Errorf("%w: not a MIDI file", ErrInvalid)
	}
	ntrk := int(binary.BigEndian.Uint16(body[2:]))
	div := binary.BigEndian.Uint16(body[4:])
	if div&0x8000 != 0 {
		return nil, fmt.Errorf("%w: MIDI file timed in SMPTE frames has no beats", ErrInvalid)
	}
	if div == 0 {
		return nil, fmt.Errorf("%w: MIDI division of 0 ticks per quarter", ErrInvalid)
	}
	if ntrk > maxMIDITracks {
		return nil, fmt.Errorf("%w: %d MIDI tracks", ErrInvalid, ntrk)
	}
	m := midiEvents{ppq: int64(div)}
	for range ntrk {
		id, body, err := readChunk(br)
		if errors.Is(err, io.EOF) {
			break // a header that promises more tracks than there are
		}
		if err != nil {
			return nil, err
		}
		if id != "MTrk" {
			continue // unknown chunks are skipped, as the standard asks
		}
		if err := m.parseTrack(body); err != nil {
			return nil, err
		}
	}
	if !m.anyNote {
		return nil, fmt.Errorf("%w: MIDI file has no notes", ErrInvalid)
	}
	return m.score()
}

func readChunk(r io.Reader) (string, []byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return "", nil, fmt.Errorf("%w: truncated MIDI chunk header", ErrInvalid)
		}
		return "", nil, err
	}
	n := binary.BigEndian.Uint32(h[4:])
	if n > maxMIDIBytes {
		return "", nil, fmt.Errorf("%w: MIDI chunk of %d bytes", ErrInvalid, n)
	}
	// Grow as bytes arrive rather than trusting the length.
	buf, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return "", nil, err
	}
	if uint32(len(buf)) < n && string(h[:4]) == "MThd" {
		return "", nil, fmt.Errorf("%w: truncated MIDI header", ErrInvalid)
	}
	// A truncated track is kept as far as it goes: players do the same.
	return string(h[:4]), buf, nil
}

type tempoChange struct {
	tick   int64
	usPerQ float64
}

type meterChange struct {
	tick     int64
	num, den int
}

// midiEvents collects what ReadMIDI needs from every track.
type midiEvents struct {
	tempos              []tempoChange
	meters              []meterChange
	firstTick, lastTick int64
	anyNote             bool
	onGrid, notes       int
	ppq                 int64
	// thirds counts the notes on the eighth grid by their place in a
	// group of three eighths.
	thirds [3]int
}

func (m *midiEvents) note(tick int64) {
	if !m.anyNote || tick < m.firstTick {
		m.firstTick = tick
	}
	m.lastTick = max(m.lastTick, tick)
	m.anyNote = true
	m.notes++
	if onQuantGrid(tick, m.ppq) {
		m.onGrid++
	}
	e := float64(tick) * 2 / float64(m.ppq) // in eighths
	if r := math.Round(e); math.Abs(e-r) < 1.0/12 {
		m.thirds[int64(r)%3]++
	}
}

// compoundPhase says whether notes group in threes of eighths all through
// the file, as in 6/8 or 12/8: then one place in every group of three
// stays (nearly) empty, which no simple metre does for long, since its
// beats of two eighths fall on every place in turn. It returns the place
// where most notes start, the beat's.
func (m *midiEvents) compoundPhase() (int, bool) {
	t := m.thirds
	total := t[0] + t[1] + t[2]
	if total < minCompoundNotes || min(t[0], t[1], t[2])*50 > total {
		return 0, false
	}
	p := 0
	for k := range t {
		if t[k] > t[p] {
			p = k
		}
	}
	return p, true
}

// onQuantGrid says whether tick lies within two 48ths of a quarter (the
// play of a humanised sequence) of a sixteenth or a triplet eighth, at ppq
// ticks per quarter.
func onQuantGrid(tick, ppq int64) bool {
	// In 48ths of the quarter, sixteenths fall on multiples of 12 and
	// triplet eighths on multiples of 16.
	ph := float64(tick%ppq) / float64(ppq) * 48
	for _, g := range []float64{0, 12, 16, 24, 32, 36, 48} {
		if math.Abs(ph-g) < 2 {
			return true
		}
	}
	return false
}

func (m *midiEvents) parseTrack(b []byte) error {
	var tick int64
	var status byte
	i := 0
	vlq := func() (int64, bool) {
		var v int64
		for k := 0; k < 4; k++ {
			if i >= len(b) {
				return 0, false
			}
			c := b[i]
			i++
			v = v<<7 | int64(c&0x7f)
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	for i < len(b) {
		d, ok := vlq()
		if !ok {
			return nil // a torn last event ends the track
		}
		tick += d
		if i >= len(b) {
			return nil
		}
		c := b[i]
		if c&0x80 != 0 {
			i++
			if c < 0xf0 {
				status = c // running status applies to channel messages only
			}
		} else {
			c = status
			if c == 0 {
				return fmt.Errorf("%w: MIDI data byte without a status", ErrInvalid)
			}
		}
		switch {
		case c == 0xff:
			if i >= len(b) {
				return nil
			}
			typ := b[i]
			i++
			n, ok := vlq()
			if !ok || n > int64(len(b)-i) {
				return nil
			}
			data := b[i : i+int(n)]
			i += int(n)
			switch {
			case typ == 0x51 && n == 3:
				us := float64(int(data[0])<<16 | int(data[1])<<8 | int(data[2]))
				if us > 0 {
					m.tempos = append(m.tempos, tempoChange{tick, us})
				}
			case typ == 0x58 && n >= 2:
				if data[0] > 0 && data[1] < 7 {
					m.meters = append(m.meters, meterChange{tick, int(data[0]), 1 << data[1]})
				}
			case typ == 0x2f:
				return nil
			}
		case c == 0xf0 || c == 0xf7:
			n, ok := vlq()
			if !ok || n > int64(len(b)-i) {
				return nil
			}
			i += int(n)
		case c >= 0xf0:
			// System common/real-time bytes have no place in a file; skip.
		default:
			n := 2
			if c&0xf0 == 0xc0 || c&0xf0 == 0xd0 {
				n = 1
			}
			if i+n > len(b) {
				return nil
			}
			switch c & 0xf0 {
			case 0x90:
				if b[i+1] > 0 { // velocity 0 is a note-off
					m.note(tick)
				} else {
					m.lastTick = max(m.lastTick, tick)
				}
			case 0x80:
				m.lastTick = max(m.lastTick, tick)
			}
			i += n
		}
	}
	return nil
}

// score lays the beat grid over the tempo map.
func (m *midiEvents) score() (*Score, error) {
	ppq := float64(m.ppq)
	// Events of several tracks at one tick: the last one read wins, as in
	// a sequencer that merges tracks in order.
	sort.SliceStable(m.tempos, func(a, b int) bool { return m.tempos[a].tick < m.tempos[b].tick })
	sort.SliceStable(m.meters, func(a, b int) bool { return m.meters[a].tick < m.meters[b].tick })
	if len(m.tempos) == 0 || m.tempos[0].tick > 0 {
		m.tempos = append([]tempoChange{{0, 500000}}, m.tempos...) // 120 BPM by default
	}
	if len(m.meters) == 0 {
		// The standard assumes 4/4 when a file gives no time signature,
		// but many sequencers leave it out whatever the metre, and
		// counting a 6/8 piece in quarters puts the beat where no
		// listener would.
		if p, ok := m.compoundPhase(); ok {
			// Start a beat before the file so that no bar of 4/4 comes
			// first.
			start := int64(p) * m.ppq / 2
			if start > 0 {
				start -= 3 * m.ppq / 2
			}
			m.meters = []meterChange{{start, 6, 8}}
		}
	}
	if len(m.meters) == 0 || m.meters[0].tick > 0 {
		m.meters = append([]meterChange{{0, 4, 4}}, m.meters...)
	}
	// seconds converts ticks to time along the tempo map.
	secs := make([]float64, len(m.tempos)) // time at each tempo change
	for k := 1; k < len(m.tempos); k++ {
		secs[k] = secs[k-1] + float64(m.tempos[k].tick-m.tempos[k-1].tick)*m.tempos[k-1].usPerQ/ppq/1e6
	}
	seconds := func(tick float64) float64 {
		k := sort.Search(len(m.tempos), func(k int) bool { return float64(m.tempos[k].tick) > tick }) - 1
		k = max(k, 0)
		return secs[k] + (tick-float64(m.tempos[k].tick))*m.tempos[k].usPerQ/ppq/1e6
	}
	s := &Score{
		FirstNote: seconds(float64(m.firstTick)),
		LastNote:  seconds(float64(m.lastTick)),
		OnGrid:    float64(m.onGrid) / float64(m.notes),
	}
	if s.LastNote-s.FirstNote > maxMIDIHours*3600 {
		return nil, fmt.Errorf("%w: MIDI notes span %.0f hours", ErrInvalid, (s.LastNote-s.FirstNote)/3600)
	}
	// Walk the bars of each time signature from its own start, so that a
	// change of metre starts a new bar as notation does.
	s.MinBPM, s.MaxBPM = math.Inf(1), 0
	for k, mc := range m.meters {
		beat := ppq * 4 / float64(mc.den)
		perBar := mc.num
		if mc.den >= 8 && mc.num%3 == 0 && mc.num > 3 {
			beat *= 3 // compound metre: counted in dotted beats
			perBar = mc.num / 3
		}
		end := math.Inf(1)
		if k+1 < len(m.meters) {
			end = float64(m.meters[k+1].tick)
		}
		for n := 0; ; n++ {
			tick := float64(mc.tick) + float64(n)*beat
			if tick >= end || tick >= float64(m.lastTick) {
				break
			}
			if tick < float64(m.firstTick) {
				continue
			}
			if len(s.Beats) >= maxMIDIBeats {
				return nil, fmt.Errorf("%w: MIDI grid of more than %d beats", ErrInvalid, maxMIDIBeats)
			}
			t := seconds(tick)
			s.Beats = append(s.Beats, t)
			if n%perBar == 0 {
				s.Downbeats = append(s.Downbeats, t)
			}
			bpm := 60 / (seconds(tick+beat) - t)
			s.MinBPM, s.MaxBPM = min(s.MinBPM, bpm), max(s.MaxBPM, bpm)
		}
	}
	if len(s.Beats) == 0 {
		s.MinBPM = 0
	}
	return s, nil
}
