// Command passthrough is the bootstrap of BenchmarkBridge/passthrough: its
// handler gives every event's bytes back as the result, without decoding
// them, so a run through the bridge costs the bridge's frames and Node's
// JSON and nothing of a function's own.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/edgeauth/edgeauth/deploy/bridge"
)

// passthrough is a lambda.Handler: Invoke's bytes are the result as is.
type passthrough struct{}

func (passthrough) Invoke(_ context.Context, event []byte) ([]byte, error) { return event, nil }

func main() {
	rt, err := bridge.Open()
	if err == nil {
		err = rt.Start(passthrough{})
	}
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("passthrough failed", "err", err)
		os.Exit(1)
	}
}
