package cfjs

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// prelude holds prelude.js, the parts of the runtime that are easiest
// written in JavaScript: Buffer, TextEncoder, TextDecoder, InternalError.
//
//go:embed prelude.js
var prelude embed.FS

// moduleLoader is the global that rewritten imports call.
const moduleLoader = "__cfjsImport"

// maxLogBytes is where CloudFront truncates a run's function logs.
const maxLogBytes = 10 * 1024

// removedGlobals are built into goja but absent from AWS's list of what
// cloudfront-js-2.0 provides; code using them would fail on CloudFront.
// (Prototype methods are left alone: AWS's lists of those are incomplete,
// its own samples call String.prototype.charCodeAt, which they omit.)
func removedGlobals() []string {
	return []string{
		"Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry",
		"Proxy", "Reflect", "BigInt", "BigInt64Array", "BigUint64Array",
		"AggregateError", "escape", "unescape", "Float16Array", "Iterator",
	}
}

// budgetExceeded is the value the budget timer interrupts a run with.
type budgetExceeded struct{}

// env is one run's runtime.
type env struct {
	f             *Function
	r             *goja.Runtime
	budget        *budget
	stopCtx       func() bool
	jsonParse     goja.Callable
	jsonStringify goja.Callable

	mu       sync.Mutex
	logBytes int
	cut      error // why the run was interrupted
}

func newEnv(f *Function, ctx context.Context) (*env, error) {
	// The budget reads this thread's CPU clock: the run stays on it until
	// stop, which must be called from this goroutine.
	runtime.LockOSThread()
	r := goja.New()
	start := f.opts.Now()
	r.SetTimeSource(func() time.Time { return start })
	r.SetMaxCallStackSize(maxCallDepth)
	e := &env{f: f, r: r}
	e.budget = startBudget(f.opts.Budget, func() { e.interrupt(ErrComputeBudget) })
	e.stopCtx = context.AfterFunc(ctx, func() { e.interrupt(fmt.Errorf("%w: %w", ErrExecution, ctx.Err())) })

	json := r.Get("JSON").ToObject(r)
	e.jsonParse, _ = goja.AssertFunction(json.Get("parse"))
	e.jsonStringify, _ = goja.AssertFunction(json.Get("stringify"))

	g := r.GlobalObject()
	for _, name := range removedGlobals() {
		_ = g.Delete(name)
	}
	_ = r.Set("console", e.console())
	_ = r.Set("atob", e.atob)
	_ = r.Set("btoa", e.btoa)

	setup, err := r.RunProgram(f.prelude)
	if err == nil {
		install, ok := goja.AssertFunction(setup)
		if !ok {
			e.stop()
			return nil, errors.New("cfjs: prelude does not evaluate to a function")
		}
		_, err = install(goja.Undefined(), e.helpers())
	}
	if err != nil {
		e.stop()
		if cut := e.interrupted(); cut != nil {
			return nil, cut
		}
		return nil, fmt.Errorf("cfjs: prelude: %w", err)
	}

	crypto := e.cryptoModule()
	cloudfront := e.cloudfrontModule()
	_ = r.Set(moduleLoader, func(name string) *goja.Object {
		switch name {
		case "crypto":
			return crypto
		case "cloudfront":
			return cloudfront
		}
		panic(r.NewTypeError("cannot import " + name))
	})
	_ = r.Set("require", func(name string) *goja.Object {
		switch name {
		case "crypto":
			return crypto
		case "buffer":
			buffer := r.NewObject()
			_ = buffer.Set("Buffer", r.Get("Buffer"))
			return buffer
		case "querystring":
			panic(r.NewGoError(errors.New("the querystring module is not modelled by the local edge: read event.request.querystring")))
		}
		panic(r.NewGoError(fmt.Errorf("Cannot find module '%s' (CloudFront Functions have no modules besides crypto, querystring and buffer)", name)))
	})
	return e, nil
}

// console is the console object: log() only, and only its first argument,
// since CloudFront Functions do not support console.log('a', 'b').
func (e *env) console() *goja.Object {
	c := e.r.NewObject()
	_ = c.Set("log", func(call goja.FunctionCall) goja.Value {
		e.log("console.log", call.Argument(0).String())
		return goja.Undefined()
	})
	return c
}

// log writes one function log line, truncating the run's logs at 10 KB.
func (e *env) log(kind, msg string) {
	e.mu.Lock()
	room := maxLogBytes - e.logBytes
	if room <= 0 {
		e.mu.Unlock()
		return
	}
	if len(msg) > room {
		msg = msg[:room] + " [truncated at 10 KB]"
	}
	e.logBytes += len(msg)
	e.mu.Unlock()
	e.f.opts.Logger.Info(kind, "function", e.f.name, "message", msg)
}

func (e *env) interrupt(err error) {
	e.mu.Lock()
	if e.cut == nil {
		e.cut = err
	}
	e.mu.Unlock()
	e.r.Interrupt(budgetExceeded{})
}

// interrupted reports why the run was stopped, if it was.
func (e *env) interrupted() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if errors.Is(e.cut, ErrComputeBudget) {
		return fmt.Errorf("%w: %w: %s used more than its %s", ErrExecution, ErrComputeBudget, e.f.name, e.f.opts.Budget)
	}
	return e.cut
}

// execErr classifies an error out of goja.
func (e *env) execErr(err error) error {
	if cut := e.interrupted(); cut != nil {
		return cut
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return fmt.Errorf("%w: %s: interrupted", ErrExecution, e.f.name)
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return fmt.Errorf("%w: %s: %s", ErrExecution, e.f.name, strings.TrimSpace(ex.Error()))
	}
	var se *goja.StackOverflowError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %s: call stack deeper than %d", ErrExecution, e.f.name, maxCallDepth)
	}
	return fmt.Errorf("%w: %s: %w", ErrExecution, e.f.name, err)
}

// stop ends the run's budget and unlocks its thread; it is called once,
// from the goroutine that called newEnv.
func (e *env) stop() {
	e.budget.stop()
	e.stopCtx()
	runtime.UnlockOSThread()
}

func (e *env) throw(format string, args ...any) {
	panic(e.r.NewTypeError(fmt.Sprintf(format, args...)))
}
