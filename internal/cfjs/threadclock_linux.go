package cfjs

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPUClock returns a reader of the calling thread's CPU time, for a
// goroutine locked to that thread. The reader may be called from any
// goroutine: Linux names a thread's CPU clock by its thread id
// (MAKE_THREAD_CPUCLOCK in the kernel's posix-cpu-timers: ^tid<<3 |
// CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED), readable by every thread of
// the process.
func threadCPUClock() func() (time.Duration, bool) {
	clock := uintptr(^syscall.Gettid()<<3 | 4 | 2)
	return func() (time.Duration, bool) {
		var ts syscall.Timespec
		if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clock, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
			return 0, false
		}
		return time.Duration(ts.Nano()), true
	}
}
