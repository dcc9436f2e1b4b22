package verifier_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

func benchToken(b *testing.B) (*testtoken.Minter, string) {
	m := testtoken.Keys(b)
	groups := []string{"admins", "staff", "readers", "writers"}
	return m, m.Sign(b, testtoken.CognitoAccess(cognitoIss, clientID, "5f3b1c2e-0d1a-4d7e-9b7a-2c1e0f9a8b7c", groups, inAnHour))
}

// BenchmarkVerifyFirstSeen is a token never seen before: the cache is off,
// so every iteration pays the signature verification and claim parsing.
// cognito-RS256 is a Cognito access token; the others are RFC 9068 access
// tokens (typ at+jwt) signed with each algorithm the config may allow.
//
// cognito-RS256 also measures the RSA floor beside itself, in alternation
// (x-rsa-floor: its ns/op over the floor's over the same interval).
func BenchmarkVerifyFirstSeen(b *testing.B) {
	b.Run("cognito-RS256", func(b *testing.B) {
		m, tok := benchToken(b)
		v := newVerifier(b, true, m.JWKS())
		ctx := context.Background()
		floor := testtoken.NewFloorMeter(b, 2)
		defer floor.Report()
		b.ReportAllocs()
		for b.Loop() {
			floor.Tick()
			if _, err := v.Verify(ctx, tok, verifier.UseAccess); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, alg := range verifier.SupportedAlgorithms() {
		b.Run(alg, func(b *testing.B) {
			k := testtoken.NewKey(b, "k-"+alg, alg)
			claims := accessClaims(oidcIss)
			claims["groups"] = []string{"admins", "staff", "readers", "writers"}
			tok := k.SignHeader(b, typed(alg, k.KeyID), claims)
			v := algVerifier(b, testtoken.JWKSOf(b, k.JWK(true)), alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok, verifier.UseAccess); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCached is a token already verified: a hash and a lookup.
func BenchmarkVerifyCached(b *testing.B) {
	m, tok := benchToken(b)
	v, err := verifier.New(verifier.Config{Issuer: cognitoIss, ClientID: clientID, Cognito: true, JWKS: m.JWKS(), ClockSkew: skew, Now: fixedClock})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok, verifier.UseAccess); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWTParseWithKey is the alternative Verify does not use: jwt.Parse
// with jwt.WithKey for the one key the kid names, verifying and validating
// in one call (Cognito rules and Identity building left out). Kept to
// compare against BenchmarkVerifyFirstSeen.
func BenchmarkJWTParseWithKey(b *testing.B) {
	m, tok := benchToken(b)
	pub := m.PublicKey(testtoken.KeyID1)
	buf := []byte(tok)
	b.ReportAllocs()
	for b.Loop() {
		t, err := jwt.Parse(buf, jwt.WithKey(jwa.RS256(), pub), jwt.WithIssuer(cognitoIss),
			jwt.WithClock(jwt.ClockFunc(fixedClock)), jwt.WithAcceptableSkew(skew))
		if err != nil {
			b.Fatal(err)
		}
		var groups []any
		if err := t.Get("cognito:groups", &groups); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSAFloor is SHA-256 plus rsa.VerifyPKCS1v15 on the same token:
// the floor for any RS256 verification.
func BenchmarkRSAFloor(b *testing.B) {
	m, tok := benchToken(b)
	pub := m.PublicKey(testtoken.KeyID1)
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256([]byte(tok[:i]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseBearer is the Authorization header of every Bearer request.
func BenchmarkParseBearer(b *testing.B) {
	_, tok := benchToken(b)
	h := "Bearer " + tok
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verifier.ParseBearer(h); err != nil {
			b.Fatal(err)
		}
	}
}
