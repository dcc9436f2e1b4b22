package dex

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/idpproc"
	"github.com/edgeauth/edgeauth/shared/config"
)

// callback is the client's redirect URI: it records what Dex sends there.
type callback struct {
	srv *httptest.Server

	mu          sync.Mutex
	code, state string
}

func newCallback(t *testing.T) *callback {
	t.Helper()
	cb := &callback{}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/parseauth" {
			http.NotFound(w, r)
			return
		}
		cb.mu.Lock()
		cb.code, cb.state = r.URL.Query().Get("code"), r.URL.Query().Get("state")
		cb.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

func (cb *callback) got() (code, state string) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.code, cb.state
}

func newJarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// TestDexLogin runs the whole authorization-code flow against a real Dex:
// the HTML password form, the code at the redirect URI, the PKCE exchange,
// the ID token verified against Dex's JWKS, and a refresh.
func TestDexLogin(t *testing.T) {
	cb := newCallback(t)
	redirect := cb.srv.URL + "/parseauth"
	s := StartForTest(t, Options{RedirectURIs: []string{redirect}, IDTokenTTL: time.Minute})
	ctx := t.Context()

	rawJWKS, err := s.JWKS(ctx)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	keys, err := jwk.Parse(rawJWKS)
	if err != nil {
		t.Fatalf("jwk.Parse: %v", err)
	}
	conf := s.OAuth2Config(redirect)
	tokenCtx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})

	for _, u := range DemoUsers() {
		t.Run(u.Email, func(t *testing.T) {
			client := newJarClient(t)
			verifier := oauth2.GenerateVerifier()
			state, nonce := idpproc.RandomString(16), idpproc.RandomString(16)
			authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))

			loc, err := s.Login(ctx, client, authURL, u)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
				t.Fatalf("Login left Dex for %q, want %q", got, redirect)
			}
			resp, err := client.Get(loc.String())
			if err != nil {
				t.Fatalf("GET redirect URI: %v", err)
			}
			resp.Body.Close()
			code, gotState := cb.got()
			if code == "" || gotState != state {
				t.Fatalf("redirect URI got code %t, state %q; want a code and state %q", code != "", gotState, state)
			}

			tok, err := conf.Exchange(tokenCtx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.RefreshToken == "" {
				t.Error("no refresh token; offline_access should give one")
			}
			rawID, _ := tok.Extra("id_token").(string)
			if rawID == "" {
				t.Fatal("no id_token in the token response")
			}
			idt, err := jwt.Parse([]byte(rawID), jwt.WithKeySet(keys), jwt.WithIssuer(s.Issuer), jwt.WithAudience(s.ClientID))
			if err != nil {
				t.Fatalf("verify id token: %v", err)
			}
			var groups []any
			var email, gotNonce string
			for name, dst := range map[string]any{"groups": &groups, "email": &email, "nonce": &gotNonce} {
				if err := idt.Get(name, dst); err != nil {
					t.Fatalf("id token claim %s: %v", name, err)
				}
			}
			sub, _ := idt.Subject()
			if !slices.Equal(asStrings(groups), u.Groups) {
				t.Errorf("groups = %v, want %v", groups, u.Groups)
			}
			if email != u.Email {
				t.Errorf("email = %q, want %q", email, u.Email)
			}
			if gotNonce != nonce {
				t.Errorf("nonce = %q, want the one sent", gotNonce)
			}
			// Dex's sub is the encoded (user id, connector) pair, which the
			// demo site's per-user pages are named after.
			if sub != u.Subject() {
				t.Errorf("sub = %q, want Subject(%q, %q) = %q", sub, u.UserID, LocalConnector, u.Subject())
			}
			if exp, _ := idt.Expiration(); exp.Sub(time.Now()) > time.Minute+5*time.Second {
				t.Errorf("id token lives until %v, want about IDTokenTTL (1m)", exp)
			}

			refreshed, err := conf.TokenSource(tokenCtx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if refreshed.AccessToken == "" || refreshed.Extra("id_token") == nil {
				t.Error("refresh gave no access or id token")
			}
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		u := DemoUsers()[1]
		u.Password = "not-" + u.Password
		authURL := conf.AuthCodeURL("state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		_, err := s.Login(ctx, newJarClient(t), authURL, u)
		if !errors.Is(err, ErrLoginRejected) {
			t.Fatalf("Login with a wrong password: err = %v, want ErrLoginRejected", err)
		}
	})
}

func TestDexDiscoveryAndSuiteConfig(t *testing.T) {
	s := StartForTest(t, Options{RedirectURIs: []string{"http://localhost:8080/parseauth"}})
	d, err := s.Discovery(t.Context())
	if err != nil {
		t.Fatalf("Discovery: %v", err)
	}
	if d.RevocationEndpoint != "" || d.EndSessionEndpoint != "" {
		t.Errorf("Dex now publishes revocation %q / end session %q: update SuiteConfig and the docs", d.RevocationEndpoint, d.EndSessionEndpoint)
	}
	if !slices.Contains(d.CodeChallengeMethodsSupported, "S256") {
		t.Errorf("code_challenge_methods_supported = %v, want S256", d.CodeChallengeMethodsSupported)
	}
	for _, sc := range Scopes() {
		if !slices.Contains(d.ScopesSupported, sc) {
			t.Errorf("scopes_supported = %v, missing %q", d.ScopesSupported, sc)
		}
	}

	key := NewKeyPair()
	b, err := s.SuiteConfig("http://localhost:8080", key)
	if err != nil {
		t.Fatalf("SuiteConfig: %v", err)
	}
	c, err := config.Parse(b)
	if err != nil {
		t.Fatalf("config.Parse(SuiteConfig): %v", err)
	}
	if c.Issuer != s.Issuer || c.Endpoints.Token != d.TokenEndpoint || c.Endpoints.Authorize != d.AuthorizationEndpoint {
		t.Errorf("issuer/endpoints = %q %+v, want Dex's", c.Issuer, c.Endpoints)
	}
	// The revocation endpoint is the harness's, on loopback; Dex has none.
	if c.Endpoints.Revoke == "" || c.Endpoints.Revoke != s.RevocationEndpoint() {
		t.Errorf("revoke = %q, want the harness's endpoint %q", c.Endpoints.Revoke, s.RevocationEndpoint())
	}
	if u, err := url.Parse(c.Endpoints.Revoke); err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Errorf("revoke = %q, want http on 127.0.0.1", c.Endpoints.Revoke)
	}
	if c.Endpoints.Logout != "" {
		t.Errorf("logout = %q, want none for Dex", c.Endpoints.Logout)
	}
	// Dex's access tokens are ID tokens: Bearer needs the explicit opt-in
	// (issue 8 removed bearerToken "any").
	if c.Scheme != "http" || !slices.Equal(c.Hosts, []string{"localhost:8080"}) || c.BearerToken != config.BearerInsecureIDToken {
		t.Errorf("scheme %q hosts %v bearerToken %q, want http [localhost:8080] insecureIdToken", c.Scheme, c.Hosts, c.BearerToken)
	}
	if c.ClientID != s.ClientID || c.ClientSecret != s.ClientSecret {
		t.Error("client id or secret differ from Dex's client")
	}
	if len(c.Keys) != 1 || string(c.Keys[0].Hash) != string(key.Hash) {
		t.Error("the given key pair is not the config's key")
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(c.JWKS, &set); err != nil || len(set.Keys) == 0 {
		t.Errorf("jwks: %v, %d keys", err, len(set.Keys))
	}

	// Without keys a fresh pair is generated each time.
	b1, err1 := s.SuiteConfig("http://localhost:8080")
	b2, err2 := s.SuiteConfig("http://localhost:8080")
	if err1 != nil || err2 != nil {
		t.Fatalf("SuiteConfig without keys: %v, %v", err1, err2)
	}
	c1, _ := config.Parse(b1)
	c2, _ := config.Parse(b2)
	if string(c1.Keys[0].Hash) == string(c2.Keys[0].Hash) {
		t.Error("two configs without keys share a key")
	}

	for _, bad := range []string{"", "localhost:8080", "ftp://localhost", "http://localhost:8080/app", "http://"} {
		if _, err := s.SuiteConfig(bad); err == nil {
			t.Errorf("SuiteConfig(%q) = nil error, want one", bad)
		}
	}
}

func TestDexCloseStopsEverything(t *testing.T) {
	s := StartForTest(t, Options{RedirectURIs: []string{"http://localhost:8080/parseauth"}})
	dir := s.dir
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Fatal("Dex still running after Close")
	}
	if _, err := s.Discovery(t.Context()); err == nil {
		t.Error("Discovery after Close succeeded")
	}
	if resp, err := http.PostForm(s.RevocationEndpoint(), url.Values{"token": {"x"}}); err == nil {
		resp.Body.Close()
		t.Error("the revocation endpoint still answers after Close")
	}
	if _, err := s.RefreshTokens(t.Context(), DemoUsers()[0].Subject()); err == nil {
		t.Error("the gRPC connection still works after Close")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("config dir %s left behind: %v", dir, err)
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	ok := []string{"http://localhost:8080/parseauth"}
	tests := map[string]Options{
		"no redirect URI":      {},
		"relative redirect":    {RedirectURIs: []string{"/parseauth"}},
		"non-loopback address": {Addr: "0.0.0.0:0", RedirectURIs: ok},
		"host name address":    {Addr: "localhost:5556", RedirectURIs: ok},
		"bad port":             {Addr: "127.0.0.1:99999", RedirectURIs: ok},
		"user without id":      {RedirectURIs: ok, Users: []User{{Email: "a@example.com", Password: "p"}}},
		"duplicate email": {RedirectURIs: ok, Users: []User{
			{Email: "a@example.com", Password: "p", UserID: "1"},
			{Email: "A@example.com", Password: "p", UserID: "2"},
		}},
		"tiny token ttl": {RedirectURIs: ok, IDTokenTTL: time.Millisecond},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			// A binary that does not exist: validation must fail first.
			o.Binary = filepath.Join(t.TempDir(), "no-dex")
			if s, err := Start(t.Context(), o); err == nil {
				s.Close()
				t.Fatal("Start = nil error, want a validation error")
			}
		})
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	// /bin/false exits at once: Start must say so, not wait for discovery.
	if _, err := os.Stat("/bin/false"); err != nil {
		t.Skip("no /bin/false")
	}
	_, err := Start(t.Context(), Options{Binary: "/bin/false", RedirectURIs: []string{"http://localhost:8080/parseauth"}})
	if !errors.Is(err, ErrExited) {
		t.Fatalf("Start(/bin/false) err = %v, want ErrExited", err)
	}
}

func asStrings(vs []any) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}
