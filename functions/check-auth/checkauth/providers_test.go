package checkauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

const (
	oidcIssuer = "https://login.example.org" // testdata/config/oidc.json
	oidcClient = "edgeauth-site"
	api        = "https://api.example.org"
)

type oidcFixture struct {
	h    *checkauth.Handler
	logs *bytes.Buffer
	mint *testtoken.Minter
}

// newOIDC builds check-auth from testdata/config/oidc.json, edited.
func newOIDC(t testing.TB, edit func(m map[string]any)) *oidcFixture {
	t.Helper()
	cfg := suitetest.Config(t, "oidc.json", func(m map[string]any) {
		m["hosts"] = []any{"www.example.com"}
		m["rules"] = []any{map[string]any{"path": "/admin/*", "groups": []any{"admins"}}}
		if edit != nil {
			edit(m)
		}
	})
	f := &oidcFixture{logs: &bytes.Buffer{}, mint: testtoken.Keys(t)}
	var err error
	if f.h, err = checkauth.New(lambdafn.Deps{Config: cfg, Now: suitetest.Clock, Logger: slog.New(slog.NewJSONHandler(f.logs, nil))}); err != nil {
		t.Fatal(err)
	}
	return f
}

// bearer calls path with the token and returns the answer's status ("" when
// passed on) and the last log line's reason.
func (f *oidcFixture) bearer(t testing.TB, ctx context.Context, path, token string) (status, reason string, res edge.Result) {
	t.Helper()
	f.logs.Reset()
	res, err := f.h.Handle(ctx, suitetest.Request(t, path, "Authorization", "Bearer "+token, "Accept", "application/json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	lines := suitetest.LogLines(t, f.logs)
	if len(lines) > 0 {
		reason, _ = lines[len(lines)-1]["reason"].(string)
	}
	if res.Response != nil {
		status = res.Response.Status
	}
	return status, reason, res
}

func claims(aud any, kv ...any) map[string]any {
	c := map[string]any{"iss": oidcIssuer, "sub": "u-1", "iat": suitetest.Now.Add(-time.Minute).Unix(), "exp": suitetest.Now.Add(time.Hour).Unix()}
	if aud != nil {
		c["aud"] = aud
	}
	for i := 0; i < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func (f *oidcFixture) typed(t testing.TB, c map[string]any) string {
	return f.mint.SignHeader(t, map[string]any{"alg": "RS256", "kid": testtoken.KeyID1, "typ": "at+jwt"}, c)
}

// TestIDTokenNeverOpensTheAPI (issue 8, point 1): a generic provider's ID
// token sent as Bearer is refused with 401 invalid_token, and the log says
// an ID token was refused. It used to pass: an unmarked token was either kind.
func TestIDTokenNeverOpensTheAPI(t *testing.T) {
	f := newOIDC(t, nil)
	idToken := f.mint.Sign(t, testtoken.OIDCID(oidcIssuer, oidcClient, "u-1", "n-1", []string{"admins"}, suitetest.Now.Add(time.Hour)))
	status, reason, res := f.bearer(t, context.Background(), "/docs/", idToken)
	if status != "401" || !strings.Contains(res.Response.Headers.Get("www-authenticate"), `error="invalid_token"`) {
		t.Fatalf("ID token as Bearer: %q, want 401 invalid_token", status)
	}
	if reason != "invalid token: id token, not an access token" {
		t.Errorf("log reason = %q, want the ID token named", reason)
	}
	// Untyped tokens allowed: an ID token is still refused.
	u := newOIDC(t, func(m map[string]any) { m["untypedAccessTokens"] = true; m["audiences"] = []any{api} })
	for name, tok := range map[string]string{
		"with nonce":             idToken,
		"refreshed, no nonce":    f.mint.Sign(t, claims(oidcClient)),
		"typ JWT, at_hash":       f.mint.SignHeader(t, map[string]any{"alg": "RS256", "kid": testtoken.KeyID1, "typ": "JWT"}, claims(oidcClient, "at_hash", "x")),
		"naming the API, nonce":  f.mint.Sign(t, claims([]any{oidcClient, api}, "nonce", "n-1")),
		"token_use id (generic)": f.mint.Sign(t, claims(api, "token_use", "id")),
	} {
		if status, reason, _ := u.bearer(t, context.Background(), "/docs/", tok); status != "401" || reason != "invalid token: id token, not an access token" {
			t.Errorf("untyped allowed, ID token %s: %q (%s), want 401 naming the ID token", name, status, reason)
		}
	}
	if status, reason, _ := u.bearer(t, context.Background(), "/docs/", f.mint.Sign(t, claims(api, "scp", []any{"read"}))); status != "" {
		t.Errorf("untyped access token for the API: %q (%s), want it passed on", status, reason)
	}
}

// TestAPIAudience (point 2): an RFC 9068 access token passes when its aud
// is the configured resource (the default audience), not otherwise.
func TestAPIAudience(t *testing.T) {
	f := newOIDC(t, func(m map[string]any) { m["resource"] = api })
	for _, tt := range []struct {
		name, tok, want, reason string
	}{
		{"aud the resource", f.typed(t, claims(api)), "", "bearer: signed in"},
		{"aud another API", f.typed(t, claims("https://other.example")), "401", "invalid token: wrong audience"},
		{"aud the client id", f.typed(t, claims(oidcClient)), "401", "invalid token: wrong audience"},
		{"untyped for the resource", f.mint.Sign(t, claims(api)), "401", "invalid token: untyped token, not an access token"},
	} {
		if status, reason, _ := f.bearer(t, context.Background(), "/docs/", tt.tok); status != tt.want || reason != tt.reason {
			t.Errorf("%s: %q (%s), want %q (%s)", tt.name, status, reason, tt.want, tt.reason)
		}
	}
}

// TestBearerAlgorithmsAndClaims (points 4, 5, 6): an ES256 token verifies
// with a published EC key once ES256 is allowed; groups come from a nested
// claim.
func TestBearerAlgorithmsAndClaims(t *testing.T) {
	ec := testtoken.NewKey(t, "ec-1", "ES256")
	f := newOIDC(t, func(m map[string]any) {
		m["resource"] = api
		m["algorithms"] = []any{"RS256", "ES256"}
		m["groupsClaim"] = "realm_access.roles"
		keys := m["jwks"].(map[string]any)["keys"].([]any)
		m["jwks"].(map[string]any)["keys"] = append(keys, ec.JWK(true))
	})
	admin := claims(api, "realm_access", map[string]any{"roles": []any{"admins"}})
	es := ec.SignHeader(t, map[string]any{"alg": "ES256", "kid": "ec-1", "typ": "at+jwt"}, admin)
	if status, reason, _ := f.bearer(t, context.Background(), "/admin/x", es); status != "" || reason != "bearer: group admins" {
		t.Errorf("ES256 token with the admins realm role on /admin/: %q (%s), want it passed on", status, reason)
	}
	rs := f.typed(t, claims(api, "realm_access", map[string]any{"roles": []any{"staff"}}))
	if status, reason, _ := f.bearer(t, context.Background(), "/admin/x", rs); status != "403" || reason != "missing group" {
		t.Errorf("RS256 token without the role on /admin/: %q (%s), want 403", status, reason)
	}
	ps := testtoken.NewKey(t, testtoken.KeyID1, "PS256").SignHeader(t, map[string]any{"alg": "PS256", "kid": testtoken.KeyID1, "typ": "at+jwt"}, admin)
	if status, reason, _ := f.bearer(t, context.Background(), "/admin/x", ps); status != "401" || reason != "invalid token: bad signature" {
		t.Errorf("PS256 token, PS256 not allowed: %q (%s), want 401", status, reason)
	}
}

// TestOpaqueBearer (point 7): a Bearer token that is not a JWT is checked
// by introspection: active passes (groups from the configured claim),
// inactive is 401, and an IdP down or slow is 503 with Retry-After within
// the deadline, never a pass. Without an endpoint it is simply invalid.
func TestOpaqueBearer(t *testing.T) {
	in := suitetest.NewIntrospection(t)
	in.Set("opaque-admin", map[string]any{
		"active": true, "token_type": "Bearer", "sub": "u-1", "aud": api, "iss": oidcIssuer, "scope": "api:read",
		"exp": suitetest.Now.Add(time.Hour).Unix(), "realm_access": map[string]any{"roles": []any{"admins"}},
	})
	f := newOIDC(t, func(m map[string]any) {
		m["oidc"].(map[string]any)["introspectionEndpoint"] = in.URL + "/introspect"
		m["resource"] = api
		m["groupsClaim"] = "realm_access.roles"
	})
	ctx := context.Background()
	for range 3 {
		if status, reason, _ := f.bearer(t, ctx, "/admin/", "opaque-admin"); status != "" || reason != "bearer (introspected): group admins" {
			t.Fatalf("active opaque token: %q (%s), want it passed on", status, reason)
		}
	}
	if n := in.Calls(); n != 1 {
		t.Errorf("3 requests with one token made %d introspection calls, want 1 (cached)", n)
	}
	if status, reason, _ := f.bearer(t, ctx, "/admin/", "opaque-unknown"); status != "401" || reason != "invalid token: inactive" {
		t.Errorf("inactive opaque token: %q (%s), want 401", status, reason)
	}
	in.SetStatus(503)
	status, reason, res := f.bearer(t, ctx, "/admin/", "opaque-new")
	if status != "503" || res.Response.Headers.Get("retry-after") != checkauth.RetryAfter || reason != "introspection unavailable" {
		t.Errorf("IdP answering 503: %q (%s), want 503 with Retry-After", status, reason)
	}
	in.SetStatus(0)
	defer in.Hold()()
	// Lambda's deadline, less the margin lambdafn.Budget keeps back.
	dl, cancel := context.WithTimeout(ctx, lambdafn.DeadlineMargin+300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if status, _, _ := f.bearer(t, dl, "/admin/", "opaque-slow"); status != "503" {
		t.Errorf("IdP hanging: %q, want 503", status)
	}
	if left, ok := dl.Deadline(); ok && time.Now().After(left) {
		t.Errorf("answered after the deadline (%s)", time.Since(start))
	}
	if strings.Contains(f.logs.String(), "opaque-") {
		t.Error("a token reached the logs")
	}

	plain := newOIDC(t, nil)
	if status, reason, _ := plain.bearer(t, ctx, "/docs/", "opaque-admin"); status != "401" || reason != "invalid token: malformed" {
		t.Errorf("opaque token without introspection: %q (%s), want 401", status, reason)
	}
}

// TestInsecureIDTokenBearer: the explicit opt-in for providers whose access
// tokens are ID tokens (Dex) takes them, and says so at cold start.
func TestInsecureIDTokenBearer(t *testing.T) {
	f := newOIDC(t, func(m map[string]any) { m["bearerToken"] = "insecureIdToken" })
	dexAccess := f.mint.Sign(t, claims(oidcClient, "nonce", "n-1", "groups", []any{"admins"}))
	if status, reason, _ := f.bearer(t, context.Background(), "/admin/", dexAccess); status != "" {
		t.Errorf("Dex access token with insecureIdToken: %q (%s), want it passed on", status, reason)
	}
	if status, _, _ := f.bearer(t, context.Background(), "/admin/", f.mint.Sign(t, claims("other-client", "nonce", "n"))); status != "401" {
		t.Errorf("another client's ID token with insecureIdToken: %q, want 401", status)
	}
}

// BenchmarkBearerIntrospected is the whole handler for an opaque Bearer
// token already introspected: the cached path, no call.
func BenchmarkBearerIntrospected(b *testing.B) {
	in := suitetest.NewIntrospection(b)
	in.Set("opaque-bench", map[string]any{
		"active": true, "token_type": "Bearer", "sub": "u-1", "aud": api, "iss": oidcIssuer,
		"exp": suitetest.Now.Add(time.Hour).Unix(), "groups": []any{"staff"},
	})
	f := newOIDC(b, func(m map[string]any) {
		m["oidc"].(map[string]any)["introspectionEndpoint"] = in.URL
		m["resource"] = api
	})
	if _, err := f.h.Handle(context.Background(), suitetest.Request(b, "/docs/a", "Authorization", "Bearer opaque-bench")); err != nil {
		b.Fatal(err)
	}
	ev := suitetest.Request(b, "/docs/a", "Authorization", "Bearer opaque-bench")
	benchmark(b, &fixture{h: f.h}, ev, false)
	if n := in.Calls(); n != 1 {
		b.Fatalf("%d introspection calls, want 1", n)
	}
}

// TestRuleClaimPath (point 6): a rule's {claim} segment reads the claim by
// the same claim path as groups: here a nested member.
func TestRuleClaimPath(t *testing.T) {
	f := newOIDC(t, func(m map[string]any) {
		m["resource"] = api
		m["rules"] = []any{map[string]any{"path": "/tenants/{tenant.id}/*"}}
	})
	tok := f.typed(t, claims(api, "tenant", map[string]any{"id": "t-42"}))
	for path, want := range map[string]string{"/tenants/t-42/report": "", "/tenants/t-7/report": "403"} {
		if status, reason, _ := f.bearer(t, context.Background(), path, tok); status != want {
			t.Errorf("%s: %q (%s), want %q", path, status, reason, want)
		}
	}
}
