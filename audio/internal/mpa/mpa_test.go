package mpa

import "testing"

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want Header
		size int
	}{
		{[]byte{0xFF, 0xFB, 0x90, 0x64}, Header{Version: MPEG1, Bitrate: 128, SampleRate: 44100, Channels: 2, Mode: 1, ModeExt: 2}, 417},
		{[]byte{0xFF, 0xFB, 0x92, 0xC4}, Header{Version: MPEG1, Bitrate: 128, SampleRate: 44100, Padding: true, Channels: 1, Mode: 3}, 418},
		{[]byte{0xFF, 0xF3, 0x40, 0xC4}, Header{Version: MPEG2, Bitrate: 32, SampleRate: 22050, Channels: 1, Mode: 3}, 104},
		{[]byte{0xFF, 0xE3, 0x18, 0xC4}, Header{Version: MPEG25, Bitrate: 8, SampleRate: 8000, Channels: 1, Mode: 3}, 72},
	} {
		h, err := ParseHeader(tc.b)
		if err != nil || h != tc.want || h.FrameSize() != tc.size {
			t.Errorf("% x: %+v (%d bytes), %v; want %+v (%d)", tc.b, h, h.FrameSize(), err, tc.want, tc.size)
		}
	}
	for _, b := range [][]byte{
		{0xFF, 0xFD, 0x90, 0x64}, // Layer II
		{0xFF, 0xFB, 0xF0, 0x64}, // bad bitrate
		{0xFF, 0xFB, 0x9C, 0x64}, // reserved rate
		{0xFF, 0xEB, 0x90, 0x64}, // reserved version
		{0xFF, 0xFB},
	} {
		if _, err := ParseHeader(b); err == nil {
			t.Errorf("% x: no error", b)
		}
	}
	if _, err := ParseHeader([]byte{0xFF, 0xFB, 0x00, 0x64}); err != ErrFreeFormat {
		t.Errorf("free format: %v", err)
	}
}

func TestCRC16(t *testing.T) {
	// CRC-16/ARC check value.
	if got := CRC16(0, []byte("123456789")); got != 0xBB3D {
		t.Errorf("CRC16 = %#x, want 0xbb3d", got)
	}
}

func TestInfoFrameRoundTrip(t *testing.T) {
	for _, h4 := range [][]byte{{0xFF, 0xFB, 0x90, 0x64}, {0xFF, 0xF3, 0x18, 0xC4}} {
		f, err := BuildInfoFrame(h4, 1000, 417000, 576, 1234, 0xABCD)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseHeader(f)
		if err != nil || h.FrameSize() != len(f) {
			t.Fatalf("% x: header %+v, %v, frame %d bytes", h4, h, err, len(f))
		}
		tag, ok := ParseTag(f)
		if !ok || !tag.HasLAME || tag.VBR || tag.Frames != 1000 || tag.Delay != 576 || tag.Padding != 1234 || tag.Bytes != 417000+len(f) {
			t.Errorf("% x: %+v, %v", h4, tag, ok)
		}
		// The tag checksum covers the frame up to itself.
		p := 4 + h.SideInfoSize() + 120 + 34
		if got, want := uint16(f[p])<<8|uint16(f[p+1]), CRC16(0, f[:p]); got != want {
			t.Errorf("% x: tag CRC %#x, want %#x", h4, got, want)
		}
	}
	if _, ok := ParseTag(make([]byte, 417)); ok {
		t.Error("tag found in zeros")
	}
}

func TestSyncSkipsJunk(t *testing.T) {
	frame := make([]byte, 417)
	copy(frame, []byte{0xFF, 0xFB, 0x90, 0x64})
	junk := []byte{0x00, 0xFF, 0xFB, 0x90, 0x64, 0x12} // a lone header with no frame after it
	b := append(append(append([]byte(nil), junk...), frame...), frame...)
	if got := Sync(b, 0); got != len(junk) {
		t.Errorf("Sync = %d, want %d", got, len(junk))
	}
	if got := Sync([]byte("no audio here"), 0); got != -1 {
		t.Errorf("Sync on text = %d", got)
	}
}
