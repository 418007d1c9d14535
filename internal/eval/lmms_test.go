package eval

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
)

// qCompress packs data as Qt's qCompress does, as LMMS writes .mmpz files.
func qCompress(data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	zw := zlib.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

const lmmsSong = `<?xml version="1.0"?>
<!DOCTYPE lmms-project>
<lmms-project version="1.0" creator="LMMS" creatorversion="1.2.2" type="song">
  <head timesig_numerator="3" bpm="142.5" timesig_denominator="4" mastervol="100" masterpitch="0"/>
  <song><trackcontainer type="song"><track type="0" name="Kick"/></trackcontainer></song>
</lmms-project>
`

func TestReadLMMS(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want LMMSProject
	}{
		{"plain", []byte(lmmsSong), LMMSProject{BPM: 142.5, Numerator: 3, Denominator: 4}},
		{"compressed", qCompress([]byte(lmmsSong)), LMMSProject{BPM: 142.5, Numerator: 3, Denominator: 4}},
		{"automated tempo", []byte(`<lmms-project><head timesig_numerator="6" timesig_denominator="8"><bpm value="90" id="1234" scale_type="linear"/></head></lmms-project>`),
			LMMSProject{BPM: 90, Numerator: 6, Denominator: 8, Automated: true}},
		{"other automated settings", []byte(`<lmms-project><head bpm="128"><mastervol value="99" id="7"/></head></lmms-project>`),
			LMMSProject{BPM: 128, Numerator: 4, Denominator: 4}},
		{"before LMMS 1.0", []byte(`<multimedia-project version="1.0"><head bpm="100" timesig_numerator="4" timesig_denominator="4"/></multimedia-project>`),
			LMMSProject{BPM: 100, Numerator: 4, Denominator: 4}},
		{"defaults", []byte(`<lmms-project><head/></lmms-project>`), LMMSProject{BPM: 120, Numerator: 4, Denominator: 4}},
	} {
		p, err := ReadLMMS(bytes.NewReader(tc.data))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if *p != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, *p, tc.want)
		}
	}
}

func TestReadLMMSRejects(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":              nil,
		"not XML":            []byte("RIFF\x00\x00\x00\x00WAVEfmt "),
		"other XML":          []byte(`<svg><head bpm="120"/></svg>`),
		"no head":            []byte(`<lmms-project><song/></lmms-project>`),
		"tempo of zero":      []byte(`<lmms-project><head bpm="0"/></lmms-project>`),
		"tempo not a number": []byte(`<lmms-project><head bpm="NaN"/></lmms-project>`),
		"metre of zero":      []byte(`<lmms-project><head timesig_denominator="0"/></lmms-project>`),
		"cut short":          qCompress([]byte(lmmsSong))[:40],
		"lying length":       append([]byte{0xff, 0xff, 0xff, 0xff}, qCompress([]byte(lmmsSong))[4:]...),
	} {
		if _, err := ReadLMMS(bytes.NewReader(data)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestLMMSGrid(t *testing.T) {
	for _, tc := range []struct {
		name             string
		p                LMMSProject
		from, to         float64
		beats, downbeats []float64
		bpm              float64
	}{
		// 4/4 at 120: a beat every half second, a bar every two seconds.
		{"4/4", LMMSProject{BPM: 120, Numerator: 4, Denominator: 4}, 1.2, 4.1,
			[]float64{1.5, 2, 2.5, 3, 3.5, 4}, []float64{2, 4}, 120},
		// 6/8 at 120 quarters: the dotted quarter is the beat, 80 BPM.
		{"6/8", LMMSProject{BPM: 120, Numerator: 6, Denominator: 8}, 0, 3,
			[]float64{0, 0.75, 1.5, 2.25}, []float64{0, 1.5}, 80},
		// 5/8: bars of two and a half quarters start between beats.
		{"5/8", LMMSProject{BPM: 60, Numerator: 5, Denominator: 8}, 0, 5.5,
			[]float64{0, 1, 2, 3, 4, 5}, []float64{0, 2.5, 5}, 60},
		// 1/1: LMMS still counts quarters; a bar is four of them.
		{"1/1", LMMSProject{BPM: 240, Numerator: 1, Denominator: 1}, 0, 2,
			[]float64{0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75}, []float64{0, 1}, 240},
	} {
		s := tc.p.Grid(tc.from, tc.to)
		if !slices.EqualFunc(s.Beats, tc.beats, near) || !slices.EqualFunc(s.Downbeats, tc.downbeats, near) {
			t.Errorf("%s: beats %v downbeats %v, want %v and %v", tc.name, s.Beats, s.Downbeats, tc.beats, tc.downbeats)
		}
		if !near(s.Tempo(), tc.bpm) || s.MinBPM != s.MaxBPM || !near(s.MinBPM, tc.bpm) {
			t.Errorf("%s: tempo %v (%v-%v), want %v", tc.name, s.Tempo(), s.MinBPM, s.MaxBPM, tc.bpm)
		}
		if s.OnGrid != 1 || s.FirstNote != tc.from || s.LastNote != tc.to {
			t.Errorf("%s: on grid %v, notes %v-%v", tc.name, s.OnGrid, s.FirstNote, s.LastNote)
		}
	}
	if s := (&LMMSProject{}).Grid(0, 10); len(s.Beats) != 0 {
		t.Errorf("a project without a tempo has beats %v", s.Beats)
	}
}

func FuzzReadLMMS(f *testing.F) {
	f.Add([]byte(lmmsSong))
	f.Add(qCompress([]byte(lmmsSong)))
	f.Add([]byte(`<lmms-project><head timesig_numerator="7" timesig_denominator="8"><bpm value="90" id="1"/></head></lmms-project>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadLMMS(bytes.NewReader(data))
		if err != nil {
			return
		}
		s := p.Grid(0, 600)
		for i, b := range s.Beats {
			if math.IsNaN(b) || (i > 0 && b <= s.Beats[i-1]) {
				t.Fatalf("beat %d at %v after %v", i, b, s.Beats[max(i-1, 0)])
			}
		}
		if len(s.Beats) == 0 || len(s.Downbeats) > len(s.Beats) {
			t.Fatalf("%d beats, %d downbeats for %+v", len(s.Beats), len(s.Downbeats), *p)
		}
	})
}
