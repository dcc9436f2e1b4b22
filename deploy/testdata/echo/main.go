// Command echo is the bootstrap the bridge tests build: deploy/internal/echo
// behind the bridge's frames or aws-lambda-go's runtime loop, wired like the
// suite's functions (shared/lambdafn.Main). ECHO_INIT=fail makes its init
// fail, as a bad config does.
package main

import (
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/edgeauth/edgeauth/deploy/bridge"
	"github.com/edgeauth/edgeauth/deploy/internal/echo"
)

func main() {
	fail := func(err error) {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("echo failed", "err", err)
		os.Exit(1)
	}
	rt, err := bridge.Open()
	if err != nil {
		fail(err)
	}
	if os.Getenv("ECHO_INIT") == "fail" {
		err := errors.New("echo: config: clientId: is required")
		rt.InitFailed(err)
		fail(err)
	}
	if err := rt.Start(lambda.NewHandler(echo.Handle)); err != nil {
		fail(err)
	}
}
