package audio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
)

// fuzzDecode checks Decode's contract on arbitrary bytes: no panic, and
// either an error (with audio only for truncation) or valid PCM.
func fuzzDecode(f *testing.F, format string) {
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(bytes.NewReader(data), format)
		if err != nil {
			if p != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("audio returned with a non-truncation error: %v", err)
			}
			if p == nil {
				return
			}
		}
		if p == nil || len(p.Samples)%Channels != 0 {
			t.Fatalf("bad PCM %v with error %v", p, err)
		}
		if err == nil && p.Frames() == 0 {
			t.Fatal("no audio and no error")
		}
		for i, v := range p.Samples {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
	})
}

func FuzzDecodeWAV(f *testing.F) {
	for _, s := range []wavSpec{
		{tag: wavPCM, bits: 16, channels: 2, rate: 44100},
		{tag: wavPCM, bits: 24, channels: 1, rate: 48000, extensible: true, mask: 4},
		{tag: wavFloat, bits: 64, channels: 3, rate: 22050},
		{tag: wavPCM, bits: 8, channels: 1, rate: 8000},
	} {
		s.dataSize = -1
		f.Add(makeWAV(s, ramp(20, s.channels)))
	}
	fuzzDecode(f, "wav")
}

func FuzzDecodeMP3(f *testing.F)  { fuzzDecode(f, "mp3") }
func FuzzDecodeFLAC(f *testing.F) { fuzzDecode(f, "flac") }
func FuzzDecodeOgg(f *testing.F)  { fuzzDecode(f, "ogg") }

// FuzzDecode lets the content pick the decoder, as DecodeFile does for
// unknown extensions.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00\x88\x58\x01\x00\x02\x00\x10\x00data\x04\x00\x00\x00\x01\x00\x02\x00"))
	f.Add([]byte("fLaC\x00\x00\x00\x22"))
	f.Add([]byte("OggS\x00\x02"))
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64"))
	fuzzDecode(f, "")
}
