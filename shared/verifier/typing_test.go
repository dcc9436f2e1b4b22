package verifier_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// shape is a token as a provider issues it (docs/providers.md).
type shape struct {
	typ    string // "" leaves typ out
	claims map[string]any
}

func (s shape) sign(t testing.TB, m *testtoken.Minter) string {
	h := map[string]any{"alg": "RS256", "kid": testtoken.KeyID1}
	if s.typ != "" {
		h["typ"] = s.typ
	}
	return m.SignHeader(t, h, s.claims)
}

// base is what every token here carries.
func base(aud any, kv ...any) map[string]any {
	c := map[string]any{"iss": oidcIss, "sub": "u-1", "iat": now.Add(-time.Minute).Unix(), "exp": inAnHour.Unix()}
	if aud != nil {
		c["aud"] = aud
	}
	return with(c, kv...)
}

// TestTokenTyping: an ID token never opens the API. Each provider's access
// and ID token shapes (docs/providers.md), verified as a Bearer access
// token against the config docs/providers.md gives for that provider.
func TestTokenTyping(t *testing.T) {
	m := testtoken.Keys(t)
	const (
		okta     = "api://default"
		entraAPI = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
		project  = "190834734829601009" // ZITADEL project id, in both tokens' aud
	)
	cfg := func(untyped bool, audiences ...string) *verifier.Verifier {
		v, err := verifier.New(verifier.Config{
			Issuer: oidcIss, ClientID: clientID, Audiences: audiences, UntypedAccessTokens: untyped,
			JWKS: m.JWKS(), ClockSkew: skew, Now: fixedClock, CacheSize: -1,
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	typedAPI := cfg(false, api)
	typedDefault := cfg(false) // audiences default to the client id
	untypedAPI := cfg(true, api)

	idToken := func(typ string, kv ...any) shape {
		return shape{typ, base(clientID, append([]any{"nonce", "n-1", "at_hash", "x", "email", "u@example.com"}, kv...)...)}
	}
	tests := []struct {
		name string
		v    *verifier.Verifier
		tok  shape
		want error
	}{
		// oidc-provider: RFC 9068.
		{"oidc-provider access token", typedAPI, shape{"at+jwt", base(api, "client_id", clientID, "scope", "api:read")}, nil},
		{"oidc-provider access token, application/at+jwt", typedAPI, shape{"application/AT+JWT", base(api, "client_id", clientID)}, nil},
		{"oidc-provider id token", typedAPI, idToken("JWT"), verifier.ErrIDToken},
		{"typed token for another API", typedAPI, shape{"at+jwt", base("https://other.example")}, verifier.ErrAudience},
		{"typed token with aud []", typedAPI, shape{"at+jwt", base([]any{})}, verifier.ErrAudience},
		{"typed token, default audience (the client id)", typedDefault, shape{"at+jwt", base(clientID)}, nil},
		{"id token, default audience", typedDefault, idToken(""), verifier.ErrIDToken},
		{"id token without nonce, default audience", typedDefault, shape{"", base(clientID)}, verifier.ErrUntyped},
		{"typed token with token_use id", typedAPI, shape{"at+jwt", base(api, "token_use", "id")}, verifier.ErrIDToken},
		{"a logout token", typedAPI, shape{"logout+jwt", base(api, "events", map[string]any{})}, verifier.ErrTokenUse},
		{"untyped access token, untyped not allowed", typedAPI, shape{"", base(api, "scope", "api:read")}, verifier.ErrUntyped},

		// Okta: no typ at all; ID tokens carry nonce and at_hash.
		{"okta access token", cfg(true, okta), shape{"", base(okta, "cid", clientID, "scp", []any{"openid"}, "ver", 1)}, nil},
		{"okta id token", cfg(true, okta), idToken(""), verifier.ErrIDToken},
		// Entra ID: typ JWT on both; v2 access token aud = the API app's id.
		{"entra access token", cfg(true, entraAPI), shape{"JWT", base(entraAPI, "azp", clientID, "scp", "read")}, nil},
		{"entra id token (nonce, no at_hash)", cfg(true, entraAPI), shape{"JWT", base(clientID, "nonce", "n-1")}, verifier.ErrIDToken},
		{"refreshed id token without nonce", cfg(true, entraAPI), shape{"JWT", base(clientID)}, verifier.ErrIDToken},
		{"id token naming the client id among others", cfg(true, entraAPI), shape{"JWT", base([]any{clientID, "x"})}, verifier.ErrIDToken},
		// Keycloak ≥ 26: typ JWT, aud from an Audience mapper, nonce only in ID tokens.
		{"keycloak access token", cfg(true, "my-api"), shape{"JWT", base([]any{"my-api", "account"}, "azp", clientID, "typ", "Bearer")}, nil},
		{"keycloak access token without aud", cfg(true, "my-api"), shape{"JWT", base(nil, "azp", clientID)}, verifier.ErrAudience},
		{"keycloak < 26 access token (nonce in it)", cfg(true, "my-api"), shape{"JWT", base("my-api", "nonce", "n-1")}, verifier.ErrIDToken},
		{"keycloak id token", cfg(true, "my-api"), idToken("JWT", "typ", "ID"), verifier.ErrIDToken},
		// ZITADEL: the same aud (client ids and project id) in both tokens.
		{"zitadel access token", cfg(true, project), shape{"", base([]any{clientID, "other-app", project}, "client_id", clientID)}, nil},
		{"zitadel id token", cfg(true, project), shape{"", base([]any{clientID, "other-app", project}, "nonce", "n-1")}, verifier.ErrIDToken},
		// The known limit: an ID token that names the API audience and
		// carries no marker claim is indistinguishable from an access token
		// by its claims. Only typed tokens close it.
		{"zitadel id token without nonce (known limit)", cfg(true, project), shape{"", base([]any{clientID, project})}, nil},
		// Hydra: typ JWT; aud only what the proprietary audience parameter asked for.
		{"hydra access token", cfg(true, api), shape{"JWT", base([]any{api}, "client_id", clientID, "scp", []any{"openid"})}, nil},
		{"hydra access token, aud []", cfg(true, api), shape{"JWT", base([]any{}, "client_id", clientID)}, verifier.ErrAudience},
		// Auth0's own profile: aud the API and userinfo.
		{"auth0 access token", cfg(true, api), shape{"", base([]any{api, "https://tenant.auth0.com/userinfo"}, "azp", clientID)}, nil},
		{"auth0 id token", cfg(true, api), idToken(""), verifier.ErrIDToken},
		// Dex: access tokens are ID tokens (nonce included).
		{"dex access token", cfg(true, api), shape{"", base(clientID, "nonce", "n-1")}, verifier.ErrIDToken},
		{"c_hash marks an id token", untypedAPI, shape{"", base(api, "c_hash", "x")}, verifier.ErrIDToken},
		{"s_hash marks an id token", untypedAPI, shape{"", base(api, "s_hash", "x")}, verifier.ErrIDToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.v.Verify(context.Background(), tt.tok.sign(t, m), verifier.UseAccess)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Verify(access) = %v, want %v", err, tt.want)
			}
			if err == nil && id.TokenUse != verifier.UseAccess {
				t.Errorf("TokenUse = %q, want access", id.TokenUse)
			}
			if errors.Is(tt.want, verifier.ErrIDToken) && verifier.Reason(err) != "id token, not an access token" {
				t.Errorf("Reason = %q, want the log to say an id token was refused", verifier.Reason(err))
			}
		})
	}
}

// TestLoginTyping: at login the ID token is what proves the sign-in; an
// access token is never taken for one, and an ID token passes whatever the
// access-token rules are.
func TestLoginTyping(t *testing.T) {
	m := testtoken.Keys(t)
	v, err := verifier.New(verifier.Config{
		Issuer: oidcIss, ClientID: clientID, Audiences: []string{api}, UntypedAccessTokens: true,
		JWKS: m.JWKS(), ClockSkew: skew, Now: fixedClock, CacheSize: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		tok  shape
		want error
	}{
		{"id token, typ JWT", shape{"JWT", base(clientID, "nonce", "n")}, nil},
		{"id token, no typ", shape{"", base([]any{"x", clientID}, "nonce", "n")}, nil},
		{"typed access token", shape{"at+jwt", base(clientID)}, verifier.ErrTokenUse},
		{"token_use access", shape{"", base(clientID, "token_use", "access")}, verifier.ErrTokenUse},
		{"a logout token", shape{"logout+jwt", base(clientID)}, verifier.ErrTokenUse},
		{"for another client", shape{"JWT", base("other", "nonce", "n")}, verifier.ErrAudience},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.tok.sign(t, m), verifier.UseID)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Verify(id) = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestInsecureAny: UseAny (bearerToken insecureIdToken) takes a Dex access
// token, which is shaped like an ID token, and still refuses a token for
// another client.
func TestInsecureAny(t *testing.T) {
	m := testtoken.Keys(t)
	v := newVerifier(t, false, m.JWKS())
	dexAccess := shape{"", base(clientID, "nonce", "n-1", "groups", []any{"admins"})}
	id, err := v.Verify(context.Background(), dexAccess.sign(t, m), verifier.UseAny)
	if err != nil || id.TokenUse != verifier.UseID || !slices.Equal(id.Groups, []string{"admins"}) {
		t.Errorf("Verify(any, a Dex access token) = %+v, %v; want it taken as an id token", id, err)
	}
	if _, err := v.Verify(context.Background(), shape{"", base("other", "nonce", "n")}.sign(t, m), verifier.UseAny); !errors.Is(err, verifier.ErrIDToken) && !errors.Is(err, verifier.ErrAudience) && !errors.Is(err, verifier.ErrUntyped) {
		t.Errorf("Verify(any, another client's token) = %v, want a refusal", err)
	}
}

func TestAudiencesCognito(t *testing.T) {
	m := testtoken.Keys(t)
	v, err := verifier.New(verifier.Config{
		Issuer: cognitoIss, ClientID: clientID, Cognito: true, Audiences: []string{clientID, "m2m-client"},
		JWKS: m.JWKS(), ClockSkew: skew, Now: fixedClock, CacheSize: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for client, want := range map[string]error{clientID: nil, "m2m-client": nil, "stranger": verifier.ErrAudience} {
		_, err := v.Verify(ctx, m.Sign(t, testtoken.CognitoAccess(cognitoIss, client, "u", nil, inAnHour)), verifier.UseAccess)
		if !errors.Is(err, want) || (err == nil) != (want == nil) {
			t.Errorf("Verify(access token of %s) = %v, want %v", client, err, want)
		}
	}
	// An ID token's aud is always the login client, whatever the audiences.
	if _, err := v.Verify(ctx, m.Sign(t, testtoken.CognitoID(cognitoIss, "m2m-client", "u", "", nil, inAnHour)), verifier.UseID); !errors.Is(err, verifier.ErrAudience) {
		t.Errorf("Verify(id token of another app client) = %v, want ErrAudience", err)
	}
	_, err = v.Verify(ctx, m.Sign(t, testtoken.CognitoID(cognitoIss, clientID, "u", "", nil, inAnHour)), verifier.UseAccess)
	if !errors.Is(err, verifier.ErrIDToken) || verifier.Reason(err) != "id token, not an access token" {
		t.Errorf("Verify(cognito id token as access) = %v (%s), want ErrIDToken", err, verifier.Reason(err))
	}
}

func TestAudiencesConfig(t *testing.T) {
	good := testtoken.Keys(t).JWKS()
	for _, tt := range []struct {
		name      string
		cfg       verifier.Config
		wantField string
		want      string
	}{
		{"empty audience", verifier.Config{Audiences: []string{api, ""}}, "audiences[1]", "must not be empty"},
		{"duplicate audience", verifier.Config{Audiences: []string{api, api}}, "audiences[1]", "appears twice"},
		{"untyped with the client id alone", verifier.Config{UntypedAccessTokens: true}, "audiences", "untyped access tokens need an API audience other than the client id"},
		{"untyped with the client id listed", verifier.Config{UntypedAccessTokens: true, Audiences: []string{clientID}}, "audiences", "need an API audience"},
		{"untyped with Cognito", verifier.Config{UntypedAccessTokens: true, Cognito: true, Audiences: []string{api}}, "untypedAccessTokens", "does not apply to Cognito"},
		{"bad groups claim", verifier.Config{GroupsClaim: "/a//b"}, "groupsClaim", "empty member name"},
		{"bad claim path", verifier.Config{ClaimPaths: []string{"sub", "/~x"}}, "claimPaths[1]", "followed by 0 or 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			c.Issuer, c.ClientID, c.JWKS = oidcIss, clientID, good
			_, err := verifier.New(c)
			ce, ok := errors.AsType[*verifier.ConfigError](err)
			if !ok || ce.Field != tt.wantField || !strings.Contains(ce.Problem, tt.want) {
				t.Errorf("New = %v; want %s saying %q", err, tt.wantField, tt.want)
			}
		})
	}
}

// TestGroupsClaim: groups where providers put them, through the token.
func TestGroupsClaim(t *testing.T) {
	m := testtoken.Keys(t)
	for _, tt := range []struct {
		path   string
		claims map[string]any
		want   []string
	}{
		{"", map[string]any{"groups": []any{"a", "b"}}, []string{"a", "b"}},
		{"realm_access.roles", map[string]any{"realm_access": map[string]any{"roles": []any{"admins"}}}, []string{"admins"}},
		{"resource_access.web.roles", map[string]any{"resource_access": map[string]any{"web": map[string]any{"roles": []any{"r"}}}}, []string{"r"}},
		{"/resource_access/my.app/roles", map[string]any{"resource_access": map[string]any{"my.app": map[string]any{"roles": []any{"r2"}}}}, []string{"r2"}},
		{"urn:zitadel:iam:org:project:roles", map[string]any{"urn:zitadel:iam:org:project:roles": map[string]any{"owner": map[string]any{"1": "acme"}, "admin": map[string]any{}}}, []string{"admin", "owner"}},
		{"https://example.com/roles", map[string]any{"https://example.com/roles": []any{"auditor"}}, []string{"auditor"}},
		{"ext.groups", map[string]any{"ext": map[string]any{"groups": []any{"h"}}}, []string{"h"}},
		{"roles", map[string]any{"roles": "a b  c"}, []string{"a", "b", "c"}},
		{"realm_access.roles", map[string]any{"groups": []any{"not", "these"}}, nil},
	} {
		t.Run(tt.path, func(t *testing.T) {
			v, err := verifier.New(verifier.Config{
				Issuer: oidcIss, ClientID: clientID, GroupsClaim: tt.path, ClaimPaths: []string{"tenant.id"},
				JWKS: m.JWKS(), ClockSkew: skew, Now: fixedClock, CacheSize: -1,
			})
			if err != nil {
				t.Fatal(err)
			}
			c := base(clientID, "tenant", map[string]any{"id": "t-1"})
			for k, val := range tt.claims {
				c[k] = val
			}
			id, err := v.Verify(context.Background(), shape{"", c}.sign(t, m), verifier.UseID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(id.Groups, tt.want) {
				t.Errorf("Groups = %q, want %q", id.Groups, tt.want)
			}
			if id.Claim("tenant.id") != "t-1" {
				t.Errorf("Claim(tenant.id) = %q, want the nested claim", id.Claim("tenant.id"))
			}
			if got := v.IdentityOf(c); !slices.Equal(got.Groups, tt.want) || got.Subject != "u-1" || got.Claim("tenant.id") != "t-1" || !got.Expiry.Equal(inAnHour) {
				t.Errorf("IdentityOf = %+v, want the same reading as the token's", got)
			}
		})
	}
}
