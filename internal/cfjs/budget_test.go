package cfjs

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestBudgetCountsCPUTime: a run is charged for the CPU time it uses, not
// for the time it waits (a loaded machine, the scheduler): 100 ms asleep
// do not exhaust a 20 ms budget, and spinning does. A wall-clock budget
// fails the first half.
func TestBudgetCountsCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread CPU clocks are read on Linux only; elsewhere the budget is wall time")
	}
	done := make(chan struct{})
	var cut atomic.Bool
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b := startBudget(20*time.Millisecond, func() { cut.Store(true) })
		defer b.stop()
		if b.cpu == nil {
			t.Error("no thread CPU clock on Linux")
			return
		}
		time.Sleep(100 * time.Millisecond)
		if cut.Load() {
			t.Errorf("cut after 100 ms asleep: the budget counted wall time (used %v)", b.used())
			return
		}
		for !cut.Load() && time.Since(b.start) < b.wallLimit+time.Second {
			spin()
		}
		if !cut.Load() {
			t.Errorf("spinning never exhausted the budget (used %v)", b.used())
		}
	}()
	<-done
}

// TestBudgetStopped: a stopped budget never cuts.
func TestBudgetStopped(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cut atomic.Bool
	b := startBudget(time.Millisecond, func() { cut.Store(true) })
	b.stop()
	deadline := time.Now().Add(20 * time.Millisecond)
	for time.Now().Before(deadline) {
		spin()
	}
	if cut.Load() {
		t.Error("a stopped budget cut the run")
	}
}

var sink uint64

// spin burns a little CPU.
func spin() {
	x := sink
	for i := 0; i < 100000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
}
