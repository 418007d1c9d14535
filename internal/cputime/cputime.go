// Package cputime reports the CPU time this process has used. On a shared
// machine it measures the work a benchmark or a solver did, where wall
// time also counts the time other processes held the cores.
package cputime

import "time"

// Self returns the user plus system time this process has used so far, or
// 0 where the system cannot say.
func Self() time.Duration { return self() }
