// Package lambdafn is what the three functions share around their handlers:
// the dependencies each is built from, the cold-start wiring of main, and
// the per-request id and logger.
package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/deploy/bridge"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/page"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Handler is a Lambda@Edge request-trigger handler. It returns a non-nil
// error only for a bug: every expected failure is a response.
type Handler func(ctx context.Context, ev edge.Event) (edge.Result, error)

// Deps are what a function is built from, once per cold start.
type Deps struct {
	Config     *config.Config
	Now        func() time.Time // default time.Now
	HTTPClient *http.Client     // for the IdP; default a client with a 5 s timeout
	Logger     *slog.Logger     // default discards
}

// WithDefaults fills the zero fields.
func (d Deps) WithDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return d
}

// Level maps the config's log level onto slog's.
func Level(name string) slog.Level {
	switch name {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Main is the whole of a function's main: load the config from beside the
// binary, build the handler and hand it to the runtime it was started
// under: the Node.js bridge's frames (deploy/bridge) or the Lambda Runtime
// API. A bad config fails the cold start with its one message.
func Main(name string, build func(Deps) (Handler, error)) {
	start(func() (string, func(Deps) (Handler, error), error) { return name, build, nil })
}

// start is Main's body. pick names the function once the runtime is open,
// so that a failure to choose one reaches the bridge like any init error.
func start(pick func() (string, func(Deps) (Handler, error), error)) {
	name := ""
	fail := func(msg string, err error) {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error(msg, "function", name, "err", err)
		os.Exit(1)
	}
	// First: under the bridge this takes stdout for its frames.
	rt, err := bridge.Open()
	if err != nil {
		fail("init failed", err)
	}
	name, build, err := pick()
	var h Handler
	if err == nil {
		h, err = run(name, build)
	}
	if err != nil {
		rt.InitFailed(err)
		fail("init failed", err)
	}
	if err := rt.Start(lambda.NewHandler((func(context.Context, edge.Event) (edge.Result, error))(h))); err != nil {
		fail("runtime failed", err)
	}
}

func run(name string, build func(Deps) (Handler, error)) (Handler, error) {
	path, err := config.Path()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: Level(cfg.LogLevel)})).With("function", name)
	h, err := build(Deps{Config: cfg, Logger: log}.WithDefaults())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return h, nil
}

// RequestID is the Lambda request id when running under Lambda, else
// CloudFront's request id from the event.
func RequestID(ctx context.Context, cfg edge.Config) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return cfg.RequestID
}

// Parts are the shared pieces the functions are built from. Every function
// builds all of them, so a bad config (a JWKS, a key, an endpoint) fails
// every function's cold start the same way.
type Parts struct {
	Verifier *verifier.Verifier
	Sessions *session.Store
	IdP      *idp.Provider
	Pages    *page.Renderer
}

// NewParts builds the parts from d's config, clock and HTTP client.
func NewParts(d Deps) (*Parts, error) {
	c := d.Config
	if c == nil {
		return nil, errors.New("no config")
	}
	v, err := verifier.FromConfig(c, d.Now)
	if err != nil {
		return nil, err
	}
	s, err := session.FromConfig(c, d.Now)
	if err != nil {
		return nil, err
	}
	p, err := idp.FromConfig(c, d.HTTPClient)
	if err != nil {
		return nil, err
	}
	pages, err := page.New(c.Secure(), c.Pages)
	if err != nil {
		return nil, err
	}
	return &Parts{Verifier: v, Sessions: s, IdP: p, Pages: pages}, nil
}

// DeadlineMargin is the time kept back from Lambda's deadline for the
// function to answer after an IdP call gives up.
const DeadlineMargin = 500 * time.Millisecond

// Budget bounds ctx to end DeadlineMargin before its own deadline, so an IdP
// that hangs costs the user the function's own 502 page, not CloudFront's
// 503 for a function that ran out of time.
func Budget(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-DeadlineMargin))
	}
	return context.WithCancel(ctx)
}
