//go:build !linux

package oidcprovider

import (
	"os"
	"syscall"
)

// terminate asks node to shut down; where interrupts cannot be sent, it kills.
func terminate(p *os.Process) error {
	if err := p.Signal(os.Interrupt); err != nil {
		return p.Kill()
	}
	return nil
}

func procAttr() *syscall.SysProcAttr  { return nil }
func groupAttr() *syscall.SysProcAttr { return nil }
func killGroup(p *os.Process) error   { return p.Kill() }
