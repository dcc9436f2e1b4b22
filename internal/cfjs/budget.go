package cfjs

import (
	"sync"
	"time"
)

// budget stops a run once it has used Options.Budget of CPU time.
//
// CloudFront measures a function's compute utilization, the time it spent
// running, not the time that passed: a function does not fail because its
// edge server was busy. A wall-clock timer here would fail functions
// whenever this machine is loaded (go test -race on two shared cores makes a
// 0.3 ms run take tens of milliseconds). So the run's goroutine is locked to
// its OS thread, and the thread's own CPU clock is read: when the timer
// fires, the run has used at most the wall time that passed, so it is
// re-armed for the budget left until the CPU time reaches the budget. A
// normal run ends before the first firing and costs one timer, as a plain
// wall-clock budget would. Where no thread clock can be read (other systems,
// a failed read) the budget counts wall time. wallLimit ends a run whatever
// its clock says, so a run always ends.
type budget struct {
	limit     time.Duration
	wallLimit time.Duration
	cpu       func() (time.Duration, bool) // the run thread's CPU time so far
	start     time.Time
	cpuStart  time.Duration
	cut       func()

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// wallFactor bounds the wall time of a run: wallFactor times its budget.
const wallFactor = 20

// startBudget starts the budget for the calling goroutine, which must stay
// locked to its OS thread until stop; cut is called (once, from another
// goroutine) when the run is over budget.
func startBudget(limit time.Duration, cut func()) *budget {
	b := &budget{limit: limit, wallLimit: wallFactor * limit, cpu: threadCPUClock(), start: time.Now(), cut: cut}
	if used, ok := b.cpu(); ok {
		b.cpuStart = used
	} else {
		b.cpu = nil
	}
	b.mu.Lock()
	b.timer = time.AfterFunc(limit, b.check)
	b.mu.Unlock()
	return b
}

// used is the CPU time the run has used, or the wall time when there is no
// thread clock.
func (b *budget) used() time.Duration {
	if b.cpu != nil {
		if now, ok := b.cpu(); ok {
			return now - b.cpuStart
		}
	}
	return time.Since(b.start)
}

func (b *budget) check() {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	used := b.used()
	if used < b.limit && time.Since(b.start) < b.wallLimit {
		// CPU time cannot grow faster than wall time: the earliest the run
		// can reach the limit is limit-used from now.
		b.timer = time.AfterFunc(b.limit-used, b.check)
		b.mu.Unlock()
		return
	}
	b.stopped = true
	b.mu.Unlock()
	b.cut()
}

func (b *budget) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	b.timer.Stop()
}
