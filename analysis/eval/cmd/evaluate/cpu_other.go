//go:build !unix

package main

import "time"

// cpuTime is not measured here; CPU figures are left out of the report.
func cpuTime() time.Duration { return 0 }
