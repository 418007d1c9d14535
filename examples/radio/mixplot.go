package main

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/foreverfm/forever/audio"
	"github.com/foreverfm/forever/mix"
)

var layerColors = []color.RGBA{{R: 31, G: 119, B: 180, A: 255}, {R: 214, G: 39, B: 40, A: 255}}

// plotTransition draws the n-th transition of actions (1-based), with a
// little of what comes before and after: each track's waveform envelope on
// the output timeline, its beat grid, and its gain curve.
func plotTransition(path string, actions []mix.Action, n int) error {
	k, seen := -1, 0
	for i, a := range actions {
		if len(a.Info().Tracks) == 2 {
			seen++
			if seen == n {
				k = i
				break
			}
		}
	}
	if k < 0 {
		return fmt.Errorf("plot: the plan has %d transitions, not %d", seen, n)
	}
	a := actions[k]
	info := a.Info()
	layers := mix.Layers(a)
	if len(layers) != 2 {
		return fmt.Errorf("plot: cannot take %s apart", info.Kind)
	}

	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %s → %s", info.Kind, info.Tracks[0].Title, info.Tracks[1].Title)
	if m := info.Match; m != nil {
		p.Title.Text += fmt.Sprintf(" (%.1f→%.1f BPM, score %.2f)", m.TempoFrom, m.TempoTo, m.Score)
	}
	p.X.Label.Text = "output time (s)"
	p.Y.Label.Text = "amplitude (upper) · gain (lower)"
	start := float64(info.Start) / audio.SampleRate

	var gmax float64
	for _, l := range layers {
		for i := 0; i <= 200; i++ {
			gmax = max(gmax, l.Gain(a.Len()*i/200))
		}
	}
	gmax = max(gmax, 1e-9)
	const bins = 3000
	frames := a.Len()
	hop := max(frames/bins, 1)
	buf := make([]float32, 2*4096)
	for j, l := range layers {
		col := layerColors[j]
		// Peak envelope of the rendered layer, drawn above and below an
		// offset baseline so the two tracks do not hide each other.
		env := make(plotter.XYs, 0, 2*bins)
		var peak float64
		pos := 0
		for {
			m := l.Action.Render(buf)
			for i := 0; i < m; i++ {
				peak = max(peak, math.Abs(float64(buf[2*i])), math.Abs(float64(buf[2*i+1])))
				if (pos+i+1)%hop == 0 {
					x := start + float64(pos+i)/audio.SampleRate
					env = append(env, plotter.XY{X: x, Y: 1.2 - 1.2*float64(j) + peak/2})
					peak = 0
				}
			}
			pos += m
			if m == 0 {
				break
			}
		}
		line, err := plotter.NewLine(env)
		if err != nil {
			return err
		}
		line.Color = col
		line.Width = vg.Points(0.6)
		p.Add(line)
		p.Legend.Add(info.Tracks[j].Title, line)

		// Gain curve in the lower lane: -1.4 is silence, -0.2 the
		// larger of the two tracks' full gains.
		g := make(plotter.XYs, 0, 200)
		for i := 0; i <= 200; i++ {
			f := frames * i / 200
			g = append(g, plotter.XY{X: start + float64(f)/audio.SampleRate, Y: -1.4 + 1.2*l.Gain(f)/gmax})
		}
		gl, err := plotter.NewLine(g)
		if err != nil {
			return err
		}
		gl.Color = col
		gl.Width = vg.Points(1.5)
		gl.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(gl)

		// Beat grid: a tick per beat above the track's waveform.
		ticks := make(plotter.XYs, 0, len(l.Beats))
		for _, b := range l.Beats {
			ticks = append(ticks, plotter.XY{X: start + float64(b)/audio.SampleRate, Y: 1.2 - 1.2*float64(j) + 0.55})
		}
		if len(ticks) > 0 {
			sc, err := plotter.NewScatter(ticks)
			if err != nil {
				return err
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Shape = draw.PyramidGlyph{}
			sc.GlyphStyle.Radius = vg.Points(2)
			p.Add(sc)
		}
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	if err := p.Save(40*vg.Centimeter, 14*vg.Centimeter, path); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
