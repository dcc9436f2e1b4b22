package testtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
)

// Key is a signing key for one JWS algorithm: RS256, RS384, RS512, PS256,
// PS384, PS512 (the repository's RSA test key 1), ES256 (a fresh P-256 key),
// ES384 (a fresh P-384 key) or EdDSA (a fresh Ed25519 key). It signs with
// the standard library only.
type Key struct {
	// KeyID is the kid its tokens and its JWK carry.
	KeyID string
	// Alg is the algorithm it signs with, whatever a header says.
	Alg    string
	signer crypto.Signer
}

// NewKey returns a key for alg under kid; it fails the test for an
// algorithm it does not know.
func NewKey(t testing.TB, kid, alg string) *Key {
	t.Helper()
	k, err := newKey(kid, alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKey(kid, alg string) (*Key, error) {
	var signer crypto.Signer
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		m, lerr := Load()
		if lerr != nil {
			return nil, lerr
		}
		signer = m.keys[KeyID1]
	case "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EdDSA":
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("testtoken: no key for alg %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("testtoken: generate %s key: %w", alg, err)
	}
	return &Key{KeyID: kid, Alg: alg, signer: signer}, nil
}

// Sign signs claims under the header {"alg": k.Alg, "kid": k.KeyID}.
func (k *Key) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return k.SignHeader(t, map[string]any{"alg": k.Alg, "kid": k.KeyID}, claims)
}

// SignHeader signs claims with k's own algorithm under any header: a
// header naming another alg or kid makes a confusion case.
func (k *Key) SignHeader(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	tok, err := compact(header, claims, func(input string) ([]byte, error) { return sign(k.signer, k.Alg, input) })
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// SignInput returns the base64url signature of a JWS signing input
// written as the caller likes (any header bytes, any encoding of the
// segments): for differential tests that must sign what no map marshals.
func (k *Key) SignInput(t testing.TB, input string) string {
	t.Helper()
	sig, err := sign(k.signer, k.Alg, input)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sig)
}

// JWK is k's public key as a JSON Web Key with kid and "use": "sig", and
// "alg" when withAlg.
func (k *Key) JWK(withAlg bool) map[string]any {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	j := map[string]any{"kid": k.KeyID, "use": "sig"}
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		j["kty"], j["n"], j["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		// The uncompressed point, 0x04 || x || y; keys made here are on
		// their curve, so ECDH cannot fail.
		point, _ := pub.ECDH()
		raw := point.Bytes()
		j["kty"], j["crv"], j["x"], j["y"] = "EC", pub.Curve.Params().Name, b64(raw[1:1+size]), b64(raw[1+size:])
	case ed25519.PublicKey:
		j["kty"], j["crv"], j["x"] = "OKP", "Ed25519", b64(pub)
	}
	if withAlg {
		j["alg"] = k.Alg
	}
	return j
}

// JWKSOf writes a JSON Web Key Set of the given JWKs (see [Key.JWK]).
func JWKSOf(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign makes a JWS signature of input (RFC 7518 §3): PKCS #1 v1.5 for
// RS*, PSS with a salt as long as the hash for PS*, r||s of fixed width for
// ES*, and Ed25519 for EdDSA.
func sign(key crypto.Signer, alg, input string) ([]byte, error) {
	hashes := map[string]crypto.Hash{
		"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
		"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
		"ES256": crypto.SHA256, "ES384": crypto.SHA384,
	}
	if alg == "EdDSA" {
		k, ok := key.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("testtoken: EdDSA needs an Ed25519 key, got %T", key)
		}
		return ed25519.Sign(k, []byte(input)), nil
	}
	h, ok := hashes[alg]
	if !ok {
		return nil, fmt.Errorf("testtoken: unsupported alg %q", alg)
	}
	hh := h.New()
	hh.Write([]byte(input))
	sum := hh.Sum(nil)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		switch alg[:2] {
		case "RS":
			return rsa.SignPKCS1v15(rand.Reader, k, h, sum)
		case "PS":
			return rsa.SignPSS(rand.Reader, k, h, sum, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
		}
	case *ecdsa.PrivateKey:
		if alg[:2] != "ES" {
			break
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, sum)
		if err != nil {
			return nil, fmt.Errorf("testtoken: sign: %w", err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	}
	return nil, fmt.Errorf("testtoken: alg %q does not fit a %T", alg, key)
}
