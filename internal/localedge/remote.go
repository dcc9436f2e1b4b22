package localedge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/edgeauth/edgeauth/internal/runtimeapi"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// Invoker runs one event in a function instance and returns its raw
// response; *runtimeapi.Process is one.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Remote adapts an Invoker to a Function: the event goes as JSON, and the
// answer is decoded as CloudFront decodes it. Output that is not a request
// or a response comes back wrapped in ErrInvalidResult (the edge's 502); an
// error from the invoker, such as a *runtimeapi.FunctionError, is a function
// error (503).
func Remote(inv Invoker) Function {
	return func(ctx context.Context, ev edge.Event) (edge.Result, error) {
		payload, err := json.Marshal(ev)
		if err != nil {
			return edge.Result{}, fmt.Errorf("encode event: %w", err)
		}
		out, err := inv.Invoke(ctx, payload)
		if err != nil {
			return edge.Result{}, err
		}
		var res edge.Result
		if err := json.Unmarshal(out, &res); err != nil {
			return edge.Result{}, fmt.Errorf("%w: %w", ErrInvalidResult, err)
		}
		return res, nil
	}
}

// StartFunctions starts one runtimeapi.Process per entry of binaries
// (function name → path of its bootstrap binary), each with env, and returns
// them as Functions for New, plus a close func that stops them all. On error
// the processes already started are stopped.
func StartFunctions(ctx context.Context, binaries map[string]string, env []string, logger *slog.Logger) (map[string]Function, func() error, error) {
	names := make([]string, 0, len(binaries))
	for name := range binaries {
		names = append(names, name)
	}
	sort.Strings(names)
	var procs []*runtimeapi.Process
	closeAll := func() error {
		var errs []error
		for _, p := range procs {
			errs = append(errs, p.Close())
		}
		return errors.Join(errs...)
	}
	funcs := make(map[string]Function, len(binaries))
	for _, name := range names {
		p, err := runtimeapi.Start(ctx, binaries[name], append(env[:len(env):len(env)], "AWS_LAMBDA_FUNCTION_NAME="+name), logger)
		if err != nil {
			_ = closeAll() // the start error is the one that matters
			return nil, nil, fmt.Errorf("start %s: %w", name, err)
		}
		procs = append(procs, p)
		funcs[name] = Remote(p)
	}
	return funcs, closeAll, nil
}
