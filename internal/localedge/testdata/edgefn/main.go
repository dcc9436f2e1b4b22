// Command edgefn is a small Lambda@Edge request trigger for the localedge
// runtime-api test: /login answers a 302 with the request id it saw, /boom
// fails, anything else goes on without its Authorization header.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/shared/edge"
)

func handle(ctx context.Context, ev edge.Event) (edge.Result, error) {
	req, _, err := ev.Request()
	if err != nil {
		return edge.Result{}, err
	}
	switch req.URI {
	case "/login":
		id := ""
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			id = lc.AwsRequestID
		}
		return edge.Respond(edge.Redirect("/?seen="+id, false)), nil
	case "/boom":
		return edge.Result{}, errors.New("boom")
	}
	req.Headers.Del("authorization")
	return edge.Continue(req), nil
}

func main() { lambda.StartHandlerFunc(handle) }
