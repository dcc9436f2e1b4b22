package verifier

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// SupportedAlgorithms lists the JWS algorithms Config.Algorithms may
// allow. HMAC (HS*) and "none" are never accepted: a published key set holds
// public keys, and a shared secret would let anyone who holds it sign.
func SupportedAlgorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
}

// signingKey is a pinned key bound to the one algorithm it verifies: the
// key's own alg, or, for a key that names none, the algorithm its type
// implies (the curve for EC and OKP; the first allowed RSA algorithm for
// RSA). RFC 8725 §3.1: each key is used with exactly one algorithm.
type signingKey struct {
	alg jwa.SignatureAlgorithm
	pub any // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey

	// What the fast path verifies with, worked out once at load: the
	// hash, the scheme, and for ECDSA the width of r and s.
	hash   crypto.Hash
	scheme scheme
	pss    *rsa.PSSOptions
	ecSize int
}

// scheme is a signature scheme the fast path verifies with the standard
// library, exactly as jwx's dsig does.
type scheme uint8

const (
	schemePKCS1 scheme = iota + 1
	schemePSS
	schemeECDSA
	schemeEd25519
)

// bind fills in the fast path's verification material for k.alg.
func (k *signingKey) bind() {
	name := k.alg.String()
	switch name[2:] {
	case "256":
		k.hash = crypto.SHA256
	case "384":
		k.hash = crypto.SHA384
	case "512":
		k.hash = crypto.SHA512
	}
	switch {
	case strings.HasPrefix(name, "RS"):
		k.scheme = schemePKCS1
	case strings.HasPrefix(name, "PS"):
		k.scheme = schemePSS
		// dsig's options: a salt as long as the hash (RFC 7518 §3.5).
		k.pss = &rsa.PSSOptions{Hash: k.hash, SaltLength: rsa.PSSSaltLengthEqualsHash}
	case strings.HasPrefix(name, "ES"):
		k.scheme = schemeECDSA
		k.ecSize = (k.pub.(*ecdsa.PublicKey).Curve.Params().BitSize + 7) / 8
	default: // EdDSA
		k.scheme = schemeEd25519
	}
}

// verify reports whether sig is k's signature of input (the JWS signing
// input), with the checks jwx's dsig makes: PKCS #1 v1.5 or PSS with a
// hash-length salt for RSA, r||s of the curve's width for ECDSA, Ed25519.
func (k *signingKey) verify(input, sig []byte) bool {
	var digest []byte
	switch k.hash {
	case crypto.SHA256:
		s := sha256.Sum256(input)
		digest = s[:]
	case crypto.SHA384:
		s := sha512.Sum384(input)
		digest = s[:]
	case crypto.SHA512:
		s := sha512.Sum512(input)
		digest = s[:]
	}
	switch k.scheme {
	case schemePKCS1:
		return rsa.VerifyPKCS1v15(k.pub.(*rsa.PublicKey), k.hash, digest, sig) == nil
	case schemePSS:
		return rsa.VerifyPSS(k.pub.(*rsa.PublicKey), k.hash, digest, sig, k.pss) == nil
	case schemeECDSA:
		if len(sig) != 2*k.ecSize {
			return false
		}
		var r, s big.Int
		r.SetBytes(sig[:k.ecSize])
		s.SetBytes(sig[k.ecSize:])
		return ecdsa.Verify(k.pub.(*ecdsa.PublicKey), digest, &r, &s)
	case schemeEd25519:
		return ed25519.Verify(k.pub.(ed25519.PublicKey), input, sig)
	}
	return false
}

// KeyReport says what New made of the pinned key set, for the cold-start
// log line: which keys verify tokens (with the algorithm each is bound to)
// and which were skipped, and why.
type KeyReport struct {
	Loaded  []LoadedKey
	Skipped []SkippedKey
}

// LoadedKey is a key that verifies tokens signed with Algorithm.
type LoadedKey struct {
	Index     int // in the set's "keys"
	KeyID     string
	Algorithm string
}

// SkippedKey is a key no token is verified with. Reason is short and fixed
// in form: `use "enc"`, `kty "AKP" not supported`, `alg "RS512" not allowed`,
// `curve "P-521" not supported`, `alg "ES256" does not fit kty "RSA"`.
type SkippedKey struct {
	Index  int
	KeyID  string
	Reason string
}

// String writes the report on one line: "2 loaded (k1 RS256, k2 ES256), 1
// skipped (k3: use \"enc\")".
func (r KeyReport) String() string {
	var b strings.Builder
	writeList(&b, "loaded", ", ", r.Loaded, func(k LoadedKey) string { return short(k.KeyID) + " " + k.Algorithm })
	b.WriteString(", ")
	writeList(&b, "skipped", "; ", r.Skipped, func(k SkippedKey) string { return short(k.KeyID) + ": " + k.Reason })
	return b.String()
}

// writeList writes "<n> <what>" and, when there are any, the items in
// parentheses.
func writeList[T any](b *strings.Builder, what, sep string, items []T, item func(T) string) {
	fmt.Fprintf(b, "%d %s", len(items), what)
	if len(items) == 0 {
		return
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = item(it)
	}
	fmt.Fprintf(b, " (%s)", strings.Join(parts, sep))
}

// parseAlgorithms checks the allowed list: supported, no duplicates,
// never HS* or none.
func parseAlgorithms(names []string) ([]jwa.SignatureAlgorithm, error) {
	if len(names) == 0 {
		names = []string{"RS256"} // Config.Algorithms' default
	}
	out := make([]jwa.SignatureAlgorithm, 0, len(names))
	for i, n := range names {
		field := fmt.Sprintf("algorithms[%d]", i)
		switch {
		case strings.HasPrefix(strings.ToUpper(n), "HS") || strings.EqualFold(n, "none"):
			return nil, bad(field, "%q is never accepted: tokens must be signed with a public key (RFC 8725 §3.1)", n)
		case !slices.Contains(SupportedAlgorithms(), n):
			return nil, bad(field, "%q is not supported; want one of %s", n, strings.Join(SupportedAlgorithms(), ", "))
		}
		alg, ok := jwa.LookupSignatureAlgorithm(n)
		if !ok {
			return nil, bad(field, "%q is not supported", n)
		}
		if slices.Contains(out, alg) {
			return nil, bad(field, "%q appears twice", n)
		}
		out = append(out, alg)
	}
	return out, nil
}

// maxSkippedListed bounds the skipped keys a "no usable key" error lists.
const maxSkippedListed = 4

// parseKeys reads the pinned key set one key at a time, so that an error
// names the key at fault, and binds each usable key to one allowed
// algorithm. Keys nothing can be verified with are skipped and reported,
// not refused: issuers publish encryption keys, other key types and other
// algorithms beside the ones in use. What is refused is a set that cannot
// be meant: not a key set, a key without a kid or with a duplicate one, a
// private or secret key, a malformed or short key of a usable type, and a
// set with no usable key at all.
func parseKeys(raw []byte, allowed []jwa.SignatureAlgorithm) (map[string]signingKey, KeyReport, error) {
	var report KeyReport
	if len(raw) == 0 || string(raw) == "null" {
		return nil, report, bad("jwks", "is required")
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, report, bad("jwks", "must be a JSON Web Key Set object: %v", err)
	}
	keys := make(map[string]signingKey, len(set.Keys))
	kids := make(map[string]bool, len(set.Keys))
	for i, rawKey := range set.Keys {
		field := fmt.Sprintf("jwks.keys[%d]", i)
		var members map[string]any
		if err := json.Unmarshal(rawKey, &members); err != nil || members == nil {
			return nil, report, bad(field, "must be a JSON Web Key object")
		}
		kid, _ := members["kid"].(string)
		switch {
		case kid == "":
			return nil, report, bad(field+".kid", "is required: keys are chosen by kid")
		case kids[kid]:
			return nil, report, bad(field+".kid", "%q appears twice: keys are chosen by kid", kid)
		}
		kids[kid] = true
		if _, private := members["d"]; private {
			return nil, report, bad(field, "is a private key; embed only public keys")
		}
		skip := func(format string, args ...any) {
			report.Skipped = append(report.Skipped, SkippedKey{Index: i, KeyID: kid, Reason: fmt.Sprintf(format, args...)})
		}
		kty, ok := members["kty"].(string)
		switch {
		case !ok:
			return nil, report, bad(field+".kty", "is required, got %v", quoteAny(members["kty"]))
		case kty == "oct": // a shared secret: never in a published set
			return nil, report, bad(field+".kty", `got "oct", a shared secret; a key set for token verification holds public keys`)
		case kty != "RSA" && kty != "EC" && kty != "OKP":
			skip("kty %q not supported", short(kty))
			continue
		}
		if use, ok := members["use"]; ok && use != "sig" {
			skip("use %v", quoteAny(use))
			continue
		}
		crv, _ := members["crv"].(string)
		fits, reason := algorithmsFor(kty, crv)
		if reason != "" {
			skip("%s", reason)
			continue
		}
		var alg jwa.SignatureAlgorithm
		if named, ok := members["alg"]; ok {
			name, _ := named.(string)
			a, known := jwa.LookupSignatureAlgorithm(name)
			switch {
			case !known || !slices.Contains(fits, a):
				skip("alg %v does not fit kty %q", quoteAny(named), kty)
				continue
			case !slices.Contains(allowed, a):
				skip("alg %q not allowed", name)
				continue
			}
			alg = a
		} else {
			i := slices.IndexFunc(allowed, func(a jwa.SignatureAlgorithm) bool { return slices.Contains(fits, a) })
			if i < 0 {
				skip("%s", notAllowed(kty, crv, fits))
				continue
			}
			alg = allowed[i]
		}
		pub, err := exportKey(field, rawKey, kty)
		if err != nil {
			return nil, report, err
		}
		key := signingKey{alg: alg, pub: pub}
		key.bind()
		keys[kid] = key
		report.Loaded = append(report.Loaded, LoadedKey{Index: i, KeyID: kid, Algorithm: alg.String()})
	}
	if len(keys) == 0 {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = a.String()
		}
		problem := fmt.Sprintf("has no signing key for the allowed algorithms (%s)", strings.Join(names, ", "))
		var listed []string
		for _, s := range report.Skipped {
			listed = append(listed, fmt.Sprintf("keys[%d] (%s)", s.Index, s.Reason))
		}
		if len(listed) > maxSkippedListed {
			listed = append(listed[:maxSkippedListed], "…")
		}
		if len(listed) > 0 {
			problem += "; skipped " + strings.Join(listed, ", ")
		}
		return nil, report, bad("jwks.keys", "%s", problem)
	}
	return keys, report, nil
}

// algorithmsFor is what a key of kty (and curve) can verify, or why it can
// verify nothing the suite supports.
func algorithmsFor(kty, crv string) ([]jwa.SignatureAlgorithm, string) {
	switch kty {
	case "RSA":
		return []jwa.SignatureAlgorithm{jwa.RS256(), jwa.RS384(), jwa.RS512(), jwa.PS256(), jwa.PS384(), jwa.PS512()}, ""
	case "EC":
		switch crv {
		case "P-256":
			return []jwa.SignatureAlgorithm{jwa.ES256()}, ""
		case "P-384":
			return []jwa.SignatureAlgorithm{jwa.ES384()}, ""
		}
	case "OKP":
		if crv == "Ed25519" {
			return []jwa.SignatureAlgorithm{jwa.EdDSA()}, ""
		}
	}
	return nil, fmt.Sprintf("curve %q not supported", short(crv))
}

func notAllowed(kty, crv string, fits []jwa.SignatureAlgorithm) string {
	if kty == "RSA" {
		return "no RSA algorithm allowed"
	}
	return fmt.Sprintf("%s %s key, %s not allowed", kty, crv, fits[0].String())
}

// exportKey turns a usable JWK into the standard library's public key and
// checks what jwx does not: an RSA key of at least 2048 bits, an EC point on
// its curve.
func exportKey(field string, raw json.RawMessage, kty string) (any, error) {
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, bad(field, "%v", err)
	}
	switch kty {
	case "RSA":
		var pub rsa.PublicKey
		if err := jwk.Export(k, &pub); err != nil {
			return nil, bad(field, "%v", err)
		}
		if pub.N.BitLen() < 2048 {
			return nil, bad(field, "has %d bits, want at least 2048", pub.N.BitLen())
		}
		return &pub, nil
	case "EC":
		var pub ecdsa.PublicKey
		if err := jwk.Export(k, &pub); err != nil {
			return nil, bad(field, "%v", err)
		}
		if _, err := pub.ECDH(); err != nil || (pub.Curve != elliptic.P256() && pub.Curve != elliptic.P384()) {
			return nil, bad(field, "is not a valid point on its curve")
		}
		return &pub, nil
	default: // OKP Ed25519
		var pub ed25519.PublicKey
		if err := jwk.Export(k, &pub); err != nil {
			return nil, bad(field, "%v", err)
		}
		if len(pub) != ed25519.PublicKeySize {
			return nil, bad(field, "is not an Ed25519 public key")
		}
		return pub, nil
	}
}

// quoteAny writes a JSON member's value for a message: strings quoted.
func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", short(s))
	}
	b, _ := json.Marshal(v)
	return short(string(b))
}
