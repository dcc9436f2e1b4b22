package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// echoBinary is built once by TestMain: testdata/echo as <dir>/echo-fn/bootstrap.
var echoBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "runtimeapi-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	echoBinary = filepath.Join(dir, "echo-fn", "bootstrap")
	build := exec.Command("go", "build", "-o", echoBinary, "./testdata/echo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build echo function:", err)
		return 1
	}
	return m.Run()
}

func start(t *testing.T, env ...string) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := Start(ctx, echoBinary, env, nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func invoke(t *testing.T, p *Process, mode string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.Invoke(ctx, []byte(`{"mode":"`+mode+`"}`))
}

func TestInvoke(t *testing.T) {
	p := start(t)
	tests := []struct {
		mode     string
		want     string // exact response, when no error
		wantType string // FunctionError type
		wantMsg  string
	}{
		{mode: "echo", want: `{"mode":"echo"}`},
		{mode: "error", wantType: "errorString", wantMsg: "failed on demand"},
		{mode: "panic", wantType: "string", wantMsg: "panicked on demand"},
		{mode: "echo", want: `{"mode":"echo"}`}, // a fresh instance after the panic
		{mode: "exit", wantType: "Runtime.ExitError", wantMsg: "exit status 3"},
		{mode: "echo", want: `{"mode":"echo"}`}, // and after the crash
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d-%s", i, tt.mode), func(t *testing.T) {
			out, err := invoke(t, p, tt.mode)
			if tt.wantType == "" {
				if err != nil || string(out) != tt.want {
					t.Fatalf("Invoke(%s) = %q, %v; want %q", tt.mode, out, err, tt.want)
				}
				return
			}
			var fe *FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("Invoke(%s) error = %v, want *FunctionError", tt.mode, err)
			}
			if fe.Type != tt.wantType || !strings.Contains(fe.Message, tt.wantMsg) {
				t.Errorf("Invoke(%s) error = %+v, want type %q with %q", tt.mode, fe, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// TestInvokeHeaders checks what the function sees: the caller's request
// id, the ARN, the deadline, a trace id, its name and the caller's env.
func TestInvokeHeaders(t *testing.T) {
	p := start(t, "ECHO_CUSTOM=kept")
	deadline := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	out, err := p.Invoke(ctx, []byte(`{"mode":"context"}`))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var got struct {
		RequestID, FunctionArn, FunctionName, TraceID, Custom string
		DeadlineMs                                            int64
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if got.RequestID != "req-123" {
		t.Errorf("request id = %q, want req-123", got.RequestID)
	}
	if got.FunctionName != "echo-fn" || p.Name() != "echo-fn" {
		t.Errorf("function name = %q (Name() %q), want the binary's folder echo-fn", got.FunctionName, p.Name())
	}
	if got.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:echo-fn" {
		t.Errorf("arn = %q", got.FunctionArn)
	}
	if got.DeadlineMs != deadline.UnixMilli() {
		t.Errorf("deadline = %d, want %d", got.DeadlineMs, deadline.UnixMilli())
	}
	if !strings.HasPrefix(got.TraceID, "Root=1-") {
		t.Errorf("trace id = %q", got.TraceID)
	}
	if got.Custom != "kept" {
		t.Errorf("ECHO_CUSTOM = %q, want the caller's env passed on", got.Custom)
	}
}

// TestInvokeDeadline: a function that hangs past the deadline gives the
// context's error, and the next Invoke runs on a fresh instance.
func TestInvokeDeadline(t *testing.T) {
	p := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // already over: Invoke must not wait for the hung function
	_, err := p.Invoke(ctx, []byte(`{"mode":"hang"}`))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Invoke(hang) error = %v, want context.Canceled", err)
	}

	// Now one that really reaches the function and hangs there.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	p.mu.Lock()
	cur := p.cur
	p.mu.Unlock()
	if cur == nil {
		t.Fatal("an event that was never delivered cost the instance")
	}
	first := cur.cmd.Process.Pid
	if _, err := p.Invoke(ctx, []byte(`{"mode":"hang"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke(hang) error = %v, want context.DeadlineExceeded", err)
	}
	if err := syscall.Kill(first, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the timed-out instance (pid %d) is still running: %v", first, err)
	}
	if out, err := invoke(t, p, "echo"); err != nil || string(out) != `{"mode":"echo"}` {
		t.Errorf("Invoke after timeout = %q, %v; want the echo", out, err)
	}
}

func TestInvokeSerializes(t *testing.T) {
	p := start(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			payload := fmt.Sprintf(`{"mode":"echo","n":%d}`, i)
			out, err := p.Invoke(context.Background(), []byte(payload))
			if err != nil || string(out) != payload {
				errs <- fmt.Errorf("Invoke(%s) = %q, %v", payload, out, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestStartInitErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      string
		wantType string
		wantMsg  string
	}{
		{"exits before polling", "ECHO_INIT=exit", "Runtime.ExitError", "config.json is missing"},
		{"reports init error", "ECHO_INIT=report", "Init.ConfigError", "bad config on demand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := Start(ctx, echoBinary, []string{tt.env}, nil)
			if err == nil {
				p.Close()
				t.Fatal("Start succeeded, want an init error")
			}
			var ie *InitError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInit) {
				t.Fatalf("Start error = %v, want *InitError matching ErrInit", err)
			}
			if ie.Type != tt.wantType || !strings.Contains(ie.Message, tt.wantMsg) {
				t.Errorf("init error = %+v, want type %q with %q", ie, tt.wantType, tt.wantMsg)
			}
		})
	}
}

func TestStartBadBinary(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{filepath.Join(dir, "missing"), dir, notExec} {
		if p, err := Start(context.Background(), bin, nil, nil); err == nil {
			p.Close()
			t.Errorf("Start(%s) succeeded, want an error", bin)
		}
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	p, err := Start(ctx, echoBinary, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.cur.cmd.Process.Pid
	addr := p.cur.ln.Addr().String()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("child %d still exists after Close: %v", pid, err)
	}
	if _, err := p.Invoke(ctx, []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close = %v, want ErrClosed", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the Runtime API at %s still accepts connections", addr)
	}
}

// TestCloseDuringInvoke: Close must not wait out a hung function.
func TestCloseDuringInvoke(t *testing.T) {
	p, err := Start(context.Background(), echoBinary, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), []byte(`{"mode":"hang"}`))
		errc <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke during Close = %v, want ErrClosed", err)
	}
}
