package idpproc

import (
	"os"
	"syscall"
)

// Terminate asks the child to shut down gracefully.
func Terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// ProcAttr makes the kernel kill the child if the test binary dies without
// stopping it, so no stray provider keeps a port.
func ProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// GroupAttr runs the child in a process group of its own, so [KillGroup]
// reaches whatever it started.
func GroupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// KillGroup kills the process group p leads.
func KillGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
