// Package echo is a stand-in Lambda@Edge function for the bridge tests: it
// reads the event with the suite's edge types and the Lambda context the way
// the real functions do, without their dependencies, so a run through the
// bridge can be compared with a direct call.
package echo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// Handle passes the request on with x-echo-* headers naming the invocation,
// answers "/respond" with a generated 200, and fails on "/fail" and on
// events without a request (both become Lambda function errors). For the
// bridge's failure tests, "/panic" panics, "/crash" exits the process with
// code 3 and "/hang" waits past the deadline.
func Handle(ctx context.Context, ev edge.Event) (edge.Result, error) {
	req, cfg, err := ev.Request()
	if err != nil {
		return edge.Result{}, err
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return edge.Result{}, errors.New("echo: no lambda context")
	}
	switch req.Path() {
	case "/fail":
		return edge.Result{}, fmt.Errorf("echo: asked to fail (%s)", cfg.EventType)
	case "/panic":
		panic("echo: asked to panic")
	case "/crash":
		os.Exit(3)
	case "/hang":
		<-ctx.Done()
		time.Sleep(time.Minute) // past the bridge's own deadline
		return edge.Result{}, ctx.Err()
	case "/respond":
		return edge.Respond(edge.NewResponse(http.StatusOK, true).Text("hello " + lc.AwsRequestID)), nil
	}
	req.Headers.Set("X-Echo-Request-Id", lc.AwsRequestID)
	req.Headers.Set("X-Echo-Function-Arn", lc.InvokedFunctionArn)
	req.Headers.Set("X-Echo-Event-Type", cfg.EventType)
	req.Headers.Set("X-Echo-Cookies", fmt.Sprint(len(req.Cookies())))
	return edge.Continue(req), nil
}
