package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeauth/edgeauth/internal/browser"
	"github.com/edgeauth/edgeauth/internal/demo"
	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/oidcprovider"
	"github.com/edgeauth/edgeauth/shared/config"
)

// TestEndSessionComesBackToTheSignedOutPage runs the suite against panva's
// oidc-provider, which has what Dex lacks: an end_session_endpoint. In
// Chromium: sign in, sign out, and the provider's logout sends the browser
// back to post_logout_redirect_uri, the sign-out path, where a browser
// without credentials gets the signed-out page: no session needed, no
// loop, the refresh token revoked. Then a cancelled sign-in: the provider
// redirects with error=access_denied and its own error_description, and the
// page is the suite's 403, naming the code and nothing of the description.
func TestEndSessionComesBackToTheSignedOutPage(t *testing.T) {
	var op *oidcprovider.Server
	logs := &syncBuffer{}
	root, err := dex.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := demo.Start(ctx, demo.Options{
		Root: root, Listen: "localhost:0", Invoke: demo.InProcess,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		SuiteConfigFor: func(ctx context.Context, edgeURL string) ([]byte, error) {
			op = oidcprovider.StartForTest(t, oidcprovider.Options{
				RedirectURIs:           []string{edgeURL + "/parseauth"},
				PostLogoutRedirectURIs: []string{edgeURL + "/signout"},
			})
			return providerSuiteConfig(ctx, op, edgeURL)
		},
	})
	if err != nil {
		t.Fatalf("start demo: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("stop demo: %v", err)
		}
		if t.Failed() {
			t.Logf("edge logs:\n%s", logs.String())
		}
	})
	alice := op.Users[0]

	b := browser.New(t)
	run(t, b, "open a protected page", chromedp.Navigate(e.URL+"/docs/"))
	if loc := location(t, b); !strings.HasPrefix(loc, op.Issuer) {
		t.Fatalf("opening /docs/ landed on %s, want the provider's sign-in", loc)
	}
	run(t, b, "sign in as alice", oidcprovider.BrowserLogin(alice))
	env := &env{Env: e, logs: logs}
	waitOnEdge(t, b, env)
	if loc := location(t, b); loc != e.URL+"/docs/" {
		t.Fatalf("after sign-in at %s", loc)
	}
	if n, err := op.LiveRefreshTokens(ctx, alice.Subject, op.Confidential.ID); err != nil || n != 1 {
		t.Fatalf("alice's live refresh tokens before sign-out: %d, %v; want 1", n, err)
	}

	run(t, b, "sign out", chromedp.Navigate(e.URL+"/signout"))
	waitOnEdge(t, b, env)
	if loc, h := location(t, b), heading(t, b); loc != e.URL+"/signout" || h != "You are signed out" {
		t.Fatalf("after the provider's logout: %s, heading %q; want the signed-out page at /signout", loc, h)
	}
	for k := range cookies(t, b, e.URL) {
		if strings.HasPrefix(k, "edgeauth-session") || strings.HasPrefix(k, "edgeauth-refresh") {
			t.Errorf("cookie %s survived sign-out", k)
		}
	}
	if n, err := op.LiveRefreshTokens(ctx, alice.Subject, op.Confidential.ID); err != nil || n != 0 {
		t.Errorf("alice's live refresh tokens after sign-out: %d, %v; want 0 (revoked)", n, err)
	}
	// Through the provider and back once: two sign-out invocations, the
	// second the page; nothing loops.
	if n := strings.Count(logs.String(), `"function":"sign-out"`); n < 2 || n > 3 {
		t.Errorf("sign-out ran %d times, want 2 (sign out, then the page)", n)
	}

	// The provider's session is gone: its sign-in form again. Cancel it.
	run(t, b, "open a protected page again", chromedp.Navigate(e.URL+"/docs/"))
	run(t, b, "cancel the sign-in", oidcprovider.BrowserCancel())
	waitOnEdge(t, b, env)
	loc := location(t, b)
	u, _ := url.Parse(loc)
	if u.Path != "/parseauth" || u.Query().Get("error") != "access_denied" {
		t.Fatalf("after cancel at %s, want /parseauth?error=access_denied", loc)
	}
	var text string
	run(t, b, "read the error page", chromedp.Text("main", &text, chromedp.ByQuery))
	if h := heading(t, b); h != "Sign-in was declined" || !strings.Contains(text, "Error code: access_denied") {
		t.Errorf("error page: heading %q, text %q", h, text)
	}
	if desc := u.Query().Get("error_description"); desc == "" || strings.Contains(text, desc) {
		t.Errorf("the provider's error_description %q: want it sent and not shown (page %q)", desc, text)
	}
	if !strings.Contains(logs.String(), `"path":"/parseauth","behavior":"/parseauth*","function":"parse-callback","decision":"generated","status":403`) {
		t.Error("the cancelled sign-in was not answered 403")
	}
}

// providerSuiteConfig is the suite config for oidc-provider and the edge at
// edgeURL: its issuer and endpoints (revocation and end-session included),
// the confidential client, prompt=consent (without which it issues no
// refresh token), the demo's rules and a fresh key pair.
func providerSuiteConfig(ctx context.Context, s *oidcprovider.Server, edgeURL string) ([]byte, error) {
	u, err := url.Parse(edgeURL)
	if err != nil {
		return nil, err
	}
	jwks, err := s.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	m := s.Metadata()
	c := config.Config{
		OIDC: &config.OIDC{
			IssuerURL: m.Issuer, AuthorizationEndpoint: m.AuthorizationEndpoint, TokenEndpoint: m.TokenEndpoint,
			RevocationEndpoint: m.RevocationEndpoint, EndSessionEndpoint: m.EndSessionEndpoint, JWKSURI: m.JWKSURI,
		},
		ClientID: s.Confidential.ID, ClientSecret: s.Confidential.Secret,
		Scopes:          oidcprovider.Scopes(),
		AuthorizeParams: map[string]string{"prompt": "consent"},
		Hosts:           []string{u.Host},
		Scheme:          u.Scheme,
		Keys:            []config.KeyPair{dex.NewKeyPair()},
		JWKS:            json.RawMessage(jwks),
		Rules:           dex.DemoRules(),
		BearerToken:     "any",
	}
	return json.Marshal(c)
}
