package e2e

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/browser"
	"github.com/edgeauth/edgeauth/internal/demo"
	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/oidcprovider"
	"github.com/edgeauth/edgeauth/shared/idp"
)

// opaqueAPI is a second API at the provider whose access tokens are opaque:
// check-auth checks them by introspection.
const opaqueAPI = "https://opaque.example.test"

func opAlice() oidcprovider.User { return oidcprovider.DemoUsers()[0] }
func opBob() oidcprovider.User   { return oidcprovider.DemoUsers()[1] }

// startProvider runs panva's oidc-provider and the local edge for one test,
// stopped at its end: the second certified IdP, with what Dex cannot show
// (RFC 9068 JWT access tokens, introspection, revocation, end-session, an
// ES256 key, a nested role claim). idAlg and atAlg sign the ID and access
// tokens. Without Node.js or npm it skips, except under CI=true.
func startProvider(t *testing.T, invoke string, idTTL time.Duration, idAlg, atAlg string) *env {
	t.Helper()
	root, err := dex.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, _, err = oidcprovider.Node(ctx, "")
	if err == nil {
		_, err = oidcprovider.Install(ctx, "", oidcprovider.DefaultCacheDir(root))
	}
	if err != nil {
		if dex.InCI() {
			t.Fatalf("oidc-provider unavailable under CI: %v", err)
		}
		t.Skipf("oidc-provider unavailable: %v", err)
	}
	return launch(t, demo.Options{
		Root: root, Invoke: invoke, IDP: demo.OIDCProvider, IDTokenTTL: idTTL,
		Provider: oidcprovider.Options{
			IDTokenAlg: idAlg, AccessTokenAlg: atAlg,
			Resources: []oidcprovider.Resource{
				{URL: oidcprovider.DefaultResource, Scopes: []string{"api:read"}},
				{URL: opaqueAPI, Scopes: []string{"api:read"}, Opaque: true},
			},
		},
	})
}

func liveRefreshTokens(t *testing.T, e *env, u oidcprovider.User) int {
	t.Helper()
	n, err := e.OIDCProvider.LiveRefreshTokens(context.Background(), u.Subject, e.OIDCProvider.Confidential.ID)
	if err != nil {
		t.Fatalf("LiveRefreshTokens: %v", err)
	}
	return n
}

// TestFlowsOIDCProvider runs the browser flows against oidc-provider, with
// the functions in-process and as bootstrap binaries. In-process the ID
// tokens are RS256 and the access tokens ES256; over the Runtime API the
// other way round.
func TestFlowsOIDCProvider(t *testing.T) {
	algs := map[string][2]string{demo.InProcess: {oidcprovider.RS256, oidcprovider.ES256}, demo.RuntimeAPI: {oidcprovider.ES256, oidcprovider.RS256}}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			e := startProvider(t, mode, 0, algs[mode][0], algs[mode][1])
			// The Dex flows' checks, with groups from realm_access.roles.
			t.Run("deep link survives login, alice reads admin by her realm role", func(t *testing.T) { deepLink(t, e) })
			t.Run("bob gets 403 on admin, home works, no loop", func(t *testing.T) { forbidden(t, e) })
			t.Run("bearer: JWT and opaque access tokens pass, the ID token does not", func(t *testing.T) { opBearer(t, e) })
			t.Run("sign-out revokes at the IdP, ends its session and shows the signed-out page; a cancelled sign-in is a 403", func(t *testing.T) { opSignOut(t, e) })
		})
	}
}

// providerTokens signs u in at the provider without a browser, asking for
// an access token for resource ("" for a userinfo token), and exchanges
// the code as the edge's client.
func providerTokens(t *testing.T, e *env, u oidcprovider.User, resource string) *oauth2.Token {
	t.Helper()
	s := e.OIDCProvider
	conf := s.OAuth2Config(s.Confidential, e.URL+"/parseauth")
	verifier := idp.NewVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidcprovider.ConsentPrompt()}
	exchange := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if resource != "" {
		conf.Scopes = append(conf.Scopes, "api:read")
		opts = append(opts, oidcprovider.WithResource(resource))
		exchange = append(exchange, oidcprovider.WithResource(resource))
	}
	jar, _ := cookiejar.New(nil)
	back, err := s.Login(context.Background(), &http.Client{Jar: jar, Timeout: 10 * time.Second}, conf.AuthCodeURL("state-e2e", opts...), u)
	if err != nil {
		t.Fatalf("login at the provider: %v", err)
	}
	tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), exchange...)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func opBearer(t *testing.T, e *env) {
	call := func(path, token string) *http.Response {
		t.Helper()
		return apiGet(t, e.URL+path, "Bearer "+token)
	}
	aliceJWT := providerTokens(t, e, opAlice(), oidcprovider.DefaultResource)
	if !strings.Contains(aliceJWT.AccessToken, ".") {
		t.Fatal("the provider issued no JWT access token for the API")
	}
	aliceOpaque := providerTokens(t, e, opAlice(), opaqueAPI)
	bobJWT := providerTokens(t, e, opBob(), oidcprovider.DefaultResource)
	userinfoOnly := providerTokens(t, e, opAlice(), "")
	idToken, _ := aliceJWT.Extra("id_token").(string)
	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"alice's JWT access token (" + e.OIDCProvider.AccessTokenAlg + ") on admin", "/admin/", aliceJWT.AccessToken, 200},
		{"alice's opaque access token, introspected, on admin", "/admin/", aliceOpaque.AccessToken, 200},
		{"the same opaque token again (cached)", "/admin/", aliceOpaque.AccessToken, 200},
		{"bob's JWT access token on admin", "/admin/", bobJWT.AccessToken, 403},
		{"bob's JWT access token on docs", "/docs/", bobJWT.AccessToken, 200},
		{"alice's ID token", "/docs/", idToken, 401},
		{"a userinfo access token (no API audience)", "/docs/", userinfoOnly.AccessToken, 401},
		{"alice's refresh token", "/docs/", aliceOpaque.RefreshToken, 401},
	} {
		if r := call(tt.path, tt.token); r.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d (WWW-Authenticate %q)", tt.name, r.StatusCode, tt.want, r.Header.Get("WWW-Authenticate"))
		} else if tt.want == 401 && !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q, want invalid_token", tt.name, r.Header.Get("WWW-Authenticate"))
		}
	}
	if e.invoke == demo.InProcess {
		logs := e.logs.String()
		for _, want := range []string{`"reason":"invalid token: id token, not an access token"`, `"reason":"bearer (introspected): group admins"`, `"reason":"invalid token: wrong audience"`} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %s", want)
			}
		}
	}
	for _, tok := range []string{aliceJWT.AccessToken, aliceOpaque.AccessToken, idToken} {
		if strings.Contains(e.logs.String(), tok[:24]) {
			t.Error("a token reached the logs")
		}
	}
}

func opSignOut(t *testing.T, e *env) {
	ctx := browser.New(t)
	u := opAlice()
	before := liveRefreshTokens(t, e, u)
	login(t, ctx, e, "/docs/", alice())
	if n := liveRefreshTokens(t, e, u); n != before+1 {
		t.Fatalf("live refresh tokens of alice after login: %d, want %d (prompt=consent gives one)", n, before+1)
	}
	run(t, ctx, "sign out", chromedp.Navigate(e.URL+"/signout"))
	// Sign-out sends the browser through the provider's end-session
	// endpoint (its logout page posts itself) back to post_logout_redirect_uri,
	// the sign-out path, where a browser without credentials gets the
	// signed-out page: no session needed, no loop.
	waitOnEdge(t, ctx, e)
	if loc, h := location(t, ctx), heading(t, ctx); loc != e.URL+"/signout" || h != "You are signed out" {
		t.Fatalf("after the provider's logout: %s, heading %q; want the signed-out page at /signout", loc, h)
	}
	logs := e.logs.String()
	signout := strings.Index(logs, `"path":"/signout"`)
	if n := strings.Count(logs[max(signout, 0):], `"function":"sign-out"`); signout < 0 || n < 2 || n > 3 {
		t.Errorf("sign-out ran %d times, want 2 (sign out, then the page after the end-session)", n)
	}
	for k := range cookies(t, ctx, e.URL) {
		if strings.HasPrefix(k, "edgeauth-session") || strings.HasPrefix(k, "edgeauth-refresh") {
			t.Errorf("cookie %s survived sign-out", k)
		}
	}
	if n := liveRefreshTokens(t, e, u); n != before {
		t.Errorf("live refresh tokens of alice after sign-out: %d, want %d (revoked at the provider)", n, before)
	}

	// The provider's session is gone: its sign-in form again. Cancel it:
	// the provider redirects with error=access_denied and its own
	// error_description, and the page is the suite's 403, naming the code
	// and nothing of the description.
	run(t, ctx, "open a protected page again", chromedp.Navigate(e.URL+"/docs/"))
	run(t, ctx, "cancel the sign-in", oidcprovider.BrowserCancel())
	waitOnEdge(t, ctx, e)
	back, err := url.Parse(location(t, ctx))
	if err != nil || back.Path != "/parseauth" || back.Query().Get("error") != "access_denied" {
		t.Fatalf("after cancel at %v, want /parseauth?error=access_denied", back)
	}
	var text string
	run(t, ctx, "read the error page", chromedp.Text("main", &text, chromedp.ByQuery))
	if h := heading(t, ctx); h != "Sign-in was declined" || !strings.Contains(text, "Error code: access_denied") {
		t.Errorf("error page: heading %q, text %q", h, text)
	}
	if desc := back.Query().Get("error_description"); desc == "" || strings.Contains(text, desc) {
		t.Errorf("the provider's error_description %q: want it sent and not shown (page %q)", desc, text)
	}
	if !strings.Contains(e.logs.String(), `"path":"/parseauth","behavior":"/parseauth*","function":"parse-callback","decision":"generated","status":403`) {
		t.Error("the cancelled sign-in was not answered 403")
	}
}

// TestSessionRefreshOIDCProvider: with a short ID token lifetime the session
// expires and renews silently through /refreshauth, twice; each refresh
// rotates the refresh token (oidc-provider revokes the whole grant when a
// rotated-away token comes back, so the second renewal proves the first
// rotated token was kept), and the provider holds one live token throughout.
func TestSessionRefreshOIDCProvider(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			const ttl = 5 * time.Second
			e := startProvider(t, mode, ttl, oidcprovider.RS256, oidcprovider.ES256)
			ctx := browser.New(t)
			u := opAlice()
			login(t, ctx, e, "/docs/", alice())
			last := time.Now()
			// The viewer-request function made /admin/ ask for
			// /admin/index.html before check-auth saw it (as on AWS), so
			// that is where the renewal returns.
			back := map[string]string{"/docs/guide.html?x=1": "/docs/guide.html?x=1", "/admin/?y=%2Fz": "/admin/index.html?y=%2Fz"}
			for i, page := range []string{"/docs/guide.html?x=1", "/admin/?y=%2Fz"} {
				// The real clock has to pass the token's expiry; nothing to poll.
				time.Sleep(time.Until(last.Add(ttl + time.Second)))
				run(t, ctx, "open after expiry", chromedp.Navigate(e.URL+page))
				waitOnEdge(t, ctx, e)
				last = time.Now()
				if got := location(t, ctx); got != e.URL+back[page] {
					t.Fatalf("refresh %d: at %s, want %s", i+1, got, e.URL+back[page])
				}
				if n := strings.Count(e.logs.String(), `"path":"/refreshauth","behavior":"/refreshauth*","function":"parse-callback","decision":"generated","status":302`); n != i+1 {
					t.Errorf("refresh %d: %d silent refreshes through /refreshauth in the logs, want %d", i+1, n, i+1)
				}
				if n := liveRefreshTokens(t, e, u); n != 1 {
					t.Errorf("refresh %d: %d live refresh tokens at the provider, want 1 (the rotated one)", i+1, n)
				}
			}
			if h := heading(t, ctx); !strings.Contains(h, "Admin") {
				t.Errorf("after two refreshes the admin page heading = %q", h)
			}
			if e.invoke == demo.InProcess && strings.Count(e.logs.String(), `"decision":"refreshed","reason":"rotated=true"`) != 2 {
				t.Errorf("want two refreshed decisions with rotated=true in the logs")
			}
		})
	}
}
