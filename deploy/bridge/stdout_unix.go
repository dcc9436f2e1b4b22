//go:build unix

package bridge

import (
	"fmt"
	"os"
	"syscall"
)

// takeStdout moves the frame channel off file descriptor 1: it returns a
// close-on-exec duplicate of stdout for the frames and makes descriptor 1 a
// copy of stderr, so that everything that writes to os.Stdout (the
// functions' JSON logs) goes to stderr, which Lambda logs the same way.
func takeStdout() (*os.File, error) {
	fd, err := syscall.Dup(1)
	if err != nil {
		return nil, fmt.Errorf("dup stdout: %w", err)
	}
	syscall.CloseOnExec(fd)
	if err := dupOnto(2, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("point stdout at stderr: %w", err)
	}
	return os.NewFile(uintptr(fd), "bridge-frames"), nil
}
