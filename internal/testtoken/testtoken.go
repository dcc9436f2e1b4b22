// Package testtoken mints JWTs with the repository's test keys
// (testdata/keys, FOR TESTS ONLY) so that every package can test against
// real signed tokens and the matching pinned JWKS.
//
// It signs with the standard library (crypto/rsa, crypto/hmac) rather than
// jwx, so the verifier's tests do not check jwx against itself.
package testtoken

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Key ids of the two test keys, as they appear in testdata/keys/jwks.json.
const (
	KeyID1 = "test-key-1"
	KeyID2 = "test-key-2"
)

// modulePath identifies the repository's go.mod when walking up.
const modulePath = "module github.com/edgeauth/edgeauth"

// Minter signs test tokens with the test keys.
type Minter struct {
	keys map[string]*rsa.PrivateKey
	pems map[string][]byte // public keys in PEM, the classic HS256-confusion secret
	jwks []byte
}

// Keys reads the test keys and JWKS from the repository's testdata/keys.
// It fails the test when they cannot be read.
func Keys(t testing.TB) *Minter {
	t.Helper()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Load is Keys for code without a testing.TB, such as Example functions.
func Load() (*Minter, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "testdata", "keys")
	m := &Minter{keys: map[string]*rsa.PrivateKey{}, pems: map[string][]byte{}}
	for _, kid := range []string{KeyID1, KeyID2} {
		b, err := os.ReadFile(filepath.Join(dir, kid+".pem"))
		if err != nil {
			return nil, fmt.Errorf("testtoken: %w", err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("testtoken: %s.pem: no PEM block", kid)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("testtoken: %s.pem: %w", kid, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("testtoken: %s.pem: not an RSA key", kid)
		}
		m.keys[kid] = rk
		der, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("testtoken: %s: %w", kid, err)
		}
		m.pems[kid] = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	jwks, err := os.ReadFile(filepath.Join(dir, "jwks.json"))
	if err != nil {
		return nil, fmt.Errorf("testtoken: %w", err)
	}
	m.jwks = jwks
	return m, nil
}

// ModuleRoot returns the directory holding the repository's go.mod, found by
// walking up from this source file (and, failing that, from the working
// directory), so it does not depend on where the test runs.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func moduleRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && bytes.HasPrefix(b, []byte(modulePath+"\n")) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("testtoken: cannot find the module root (%s)", modulePath)
}

// JWKS returns the public key set of both test keys (testdata/keys/jwks.json).
func (m *Minter) JWKS() []byte { return bytes.Clone(m.jwks) }

// PublicKey returns the public half of a test key, or nil for an unknown kid.
func (m *Minter) PublicKey(kid string) *rsa.PublicKey {
	if k, ok := m.keys[kid]; ok {
		return &k.PublicKey
	}
	return nil
}

// Sign returns claims signed RS256 with test-key-1, with the header
// {"alg":"RS256","kid":"test-key-1"} that Cognito uses (no typ).
func (m *Minter) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return m.SignWith(t, KeyID1, "RS256", claims)
}

// SignWith signs for negative cases. kid names the header's kid and picks
// the key (test-key-2 for "test-key-2", else test-key-1, so an unknown kid
// still carries a real signature); "" leaves kid out. alg is an RSA
// algorithm (RS256, RS384, RS512, PS256, PS384, PS512),
// "HS256"/"HS384"/"HS512" (keyed with the public key's PEM, the classic
// algorithm-confusion attack), or "none" (empty signature).
func (m *Minter) SignWith(t testing.TB, kid, alg string, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg}
	if kid != "" {
		h["kid"] = kid
	}
	return m.SignHeader(t, h, claims)
}

// SignHeader signs claims under an arbitrary protected header, e.g. with
// "typ": "at+jwt" (RFC 9068). The header's "alg" and "kid" choose the
// algorithm and key as in SignWith.
func (m *Minter) SignHeader(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	tok, err := m.Mint(header, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Mint is SignHeader for code without a testing.TB, such as Example
// functions.
func (m *Minter) Mint(header, claims map[string]any) (string, error) {
	kid, _ := header["kid"].(string)
	key, ok := m.keys[kid]
	if !ok {
		key, kid = m.keys[KeyID1], KeyID1
	}
	alg, _ := header["alg"].(string)
	return compact(header, claims, func(input string) ([]byte, error) {
		switch alg {
		case "HS256", "HS384", "HS512":
			hf := map[string]crypto.Hash{"HS256": crypto.SHA256, "HS384": crypto.SHA384, "HS512": crypto.SHA512}[alg]
			mac := hmac.New(hf.New, m.pems[kid])
			mac.Write([]byte(input))
			return mac.Sum(nil), nil
		case "none":
			return nil, nil
		}
		return sign(key, alg, input)
	})
}

// compact writes a compact JWS of header and claims, signed by sign over
// the signing input.
func compact(header, claims map[string]any, sign func(input string) ([]byte, error)) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("testtoken: header: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("testtoken: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	sig, err := sign(input)
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// CognitoAccess returns the claims of a Cognito access token: token_use
// access, client_id (no aud), username, scope, cognito:groups (left out when
// nil). iat is an hour before exp.
func CognitoAccess(iss, clientID, sub string, groups []string, exp time.Time) map[string]any {
	c := map[string]any{
		"iss":       iss,
		"sub":       sub,
		"client_id": clientID,
		"token_use": "access",
		"scope":     "openid email profile",
		"username":  sub,
		"auth_time": exp.Add(-time.Hour).Unix(),
		"iat":       exp.Add(-time.Hour).Unix(),
		"exp":       exp.Unix(),
		"jti":       "jti-" + sub,
	}
	if groups != nil {
		c["cognito:groups"] = groups
	}
	return c
}

// CognitoID returns the claims of a Cognito ID token: token_use id, aud the
// client id, cognito:username, email, nonce (left out when empty),
// cognito:groups (left out when nil).
func CognitoID(iss, clientID, sub, nonce string, groups []string, exp time.Time) map[string]any {
	c := map[string]any{
		"iss":              iss,
		"sub":              sub,
		"aud":              clientID,
		"token_use":        "id",
		"cognito:username": sub,
		"email":            sub + "@example.com",
		"email_verified":   true,
		"auth_time":        exp.Add(-time.Hour).Unix(),
		"iat":              exp.Add(-time.Hour).Unix(),
		"exp":              exp.Unix(),
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if groups != nil {
		c["cognito:groups"] = groups
	}
	return c
}

// OIDCID returns the claims of a generic OIDC ID token as Dex issues it:
// aud the client id, email, name, preferred_username, groups (left out when
// nil), nonce (left out when empty); no token_use and no scope.
func OIDCID(iss, clientID, sub, nonce string, groups []string, exp time.Time) map[string]any {
	c := map[string]any{
		"iss":                iss,
		"sub":                sub,
		"aud":                clientID,
		"email":              sub + "@example.com",
		"email_verified":     true,
		"name":               sub,
		"preferred_username": sub,
		"iat":                exp.Add(-time.Hour).Unix(),
		"exp":                exp.Unix(),
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if groups != nil {
		c["groups"] = groups
	}
	return c
}

// OIDCAccess returns the claims of a generic OIDC JWT access token: aud and
// client_id the client id, a scope claim (which marks it as an access token
// for issuers without token_use or typ at+jwt), groups (left out when nil).
func OIDCAccess(iss, clientID, sub string, groups []string, exp time.Time) map[string]any {
	c := map[string]any{
		"iss":       iss,
		"sub":       sub,
		"aud":       clientID,
		"client_id": clientID,
		"scope":     "openid email profile",
		"iat":       exp.Add(-time.Hour).Unix(),
		"exp":       exp.Unix(),
		"jti":       "jti-" + sub,
	}
	if groups != nil {
		c["groups"] = groups
	}
	return c
}
