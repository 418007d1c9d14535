//go:build !unix

package mix

import "time"

func cpuTime() time.Duration { return 0 }
