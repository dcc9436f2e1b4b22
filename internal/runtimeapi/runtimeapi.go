// Package runtimeapi runs a Lambda function binary (a "bootstrap" built with
// aws-lambda-go) as a child process and serves it the Lambda Runtime API on
// loopback, so the binary that ships is the one answering locally.
//
// It implements the part of the API a runtime uses
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
// GET /2018-06-01/runtime/invocation/next, POST …/{id}/response,
// POST …/{id}/error and POST /2018-06-01/runtime/init/error. Like Lambda, a
// Process runs one event at a time, and replaces an instance that crashed or
// ran past its deadline with a fresh one on the next Invoke.
package runtimeapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

const (
	apiPrefix = "/2018-06-01/runtime/"
	// maxPayload is Lambda's 6 MB limit on a synchronous response.
	maxPayload = 6 << 20
	// defaultTimeout bounds an Invoke whose context has no deadline: the
	// origin-trigger limit, the longest Lambda@Edge allows.
	defaultTimeout = 30 * time.Second
	// stopGrace is how long Close waits after SIGTERM before killing.
	stopGrace = 2 * time.Second
)

// Errors a caller can classify with errors.Is.
var (
	// ErrInit: the binary failed before it asked for its first event.
	ErrInit = errors.New("runtimeapi: function init failed")
	// ErrClosed: the Process was closed.
	ErrClosed = errors.New("runtimeapi: process closed")

	errNotDelivered = errors.New("runtimeapi: instance exited before taking the event")
)

// FunctionError is the error a function reported for one invocation, in the
// Runtime API's shape, or one the API made up for it as Lambda does
// ("Runtime.ExitError" when the process died mid-invocation).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// Error gives the type and message the function reported.
func (e *FunctionError) Error() string {
	return "runtimeapi: function error: " + e.Type + ": " + e.Message
}

// InitError is what a runtime posted to /runtime/init/error, or the exit of a
// binary that never polled for an event. It matches ErrInit.
type InitError struct {
	Type    string
	Message string
}

// Error gives the type and message of the init failure.
func (e *InitError) Error() string {
	return "runtimeapi: function init failed: " + e.Type + ": " + e.Message
}

// Is makes errors.Is(err, ErrInit) true.
func (e *InitError) Is(target error) bool { return target == ErrInit }

// Process is one function binary and its Runtime API. Its methods are safe
// for concurrent use; Invoke calls run one after another.
type Process struct {
	binary string
	name   string
	env    []string
	log    *slog.Logger

	closing   chan struct{} // closed by Close, to cut a running Invoke short
	closeOnce sync.Once

	mu     sync.Mutex // serializes Invoke and guards cur and closed
	cur    *instance
	closed bool
}

// Start starts binary with env plus the variables aws-lambda-go reads
// (AWS_LAMBDA_RUNTIME_API and, unless env sets them, the function name,
// version, memory size, log group and stream, and region), and returns once
// it polls for its first event. If it reports an init error or exits first,
// Start returns an *InitError; if ctx ends first, ctx's error. ctx bounds
// the start only, not the life of the process. The child's stdout and stderr
// go to this process's stderr. A nil logger discards logs.
func Start(ctx context.Context, binary string, env []string, logger *slog.Logger) (*Process, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(binary)
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: binary: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: binary: %w", err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("runtimeapi: binary %s is not an executable file", abs)
	}
	p := &Process{binary: abs, env: env, log: logger, closing: make(chan struct{})}
	p.name = envValue(env, "AWS_LAMBDA_FUNCTION_NAME")
	if p.name == "" {
		p.name = filepath.Base(filepath.Dir(abs))
	}
	in, err := p.startInstance(ctx)
	if err != nil {
		return nil, err
	}
	p.cur = in
	return p, nil
}

// Name is the function name the binary sees in AWS_LAMBDA_FUNCTION_NAME.
func (p *Process) Name() string { return p.name }

// Invoke sends payload to the function and returns its response. It waits
// for the previous Invoke to finish, as a Lambda instance runs one event at
// a time. The deadline sent to the function is ctx's, or 30 s from now. A
// request id in ctx (lambdacontext.FromContext) is passed on as
// Lambda-Runtime-Aws-Request-Id; otherwise a fresh one is made.
//
// The error is a *FunctionError when the function reported one or died
// mid-invocation, ctx's error when the deadline passed (the instance is then
// replaced, as Lambda does after a timeout), an *InitError when a
// replacement instance fails to start, or ErrClosed.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	inv := &invocation{
		id:       requestID(ctx),
		payload:  payload,
		deadline: deadline,
		arn:      "arn:aws:lambda:us-east-1:000000000000:function:" + p.name,
		trace:    traceID(),
		done:     make(chan result, 1),
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	// Two tries: an instance that was exiting when we looked (a panic's
	// report lands just before its exit) never took the event, so the
	// event goes to a fresh instance instead.
	for try := 0; ; try++ {
		if p.cur == nil || p.cur.hasExited() {
			if p.cur != nil {
				p.log.Warn("function instance exited; starting a new one", "function", p.name, "err", p.cur.exitErr())
				p.cur.stop()
				p.cur = nil
			}
			in, err := p.startInstance(ctx)
			if err != nil {
				return nil, err
			}
			p.cur = in
		}
		in := p.cur
		out, delivered, err := in.invoke(ctx, p.closing, inv)
		switch {
		case errors.Is(err, errNotDelivered) && try == 0:
			continue
		case errors.Is(err, errNotDelivered):
			return nil, in.crashError()
		case err != nil && delivered && ctx.Err() != nil:
			// A timed-out instance may still be working on the event;
			// Lambda throws it away, and so do we.
			in.stop()
			p.cur = nil
		}
		return out, err
	}
}

// Close stops the child (SIGTERM, then SIGKILL after a grace period) and
// the API server, and waits for both. An Invoke in progress returns
// ErrClosed. It is safe to call more than once.
func (p *Process) Close() error {
	p.closeOnce.Do(func() { close(p.closing) })
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.cur != nil {
		p.cur.stop()
		p.cur = nil
	}
	return nil
}

func (p *Process) childEnv(addr string) []string {
	defaults := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        p.name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "1",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/us-east-1." + p.name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "localedge",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"LAMBDA_TASK_ROOT":                filepath.Dir(p.binary),
		"TZ":                              ":UTC",
	}
	env := make([]string, 0, len(p.env)+len(defaults)+1)
	for _, kv := range p.env {
		k, _, _ := strings.Cut(kv, "=")
		if k == "AWS_LAMBDA_RUNTIME_API" {
			continue
		}
		delete(defaults, k)
		env = append(env, kv)
	}
	for k, v := range defaults {
		env = append(env, k+"="+v)
	}
	return append(env, "AWS_LAMBDA_RUNTIME_API="+addr)
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// instance is one child process with its own API server, so a request
// still in flight from a replaced child can never take the next event.
type instance struct {
	log    *slog.Logger
	ln     net.Listener
	srv    *http.Server
	cmd    *exec.Cmd
	next   chan *invocation
	polled chan struct{} // closed at the first /next
	initE  chan *InitError
	exited chan struct{} // closed when the child has exited
	waitE  error         // set before exited closes
	stderr *tailBuffer

	pollOnce sync.Once
	stopOnce sync.Once

	mu      sync.Mutex
	pending map[string]*invocation
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	arn      string
	trace    string
	done     chan result
}

type result struct {
	body []byte
	err  error
}

func (p *Process) startInstance(ctx context.Context) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listen: %w", err)
	}
	in := &instance{
		log:     p.log.With("function", p.name),
		ln:      ln,
		next:    make(chan *invocation),
		polled:  make(chan struct{}),
		initE:   make(chan *InitError, 1),
		exited:  make(chan struct{}),
		stderr:  &tailBuffer{max: 2048},
		pending: map[string]*invocation{},
	}
	in.srv = &http.Server{Handler: in.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = in.srv.Serve(ln) }() // returns ErrServerClosed on stop

	cmd := exec.Command(p.binary)
	cmd.Env = p.childEnv(ln.Addr().String())
	cmd.Dir = filepath.Dir(p.binary)
	cmd.Stdout = os.Stderr
	cmd.Stderr = io.MultiWriter(os.Stderr, in.stderr)
	in.cmd = cmd
	if err := cmd.Start(); err != nil {
		_ = in.srv.Close()
		return nil, fmt.Errorf("runtimeapi: start %s: %w", p.binary, err)
	}
	go func() {
		in.waitE = cmd.Wait()
		close(in.exited)
	}()

	select {
	case <-in.polled:
		in.log.Debug("function instance ready", "pid", cmd.Process.Pid)
		return in, nil
	case ie := <-in.initE:
		in.stop()
		return nil, ie
	case <-in.exited:
		in.stop()
		msg := fmt.Sprint(in.waitE)
		if tail := strings.TrimSpace(in.stderr.String()); tail != "" {
			msg += ": " + tail
		}
		return nil, &InitError{Type: "Runtime.ExitError", Message: msg}
	case <-ctx.Done():
		in.stop()
		return nil, fmt.Errorf("runtimeapi: waiting for %s to start: %w", p.name, ctx.Err())
	}
}

func (in *instance) hasExited() bool {
	select {
	case <-in.exited:
		return true
	default:
		return false
	}
}

func (in *instance) exitErr() error {
	if in.hasExited() {
		return in.waitE
	}
	return nil
}

// stop ends the child and the server and waits for the child to exit.
func (in *instance) stop() {
	in.stopOnce.Do(func() {
		if !in.hasExited() {
			_ = in.cmd.Process.Signal(syscall.SIGTERM) // it may have exited meanwhile
			t := time.NewTimer(stopGrace)
			select {
			case <-in.exited:
			case <-t.C:
				_ = in.cmd.Process.Kill()
				<-in.exited
			}
			t.Stop()
		}
		_ = in.srv.Close() // also ends handlers blocked in /next
	})
}

// invoke hands inv to the instance and waits for its outcome. delivered
// reports whether the function got the event.
func (in *instance) invoke(ctx context.Context, closing <-chan struct{}, inv *invocation) (out []byte, delivered bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err // select below would pick at random
	}
	in.mu.Lock()
	in.pending[inv.id] = inv
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		delete(in.pending, inv.id)
		in.mu.Unlock()
	}()
	select {
	case in.next <- inv:
	case <-in.exited:
		return nil, false, errNotDelivered
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-closing:
		return nil, false, ErrClosed
	}
	select {
	case r := <-inv.done:
		return r.body, true, r.err
	case <-in.exited:
		// The error post may have landed just before the exit (a panic).
		select {
		case r := <-inv.done:
			return r.body, true, r.err
		default:
		}
		return nil, true, in.crashError()
	case <-ctx.Done():
		return nil, true, ctx.Err()
	case <-closing:
		return nil, true, ErrClosed
	}
}

func (in *instance) crashError() error {
	return &FunctionError{Type: "Runtime.ExitError", Message: fmt.Sprintf("process exited: %v", in.waitE)}
}

func (in *instance) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"invocation/next", in.handleNext)
	mux.HandleFunc("POST "+apiPrefix+"invocation/{id}/response", in.handleResponse)
	mux.HandleFunc("POST "+apiPrefix+"invocation/{id}/error", in.handleError)
	mux.HandleFunc("POST "+apiPrefix+"init/error", in.handleInitError)
	return mux
}

func (in *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	in.pollOnce.Do(func() { close(in.polled) })
	select {
	case inv := <-in.next:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
		h.Set("Lambda-Runtime-Trace-Id", inv.trace)
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload) // a failed write shows up as the child's exit
	case <-r.Context().Done():
	}
}

// take removes and returns the pending invocation the path names.
func (in *instance) take(w http.ResponseWriter, r *http.Request) *invocation {
	in.mu.Lock()
	inv := in.pending[r.PathValue("id")]
	delete(in.pending, r.PathValue("id"))
	in.mu.Unlock()
	if inv == nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or finished request id")
	}
	return inv
}

func (in *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := in.take(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			inv.done <- result{err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "response payload exceeds 6 MB"}}
			apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload exceeds 6 MB")
			return
		}
		inv.done <- result{err: &FunctionError{Type: "Runtime.ResponseReadError", Message: err.Error()}}
		apiError(w, http.StatusBadRequest, "InvalidRequest", "could not read the response body")
		return
	}
	inv.done <- result{body: body}
	accepted(w)
}

func (in *instance) handleError(w http.ResponseWriter, r *http.Request) {
	inv := in.take(w, r)
	if inv == nil {
		return
	}
	fe := readError(r)
	inv.done <- result{err: fe}
	accepted(w)
}

func (in *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	fe := readError(r)
	select {
	case in.initE <- &InitError{Type: fe.Type, Message: fe.Message}:
	default: // only the first report counts
	}
	accepted(w)
}

// readError reads an error document; the type falls back to the
// Lambda-Runtime-Function-Error-Type header, then to "Unknown".
func readError(r *http.Request) *FunctionError {
	var fe FunctionError
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxPayload)) // a short body still says something
	if err := json.Unmarshal(b, &fe); err != nil {
		fe.Message = strings.TrimSpace(string(b))
	}
	if fe.Type == "" {
		fe.Type = r.Header.Get("Lambda-Runtime-Function-Error-Type")
	}
	if fe.Type == "" {
		fe.Type = "Unknown"
	}
	return &fe
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func apiError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

// requestID is the caller's Lambda request id, or a fresh UUID-shaped one.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// traceID is an X-Ray style trace header, unsampled.
func traceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0",
		time.Now().Unix(), hex.EncodeToString(b[:]), hex.EncodeToString(b[:8]))
}

// tailBuffer keeps the last max bytes written, for init error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
