package testtoken

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestJWKSMatchesKeys checks that jwks.json holds the public halves of the
// PEM files under their kids, so a regenerated key cannot drift.
func TestJWKSMatchesKeys(t *testing.T) {
	m := Keys(t)
	var set struct {
		Keys []struct{ Kid, Kty, Alg, Use, N, E string }
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("jwks has %d keys, want 2", len(set.Keys))
	}
	for _, k := range set.Keys {
		pub := m.PublicKey(k.Kid)
		if pub == nil {
			t.Fatalf("jwks kid %q has no PEM", k.Kid)
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		if new(big.Int).SetBytes(n).Cmp(pub.N) != 0 || new(big.Int).SetBytes(e).Int64() != int64(pub.E) {
			t.Errorf("jwks key %q does not match %s.pem", k.Kid, k.Kid)
		}
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
			t.Errorf("jwks key %q = %s/%s/%s, want RSA/RS256/sig", k.Kid, k.Kty, k.Alg, k.Use)
		}
	}
}

func TestSignWith(t *testing.T) {
	m := Keys(t)
	claims := CognitoAccess("https://issuer", "client", "user-1", []string{"admins"}, time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC))
	tests := []struct {
		kid, alg   string
		wantHeader string
		verifyKid  string // key whose RS256 signature must verify, "" for none
	}{
		{KeyID1, "RS256", `{"alg":"RS256","kid":"test-key-1"}`, KeyID1},
		{KeyID2, "RS256", `{"alg":"RS256","kid":"test-key-2"}`, KeyID2},
		{"unknown", "RS256", `{"alg":"RS256","kid":"unknown"}`, KeyID1},
		{"", "RS256", `{"alg":"RS256"}`, KeyID1},
		{KeyID1, "HS256", `{"alg":"HS256","kid":"test-key-1"}`, ""},
		{"", "none", `{"alg":"none"}`, ""},
	}
	for _, tt := range tests {
		tok := m.SignWith(t, tt.kid, tt.alg, claims)
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("SignWith(%q, %q) has %d parts", tt.kid, tt.alg, len(parts))
		}
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		if string(h) != tt.wantHeader {
			t.Errorf("SignWith(%q, %q) header = %s, want %s", tt.kid, tt.alg, h, tt.wantHeader)
		}
		if tt.verifyKid == "" {
			continue
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(m.PublicKey(tt.verifyKid), crypto.SHA256, sum[:], sig); err != nil {
			t.Errorf("SignWith(%q, %q): signature does not verify with %s: %v", tt.kid, tt.alg, tt.verifyKid, err)
		}
	}
	if tok := m.SignWith(t, "", "none", claims); !strings.HasSuffix(tok, ".") {
		t.Errorf("alg none token %q should have an empty signature", tok)
	}
}
