//go:build !linux

package cfjs

import "time"

// threadCPUClock has no thread clock to read here: budgets count wall time.
func threadCPUClock() func() (time.Duration, bool) {
	return func() (time.Duration, bool) { return 0, false }
}
