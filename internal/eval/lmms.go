package eval

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// An LMMSProject is the tempo and metre of an LMMS song project. LMMS is a
// sequencer: audio it renders from a project keeps the project's tempo to
// the sample, from the song's start, so the grid of a project whose tempo
// never changes is an exact beat annotation of its rendering.
type LMMSProject struct {
	// BPM is the tempo as LMMS counts it, in quarter notes per minute
	// whatever the time signature.
	BPM float64
	// Numerator and Denominator are the time signature.
	Numerator, Denominator int
	// Automated reports a tempo that an automation track or a controller
	// may change while the song plays: LMMS then saves it as an element
	// with an id for the automation to refer to, not as a plain attribute.
	Automated bool
}

// Limits that keep a hostile project from costing more than a real one.
const (
	maxLMMSBytes = 64 << 20
	minLMMSBPM   = 10  // LMMS's own range
	maxLMMSBPM   = 999 // ...
	maxLMMSMetre = 64
)

// ReadLMMS reads the tempo and time signature of an LMMS project, plain
// XML (.mmp) or compressed (.mmpz: Qt's qCompress, a 4-byte big-endian
// length and a zlib stream).
func ReadLMMS(r io.Reader) (*LMMSProject, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxLMMSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxLMMSBytes {
		return nil, fmt.Errorf("%w: LMMS project larger than %d MB", ErrInvalid, maxLMMSBytes>>20)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf"), []byte("<")) {
		if len(data) < 4 {
			return nil, fmt.Errorf("%w: not an LMMS project", ErrInvalid)
		}
		want := binary.BigEndian.Uint32(data)
		zr, err := zlib.NewReader(bytes.NewReader(data[4:]))
		if err != nil {
			return nil, fmt.Errorf("%w: not an LMMS project: %v", ErrInvalid, err)
		}
		if want > maxLMMSBytes {
			return nil, fmt.Errorf("%w: LMMS project of %d bytes uncompressed", ErrInvalid, want)
		}
		if data, err = io.ReadAll(io.LimitReader(zr, int64(want)+1)); err != nil {
			return nil, fmt.Errorf("%w: compressed LMMS project: %v", ErrInvalid, err)
		}
	}
	return readLMMSXML(bytes.NewReader(data))
}

func readLMMSXML(r io.Reader) (*LMMSProject, error) {
	d := xml.NewDecoder(bufio.NewReader(r))
	d.Strict = false // LMMS writes what Qt's DOM writes, not always well-formed XML
	depth := 0
	var p *LMMSProject
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: LMMS project: %v", ErrInvalid, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				// Projects from LMMS before 1.0 name the root after its
				// old name, Linux MultiMedia Studio.
				if t.Name.Local != "lmms-project" && t.Name.Local != "multimedia-project" {
					return nil, fmt.Errorf("%w: root element %q is no LMMS project", ErrInvalid, t.Name.Local)
				}
			case depth == 2 && t.Name.Local == "head" && p == nil:
				p = &LMMSProject{BPM: 120, Numerator: 4, Denominator: 4} // LMMS's defaults
				for _, a := range t.Attr {
					if err := p.set(a.Name.Local, a.Value); err != nil {
						return nil, err
					}
				}
			case depth == 3 && p != nil && t.Name.Local == "bpm":
				p.Automated = true
				for _, a := range t.Attr {
					if a.Name.Local == "value" {
						if err := p.set("bpm", a.Value); err != nil {
							return nil, err
						}
					}
				}
			}
		case xml.EndElement:
			depth--
			if depth == 1 && p != nil && t.Name.Local == "head" {
				return p, nil
			}
		}
	}
	if p == nil {
		return nil, fmt.Errorf("%w: LMMS project without a head", ErrInvalid)
	}
	return p, nil
}

// set reads one setting of the project's head.
func (p *LMMSProject) set(name, value string) error {
	switch name {
	case "bpm":
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || !(v >= minLMMSBPM && v <= maxLMMSBPM) {
			return fmt.Errorf("%w: LMMS tempo %q", ErrInvalid, value)
		}
		p.BPM = v
	case "timesig_numerator", "timesig_denominator":
		v, err := strconv.Atoi(value)
		if err != nil || v < 1 || v > maxLMMSMetre {
			return fmt.Errorf("%w: LMMS time signature %s %q", ErrInvalid, name, value)
		}
		if name == "timesig_numerator" {
			p.Numerator = v
		} else {
			p.Denominator = v
		}
	}
	return nil
}

// Grid returns the project's metrical grid from the song's start, with the
// beats and downbeats that fall between from and to seconds (the span of
// the rendering where notes sound). The beat is the quarter note LMMS
// counts its tempo in, and the dotted quarter in compound metres (6/8,
// 9/8, 12/8), as ReadMIDI counts; a downbeat starts every bar, on a beat
// or, in a metre such as 5/8, between two. Notes are those of a
// sequencer: all on its grid.
func (p *LMMSProject) Grid(from, to float64) *Score {
	if !(p.BPM > 0) || p.Numerator < 1 || p.Denominator < 1 {
		return &Score{FirstNote: from, LastNote: to}
	}
	beat := 60 / p.BPM // seconds per quarter
	perBar := float64(p.Numerator) * 4 / float64(p.Denominator)
	if p.Denominator >= 8 && p.Numerator%3 == 0 && p.Numerator > 3 {
		beat *= 1.5
		perBar /= 1.5
	}
	s := &Score{FirstNote: from, LastNote: to, MinBPM: 60 / beat, MaxBPM: 60 / beat, OnGrid: 1}
	if !(to > from) || to-from > maxMIDIHours*3600 {
		return s
	}
	for n := math.Ceil(from / beat); n*beat < to && len(s.Beats) < maxMIDIBeats; n++ {
		s.Beats = append(s.Beats, n*beat)
	}
	bar := perBar * beat
	for n := math.Ceil(from / bar); n*bar < to && len(s.Downbeats) < len(s.Beats); n++ {
		s.Downbeats = append(s.Downbeats, n*bar)
	}
	return s
}
