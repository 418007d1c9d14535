package demo_test

import (
	"fmt"
	"strings"

	"github.com/foreverfm/forever/source/demo"
)

func ExampleCatalogue() {
	for _, s := range demo.Catalogue() {
		d := int(s.Duration())
		fmt.Printf("%-24s %-18s %3.0f BPM  %-9s %d:%02d\n", s.ID, s.Title, s.Tempo, s.KeyName(), d/60, d%60)
	}
	// Output:
	// demo:01-glass-harbour    Glass Harbour      124 BPM  A minor   3:24
	// demo:02-sunday-engine    Sunday Engine      128 BPM  F major   3:18
	// demo:03-night-runner     Night Runner       140 BPM  D minor   3:01
	// demo:04-slow-tide        Slow Tide           70 BPM  Eb major  2:47
	// demo:05-brass-and-dust   Brass and Dust     100 BPM  G major   3:34
	// demo:06-paper-satellites Paper Satellites   110 BPM  E minor   3:32
	// demo:07-open-windows     Open Windows       120 BPM  C major   3:31
	// demo:08-lantern-drift    Lantern Drift       64 BPM  F# minor  3:03
	// demo:09-copper-lines     Copper Lines       134 BPM  C# minor  3:09
	// demo:10-weekend-signal   Weekend Signal     116 BPM  Bb major  3:38
}

func ExampleSpec_Truth() {
	s, _ := demo.Lookup("demo:01-glass-harbour")
	t := s.Truth()
	fmt.Printf("%.0f BPM, first beats %.3f %.3f %.3f s\n", t.Tempo, t.Beats[0], t.Beats[1], t.Beats[2])
	fmt.Printf("%d bars, sections: %s\n", len(t.Downbeats)-1, strings.Join(t.Labels, " "))
	// Output:
	// 124 BPM, first beats 0.250 0.734 1.218 s
	// 104 bars, sections: intro verse chorus breakdown build drop outro
}
