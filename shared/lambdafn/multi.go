package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// Builder builds one function's handler from its dependencies.
type Builder func(Deps) (Handler, error)

// BuilderOf adapts a handler constructor (checkauth.New and the like) to a
// Builder.
func BuilderOf[H interface {
	Handle(context.Context, edge.Event) (edge.Result, error)
}](newHandler func(Deps) (H, error)) Builder {
	return func(d Deps) (Handler, error) {
		h, err := newHandler(d)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	}
}

// EnvFunctionName is the variable Lambda sets to the function's name.
const EnvFunctionName = "AWS_LAMBDA_FUNCTION_NAME"

// ErrUnknownFunction: the Lambda function's name names none of the
// functions a multi-call binary holds.
var ErrUnknownFunction = errors.New("lambdafn: the Lambda function's name names no suite function")

// Select says which of names a process runs, from the Lambda function's
// name (AWS_LAMBDA_FUNCTION_NAME): the name itself, or its end after a '-'
// or '_', so that "check-auth", "edgeauth-check-auth" and "prod_check-auth"
// all run check-auth. A Lambda@Edge replica runs under the name
// "<region>.<name>" (function names cannot hold a '.'), so everything up to
// the last '.' is dropped first. Names in the list must not end in one
// another after a '-' or '_' (the suite's do not), so at most one matches.
func Select(functionName string, names []string) (string, error) {
	base := functionName[strings.LastIndexByte(functionName, '.')+1:]
	for _, n := range names {
		if base == n {
			return n, nil
		}
		if rest, ok := strings.CutSuffix(base, n); ok && (strings.HasSuffix(rest, "-") || strings.HasSuffix(rest, "_")) {
			return n, nil
		}
	}
	return "", fmt.Errorf("%w: %s=%q; it must be one of %s, or end in -<one of them>",
		ErrUnknownFunction, EnvFunctionName, functionName, strings.Join(names, ", "))
}

// MainMulti is Main for one binary that holds several functions (the
// suite's one bootstrap): it runs the one Select picks from the Lambda
// function's name, and fails the cold start, naming the name, when none
// matches.
func MainMulti(fns map[string]Builder) {
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	slices.Sort(names)
	start(func() (string, func(Deps) (Handler, error), error) {
		name, err := Select(os.Getenv(EnvFunctionName), names)
		return name, fns[name], err
	})
}
