package verifier_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

var (
	now         = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fixedClock  = func() time.Time { return now }
	cognitoIss  = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
	oidcIss     = "http://127.0.0.1:5556/dex"
	clientID    = "client-abc"
	skew        = 30 * time.Second
	inAnHour    = now.Add(time.Hour)
	allSentinel = []error{
		verifier.ErrMalformed, verifier.ErrExpired, verifier.ErrNotYetValid, verifier.ErrSignature,
		verifier.ErrUnknownKey, verifier.ErrIssuer, verifier.ErrAudience, verifier.ErrTokenUse,
	}
)

func newVerifier(t testing.TB, cognito bool, jwks []byte) *verifier.Verifier {
	t.Helper()
	iss := oidcIss
	if cognito {
		iss = cognitoIss
	}
	v, err := verifier.New(verifier.Config{
		Issuer: iss, ClientID: clientID, Cognito: cognito, JWKS: jwks,
		ClockSkew: skew, Now: fixedClock, CacheSize: -1,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// with returns claims with overrides; a nil value deletes the claim.
func with(claims map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(claims))
	for k, v := range claims {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// reheader replaces a token's header, keeping payload and signature.
func reheader(t testing.TB, tok string, header map[string]any) string {
	t.Helper()
	b, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(tok, ".")
	return base64.RawURLEncoding.EncodeToString(b) + "." + rest
}

func TestVerify(t *testing.T) {
	m := testtoken.Keys(t)
	cog := newVerifier(t, true, m.JWKS())
	oidc := newVerifier(t, false, m.JWKS())

	cAccess := testtoken.CognitoAccess(cognitoIss, clientID, "user-1", []string{"admins", "staff"}, inAnHour)
	cID := testtoken.CognitoID(cognitoIss, clientID, "user-1", "nonce-1", []string{"admins"}, inAnHour)
	oID := testtoken.OIDCID(oidcIss, clientID, "user-2", "nonce-2", []string{"devs"}, inAnHour)
	oAccess := testtoken.OIDCAccess(oidcIss, clientID, "user-2", []string{"devs"}, inAnHour)
	valid := m.Sign(t, cAccess)
	payload := strings.Split(valid, ".")[1]
	atJWT := func(claims map[string]any) string {
		return m.SignHeader(t, map[string]any{"alg": "RS256", "kid": "test-key-1", "typ": "at+jwt"}, claims)
	}

	// Keys swapped: test-key-1 names the public half of key 2, so a token
	// signed by key 1 under kid test-key-1 carries the other key's signature.
	swapped := strings.NewReplacer("test-key-1", "test-key-2", "test-key-2", "test-key-1").Replace(string(m.JWKS()))
	otherKey := newVerifier(t, true, []byte(swapped))

	tests := []struct {
		name     string
		v        *verifier.Verifier
		token    string
		use      verifier.TokenUse
		wantErr  error
		wantKind verifier.TokenUse
	}{
		{"cognito access", cog, valid, verifier.UseAccess, nil, verifier.UseAccess},
		{"cognito access as any", cog, valid, verifier.UseAny, nil, verifier.UseAccess},
		{"cognito id", cog, m.Sign(t, cID), verifier.UseID, nil, verifier.UseID},
		{"cognito id as any", cog, m.Sign(t, cID), verifier.UseAny, nil, verifier.UseID},
		{"cognito signed by key 2", cog, m.SignWith(t, testtoken.KeyID2, "RS256", cAccess), verifier.UseAccess, nil, verifier.UseAccess},
		{"cognito access asked as id", cog, valid, verifier.UseID, verifier.ErrTokenUse, ""},
		{"cognito id asked as access", cog, m.Sign(t, cID), verifier.UseAccess, verifier.ErrTokenUse, ""},
		{"cognito token_use refresh", cog, m.Sign(t, with(cAccess, "token_use", "refresh")), verifier.UseAny, verifier.ErrTokenUse, ""},
		{"cognito token_use not a string", cog, m.Sign(t, with(cAccess, "token_use", 1)), verifier.UseAny, verifier.ErrTokenUse, ""},
		{"cognito no token_use", cog, m.Sign(t, with(cAccess, "token_use", nil)), verifier.UseAny, verifier.ErrTokenUse, ""},
		{"unknown use asked for", cog, valid, verifier.TokenUse("refresh"), verifier.ErrTokenUse, ""},
		{"cognito access wrong client_id", cog, m.Sign(t, with(cAccess, "client_id", "other")), verifier.UseAccess, verifier.ErrAudience, ""},
		{"cognito access aud instead of client_id", cog, m.Sign(t, with(cAccess, "client_id", nil, "aud", clientID)), verifier.UseAccess, verifier.ErrAudience, ""},
		{"cognito id wrong aud", cog, m.Sign(t, with(cID, "aud", "other")), verifier.UseID, verifier.ErrAudience, ""},
		{"cognito id no aud", cog, m.Sign(t, with(cID, "aud", nil)), verifier.UseID, verifier.ErrAudience, ""},
		{"expired", cog, m.Sign(t, with(cAccess, "exp", now.Add(-time.Minute).Unix())), verifier.UseAccess, verifier.ErrExpired, ""},
		{"expired within skew", cog, m.Sign(t, with(cAccess, "exp", now.Add(-10*time.Second).Unix(), "iat", now.Add(-time.Hour).Unix())), verifier.UseAccess, nil, verifier.UseAccess},
		{"nbf future within skew", cog, m.Sign(t, with(cAccess, "nbf", now.Add(10*time.Second).Unix())), verifier.UseAccess, nil, verifier.UseAccess},
		{"nbf future outside skew", cog, m.Sign(t, with(cAccess, "nbf", now.Add(5*time.Minute).Unix())), verifier.UseAccess, verifier.ErrNotYetValid, ""},
		{"iat future outside skew", cog, m.Sign(t, with(cAccess, "iat", now.Add(5*time.Minute).Unix())), verifier.UseAccess, verifier.ErrNotYetValid, ""},
		{"no exp", cog, m.Sign(t, with(cAccess, "exp", nil)), verifier.UseAccess, verifier.ErrMalformed, ""},
		{"no sub", cog, m.Sign(t, with(cAccess, "sub", nil)), verifier.UseAccess, verifier.ErrMalformed, ""},
		{"wrong iss", cog, m.Sign(t, with(cAccess, "iss", "https://evil.example")), verifier.UseAccess, verifier.ErrIssuer, ""},
		{"iss with trailing slash", cog, m.Sign(t, with(cAccess, "iss", cognitoIss+"/")), verifier.UseAccess, verifier.ErrIssuer, ""},
		{"no iss", cog, m.Sign(t, with(cAccess, "iss", nil)), verifier.UseAccess, verifier.ErrIssuer, ""},
		{"alg none", cog, m.SignWith(t, testtoken.KeyID1, "none", cAccess), verifier.UseAccess, verifier.ErrSignature, ""},
		{"alg none without kid", cog, m.SignWith(t, "", "none", cAccess), verifier.UseAccess, verifier.ErrSignature, ""},
		{"HS256 keyed with the public key", cog, m.SignWith(t, testtoken.KeyID1, "HS256", cAccess), verifier.UseAccess, verifier.ErrSignature, ""},
		{"RS512 header on an RS256 signature", cog, reheader(t, valid, map[string]any{"alg": "RS512", "kid": "test-key-1"}), verifier.UseAccess, verifier.ErrSignature, ""},
		{"no alg", cog, reheader(t, valid, map[string]any{"kid": "test-key-1"}), verifier.UseAccess, verifier.ErrMalformed, ""},
		{"unknown kid", cog, m.SignWith(t, "test-key-9", "RS256", cAccess), verifier.UseAccess, verifier.ErrUnknownKey, ""},
		{"no kid", cog, m.SignWith(t, "", "RS256", cAccess), verifier.UseAccess, verifier.ErrUnknownKey, ""},
		{"kid not a string", cog, reheader(t, valid, map[string]any{"alg": "RS256", "kid": 1}), verifier.UseAccess, verifier.ErrUnknownKey, ""},
		{"other key's signature", otherKey, valid, verifier.UseAccess, verifier.ErrSignature, ""},
		{"tampered payload", cog, strings.Replace(valid, payload, base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)), 1), verifier.UseAccess, verifier.ErrSignature, ""},
		{"signature stripped", cog, valid[:strings.LastIndex(valid, ".")+1], verifier.UseAccess, verifier.ErrSignature, ""},
		{"crit header", cog, m.SignHeader(t, map[string]any{"alg": "RS256", "kid": "test-key-1", "crit": []string{"exp"}}, cAccess), verifier.UseAccess, verifier.ErrSignature, ""},
		{"empty", cog, "", verifier.UseAccess, verifier.ErrMalformed, ""},
		{"garbage", cog, "not a token", verifier.UseAccess, verifier.ErrMalformed, ""},
		{"three dots", cog, "...", verifier.UseAccess, verifier.ErrMalformed, ""},
		{"two dots only", cog, "..", verifier.UseAccess, verifier.ErrMalformed, ""},
		{"four segments", cog, valid + ".x", verifier.UseAccess, verifier.ErrMalformed, ""},
		{"header not base64", cog, "!!!." + payload + ".sig", verifier.UseAccess, verifier.ErrMalformed, ""},
		{"huge", cog, valid + strings.Repeat("A", verifier.MaxTokenSize), verifier.UseAccess, verifier.ErrMalformed, ""},

		{"oidc id as id", oidc, m.Sign(t, oID), verifier.UseID, nil, verifier.UseID},
		// Issue 8: an untyped token is no access token by default, and an
		// ID token never is one (it used to pass as either kind).
		{"oidc id as access", oidc, m.Sign(t, oID), verifier.UseAccess, verifier.ErrIDToken, ""},
		{"oidc untyped access token as access", oidc, m.Sign(t, oAccess), verifier.UseAccess, verifier.ErrUntyped, ""},
		{"oidc typed access token as access", oidc, atJWT(oAccess), verifier.UseAccess, nil, verifier.UseAccess},
		{"oidc untyped access-shaped token as id", oidc, m.Sign(t, oAccess), verifier.UseID, nil, verifier.UseID},
		{"oidc scp does not make an id token an access token", oidc, m.Sign(t, with(oID, "scp", []string{"read"})), verifier.UseAny, nil, verifier.UseID},
		{"oidc at+jwt as access", oidc, m.SignHeader(t, map[string]any{"alg": "RS256", "kid": "test-key-1", "typ": "at+jwt"}, oAccess), verifier.UseAccess, nil, verifier.UseAccess},
		{"oidc application/at+jwt as id", oidc, m.SignHeader(t, map[string]any{"alg": "RS256", "kid": "test-key-1", "typ": "application/at+JWT"}, oID), verifier.UseID, verifier.ErrTokenUse, ""},
		{"oidc at+jwt with token_use id", oidc, m.SignHeader(t, map[string]any{"alg": "RS256", "kid": "test-key-1", "typ": "at+jwt"}, with(oID, "token_use", "id")), verifier.UseAny, verifier.ErrTokenUse, ""},
		{"oidc token_use access as id", oidc, m.Sign(t, with(oAccess, "token_use", "access")), verifier.UseID, verifier.ErrTokenUse, ""},
		{"oidc token_use id as access", oidc, m.Sign(t, with(oID, "token_use", "id")), verifier.UseAccess, verifier.ErrTokenUse, ""},
		{"oidc token_use id as id", oidc, m.Sign(t, with(oID, "token_use", "id")), verifier.UseID, nil, verifier.UseID},
		{"oidc aud list", oidc, m.Sign(t, with(oID, "aud", []string{"other", clientID})), verifier.UseID, nil, verifier.UseID},
		{"oidc wrong aud", oidc, m.Sign(t, with(oID, "aud", "other")), verifier.UseID, verifier.ErrAudience, ""},
		{"oidc access no aud", oidc, atJWT(with(oAccess, "aud", nil)), verifier.UseAccess, verifier.ErrAudience, ""},
		{"oidc cognito issuer token", oidc, m.Sign(t, cID), verifier.UseID, verifier.ErrIssuer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.v.Verify(context.Background(), tt.token, tt.use)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Verify(%s) error = %v, want %v", tt.use, err, tt.wantErr)
			}
			if err != nil {
				t.Log(err)
				if id != nil {
					t.Errorf("Verify(%s) = %+v with error %v, want nil", tt.use, id, err)
				}
				if strings.Contains(err.Error(), tt.token[:min(len(tt.token), 40)]) && len(tt.token) > 10 {
					t.Errorf("Verify error %q quotes the token", err)
				}
				return
			}
			if id.TokenUse != tt.wantKind {
				t.Errorf("Verify(%s).TokenUse = %q, want %q", tt.use, id.TokenUse, tt.wantKind)
			}
		})
	}
}

func TestVerifyIdentity(t *testing.T) {
	m := testtoken.Keys(t)
	tests := []struct {
		name    string
		cognito bool
		claims  map[string]any
		use     verifier.TokenUse
		want    *verifier.Identity
	}{
		{
			name: "cognito access", cognito: true, use: verifier.UseAccess,
			claims: with(testtoken.CognitoAccess(cognitoIss, clientID, "user-1", []string{"admins", "staff"}, inAnHour), "custom:tenant", "t1", "n", 3),
			want: &verifier.Identity{
				Subject: "user-1", Username: "user-1", Groups: []string{"admins", "staff"},
				Scopes: []string{"openid", "email", "profile"}, Expiry: inAnHour, TokenUse: verifier.UseAccess,
				Claims: map[string]string{
					"iss": cognitoIss, "sub": "user-1", "client_id": clientID, "token_use": "access",
					"scope": "openid email profile", "username": "user-1", "jti": "jti-user-1", "custom:tenant": "t1",
				},
			},
		},
		{
			name: "cognito id", cognito: true, use: verifier.UseID,
			claims: testtoken.CognitoID(cognitoIss, clientID, "user-1", "nonce-1", []string{"admins"}, inAnHour),
			want: &verifier.Identity{
				Subject: "user-1", Username: "user-1", Email: "user-1@example.com", Groups: []string{"admins"},
				Expiry: inAnHour, TokenUse: verifier.UseID, Nonce: "nonce-1",
				Claims: map[string]string{
					"iss": cognitoIss, "sub": "user-1", "aud": clientID, "token_use": "id",
					"cognito:username": "user-1", "email": "user-1@example.com", "nonce": "nonce-1",
				},
			},
		},
		{
			// scp no longer makes an untyped token an access token (issue 8).
			name: "oidc id, scp as a string", cognito: false, use: verifier.UseID,
			claims: with(testtoken.OIDCID(oidcIss, clientID, "user-2", "", []string{"devs"}, inAnHour), "name", "Jo", "scp", "a b"),
			want: &verifier.Identity{
				Subject: "user-2", Username: "user-2", Email: "user-2@example.com", Groups: []string{"devs"},
				Scopes: []string{"a", "b"}, Expiry: inAnHour, TokenUse: verifier.UseID,
				Claims: map[string]string{
					"iss": oidcIss, "sub": "user-2", "aud": clientID, "email": "user-2@example.com",
					"name": "Jo", "preferred_username": "user-2", "scp": "a b",
				},
			},
		},
		{
			name: "oidc name as username, scp array", cognito: false, use: verifier.UseID,
			claims: with(testtoken.OIDCID(oidcIss, clientID, "user-2", "", nil, inAnHour), "preferred_username", nil, "name", "Jo", "email", nil, "scp", []string{"read", "write"}),
			want: &verifier.Identity{
				Subject: "user-2", Username: "Jo", Scopes: []string{"read", "write"}, Expiry: inAnHour, TokenUse: verifier.UseID,
				Claims: map[string]string{"iss": oidcIss, "sub": "user-2", "aud": clientID, "name": "Jo"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, tt.cognito, m.JWKS())
			got, err := v.Verify(context.Background(), m.Sign(t, tt.claims), tt.use)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !got.Expiry.Equal(tt.want.Expiry) {
				t.Errorf("Expiry = %v, want %v", got.Expiry, tt.want.Expiry)
			}
			got.Expiry = tt.want.Expiry
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Verify identity:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func jwksOf(t testing.TB, keys ...any) []byte {
	t.Helper()
	set := jwk.NewSet()
	for i, raw := range keys {
		k, err := jwk.Import(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Set(jwk.KeyIDKey, "k"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewErrors(t *testing.T) {
	m := testtoken.Keys(t)
	good := m.JWKS()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// jwk.Import refuses short keys itself, so write this one by hand.
	shortN := base64.RawURLEncoding.EncodeToString(make([]byte, 128))
	shortJWKS := `{"keys":[{"kty":"RSA","kid":"short","alg":"RS256","use":"sig","e":"AQAB","n":"x` + shortN[1:] + `"}]}`
	pub1 := m.PublicKey(testtoken.KeyID1)
	cfg := func(jwks []byte) verifier.Config {
		return verifier.Config{Issuer: cognitoIss, ClientID: clientID, JWKS: jwks, Now: fixedClock}
	}
	tests := []struct {
		name      string
		cfg       verifier.Config
		wantField string
		want      string // a substring of the problem
	}{
		{"no issuer", verifier.Config{ClientID: clientID, JWKS: good}, "issuer", "is required"},
		{"issuer not a URL", verifier.Config{Issuer: "login.example.org", ClientID: clientID, JWKS: good}, "issuer", "absolute http(s) URL"},
		{"issuer with a query", verifier.Config{Issuer: "https://login.example.org/?x=1", ClientID: clientID, JWKS: good}, "issuer", "query or fragment"},
		{"no client id", verifier.Config{Issuer: cognitoIss, JWKS: good}, "clientId", "is required"},
		{"negative skew", verifier.Config{Issuer: cognitoIss, ClientID: clientID, JWKS: good, ClockSkew: -time.Second}, "clockSkew", "must be between 0s and 5m"},
		{"skew of an hour", verifier.Config{Issuer: cognitoIss, ClientID: clientID, JWKS: good, ClockSkew: time.Hour}, "clockSkew", "must be between 0s and 5m, got 1h0m0s"},
		{"no jwks", cfg(nil), "jwks", "is required"},
		{"jwks not json", cfg([]byte("{")), "jwks", "JSON Web Key Set"},
		{"jwks empty set", cfg([]byte(`{"keys":[]}`)), "jwks.keys", "has no signing key"},
		{"key not an object", cfg([]byte(`{"keys":[1]}`)), "jwks.keys[0]", "JSON Web Key object"},
		{"key without kid", cfg([]byte(strings.Replace(string(good), `"kid": "test-key-1",`, "", 1))), "jwks.keys[0].kid", "is required"},
		{"duplicate kid", cfg([]byte(strings.Replace(string(good), "test-key-2", "test-key-1", 1))), "jwks.keys[1].kid", `"test-key-1" appears twice`},
		// With RS256 alone allowed, an EC key is skipped for its algorithm.
		{"only an EC key", cfg(jwksOf(t, &ec.PublicKey)), "jwks.keys", `skipped keys[0] (EC P-256 key, ES256 not allowed)`},
		{"only an encryption key", cfg([]byte(strings.ReplaceAll(string(good), `"sig"`, `"enc"`))), "jwks.keys", `(use "enc")`},
		// RS512-only sets used to pass config validation and then fail here
		// with another message; now this is the one answer, naming the
		// allowed algorithms (issue 8).
		{"only RS512 keys", cfg([]byte(strings.ReplaceAll(string(good), `"RS256"`, `"RS512"`))), "jwks.keys",
			`has no signing key for the allowed algorithms (RS256); skipped keys[0] (alg "RS512" not allowed), keys[1] (alg "RS512" not allowed)`},
		{"private key", cfg(jwksOf(t, priv)), "jwks.keys[0]", "is a private key"},
		{"private EC key", cfg(jwksOf(t, pub1, ec)), "jwks.keys[1]", "is a private key"},
		{"secret key", cfg([]byte(`{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}`)), "jwks.keys[0].kty", `got "oct"`},
		{"no kty", cfg([]byte(`{"keys":[{"kid":"s"}]}`)), "jwks.keys[0].kty", "got null"},
		{"1024-bit key", cfg([]byte(shortJWKS)), "jwks.keys[0]", "1024 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verifier.New(tt.cfg)
			if err == nil {
				t.Fatalf("New(%s) = %v, nil; want an error", tt.name, v)
			}
			ce, ok := errors.AsType[*verifier.ConfigError](err)
			if !ok || ce.Field != tt.wantField || !strings.Contains(ce.Problem, tt.want) {
				t.Fatalf("New(%s) = %v; want a ConfigError for %s saying %q", tt.name, err, tt.wantField, tt.want)
			}
			if got := err.Error(); got != "verifier: "+ce.Field+": "+ce.Problem {
				t.Errorf("Error() = %q", got)
			}
		})
	}
	// An EC key beside an RSA key is skipped, not an error: issuers publish
	// both, and the packager embeds the set as published.
	mixed := cfg(jwksOf(t, pub1, &ec.PublicKey))
	mixed.Cognito = true
	v, err := verifier.New(mixed)
	if err != nil {
		t.Fatalf("New(RSA + EC keys) = %v, want nil", err)
	}
	tok := m.SignWith(t, "k0", "RS256", testtoken.CognitoAccess(cognitoIss, clientID, "u", nil, inAnHour))
	if _, err := v.Verify(context.Background(), tok, verifier.UseAny); err != nil {
		t.Errorf("Verify with the RSA key beside an EC key = %v", err)
	}
	if _, err := v.Verify(context.Background(), m.SignWith(t, "k1", "RS256", testtoken.CognitoAccess(cognitoIss, clientID, "u", nil, inAnHour)), verifier.UseAny); !errors.Is(err, verifier.ErrUnknownKey) {
		t.Errorf("Verify naming the skipped EC key = %v, want ErrUnknownKey", err)
	}
}

func TestReason(t *testing.T) {
	for err, want := range map[error]string{
		verifier.ErrExpired: "expired", verifier.ErrNotYetValid: "not yet valid", verifier.ErrSignature: "bad signature",
		verifier.ErrUnknownKey: "unknown key", verifier.ErrIssuer: "wrong issuer", verifier.ErrAudience: "wrong audience",
		verifier.ErrTokenUse: "wrong token use", verifier.ErrMalformed: "malformed", errors.New("other"): "invalid", nil: "invalid",
	} {
		if got := verifier.Reason(fmt.Errorf("wrapped: %w", err)); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestParseBearer(t *testing.T) {
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/"
	tests := []struct {
		header  string
		want    string
		wantErr error
	}{
		{"Bearer " + tok, tok, nil},
		{"bearer " + tok, tok, nil},
		{"BEARER " + tok, tok, nil},
		{"  Bearer   " + tok + " \t", tok, nil},
		{"Bearer abc==", "abc==", nil},
		{"", "", verifier.ErrNoBearer},
		{"Basic dXNlcjpwYXNz", "", verifier.ErrNoBearer},
		{"Bear", "", verifier.ErrNoBearer},
		{"Bearerabc", "", verifier.ErrNoBearer},
		{"DPoP " + tok, "", verifier.ErrNoBearer},
		{"Bearer", "", verifier.ErrBadBearer},
		{"Bearer ", "", verifier.ErrBadBearer},
		{"Bearer    ", "", verifier.ErrBadBearer},
		{"Bearer\t" + tok, "", verifier.ErrBadBearer},
		{"Bearer,abc", "", verifier.ErrBadBearer},
		{"Bearer abc def", "", verifier.ErrBadBearer},
		{"Bearer abc\tdef", "", verifier.ErrBadBearer},
		{"Bearer abc=def", "", verifier.ErrBadBearer},
		{"Bearer =abc", "", verifier.ErrBadBearer},
		{"Bearer abc\x00", "", verifier.ErrBadBearer},
		{"Bearer \"abc\"", "", verifier.ErrBadBearer},
		{"Bearer abcé", "", verifier.ErrBadBearer},
		{"Bearer " + strings.Repeat("a", verifier.MaxTokenSize), strings.Repeat("a", verifier.MaxTokenSize), nil},
		{"Bearer " + strings.Repeat("a", verifier.MaxTokenSize+1), "", verifier.ErrBadBearer},
	}
	for _, tt := range tests {
		got, err := verifier.ParseBearer(tt.header)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("ParseBearer(%.40q) = %.20q, %v; want %.20q, %v", tt.header, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestVerifyCacheExpiry(t *testing.T) {
	m := testtoken.Keys(t)
	clock := now
	v, err := verifier.New(verifier.Config{
		Issuer: cognitoIss, ClientID: clientID, Cognito: true, JWKS: m.JWKS(),
		ClockSkew: skew, Now: func() time.Time { return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Minute)
	tok := m.Sign(t, testtoken.CognitoAccess(cognitoIss, clientID, "u", []string{"g"}, exp))
	ctx := context.Background()
	first, err := v.Verify(ctx, tok, verifier.UseAccess)
	if err != nil {
		t.Fatal(err)
	}
	first.Groups[0] = "admins" // must not reach the cache
	first.Claims["sub"] = "someone else"
	second, err := v.Verify(ctx, tok, verifier.UseAccess)
	if err != nil {
		t.Fatal(err)
	}
	if second.Groups[0] != "g" || second.Claims["sub"] != "u" || second.Subject != "u" {
		t.Errorf("cached identity was changed through a returned copy: %+v", second)
	}
	// The cache is keyed by use: a cached access token is still no ID token.
	if _, err := v.Verify(ctx, tok, verifier.UseID); !errors.Is(err, verifier.ErrTokenUse) {
		t.Errorf("Verify(cached access token, UseID) = %v, want ErrTokenUse", err)
	}
	clock = exp.Add(skew + time.Second)
	if id, err := v.Verify(ctx, tok, verifier.UseAccess); !errors.Is(err, verifier.ErrExpired) {
		t.Errorf("Verify after exp = %+v, %v; want ErrExpired, not a cache hit", id, err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	m := testtoken.Keys(t)
	v, err := verifier.New(verifier.Config{Issuer: cognitoIss, ClientID: clientID, Cognito: true, JWKS: m.JWKS(), Now: fixedClock, CacheSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var toks []string
	for i := range 8 {
		toks = append(toks, m.Sign(t, testtoken.CognitoAccess(cognitoIss, clientID, "u"+string(rune('a'+i)), nil, inAnHour)))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				tok := toks[(g+i)%len(toks)]
				id, err := v.Verify(context.Background(), tok, verifier.UseAccess)
				if err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
				id.Claims["sub"] = "x" // each caller owns its copy
			}
		})
	}
	wg.Wait()
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc.def.ghi", "bearer  a==", "Basic x", "Bearer", "Bearer a b", "", "Bearer\x00", "Bearer ==="} {
		f.Add(s)
	}
	// Seeds from testdata: the seed event's header and a minted token.
	b, err := os.ReadFile(filepath.Join(testtoken.ModuleRoot(f), "testdata", "events", "seed-bearer-viewer-request.json"))
	if err != nil {
		f.Fatal(err)
	}
	ev, err := edge.DecodeEvent(b)
	if err != nil {
		f.Fatal(err)
	}
	req, _, _ := ev.Request()
	f.Add(req.Headers.Get("authorization"))
	f.Add("Bearer " + testtoken.Keys(f).Sign(f, map[string]any{"sub": "x"}))
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := verifier.ParseBearer(header)
		if err != nil {
			if tok != "" || !(errors.Is(err, verifier.ErrNoBearer) || errors.Is(err, verifier.ErrBadBearer)) {
				t.Fatalf("ParseBearer(%q) = %q, %v", header, tok, err)
			}
			return
		}
		if tok == "" || len(tok) > verifier.MaxTokenSize || strings.ContainsAny(tok, " \t\r\n") {
			t.Fatalf("ParseBearer(%q) = %q, want a non-empty b64token", header, tok)
		}
		if again, err := verifier.ParseBearer("Bearer " + tok); again != tok || err != nil {
			t.Fatalf("ParseBearer round trip of %q = %q, %v", tok, again, err)
		}
	})
}

// FuzzVerify runs arbitrary tokens through a Cognito verifier and through
// an OIDC verifier that allows every supported algorithm (so the EC, Ed25519
// and PSS paths and the token-typing rules are explored too).
func FuzzVerify(f *testing.F) {
	m := testtoken.Keys(f)
	v := newVerifier(f, true, m.JWKS())
	es := testtoken.NewKey(f, "es", "ES256")
	ed := testtoken.NewKey(f, "ed", "EdDSA")
	ps := testtoken.NewKey(f, "ps", "PS256")
	all, err := verifier.New(verifier.Config{
		Issuer: oidcIss, ClientID: clientID, Audiences: []string{api}, UntypedAccessTokens: true,
		Algorithms: verifier.SupportedAlgorithms(), GroupsClaim: "realm_access.roles", ClaimPaths: []string{"tenant.id"},
		JWKS: testtoken.JWKSOf(f, es.JWK(true), ed.JWK(false), ps.JWK(true)), ClockSkew: skew, Now: fixedClock, CacheSize: -1,
	})
	if err != nil {
		f.Fatal(err)
	}
	claims := testtoken.CognitoAccess(cognitoIss, clientID, "u", []string{"g"}, inAnHour)
	f.Add(m.Sign(f, claims))
	f.Add(m.SignWith(f, "", "none", claims))
	f.Add(m.SignWith(f, testtoken.KeyID1, "HS256", claims))
	f.Add("...")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3Qta2V5LTEifQ.e30.")
	f.Add("a.b.c")
	for _, k := range []*testtoken.Key{es, ed, ps} {
		f.Add(k.SignHeader(f, typed(k.Alg, k.KeyID), accessClaims(oidcIss)))
		f.Add(k.Sign(f, with(accessClaims(oidcIss), "nonce", "n", "realm_access", map[string]any{"roles": []any{"a"}})))
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, v := range []*verifier.Verifier{v, all} {
			id, err := v.Verify(context.Background(), raw, verifier.UseAny)
			if err == nil {
				if id == nil || id.Subject == "" || (id.TokenUse != verifier.UseAccess && id.TokenUse != verifier.UseID) {
					t.Fatalf("Verify(%q) = %+v, nil", raw, id)
				}
				continue
			}
			if !slices.ContainsFunc(allSentinel, func(s error) bool { return errors.Is(err, s) }) {
				t.Fatalf("Verify(%q) error %v matches no sentinel", raw, err)
			}
		}
	})
}

// The b64token bitmasks name exactly RFC 6750's characters.
func TestParseBearerCharacters(t *testing.T) {
	const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
	for c := 0; c < 256; c++ {
		_, err := verifier.ParseBearer("Bearer a" + string(rune(c)) + "b")
		if c >= 0x80 {
			_, err = verifier.ParseBearer("Bearer a" + string([]byte{byte(c)}) + "b")
		}
		if want := strings.IndexByte(allowed, byte(c)) >= 0 && c < 0x80; (err == nil) != want {
			t.Errorf("ParseBearer with %q: err = %v, want allowed %v", byte(c), err, want)
		}
	}
}
