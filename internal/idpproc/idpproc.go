// Package idpproc is what the loopback IdP harnesses (internal/dex and
// internal/oidcprovider) share in running their provider as a child
// process: the loopback address check, the child's output as log records,
// stopping it, and random secrets. Tests and the demo only.
package idpproc

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CheckAddr checks that addr is a loopback IP and a port ("127.0.0.1:0"
// lets the provider pick one). Callers wrap the error with their name and addr.
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return errors.New("must be a loopback IP such as 127.0.0.1")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return errors.New("bad port")
	}
	return nil
}

// RandomString is n random bytes, base64url without padding.
func RandomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// LineLogger turns a child's output into one debug record per line
// (message Source, attribute "line") and keeps the last Keep lines (at
// least one) for start-up errors.
type LineLogger struct {
	Log    *slog.Logger
	Source string
	Keep   int

	mu    sync.Mutex
	buf   []byte
	lines []string
}

func (l *LineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(bytes.TrimSpace(l.buf[:i]))
		l.buf = l.buf[i+1:]
		if line != "" {
			l.lines = append(l.lines, line)
			if len(l.lines) > max(l.Keep, 1) {
				l.lines = l.lines[1:]
			}
			l.Log.Debug(l.Source, "line", line)
		}
	}
}

// Last is the kept lines joined by " | ", or "no output".
func (l *LineLogger) Last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "no output"
	}
	return strings.Join(l.lines, " | ")
}

// Stop asks p to shut down (see [Terminate]) and kills it when it has not
// exited after grace; it returns once exited (closed when p's Wait has
// returned) is closed, at once if it already is.
func Stop(p *os.Process, exited <-chan struct{}, grace time.Duration) {
	select {
	case <-exited:
		return
	default:
	}
	_ = Terminate(p)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = p.Kill()
		<-exited
	}
}
