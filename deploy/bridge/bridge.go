// Package bridge is the Go end of the Node.js bridge (index.mjs, in this
// directory), which runs a Go function under the Node.js runtime that
// Lambda@Edge requires.
//
// The bridge starts the function's bootstrap once, as a long-lived child
// process, with EDGEAUTH_BRIDGE=stdio-1 in its environment, and exchanges
// length-prefixed frames with it over the child's stdin and stdout: no HTTP
// and no re-encoding on the hot path, the event passed through as the JSON
// bytes Node made of it. Without that variable the same binary runs under
// the Lambda Runtime API (lambda.Start), as a regular Lambda function or
// under the local edge's loopback Runtime API.
//
// # Wire format
//
// Every frame is a 4-byte big-endian length n, then n bytes: a kind byte and
// its body. Integers are big-endian; strings are a 2-byte length and UTF-8.
//
//	Node -> Go
//	  'i' invoke      seq u32 | deadline f64 (Unix ms) | request id, function ARN, trace id: strings | event JSON
//	Go -> Node
//	  'r' ready       (empty): sent once, when the handler is built
//	  'o' result      seq u32 | result JSON
//	  'e' error       seq u32 | {"errorMessage","errorType"}, as aws-lambda-go posts to /invocation/{id}/error
//	  'p' panic       as 'e', and the process exits next (aws-lambda-go exits after a panic too)
//	  'x' init error  {"errorMessage","errorType"}: the function could not be built; the process exits
//
// One event is in flight at a time, as Lambda sends them; seq lets the
// bridge check that an answer belongs to the event it is waiting for.
package bridge

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// EnvMode is the environment variable that selects the runtime; the bridge
// sets it to ModeStdio. Any other non-empty value is refused, so a binary
// and a bridge that disagree on the protocol fail at init, not per event.
const (
	EnvMode   = "EDGEAUTH_BRIDGE"
	ModeStdio = "stdio-1"
)

// Frame kinds.
const (
	kindInvoke    = 'i'
	kindReady     = 'r'
	kindResult    = 'o'
	kindError     = 'e'
	kindPanic     = 'p'
	kindInitError = 'x'
)

// hasSeq reports whether a frame of this kind carries the invocation's
// sequence number: the answers to an invoke do, ready and init error not.
func hasSeq(kind byte) bool { return kind == kindResult || kind == kindError || kind == kindPanic }

// MaxPayload is the largest event or result, Lambda's 6 MB limit on a
// synchronous invocation; a frame may add MaxHeader bytes to it.
const (
	MaxPayload = 6 << 20
	MaxHeader  = 3*(2+math.MaxUint16) + 13
)

// Errors Serve returns; the process should exit on them.
var (
	// ErrProtocol: the bridge sent something that is not a valid frame.
	ErrProtocol = errors.New("bridge: protocol error")
	// ErrPanic: the handler panicked; its error was sent, and the process
	// must exit, as aws-lambda-go's runtime loop does.
	ErrPanic = errors.New("bridge: handler panicked")
)

// Runtime is where a function's events come from: the bridge's frames or
// the Lambda Runtime API.
type Runtime struct {
	in  io.Reader // frames from the bridge; nil under the Runtime API
	out io.Writer // frames to the bridge
	log *slog.Logger
}

// Open picks the runtime the process was started under: the bridge when
// EDGEAUTH_BRIDGE is ModeStdio, else the Lambda Runtime API. Under the
// bridge it takes stdout for its frames and points file descriptor 1 at
// stderr instead, so that a log line or a stray print can never land inside
// a frame; call it first in main, before anything writes to stdout.
func Open() (*Runtime, error) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	switch mode := os.Getenv(EnvMode); mode {
	case "":
		return &Runtime{log: log}, nil
	case ModeStdio:
		out, err := takeStdout()
		if err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
		return &Runtime{in: os.Stdin, out: out, log: log}, nil
	default:
		return nil, fmt.Errorf("bridge: %s=%q: unknown mode, want %q (bootstrap and index.mjs from different builds?)", EnvMode, mode, ModeStdio)
	}
}

// Bridged reports whether the process runs under the bridge.
func (rt *Runtime) Bridged() bool { return rt.out != nil }

// Start runs h for the life of the process. Under the Runtime API it hands
// h to lambda.Start, which never returns. Under the bridge it returns nil
// when the bridge closes stdin, and an error (ErrPanic, ErrProtocol, a
// write error) when the process should exit with a failure.
func (rt *Runtime) Start(h lambda.Handler) error {
	if !rt.Bridged() {
		lambda.Start(h)
		return errors.New("bridge: lambda.Start returned") // it exits the process instead
	}
	return Serve(context.Background(), rt.in, rt.out, h, rt.log)
}

// InitFailed tells the bridge that the function could not be built, with
// err's text as the message (config errors name the field, never a value).
// Under the Runtime API it does nothing: the exit says it.
func (rt *Runtime) InitFailed(err error) {
	if rt == nil || !rt.Bridged() || err == nil {
		return
	}
	body, _ := json.Marshal(messages.InvokeResponse_Error{Type: "Runtime.InitError", Message: err.Error()})
	var w frameWriter
	_ = w.write(rt.out, kindInitError, 0, body) // the exit that follows says it too
}

// Serve answers the invoke frames read from in with frames written to out,
// calling h.Invoke as aws-lambda-go's runtime loop does: with a deadline and
// a lambdacontext.LambdaContext (request id, invoked function ARN) in ctx.
// It first writes the ready frame. It returns nil at the end of in, and an
// error when the process should exit. Function errors are logged to log by
// type and message, as aws-lambda-go logs them; events and results never.
func Serve(ctx context.Context, in io.Reader, out io.Writer, h lambda.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var w frameWriter
	if err := w.write(out, kindReady, 0, nil); err != nil {
		return fmt.Errorf("bridge: write ready: %w", err)
	}
	r := frameReader{r: bufio.NewReaderSize(in, 64<<10)}
	lastTrace := ""
	for {
		inv, err := r.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if inv.trace != lastTrace && lambdacontext.MaxConcurrency() == 1 {
			// aws-lambda-go sets it per event, for the X-Ray SDK.
			_ = os.Setenv("_X_AMZN_TRACE_ID", inv.trace)
			lastTrace = inv.trace
		}
		res, ferr := invoke(ctx, h, inv)
		if ferr != nil {
			log.Error("function error", "requestId", inv.id, "errorType", ferr.Type, "errorMessage", ferr.Message)
			body, _ := json.Marshal(ferr) // strings only: cannot fail
			kind := byte(kindError)
			if ferr.ShouldExit {
				// Said before the exit, so the bridge sends the next
				// event to a fresh process instead of this one.
				kind = kindPanic
			}
			if err := w.write(out, kind, inv.seq, body); err != nil {
				return fmt.Errorf("bridge: write error: %w", err)
			}
			if ferr.ShouldExit {
				return ErrPanic
			}
			continue
		}
		// res may be aws-lambda-go's pooled buffer: written before the next
		// Invoke can reuse it.
		if err := w.write(out, kindResult, inv.seq, res); err != nil {
			return fmt.Errorf("bridge: write result: %w", err)
		}
	}
}

// invoke calls h with the invocation's context, turning an error or a
// panic into the error aws-lambda-go would report for it.
func invoke(base context.Context, h lambda.Handler, inv *invocation) (res []byte, ferr *messages.InvokeResponse_Error) {
	ctx, cancel := context.WithDeadline(base, inv.deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: inv.id, InvokedFunctionArn: inv.arn})
	// The string key is aws-lambda-go's (the X-Ray SDK reads it).
	ctx = context.WithValue(ctx, "x-amzn-trace-id", inv.trace)
	defer func() {
		if v := recover(); v != nil {
			// The stack goes to stderr, as the Go runtime prints a panic; the
			// bridge gets only the type and message.
			os.Stderr.Write(debug.Stack())
			ferr = &messages.InvokeResponse_Error{Type: typeName(v), Message: fmt.Sprint(v), ShouldExit: true}
		}
	}()
	res, err := h.Invoke(ctx, inv.payload)
	if err != nil {
		return nil, errorResponse(err)
	}
	if len(res) > MaxPayload {
		return nil, &messages.InvokeResponse_Error{Type: "Function.ResponseSizeTooLarge", Message: "response payload exceeds 6 MB"}
	}
	return res, nil
}

// errorResponse is aws-lambda-go's lambdaErrorResponse, so both runtimes
// report the same errorType: the error's type name, unless the error is a
// messages.InvokeResponse_Error (a type assertion there, not errors.As).
func errorResponse(err error) *messages.InvokeResponse_Error {
	if ive, ok := err.(messages.InvokeResponse_Error); ok {
		return &ive
	}
	return &messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
}

// typeName is the name of v's type, a pointer's element's for a pointer,
// as aws-lambda-go names error types.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "nil"
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// invocation is one decoded invoke frame. payload aliases the reader's
// buffer until the next frame is read.
type invocation struct {
	seq      uint32
	deadline time.Time
	id       string
	arn      string
	trace    string
	payload  []byte
}

type frameReader struct {
	r   *bufio.Reader
	buf []byte
}

// next reads one invoke frame. At a clean end of input it returns io.EOF;
// anything else that is not a whole, valid invoke frame is ErrProtocol.
func (fr *frameReader) next() (*invocation, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%w: frame length: %w", ErrProtocol, err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxPayload+MaxHeader {
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrProtocol, n, MaxPayload+MaxHeader)
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	fr.buf = fr.buf[:n]
	if _, err := io.ReadFull(fr.r, fr.buf); err != nil {
		return nil, fmt.Errorf("%w: frame of %d bytes cut short: %w", ErrProtocol, n, err)
	}
	return parseInvoke(fr.buf)
}

// parseInvoke decodes the body of an invoke frame (kind byte included).
func parseInvoke(b []byte) (*invocation, error) {
	if len(b) < 13 || b[0] != kindInvoke {
		return nil, fmt.Errorf("%w: not an invoke frame", ErrProtocol)
	}
	inv := &invocation{seq: binary.BigEndian.Uint32(b[1:5])}
	ms := math.Float64frombits(binary.BigEndian.Uint64(b[5:13]))
	if math.IsNaN(ms) || ms < 0 || ms > 1<<53 {
		return nil, fmt.Errorf("%w: bad deadline", ErrProtocol)
	}
	inv.deadline = time.UnixMilli(int64(ms))
	rest := b[13:]
	for _, s := range []*string{&inv.id, &inv.arn, &inv.trace} {
		if len(rest) < 2 {
			return nil, fmt.Errorf("%w: invoke frame cut short", ErrProtocol)
		}
		l := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+l {
			return nil, fmt.Errorf("%w: invoke frame cut short", ErrProtocol)
		}
		*s = string(rest[2 : 2+l])
		rest = rest[2+l:]
	}
	if len(rest) > MaxPayload {
		return nil, fmt.Errorf("%w: event over 6 MB", ErrProtocol)
	}
	inv.payload = rest
	return inv, nil
}

// frameWriter writes each frame with one Write, so the bridge wakes once
// per answer.
type frameWriter struct{ buf []byte }

func (fw *frameWriter) write(w io.Writer, kind byte, seq uint32, body []byte) error {
	b := append(fw.buf[:0], 0, 0, 0, 0, kind)
	if hasSeq(kind) {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	fw.buf = b
	_, err := w.Write(b)
	return err
}

// AppendInvoke appends an invoke frame to b: what index.mjs writes, for Go
// code that drives a bootstrap the way the bridge does (tests, benchmarks).
// Strings longer than 65,535 bytes are cut.
func AppendInvoke(b []byte, seq uint32, deadline time.Time, id, arn, trace string, event []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, kindInvoke)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(float64(deadline.UnixMilli())))
	for _, s := range []string{id, arn, trace} {
		s = s[:min(len(s), math.MaxUint16)]
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	b = append(b, event...)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// Frame is one frame the function sent, as ReadFrame decodes it.
type Frame struct {
	Kind byte   // 'r', 'o', 'e', 'p' or 'x'
	Seq  uint32 // for 'o', 'e' and 'p'
	Body []byte
}

// ReadFrame reads one frame a function wrote (the bridge's side of the
// protocol, for Go code that drives a bootstrap).
func ReadFrame(r io.Reader) (Frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1 || n > MaxPayload+MaxHeader {
		return Frame{}, fmt.Errorf("%w: frame of %d bytes", ErrProtocol, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return Frame{}, fmt.Errorf("%w: frame cut short: %w", ErrProtocol, err)
	}
	f := Frame{Kind: b[0], Body: b[1:]}
	switch {
	case hasSeq(f.Kind):
		if len(b) < 5 {
			return Frame{}, fmt.Errorf("%w: frame %q without seq", ErrProtocol, f.Kind)
		}
		f.Seq, f.Body = binary.BigEndian.Uint32(b[1:5]), b[5:]
	case f.Kind == kindReady || f.Kind == kindInitError:
	default:
		return Frame{}, fmt.Errorf("%w: unknown frame kind %q", ErrProtocol, f.Kind)
	}
	return f, nil
}
