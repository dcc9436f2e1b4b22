package dex

import (
	"os"
	"syscall"
)

// terminate asks Dex to shut down gracefully.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// procAttr makes the kernel kill Dex if the test binary dies without
// calling Close, so no stray Dex keeps a port.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
