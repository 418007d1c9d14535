package cputime

import (
	"runtime"
	"testing"
)

func TestSelfCountsWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no rusage here")
	}
	before := Self()
	x := 1.0
	for i := 0; i < 50_000_000; i++ {
		x = x*1.0000001 + 1e-9
	}
	after := Self()
	if after <= before {
		t.Errorf("CPU time went from %v to %v across a busy loop (x=%g)", before, after, x)
	}
}
