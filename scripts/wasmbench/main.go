//go:build js && wasm

// Command wasmbench is the in-process alternative to the bridge, built to
// measure it: check-auth compiled to WebAssembly (GOOS=js GOARCH=wasm) and
// run inside the Node.js handler (index.mjs beside this file), with no
// process boundary and no frames, but Go's crypto without its assembly.
//
// It is a benchmark harness, not a shipped artifact: deploy's
// BenchmarkWasm builds it, lays it out as a package would be (index.mjs,
// edgeauth.wasm, Go's wasm_exec.js, config.json) and drives it with the
// same driver and the same events as the bridge's rows, so `make bench`
// prints both in one table:
//
//	go test -run '^$' -bench 'Wasm|Bridge|Direct' ./deploy
//
// index.mjs calls, once, globalThis.edgeauthWasm.init(configJSON), then
// handle(eventJSON, requestId, functionArn, remainingMs) per event: the
// event's JSON through aws-lambda-go's lambda.NewHandler(h.Handle).Invoke
// with the same context the bootstrap gives it (deadline, lambdacontext),
// the result's JSON back. goBench(name, n, token) runs a loop inside the
// module and returns its nanoseconds, for the rows that compare Go's code
// in WebAssembly with the same code native: "rsa-floor" (SHA-256 and
// rsa.VerifyPKCS1v15, as verifier's BenchmarkRSAFloor), "verify-first-seen"
// (verifier.Verify with the cache off, as BenchmarkVerifyFirstSeen) and
// "handle" (check-auth's Handle on a decoded event, as checkauth's
// benchmarks).
package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall/js"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// module is what init builds: the handler and, for goBench, the config.
type module struct {
	cfg     *config.Config
	handler *checkauth.Handler
	invoke  lambda.Handler
}

func main() {
	m := &module{}
	js.Global().Set("edgeauthWasm", js.ValueOf(map[string]any{
		"init":    js.FuncOf(m.init),
		"handle":  js.FuncOf(m.handle),
		"goBench": js.FuncOf(m.goBench),
	}))
	select {} // serve calls from JavaScript for the life of the instance
}

// init(configJSON) builds check-auth as lambdafn.Main does; it returns ""
// or the init error's text.
func (m *module) init(_ js.Value, args []js.Value) any {
	cfg, err := config.Parse([]byte(args[0].String()))
	if err != nil {
		return err.Error()
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: lambdafn.Level(cfg.LogLevel)})).With("function", "check-auth")
	h, err := checkauth.New(lambdafn.Deps{Config: cfg, Logger: log})
	if err != nil {
		return err.Error()
	}
	m.cfg, m.handler, m.invoke = cfg, h, lambda.NewHandler(h.Handle)
	return ""
}

// handle(eventJSON, requestId, functionArn, remainingMs) -> resultJSON, or
// {error} for a function error.
func (m *module) handle(_ js.Value, args []js.Value) any {
	if m.invoke == nil {
		return map[string]any{"error": "not initialised"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(args[3].Int())*time.Millisecond)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: args[1].String(), InvokedFunctionArn: args[2].String()})
	res, err := m.invoke.Invoke(ctx, []byte(args[0].String()))
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return string(res)
}

// goBench(name, n, arg) -> nanoseconds for n runs, or an error's text.
func (m *module) goBench(_ js.Value, args []js.Value) any {
	ns, err := m.bench(args[0].String(), args[1].Int(), args[2].String())
	if err != nil {
		return err.Error()
	}
	return float64(ns)
}

func (m *module) bench(name string, n int, arg string) (time.Duration, error) {
	if m.cfg == nil {
		return 0, errors.New("not initialised")
	}
	var run func() error
	switch name {
	case "rsa-floor": // arg: a token signed by a key of the config's JWKS
		f, err := rsaFloor(m.cfg.JWKS, arg)
		if err != nil {
			return 0, err
		}
		run = f
	case "verify-first-seen": // arg: an access token
		// As lambdafn.NewParts configures the verifier, the cache off.
		v, err := verifier.New(verifier.Config{Issuer: m.cfg.Issuer, ClientID: m.cfg.ClientID, Cognito: m.cfg.Cognito != nil,
			JWKS: m.cfg.JWKS, ClockSkew: m.cfg.ClockSkew.Std(), CacheSize: -1})
		if err != nil {
			return 0, err
		}
		use := verifier.TokenUse(m.cfg.BearerToken)
		run = func() error { _, err := v.Verify(context.Background(), arg, use); return err }
	case "handle": // arg: an event that passes
		ev, err := edge.DecodeEvent([]byte(arg))
		if err != nil {
			return 0, err
		}
		req, _, _ := ev.Request()
		orig := req.Headers
		run = func() error {
			// A pass edits the request in place: a fresh copy each time.
			hdr := make(edge.Headers, len(orig))
			for k, v := range orig {
				hdr[k] = v
			}
			req.Headers = hdr
			res, err := m.handler.Handle(context.Background(), ev)
			if err == nil && res.Request == nil {
				err = fmt.Errorf("handle: status %s, want a pass", res.Response.Status)
			}
			return err
		}
	default:
		return 0, fmt.Errorf("unknown bench %q", name)
	}
	if err := run(); err != nil { // checked once, outside the timing
		return 0, err
	}
	start := time.Now()
	for range n {
		if err := run(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// rsaFloor is verifier's BenchmarkRSAFloor: SHA-256 of the signing input
// and rsa.VerifyPKCS1v15 with the key the token's kid names.
func rsaFloor(jwks []byte, token string) (func() error, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS compact token")
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, err
	}
	var header struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(rawHeader, &header); err != nil {
		return nil, err
	}
	set, err := jwk.Parse(jwks)
	if err != nil {
		return nil, err
	}
	key, ok := set.LookupKeyID(header.Kid)
	if !ok {
		return nil, fmt.Errorf("no key %q in the JWKS", header.Kid)
	}
	var pub rsa.PublicKey
	if err := jwk.Export(key, &pub); err != nil {
		return nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	input := []byte(parts[0] + "." + parts[1])
	return func() error {
		sum := sha256.Sum256(input)
		return rsa.VerifyPKCS1v15(&pub, crypto.SHA256, sum[:], sig)
	}, nil
}
