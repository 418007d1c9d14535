//go:build unix

package analysis_test

import (
	"syscall"
	"time"
)

// cpuTime reports the CPU time this process has used, user plus system:
// on a shared machine it measures the work a benchmark did, where wall
// time also counts the time other processes held the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
