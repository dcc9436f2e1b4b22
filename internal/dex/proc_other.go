//go:build !linux

package dex

import (
	"os"
	"syscall"
)

// terminate asks Dex to shut down; where interrupts cannot be sent, it kills.
func terminate(p *os.Process) error {
	if err := p.Signal(os.Interrupt); err != nil {
		return p.Kill()
	}
	return nil
}

func procAttr() *syscall.SysProcAttr { return nil }
