package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/source/demo"
)

// TestMixCommand renders two shortened demo tracks with radio mix, in the
// order tsp chooses, and checks the plan, the picture and the output.
func TestMixCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses and renders two demo tracks")
	}
	dir := t.TempDir()
	var files []string
	for _, i := range []int{0, 1} {
		s := demo.Catalogue()[i].Short(8)
		f, err := os.Create(filepath.Join(dir, s.Title+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		if err := audio.WriteWAV(f, s.Render()); err != nil {
			t.Fatal(err)
		}
		f.Close()
		files = append(files, f.Name())
	}
	out, plan, png := filepath.Join(dir, "set.wav"), filepath.Join(dir, "plan.json"), filepath.Join(dir, "t.png")
	args := append(files[:1:1], "-o", out, "-plan", plan, files[1], "-plot", png, "-order", "-q")
	if err := runMix(context.Background(), args); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	var infos []mix.Info
	if err := json.Unmarshal(b, &infos); err != nil {
		t.Fatal(err)
	}
	var kinds []mix.Kind
	for _, in := range infos {
		kinds = append(kinds, in.Kind)
	}
	want := []mix.Kind{mix.KindFadein, mix.KindPlayback, mix.KindPlayback, mix.KindCrossmatch, mix.KindPlayback, mix.KindPlayback, mix.KindFadeout}
	if len(kinds) != len(want) {
		t.Fatalf("plan %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("plan %v, want %v", kinds, want)
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 10000 {
		t.Errorf("picture: %v, %v", st, err)
	}

	p, err := audio.DecodeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	last := infos[len(infos)-1]
	if want := int(last.Start) + last.Frames + mix.NewLimiter(mix.LimiterOptions{}).Delay(); p.Frames() != want {
		t.Errorf("output of %d frames, plan says %d", p.Frames(), want)
	}
	ceiling := mix.DB(-1)
	var peak float64
	for _, v := range p.Samples {
		peak = max(peak, math.Abs(float64(v)))
	}
	// 16-bit rounding may add half a step.
	if peak > ceiling+1.0/32768 {
		t.Errorf("peak %v above the ceiling %v", peak, ceiling)
	}
}
