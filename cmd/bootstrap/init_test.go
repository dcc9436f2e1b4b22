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
	keys := make([]session.KeyPair, len(cfg.Keys))
	for i, k := range cfg.Keys {
		keys[i] = session.KeyPair{Hash: k.Hash, Block: k.Block}
	}
	rules := make([]authz.Rule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		rules[i] = authz.Rule{Path: r.Path, Public: r.Public, Groups: r.Groups, Scopes: r.Scopes}
	}
	// The parts one by one, configured as lambdafn.NewParts configures them
	// from the file; then NewParts itself, which is all of them.
	steps := []struct {
		name string
		run  func() error
	}{
		{"config.Load", func() error { _, err := config.Load(path); return err }},
		{"verifier.New", func() error {
			_, err := verifier.New(verifier.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Cognito: cfg.Cognito != nil,
				JWKS: cfg.JWKS, ClockSkew: cfg.ClockSkew.Std(), Now: time.Now})
			return err
		}},
		{"session.New", func() error {
			_, err := session.New(session.Config{Prefix: cfg.Cookies.Prefix, Domain: cfg.Cookies.Domain, SameSite: cfg.Cookies.SameSite,
				Secure: cfg.Secure(), Keys: keys, RefreshPath: cfg.Paths.RefreshAuth, SignOutPath: cfg.Paths.SignOut,
				ParseAuthPath: cfg.Paths.ParseAuth, RefreshLifetime: cfg.RefreshLifetime.Std(), Now: time.Now})
			return err
		}},
		{"idp.New", func() error {
			_, err := idp.New(idp.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
				Endpoints: idp.Endpoints{Authorize: cfg.Endpoints.Authorize, Token: cfg.Endpoints.Token, Revoke: cfg.Endpoints.Revoke,
					Logout: cfg.Endpoints.Logout, CognitoLogout: cfg.Endpoints.CognitoLogout},
				Scopes: cfg.Scopes, ExtraParams: cfg.AuthorizeParams, HTTPClient: http.DefaultClient, Now: time.Now})
			return err
		}},
		{"page.New", func() error {
			_, err := page.New(cfg.Secure(), page.Branding{SiteName: cfg.Pages.SiteName, AccentColor: cfg.Pages.AccentColor, SupportURL: cfg.Pages.SupportURL})
			return err
		}},
		{"authz.New", func() error { _, err := authz.New(rules); return err }},
		{"lambdafn.NewParts", func() error { _, err := lambdafn.NewParts(deps); return err }},
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
