package main

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/functions/parse-callback/parsecallback"
	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/page"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// BenchmarkInit is what the bootstrap does at cold start after the Go
// runtime's own start, step by step, on the test config (two RSA keys in
// its JWKS, four path rules, the page templates): the candidates for
// moving to packaging time. The process as a whole, exec to first answer,
// is deploy's BenchmarkColdStart/bootstrap.
func BenchmarkInit(b *testing.B) {
	path := filepath.Join(testtoken.ModuleRoot(b), "testdata", "config", "cognito.json")
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	deps := lambdafn.Deps{Config: cfg, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}.WithDefaults()
	steps := []struct {
		name string
		run  func() error
	}{
		{"config.Load", func() error { _, err := config.Load(path); return err }},
		{"verifier.FromConfig", func() error { _, err := verifier.FromConfig(cfg, time.Now); return err }},
		{"session.FromConfig", func() error { _, err := session.FromConfig(cfg, time.Now); return err }},
		{"idp.FromConfig", func() error { _, err := idp.FromConfig(cfg, http.DefaultClient); return err }},
		{"page.New", func() error { _, err := page.New(cfg.Secure(), cfg.Pages); return err }},
		{"authz.New", func() error { _, err := authz.New(cfg.Rules); return err }},
		{"check-auth", func() error { _, err := checkauth.New(deps); return err }},
		{"parse-callback", func() error { _, err := parsecallback.New(deps); return err }},
		{"sign-out", func() error { _, err := signout.New(deps); return err }},
		{"config.Load+check-auth", func() error {
			c, err := config.Load(path)
			if err == nil {
				_, err = checkauth.New(lambdafn.Deps{Config: c, Logger: deps.Logger})
			}
			return err
		}},
	}
	for _, s := range steps {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

