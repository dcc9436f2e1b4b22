package oidcprovider

import (
	"os"
	"syscall"
)

// terminate asks node to shut down gracefully.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// procAttr makes the kernel kill node if the test binary dies without
// calling Close, so no stray provider keeps a port. (node also exits when
// its stdin, a pipe from this process, closes.)
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// groupAttr runs npm in a process group of its own, so [killGroup] reaches
// whatever it started.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group p leads.
func killGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
