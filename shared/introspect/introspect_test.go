package introspect_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/introspect"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

const (
	issuer   = "https://id.example.net"
	api      = "https://api.example.net"
	clientID = "edgeauth-site"
	secret   = "s3cret"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// active is an answer as oidc-provider gives it for an opaque access token
// of a resource, with Keycloak-style nested roles.
func active(kv ...any) map[string]any {
	m := map[string]any{
		"active": true, "token_type": "Bearer", "client_id": clientID, "sub": "alice-sub", "iss": issuer,
		"aud": api, "scope": "api:read", "iat": t0.Add(-time.Minute).Unix(), "exp": t0.Add(time.Hour).Unix(),
		"realm_access": map[string]any{"roles": []any{"admins", "staff"}}, "preferred_username": "alice",
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	return m
}

type fixture struct {
	srv   *suitetest.Introspection
	c     *introspect.Checker
	clock time.Time
}

func newFixture(t testing.TB, edit func(*introspect.Config)) *fixture {
	t.Helper()
	f := &fixture{srv: suitetest.NewIntrospection(t), clock: t0}
	p, err := idp.New(idp.Config{
		ClientID: clientID, ClientSecret: secret,
		Endpoints: idp.Endpoints{Authorize: issuer + "/auth", Token: issuer + "/token", Introspection: f.srv.URL + "/introspect"},
		Scopes:    []string{"openid"}, HTTPClient: &http.Client{},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(verifier.Config{Issuer: issuer, ClientID: clientID, GroupsClaim: "realm_access.roles", JWKS: testtoken.Keys(t).JWKS()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := introspect.Config{
		Provider: p, Issuer: issuer, Audiences: []string{api}, Read: v.IdentityOf,
		CacheTTL: time.Minute, InactiveTTL: 5 * time.Second, ClockSkew: 30 * time.Second,
		Now: func() time.Time { return f.clock },
	}
	if edit != nil {
		edit(&cfg)
	}
	if f.c, err = introspect.New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCheckActive(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Set("opaque-1", active())
	id, err := f.c.Check(context.Background(), "opaque-1")
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "alice-sub" || id.Username != "alice" || !slices.Equal(id.Groups, []string{"admins", "staff"}) ||
		!slices.Equal(id.Scopes, []string{"api:read"}) || id.TokenUse != verifier.UseAccess || !id.Expiry.Equal(t0.Add(time.Hour)) {
		t.Errorf("identity = %+v", id)
	}
	if got := f.srv.Seen()[0]; got != clientID+":"+secret+" access_token" {
		t.Errorf("introspection request auth and hint = %q, want Basic as at the token endpoint and the access_token hint", got)
	}
	id.Groups[0] = "changed"
	again, err := f.c.Check(context.Background(), "opaque-1")
	if err != nil || again.Groups[0] != "admins" || f.srv.Calls() != 1 {
		t.Errorf("second check = %+v, %v after %d calls; want the cached identity, unchanged, and 1 call", again, err, f.srv.Calls())
	}
}

// TestCacheLifetime: an active answer is reused until the earlier of its
// exp and CacheTTL; an inactive one for InactiveTTL.
func TestCacheLifetime(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.srv.Set("long", active())                                      // exp in an hour: CacheTTL (1m) decides
	f.srv.Set("short", active("exp", t0.Add(20*time.Second).Unix())) // exp decides
	f.srv.Set("no-exp", active("exp", nil))                          // CacheTTL decides
	for _, tok := range []string{"long", "short", "no-exp", "bad"} {
		_, _ = f.c.Check(ctx, tok)
	}
	if n := f.srv.Calls(); n != 4 {
		t.Fatalf("%d calls, want 4", n)
	}
	calls := func(tok string, at time.Duration) int64 {
		f.clock = t0.Add(at)
		before := f.srv.Calls()
		_, _ = f.c.Check(ctx, tok)
		return f.srv.Calls() - before
	}
	for _, tt := range []struct {
		tok  string
		at   time.Duration
		want int64
	}{
		{"bad", 4 * time.Second, 0}, {"bad", 5 * time.Second, 1},
		{"short", 19 * time.Second, 0}, {"short", 20 * time.Second, 1},
		{"long", 59 * time.Second, 0}, {"long", 61 * time.Second, 1},
		{"no-exp", 59 * time.Second, 0}, {"no-exp", 61 * time.Second, 1},
	} {
		if got := calls(tt.tok, tt.at); got != tt.want {
			t.Errorf("check of %s at +%s made %d calls, want %d", tt.tok, tt.at, got, tt.want)
		}
	}
}

// TestFloodOfBadTokens: the same bad token sent again and again costs one
// call per InactiveTTL.
func TestFloodOfBadTokens(t *testing.T) {
	f := newFixture(t, nil)
	for range 100 {
		if _, err := f.c.Check(context.Background(), "garbage"); !errors.Is(err, introspect.ErrInactive) {
			t.Fatalf("Check(garbage) = %v, want ErrInactive", err)
		}
	}
	if n := f.srv.Calls(); n != 1 {
		t.Errorf("100 checks of one bad token made %d calls, want 1", n)
	}
}

func TestCheckRefusals(t *testing.T) {
	tests := []struct {
		name   string
		answer map[string]any
		want   error
		reason string
	}{
		{"inactive", map[string]any{"active": false}, introspect.ErrInactive, "inactive"},
		{"active as a string", active("active", "true"), introspect.ErrInactive, "inactive"},
		{"a refresh token (no token_type)", active("token_type", nil), verifier.ErrTokenUse, "wrong token use"},
		{"token_type refresh_token", active("token_type", "refresh_token"), verifier.ErrTokenUse, "wrong token use"},
		{"hydra refresh token", active("token_use", "refresh_token"), verifier.ErrTokenUse, "wrong token use"},
		{"keycloak refresh token", active("typ", "Refresh"), verifier.ErrTokenUse, "wrong token use"},
		{"userinfo token (no aud)", active("aud", nil), verifier.ErrAudience, "wrong audience"},
		{"another API", active("aud", "https://other.example"), verifier.ErrAudience, "wrong audience"},
		{"aud not strings", active("aud", []any{1, true}), verifier.ErrAudience, "wrong audience"},
		{"aud one string holding a space", active("aud", api+" https://other.example"), verifier.ErrAudience, "wrong audience"},
		{"another issuer", active("iss", "https://evil.example"), verifier.ErrIssuer, "wrong issuer"},
		{"iss not a string", active("iss", 7), verifier.ErrIssuer, "wrong issuer"},
		{"expired", active("exp", t0.Add(-time.Minute).Unix()), verifier.ErrExpired, "expired"},
		{"exp not a number", active("exp", "soon"), verifier.ErrMalformed, "malformed"},
		{"nbf in the future", active("nbf", t0.Add(time.Hour).Unix()), verifier.ErrNotYetValid, "not yet valid"},
		{"no sub", active("sub", nil), verifier.ErrMalformed, "malformed"},
		{"scope not a string", active("scope", []any{"a"}), verifier.ErrMalformed, "malformed"},
	}
	f := newFixture(t, nil)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := "tok-" + string(rune('a'+i))
			f.srv.Set(tok, tt.answer)
			id, err := f.c.Check(context.Background(), tok)
			if id != nil || !errors.Is(err, tt.want) || introspect.Reason(err) != tt.reason {
				t.Errorf("Check = %+v, %v (%q); want %v (%q)", id, err, introspect.Reason(err), tt.want, tt.reason)
			}
		})
	}
	// Accepted shapes: aud as a list (Keycloak, Hydra), token_use access_token (Hydra), typ Bearer (Keycloak).
	for name, a := range map[string]map[string]any{
		"aud list":  active("aud", []any{"account", api}),
		"hydra":     active("token_use", "access_token", "iss", nil, "ext", map[string]any{"groups": []any{"x"}}),
		"keycloak":  active("typ", "Bearer"),
		"lowercase": active("token_type", "bearer"),
	} {
		f.srv.Set("ok-"+name, a)
		if _, err := f.c.Check(context.Background(), "ok-"+name); err != nil {
			t.Errorf("Check(%s) = %v, want it accepted", name, err)
		}
	}
}

// TestProviderDown: a provider that is down, slow or refuses the client
// is ErrUnavailable, never a pass, and is asked again next time.
func TestProviderDown(t *testing.T) {
	const tok = "SECRET-OPAQUE-TOKEN-42"
	f := newFixture(t, nil)
	f.srv.Set(tok, active())
	check := func(ctx context.Context) error {
		t.Helper()
		id, err := f.c.Check(ctx, tok)
		if id != nil {
			t.Errorf("Check = %+v with %v", id, err)
		}
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("error %q quotes the token", err)
		}
		return err
	}
	f.srv.SetStatus(http.StatusServiceUnavailable)
	for range 2 {
		if err := check(context.Background()); !errors.Is(err, introspect.ErrUnavailable) || !errors.Is(err, idp.ErrUnavailable) || introspect.Reason(err) != "introspection unavailable" {
			t.Errorf("Check with the provider answering 503 = %v, want ErrUnavailable", err)
		}
	}
	if n := f.srv.Calls(); n != 2 {
		t.Errorf("%d calls, want 2: failures are not cached", n)
	}
	f.srv.SetStatus(http.StatusUnauthorized)
	if err := check(context.Background()); !errors.Is(err, introspect.ErrUnavailable) || !errors.Is(err, idp.ErrRejected) {
		t.Errorf("Check with the client refused = %v, want ErrUnavailable (idp.ErrRejected)", err)
	}
	f.srv.SetStatus(0)
	defer f.srv.Hold()()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := check(ctx); !errors.Is(err, introspect.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Check with a hung provider = %v, want ErrUnavailable within the deadline", err)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		edit  func(*introspect.Config)
		field string
	}{
		{func(c *introspect.Config) { c.Provider = nil }, "provider"},
		{func(c *introspect.Config) { c.Issuer = "" }, "issuer"},
		{func(c *introspect.Config) { c.Audiences = nil }, "audiences"},
		{func(c *introspect.Config) { c.Read = nil }, "read"},
		{func(c *introspect.Config) { c.CacheTTL = 2 * time.Hour }, "cacheTtl"},
		{func(c *introspect.Config) { c.InactiveTTL = -time.Second }, "inactiveTtl"},
	} {
		cfg := introspect.Config{Provider: fakeProvider{}, Issuer: issuer, Audiences: []string{api}, Read: func(map[string]any) *verifier.Identity { return nil }}
		tt.edit(&cfg)
		_, err := introspect.New(cfg)
		if ce, ok := errors.AsType[*introspect.ConfigError](err); !ok || ce.Field != tt.field {
			t.Errorf("New = %v, want a ConfigError for %s", err, tt.field)
		}
	}
}

type fakeProvider struct{}

func (fakeProvider) Introspect(context.Context, string) (map[string]any, error) { return nil, nil }

// BenchmarkIntrospectCached is an opaque token already introspected: a hash
// and a lookup, no call.
func BenchmarkIntrospectCached(b *testing.B) {
	f := newFixture(b, nil)
	f.srv.Set("opaque-bench", active())
	ctx := context.Background()
	if _, err := f.c.Check(ctx, "opaque-bench"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.c.Check(ctx, "opaque-bench"); err != nil {
			b.Fatal(err)
		}
	}
	if n := f.srv.Calls(); n != 1 {
		b.Fatalf("%d calls, want 1", n)
	}
}

func FuzzJudge(f *testing.F) {
	for _, s := range []string{`{"active":true,"token_type":"Bearer","aud":"` + api + `","sub":"x"}`, `{"active":false}`, `{"active":true}`, `[]`, `{"active":true,"token_type":"Bearer","aud":["` + api + `"],"sub":"x","exp":1e300,"nbf":-1}`} {
		f.Add(s)
	}
	fx := newFixture(f, nil)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, answer string) {
		tok := "fuzz-" + strconv.FormatInt(n.Add(1), 10)
		fx.srv.SetRaw(tok, []byte(answer))
		id, err := fx.c.Check(context.Background(), tok)
		if err != nil {
			if id != nil || introspect.Reason(err) == "invalid" {
				t.Fatalf("Check = %+v, %v (reason %q)", id, err, introspect.Reason(err))
			}
			return
		}
		var m map[string]any
		if json.Unmarshal([]byte(answer), &m) != nil || m["active"] != true || id.Subject == "" || id.TokenUse != verifier.UseAccess {
			t.Fatalf("Check accepted %q as %+v", answer, id)
		}
	})
}
