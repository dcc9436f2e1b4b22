package idpproc

import (
	"bytes"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLineLoggerKeepsTheLastLines(t *testing.T) {
	var logged bytes.Buffer
	l := &LineLogger{Log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})), Source: "idp", Keep: 2}
	if got := l.Last(); got != "no output" {
		t.Errorf("Last before output = %q, want %q", got, "no output")
	}
	// Lines split across writes, blank lines and a partial last line.
	for _, w := range []string{"one\ntw", "o\n\n  \nthree\n", "partial"} {
		if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	if got, want := l.Last(), "two | three"; got != want {
		t.Errorf("Last = %q, want %q", got, want)
	}
	if got := strings.Count(logged.String(), "msg=idp"); got != 3 {
		t.Errorf("%d records logged, want 3 (one per non-blank line):\n%s", got, logged.String())
	}
	if strings.Contains(logged.String(), "partial") {
		t.Errorf("an unfinished line was logged:\n%s", logged.String())
	}

	one := &LineLogger{Log: slog.New(slog.DiscardHandler)} // Keep 0 keeps one
	_, _ = one.Write([]byte("a\nb\n"))
	if got := one.Last(); got != "b" {
		t.Errorf("Last with Keep 0 = %q, want %q", got, "b")
	}
}

func TestCheckAddr(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:0":    "",
		"[::1]:8080":     "",
		"0.0.0.0:0":      "must be a loopback IP",
		"localhost:0":    "must be a loopback IP",
		"127.0.0.1:http": "bad port",
		"127.0.0.1":      "missing port",
	} {
		err := CheckAddr(addr)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckAddr(%q) = %v, want %q", addr, err, want)
		}
	}
}

func TestStop(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep command")
	}
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = ProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	Stop(cmd.Process, exited, 3*time.Second)
	select {
	case <-exited:
	default:
		t.Fatal("Stop returned before the process exited")
	}
	// Terminate, not the kill after the grace period, ended it.
	if got := cmd.ProcessState.String(); runtime.GOOS == "linux" && got != "signal: terminated" {
		t.Errorf("process state %q, want %q", got, "signal: terminated")
	}
	Stop(cmd.Process, exited, time.Minute) // already exited: returns at once
}

func TestRandomString(t *testing.T) {
	a, b := RandomString(24), RandomString(24)
	if len(a) != 32 || a == b || strings.ContainsAny(a, "+/=") {
		t.Errorf("RandomString(24) = %q, %q: want two different 32-character base64url strings", a, b)
	}
}
