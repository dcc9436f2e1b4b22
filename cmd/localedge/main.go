// Command localedge plays Amazon CloudFront on a laptop: it serves the demo
// site (or any origin) through the suite's three Lambda@Edge functions,
// shaping each HTTP request into the event CloudFront would send and
// enforcing CloudFront's rules on what the functions return.
//
// With no -config it is the demo: it starts Dex (or, with -idp
// oidc-provider, panva's oidc-provider) on 127.0.0.1 with the demo users and
// generates the suite config for it. With -config it runs the same edge
// against the IdP that config names (a real Cognito user pool, say).
//
//	localedge                       # the demo on http://localhost:8080
//	localedge -idp oidc-provider    # the demo against oidc-provider (Node.js 18+ and npm)
//	localedge -config my.json       # your own IdP
//	localedge -invoke runtime-api   # the built bootstrap (bin/bootstrap, one process per function) over a loopback Runtime API
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/internal/demo"
	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/oidcprovider"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localedge:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		edgeConfig = flag.String("edge", "", "local edge config: a file, or a name (aws, viewer) for testdata/demo/localedge-<name>.json (default testdata/demo/localedge.json)")
		suite      = flag.String("config", "", "suite config.json; empty runs the demo IdP")
		idp        = flag.String("idp", demo.Dex, "the demo IdP without -config: dex or oidc-provider")
		listen     = flag.String("listen", "", "address to serve on (default from the edge config, localhost:8080)")
		invoke     = flag.String("invoke", demo.InProcess, "how functions run: in-process or runtime-api")
		logLevel   = flag.String("log-level", "info", "debug, info, warn or error")
		idTTL      = flag.Duration("id-token-ttl", 0, "the demo IdP's ID token lifetime (default Dex's 24h, oidc-provider's 1h)")
	)
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lambdafn.Level(*logLevel)}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := demo.Start(ctx, demo.Options{
		EdgeConfig: *edgeConfig, SuiteConfig: *suite, IDP: *idp, Listen: *listen, Invoke: *invoke,
		IDTokenTTL: *idTTL, Logger: log,
	})
	if err != nil {
		return err
	}
	fmt.Printf("\nedgeauth local edge: %s/  (functions %s)\n", env.URL, *invoke)
	switch {
	case env.Dex != nil:
		fmt.Printf("demo IdP (Dex):      %s\n\ndemo users:\n", env.Dex.Issuer)
		for _, u := range dex.DemoUsers() {
			fmt.Printf("  %-18s password %-22s groups %v\n", u.Email, u.Password, u.Groups)
		}
	case env.OIDCProvider != nil:
		s := env.OIDCProvider
		fmt.Printf("demo IdP (oidc-provider %s): %s\n", oidcprovider.Version, s.Issuer)
		fmt.Printf("API (RFC 8707 resource, JWT access tokens): %s\n\ndemo users (groups as realm_access.roles):\n", s.Resources[0].URL)
		for _, u := range s.Users {
			fmt.Printf("  %-18s password %-22s groups %v\n", u.Email, u.Password, u.Groups)
		}
	}
	for _, w := range env.Warnings {
		fmt.Printf("\nWARNING (%s): %s\n", env.ConfigPath, w)
	}
	fmt.Printf("\nPress Ctrl-C to stop.\n\n")
	select {
	case <-ctx.Done():
	case err := <-env.Done():
		if err != nil {
			log.Error("edge stopped", "err", err)
		}
	}
	stopped := make(chan error, 1)
	go func() { stopped <- env.Close() }()
	select {
	case err := <-stopped:
		if err != nil {
			return fmt.Errorf("stop: %w", err)
		}
	case <-time.After(15 * time.Second):
		return errors.New("stop: timed out")
	}
	fmt.Println("stopped.")
	return nil
}
