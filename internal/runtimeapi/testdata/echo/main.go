// Command echo is a tiny aws-lambda-go function for the runtimeapi tests.
// The event's "mode" picks what it does; ECHO_INIT makes it fail at init.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Mode string `json:"mode"`
}

type contextInfo struct {
	RequestID    string `json:"requestId"`
	FunctionArn  string `json:"functionArn"`
	FunctionName string `json:"functionName"`
	DeadlineMs   int64  `json:"deadlineMs"`
	TraceID      string `json:"traceId"`
	Custom       string `json:"custom"`
}

func handle(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	switch ev.Mode {
	case "error":
		return nil, errors.New("failed on demand")
	case "panic":
		panic("panicked on demand")
	case "exit":
		os.Exit(3)
	case "hang":
		select {}
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		dl, _ := ctx.Deadline()
		info := contextInfo{
			FunctionName: lambdacontext.FunctionName,
			DeadlineMs:   dl.UnixMilli(),
			TraceID:      os.Getenv("_X_AMZN_TRACE_ID"),
			Custom:       os.Getenv("ECHO_CUSTOM"),
		}
		if lc != nil {
			info.RequestID, info.FunctionArn = lc.AwsRequestID, lc.InvokedFunctionArn
		}
		return json.Marshal(info)
	}
	return raw, nil
}

func main() {
	switch os.Getenv("ECHO_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init: config.json is missing")
		os.Exit(1)
	case "report":
		body, _ := json.Marshal(map[string]string{"errorType": "Init.ConfigError", "errorMessage": "bad config on demand"})
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		c := &http.Client{Timeout: 5 * time.Second}
		if resp, err := c.Post(url, "application/json", bytes.NewReader(body)); err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	}
	lambda.StartHandlerFunc(handle)
}
