//go:build !unix

package analysis_test

import "time"

// cpuTime is unavailable here; benchmarks fall back to wall time.
func cpuTime() time.Duration { return 0 }
