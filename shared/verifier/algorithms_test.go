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

// accessClaims are an RFC 9068 access token's claims for the API.
func accessClaims(iss string) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "user-9", "aud": api, "client_id": clientID, "scope": "api:read",
		"iat": now.Add(-time.Minute).Unix(), "exp": inAnHour.Unix(), "jti": "j-1",
	}
}

const api = "https://api.example.test"

func algVerifier(t testing.TB, jwks []byte, algs ...string) *verifier.Verifier {
	t.Helper()
	v, err := verifier.New(verifier.Config{
		Issuer: oidcIss, ClientID: clientID, Audiences: []string{api}, Algorithms: algs,
		JWKS: jwks, ClockSkew: skew, Now: fixedClock, CacheSize: -1,
	})
	if err != nil {
		t.Fatalf("New(%v): %v", algs, err)
	}
	return v
}

func typed(alg, kid string) map[string]any {
	return map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}
}

// TestEveryAllowedAlgorithm: a token of each supported algorithm verifies
// against a config that allows it, with the key published with or without
// its alg, and is refused by the default RS256-only config (or, for RS256,
// by one that allows only another algorithm).
func TestEveryAllowedAlgorithm(t *testing.T) {
	want := []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
	if got := verifier.SupportedAlgorithms(); !slices.Equal(got, want) {
		t.Fatalf("SupportedAlgorithms() = %v, want %v", got, want)
	}
	for _, alg := range want {
		t.Run(alg, func(t *testing.T) {
			k := testtoken.NewKey(t, "k-"+alg, alg)
			tok := k.SignHeader(t, typed(alg, k.KeyID), accessClaims(oidcIss))
			for _, withAlg := range []bool{true, false} {
				v := algVerifier(t, testtoken.JWKSOf(t, k.JWK(withAlg)), alg)
				id, err := v.Verify(context.Background(), tok, verifier.UseAccess)
				if err != nil || id.Subject != "user-9" || id.TokenUse != verifier.UseAccess {
					t.Errorf("Verify(%s, key alg named %v) = %+v, %v", alg, withAlg, id, err)
				}
				if got := v.KeySet(); len(got.Loaded) != 1 || got.Loaded[0].Algorithm != alg {
					t.Errorf("KeySet = %+v, want the key bound to %s", got, alg)
				}
			}
			// Refused where it is not allowed: by the algorithm check, before
			// any key is looked up.
			other := "RS256"
			if alg == "RS256" {
				other = "PS256"
			}
			rsa := testtoken.NewKey(t, "rsa", other)
			v := algVerifier(t, testtoken.JWKSOf(t, k.JWK(true), rsa.JWK(true)), other)
			if _, err := v.Verify(context.Background(), tok, verifier.UseAccess); !errors.Is(err, verifier.ErrSignature) {
				t.Errorf("Verify(%s) with only %s allowed = %v, want ErrSignature", alg, other, err)
			}
		})
	}
}

// TestAlgorithmConfusion: the algorithm is never taken from the token
// alone. The key kid names is bound to one algorithm (its alg, or its type
// and curve), and a header naming another is refused before the signature
// is checked, whatever the allowlist holds.
func TestAlgorithmConfusion(t *testing.T) {
	all := verifier.SupportedAlgorithms()
	rs := testtoken.NewKey(t, "rsa-rs256", "RS256")
	ps := testtoken.NewKey(t, "rsa-ps256", "PS256")
	es256 := testtoken.NewKey(t, "ec-p256", "ES256")
	es384 := testtoken.NewKey(t, "ec-p384", "ES384")
	ed := testtoken.NewKey(t, "ed", "EdDSA")
	// An RSA key published without alg is bound to the first allowed RSA
	// algorithm: RS256 here, as all lists it first.
	rsNoAlg := testtoken.NewKey(t, "rsa-no-alg", "RS256")
	jwks := testtoken.JWKSOf(t, rs.JWK(true), ps.JWK(true), es256.JWK(true), es384.JWK(false), ed.JWK(true), withKid(rsNoAlg.JWK(false), "rsa-no-alg"))
	v := algVerifier(t, jwks, all...)
	rsOnly := algVerifier(t, testtoken.JWKSOf(t, rs.JWK(true), withKid(ps.JWK(false), "rsa-ps256")), "RS256")
	claims := accessClaims(oidcIss)

	tests := []struct {
		name string
		v    *verifier.Verifier
		tok  string
		want error
	}{
		{"RSA key with an ES256 header", v, rs.SignHeader(t, typed("ES256", rs.KeyID), claims), verifier.ErrSignature},
		{"EC key with an RS256 header", v, es256.SignHeader(t, typed("RS256", es256.KeyID), claims), verifier.ErrSignature},
		{"EC key with a PS256 header", v, es256.SignHeader(t, typed("PS256", es256.KeyID), claims), verifier.ErrSignature},
		{"Ed25519 key with an ES256 header", v, ed.SignHeader(t, typed("ES256", ed.KeyID), claims), verifier.ErrSignature},
		{"EC key with an EdDSA header", v, es256.SignHeader(t, typed("EdDSA", es256.KeyID), claims), verifier.ErrSignature},
		{"ES256 header with the P-384 key", v, es384.SignHeader(t, typed("ES256", es384.KeyID), claims), verifier.ErrSignature},
		{"ES384 header with the P-256 key", v, es256.SignHeader(t, typed("ES384", es256.KeyID), claims), verifier.ErrSignature},
		// The RSA keys here share one key pair, so these signatures are
		// genuine: only the binding of key to algorithm refuses them.
		{"key alg PS256, a real RS256 signature", v, rs.SignHeader(t, typed("RS256", ps.KeyID), claims), verifier.ErrSignature},
		{"key alg RS256, a real PS256 signature", v, ps.SignHeader(t, typed("PS256", rs.KeyID), claims), verifier.ErrSignature},
		{"key alg RS256, a real RS512 signature", v, testtoken.NewKey(t, rs.KeyID, "RS512").Sign(t, claims), verifier.ErrSignature},
		{"RSA key without alg (bound to RS256), a real PS256 signature", v, ps.SignHeader(t, typed("PS256", "rsa-no-alg"), claims), verifier.ErrSignature},
		{"key alg RS256, header PS256 on an RS256 signature", v, rs.SignHeader(t, typed("PS256", rs.KeyID), claims), verifier.ErrSignature},
		{"PS token against an RS-only config", rsOnly, ps.SignHeader(t, typed("PS256", ps.KeyID), claims), verifier.ErrSignature},
		{"HS256 header on the RSA key", v, rs.SignHeader(t, typed("HS256", rs.KeyID), claims), verifier.ErrSignature},
		{"none", v, rs.SignHeader(t, typed("none", rs.KeyID), claims), verifier.ErrSignature},
		{"an algorithm that does not exist", v, rs.SignHeader(t, typed("XS256", rs.KeyID), claims), verifier.ErrSignature},
		{"right algorithm, another key's kid", v, es256.SignHeader(t, typed("ES384", es384.KeyID), claims), verifier.ErrSignature},

		{"RSA key without alg, header RS256", v, rsNoAlg.SignHeader(t, typed("RS256", "rsa-no-alg"), claims), nil},
		{"P-384 key without alg, ES384", v, es384.Sign(t, claims), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(context.Background(), tt.tok, verifier.UseAccess)
			if tt.want == nil && err != nil && errors.Is(err, verifier.ErrSignature) {
				t.Fatalf("Verify = %v, want it to pass the signature check", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func withKid(j map[string]any, kid string) map[string]any {
	j["kid"] = kid
	return j
}

// TestKeySetAsPublished: key sets as providers publish them load, keeping
// the keys an allowed algorithm can use and reporting the rest.
func TestKeySetAsPublished(t *testing.T) {
	rs := testtoken.NewKey(t, "rs", "RS256")
	es := testtoken.NewKey(t, "es", "ES256")
	es384 := testtoken.NewKey(t, "es384", "ES384")
	ed := testtoken.NewKey(t, "ed", "EdDSA")
	enc := withKid(rs.JWK(false), "kc-enc") // Keycloak's RSA-OAEP key
	enc["use"], enc["alg"] = "enc", "RSA-OAEP"
	entra := withKid(rs.JWK(false), "entra") // as Entra ID publishes: no alg, x5t and issuer members
	entra["x5t"], entra["issuer"] = "abc", "https://login.microsoftonline.com/t/v2.0"
	x25519 := map[string]any{"kty": "OKP", "crv": "X25519", "kid": "x", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}
	akp := map[string]any{"kty": "AKP", "alg": "ML-DSA-44", "kid": "pq", "pub": "AAAA"}
	p521 := map[string]any{"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA"}
	wrongAlg := withKid(rs.JWK(false), "rsa-says-es")
	wrongAlg["alg"] = "ES256"
	set := testtoken.JWKSOf(t, rs.JWK(true), enc, entra, es.JWK(true), es384.JWK(true), ed.JWK(false), x25519, akp, p521, wrongAlg)

	v := algVerifier(t, set, "RS256", "ES256", "EdDSA")
	got := v.KeySet()
	want := "4 loaded (rs RS256, entra RS256, es ES256, ed EdDSA), 6 skipped (kc-enc: use \"enc\"; es384: alg \"ES384\" not allowed; " +
		"x: curve \"X25519\" not supported; pq: kty \"AKP\" not supported; p521: curve \"P-521\" not supported; rsa-says-es: alg \"ES256\" does not fit kty \"RSA\")"
	if got.String() != want {
		t.Errorf("KeySet:\n got %s\nwant %s", got, want)
	}
	// Nothing skipped: the count alone, no empty parentheses.
	if got, want := algVerifier(t, testtoken.JWKSOf(t, rs.JWK(true)), "RS256").KeySet().String(), "1 loaded (rs RS256), 0 skipped"; got != want {
		t.Errorf("KeySet of one key = %q, want %q", got, want)
	}
	for _, k := range []*testtoken.Key{rs, es, ed} {
		if _, err := v.Verify(context.Background(), k.SignHeader(t, typed(k.Alg, k.KeyID), accessClaims(oidcIss)), verifier.UseAccess); err != nil {
			t.Errorf("Verify with %s (%s) = %v", k.KeyID, k.Alg, err)
		}
	}
	if _, err := v.Verify(context.Background(), es384.SignHeader(t, typed("ES384", "es384"), accessClaims(oidcIss)), verifier.UseAccess); !errors.Is(err, verifier.ErrSignature) {
		t.Errorf("Verify with the skipped ES384 key = %v, want ErrSignature (ES384 not allowed)", err)
	}
	// The Entra-style key, published without alg, verifies RS256.
	if _, err := v.Verify(context.Background(), rs.SignHeader(t, typed("RS256", "entra"), accessClaims(oidcIss)), verifier.UseAccess); err != nil {
		t.Errorf("Verify with the key published without alg = %v", err)
	}
}

func TestAlgorithmsConfig(t *testing.T) {
	good := testtoken.Keys(t).JWKS()
	for _, tt := range []struct {
		algs      []string
		wantField string
		want      string
	}{
		{[]string{"HS256"}, "algorithms[0]", `"HS256" is never accepted`},
		{[]string{"RS256", "hs512"}, "algorithms[1]", "never accepted"},
		{[]string{"none"}, "algorithms[0]", "never accepted"},
		{[]string{"ES512"}, "algorithms[0]", `"ES512" is not supported; want one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA`},
		{[]string{"rs256"}, "algorithms[0]", "not supported"},
		{[]string{"RS256", "RS256"}, "algorithms[1]", "appears twice"},
		{[]string{"ES256"}, "jwks.keys", "has no signing key for the allowed algorithms (ES256)"},
	} {
		_, err := verifier.New(verifier.Config{Issuer: oidcIss, ClientID: clientID, JWKS: good, Algorithms: tt.algs})
		ce, ok := errors.AsType[*verifier.ConfigError](err)
		if !ok || ce.Field != tt.wantField || !strings.Contains(ce.Problem, tt.want) {
			t.Errorf("New(algorithms %v) = %v; want %s saying %q", tt.algs, err, tt.wantField, tt.want)
		}
	}
}
