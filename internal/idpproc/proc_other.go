//go:build !linux

package idpproc

import (
	"os"
	"syscall"
)

// Terminate asks the child to shut down; where interrupts cannot be sent,
// it kills.
func Terminate(p *os.Process) error {
	if err := p.Signal(os.Interrupt); err != nil {
		return p.Kill()
	}
	return nil
}

func ProcAttr() *syscall.SysProcAttr  { return nil }
func GroupAttr() *syscall.SysProcAttr { return nil }
func KillGroup(p *os.Process) error   { return p.Kill() }
