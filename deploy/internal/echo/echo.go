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

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// Handle passes the request on with x-echo-* headers naming the invocation,
// answers "/respond" with a generated 200, and fails on "/fail" and on
// events without a request (both become Lambda function errors).
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
	case "/respond":
		return edge.Respond(edge.NewResponse(http.StatusOK, true).Text("hello " + lc.AwsRequestID)), nil
	}
	req.Headers.Set("X-Echo-Request-Id", lc.AwsRequestID)
	req.Headers.Set("X-Echo-Function-Arn", lc.InvokedFunctionArn)
	req.Headers.Set("X-Echo-Event-Type", cfg.EventType)
	req.Headers.Set("X-Echo-Cookies", fmt.Sprint(len(req.Cookies())))
	return edge.Continue(req), nil
}
