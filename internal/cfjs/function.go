package cfjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dop251/goja"
)

// MaxCodeSize is CloudFront's "Maximum function size" quota, 10 KB, which
// AWS does not let you raise ("Quotas on CloudFront Functions").
const MaxCodeSize = 10 * 1024

// DefaultBudget is how much CPU time a run may use before the edge stops
// it. CloudFront states its limit only as compute utilization, a
// percentage of an undisclosed maximum, and stops a function past it; this
// engine is far slower than CloudFront's, so the local budget only catches
// runaways. It counts CPU time, not wall time (see budget), so a loaded
// machine does not fail a function.
const DefaultBudget = 100 * time.Millisecond

// maxCallDepth bounds recursion, so a runaway recursion fails as an
// execution error rather than growing the Go stack.
const maxCallDepth = 1000

// Errors a function can fail with. Compile returns ErrTooLarge, ErrSyntax,
// ErrUnsupported or ErrNoHandler; Run returns ErrExecution (a throw, a
// rejected promise, the compute budget) or ErrValidation (a result
// CloudFront would refuse).
var (
	ErrTooLarge      = errors.New("cfjs: function code over the 10 KB quota")
	ErrSyntax        = errors.New("cfjs: syntax error")
	ErrUnsupported   = errors.New("cfjs: not in cloudfront-js-2.0")
	ErrNoHandler     = errors.New("cfjs: the code defines no function handler(event)")
	ErrExecution     = errors.New("cfjs: function execution error")
	ErrComputeBudget = errors.New("cfjs: compute budget exceeded")
	ErrValidation    = errors.New("cfjs: invalid function result")
)

// Options configure a Function.
type Options struct {
	// KeyValueStore is the store associated with the function, read by the
	// cloudfront module's kvs(); nil means none is associated.
	KeyValueStore *KeyValueStore
	// Budget is the CPU time a run may use (wall time where no thread
	// clock can be read); DefaultBudget when zero.
	Budget time.Duration
	// Logger receives console.log and cf.logCustomData lines; nil discards.
	Logger *slog.Logger
	// Now is the clock for Date; time.Now when nil. Date returns the
	// function's start time for the whole run, as on CloudFront.
	Now func() time.Time
}

// Function is compiled CloudFront Function code, runnable many times and
// from several goroutines: each Run gets a fresh runtime, so no state
// survives between requests.
type Function struct {
	name    string
	prog    *goja.Program
	prelude *goja.Program
	opts    Options
}

// Compile checks code the way CloudFront does when it accepts a function
// (size, syntax) and against the documented cloudfront-js-2.0 feature list,
// and compiles it. name is used in messages (the file name, say).
func Compile(name string, code []byte, opts Options) (*Function, error) {
	if len(code) > MaxCodeSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrTooLarge, name, len(code), MaxCodeSize)
	}
	src, err := rewriteImports(name, string(code))
	if err != nil {
		return nil, err
	}
	if err := checkSubset(name, src); err != nil {
		return nil, err
	}
	// Functions run in strict mode, always ("Strict mode" in AWS's list).
	prog, err := goja.Compile(name, src, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	pre, err := prelude.ReadFile("prelude.js")
	if err != nil {
		return nil, fmt.Errorf("cfjs: prelude: %w", err) // a bug in this package
	}
	preludeProg, err := goja.Compile("cfjs-prelude.js", string(pre), true)
	if err != nil {
		return nil, fmt.Errorf("cfjs: prelude: %w", err) // a bug in this package
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Function{name: name, prog: prog, prelude: preludeProg, opts: opts}
	// A handler must exist; finding out costs one top-level run.
	e, _, err := f.load(context.Background())
	if err != nil {
		return nil, err
	}
	e.stop()
	return f, nil
}

// Name is the name given to Compile.
func (f *Function) Name() string { return f.name }

// load starts a runtime and runs the top-level code, returning the runtime
// and its handler.
func (f *Function) load(ctx context.Context) (*env, goja.Callable, error) {
	e, err := newEnv(f, ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := e.r.RunProgram(f.prog); err != nil {
		e.stop()
		return nil, nil, e.execErr(err)
	}
	h, ok := goja.AssertFunction(e.r.Get("handler"))
	if !ok {
		e.stop()
		return nil, nil, fmt.Errorf("%w (%s)", ErrNoHandler, f.name)
	}
	return e, h, nil
}

// Run calls handler(ev) and returns what it returned, checked for the
// shape CloudFront accepts: a request or a response at viewer-request, a
// response at viewer-response. An async handler's promise is awaited.
// The HTTP rules on that result (read-only and disallowed headers, status
// range, sizes) are the caller's to apply.
func (f *Function) Run(ctx context.Context, ev *Event) (*Result, error) {
	if ev.Context.EventType != ViewerRequest && ev.Context.EventType != ViewerResponse {
		return nil, fmt.Errorf("cfjs: event type %q: want %s or %s", ev.Context.EventType, ViewerRequest, ViewerResponse)
	}
	if ev.Version == "" {
		ev.Version = EventVersion
	}
	e, handler, err := f.load(ctx)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	in, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("cfjs: encode event: %w", err)
	}
	arg, err := e.jsonParse(goja.Undefined(), e.r.ToValue(string(in)))
	if err != nil {
		return nil, e.execErr(err)
	}
	v, err := handler(goja.Undefined(), arg)
	if err != nil {
		return nil, e.execErr(err)
	}
	if p, ok := v.Export().(*goja.Promise); ok {
		// The job queue has run by now: every promise the function
		// created and awaited has settled, since nothing here is
		// asynchronous (KeyValueStore reads resolve at once).
		switch p.State() {
		case goja.PromiseStateFulfilled:
			v = p.Result()
		case goja.PromiseStateRejected:
			return nil, fmt.Errorf("%w: %s: the handler's promise was rejected: %s", ErrExecution, f.name, describe(p.Result()))
		default:
			return nil, fmt.Errorf("%w: %s: the handler's promise never settled", ErrExecution, f.name)
		}
	}
	if err := e.interrupted(); err != nil {
		return nil, err
	}
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, fmt.Errorf("%w: %s: handler returned %s, not a request or a response", ErrValidation, f.name, v)
	}
	out, err := e.jsonStringify(goja.Undefined(), v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: result is not JSON: %v", ErrValidation, f.name, err)
	}
	return decodeResult(ev.Context.EventType, []byte(out.String()))
}

// describe renders a thrown or rejected value for an error message.
func describe(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if m := o.Get("message"); m != nil && !goja.IsUndefined(m) {
			return o.Get("name").String() + ": " + m.String()
		}
	}
	return v.String()
}
