// Package verifier checks the issuer's JWTs against a pinned key set and
// turns a valid one into an [Identity].
//
// It follows RFC 8725: the algorithm is RS256 and nothing else, whatever the
// token's header says; the key is chosen by kid from the pinned set (no
// network, no key discovery); iss must equal the configured issuer exactly;
// exp is required; exp, nbf and iat are checked with the configured skew
// against an injected clock.
//
// # ID tokens and access tokens
//
// With Config.Cognito set, the token_use claim decides: it must be "id" or
// "access" and match the use the caller asks for. Cognito access tokens carry
// no aud, so their client_id must equal the client id; ID tokens must list
// the client id in aud.
//
// Other OIDC issuers do not mark the token kind reliably (Dex access tokens
// are JWTs with aud = client id that look like its ID tokens), so for them
// aud must always hold the client id and:
//   - a token with JWS header typ "at+jwt" (RFC 9068) or token_use=access is
//     an access token only;
//   - a token with token_use=id is an ID token only;
//   - any other token is accepted for [UseAccess] and [UseID] alike, and its
//     Identity.TokenUse is "access" when it has a scope or scp claim, else
//     "id".
//
// Only Cognito and RFC 9068 issuers therefore give strict separation of ID
// and access tokens.
//
// # Cost
//
// Verify keeps a bounded cache of verified tokens, keyed by the SHA-256 of
// the token and the requested use, which never serves a token past its exp.
// A token seen for the first time costs one RSA verification (jws's compact
// fast path with the one key its kid names) plus claim parsing.
//
// Verify does not check the ID token's nonce; the caller compares
// Identity.Nonce with the one it sent.
//
// # Configuration
//
// New is the one check of a Config: issuer, client id, skew and the pinned
// key set, read one key at a time, so that a refusal, a *ConfigError, names
// the key ("jwks.keys[1].kid"). Keys the verifier cannot use (EC, OKP,
// another "use" or "alg") are skipped rather than refused, as issuers
// publish them beside their RSA keys. The package knows nothing of the
// suite's config file; failures of Verify are named for logs by [Reason].
package verifier

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Errors returned by Verify, to classify with errors.Is. The wrapped text
// says more, for the log; it never holds the token.
var (
	// ErrMalformed: not a compact JWS, unparsable header or claims, a
	// missing exp or sub, or over MaxTokenSize.
	ErrMalformed = errors.New("verifier: malformed token")
	// ErrExpired: exp is past (beyond the skew).
	ErrExpired = errors.New("verifier: token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the skew).
	ErrNotYetValid = errors.New("verifier: token not yet valid")
	// ErrSignature: the signature does not verify, or the algorithm is not
	// RS256 (none, HS*, anything else).
	ErrSignature = errors.New("verifier: invalid signature")
	// ErrUnknownKey: the header has no kid, or a kid not in the pinned set.
	ErrUnknownKey = errors.New("verifier: unknown signing key")
	// ErrIssuer: iss is not the configured issuer.
	ErrIssuer = errors.New("verifier: wrong issuer")
	// ErrAudience: aud (or a Cognito access token's client_id) does not
	// name the client.
	ErrAudience = errors.New("verifier: wrong audience")
	// ErrTokenUse: the token is not of the kind asked for.
	ErrTokenUse = errors.New("verifier: wrong token use")
)

// Reason names a Verify failure for a log line, from a fixed vocabulary:
// "expired", "not yet valid", "bad signature", "unknown key", "wrong
// issuer", "wrong audience", "wrong token use", "malformed", or "invalid"
// for an error that is none of these. It never holds text from the token,
// whose header and claims are the sender's to choose.
func Reason(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{
		{ErrExpired, "expired"}, {ErrNotYetValid, "not yet valid"},
		{ErrSignature, "bad signature"}, {ErrUnknownKey, "unknown key"},
		{ErrIssuer, "wrong issuer"}, {ErrAudience, "wrong audience"},
		{ErrTokenUse, "wrong token use"}, {ErrMalformed, "malformed"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "invalid"
}

// ConfigError is the error New returns for a Config it refuses. Field names
// the Config field at fault in lower camel case ("issuer", "clockSkew"),
// with the path into the key set when one key is at fault
// ("jwks.keys[1].kid"); Problem says what is wrong. A caller that fills
// Config from a file maps Field onto the file's own names.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "verifier: " + e.Field + ": " + e.Problem }

func bad(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// MaxClockSkew bounds Config.ClockSkew: a larger skew would accept tokens
// long expired.
const MaxClockSkew = 5 * time.Minute

// MaxTokenSize bounds a token's length (16 KiB). Cognito tokens run 1–2 KB
// and grow with groups; anything bigger is refused before any work is done.
const MaxTokenSize = 16 << 10

// DefaultCacheSize is the verified-token cache size when Config.CacheSize is 0.
const DefaultCacheSize = 1024

// Config configures a Verifier.
type Config struct {
	// Issuer is the exact iss claim: an absolute http(s) URL without query
	// or fragment (OpenID Connect Core §2, RFC 8414 §2).
	Issuer string
	// ClientID is the aud of ID tokens (and of OIDC access tokens) and the
	// client_id of Cognito access tokens.
	ClientID string
	// Cognito applies Cognito's rules: the token_use claim decides the
	// token kind; access tokens carry client_id and no aud.
	Cognito bool
	// JWKS is the pinned key set (JSON). Keys are chosen by kid; RSA keys
	// marked for signing with RS256 (or no alg) are used, other keys (EC,
	// OKP, "use": "enc", another alg) skipped.
	JWKS []byte
	// ClockSkew is tolerated on exp, nbf and iat; at most MaxClockSkew.
	ClockSkew time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// CacheSize is the number of verified tokens kept; 0 means
	// DefaultCacheSize, negative disables the cache.
	CacheSize int
}

// Verifier verifies tokens. It is safe for concurrent use.
type Verifier struct {
	issuer   string
	clientID string
	cognito  bool
	keys     map[string]*rsa.PublicKey
	now      func() time.Time
	parse    []jwt.ParseOption // claim parsing and validation, signature already checked
	cache    *cache            // nil when disabled
}

// New builds a Verifier. It checks everything it is given, once, so that a
// bad config fails the cold start with a *ConfigError naming the field: an
// issuer that is not an absolute http(s) URL, an empty client id, a skew
// outside 0 to MaxClockSkew, and a key set that does not parse, has a key
// without kid, a duplicate kid, a private or secret key, an RSA key shorter
// than 2048 bits, or no RSA key usable for RS256 at all. Keys of other types
// (EC, OKP) or for other uses or algorithms are skipped, not refused:
// issuers publish them beside the RSA ones.
func New(cfg Config) (*Verifier, error) {
	if err := checkIssuer(cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, bad("clientId", "is required")
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > MaxClockSkew {
		return nil, bad("clockSkew", "must be between 0s and %s, got %s", shortDuration(MaxClockSkew), cfg.ClockSkew)
	}
	keys, err := parseKeys(cfg.JWKS)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	v := &Verifier{
		issuer:   cfg.Issuer,
		clientID: cfg.ClientID,
		cognito:  cfg.Cognito,
		keys:     keys,
		now:      now,
		parse: []jwt.ParseOption{
			// The signature was verified by jws with the pinned key.
			jwt.WithVerify(false),
			jwt.WithValidate(true),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithRequiredClaim(jwt.ExpirationKey),
			jwt.WithClock(jwt.ClockFunc(now)),
			jwt.WithAcceptableSkew(cfg.ClockSkew),
		},
	}
	switch size := cfg.CacheSize; {
	case size == 0:
		v.cache = newCache(DefaultCacheSize)
	case size > 0:
		v.cache = newCache(size)
	}
	return v, nil
}

// shortDuration writes 5m rather than time's 5m0s.
func shortDuration(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// checkIssuer accepts an issuer identifier: an absolute http(s) URL with a
// host and without query or fragment. iss is compared with it exactly, so a
// value that is not one would refuse every token.
func checkIssuer(iss string) error {
	if iss == "" {
		return bad("issuer", "is required")
	}
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return bad("issuer", "must be an absolute http(s) URL, got %q", iss)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(iss, "#") {
		return bad("issuer", "must not carry a query or fragment")
	}
	return nil
}

// maxSkippedListed bounds the skipped keys a "no usable key" error lists.
const maxSkippedListed = 4

// parseKeys reads the pinned key set one key at a time, so that an error
// names the key at fault, and keeps the RSA keys usable for RS256.
func parseKeys(raw []byte) (map[string]*rsa.PublicKey, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, bad("jwks", "is required")
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, bad("jwks", "must be a JSON Web Key Set object: %v", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	kids := make(map[string]bool, len(set.Keys))
	var skipped []string
	for i, rawKey := range set.Keys {
		field := fmt.Sprintf("jwks.keys[%d]", i)
		var members map[string]any
		if err := json.Unmarshal(rawKey, &members); err != nil || members == nil {
			return nil, bad(field, "must be a JSON Web Key object")
		}
		kid, _ := members["kid"].(string)
		switch {
		case kid == "":
			return nil, bad(field+".kid", "is required: keys are chosen by kid")
		case kids[kid]:
			return nil, bad(field+".kid", "%q appears twice: keys are chosen by kid", kid)
		}
		kids[kid] = true
		if _, private := members["d"]; private {
			return nil, bad(field, "is a private key; embed only public keys")
		}
		kty, _ := members["kty"].(string)
		switch kty {
		case "RSA":
		case "EC", "OKP":
			skipped = append(skipped, fmt.Sprintf("keys[%d] (kty %q)", i, kty))
			continue
		default: // "oct" is a shared secret: never in a published set
			return nil, bad(field+".kty", `must be "RSA", "EC" or "OKP", got %v`, quoteAny(members["kty"]))
		}
		if use, ok := members["use"]; ok && use != "sig" {
			skipped = append(skipped, fmt.Sprintf("keys[%d] (use %v)", i, quoteAny(use)))
			continue
		}
		if alg, ok := members["alg"]; ok && alg != jwa.RS256().String() {
			skipped = append(skipped, fmt.Sprintf("keys[%d] (alg %v)", i, quoteAny(alg)))
			continue
		}
		k, err := jwk.ParseKey(rawKey)
		if err != nil {
			return nil, bad(field, "%v", err)
		}
		var pub rsa.PublicKey
		if err := jwk.Export(k, &pub); err != nil {
			return nil, bad(field, "%v", err)
		}
		if pub.N.BitLen() < 2048 {
			return nil, bad(field, "has %d bits, want at least 2048", pub.N.BitLen())
		}
		keys[kid] = &pub
	}
	if len(keys) == 0 {
		problem := `has no signing key: no RSA key with "use" "sig" (or none) and "alg" "RS256" (or none)`
		if len(skipped) > maxSkippedListed {
			skipped = append(skipped[:maxSkippedListed], "…")
		}
		if len(skipped) > 0 {
			problem += "; skipped " + strings.Join(skipped, ", ")
		}
		return nil, bad("jwks.keys", "%s", problem)
	}
	return keys, nil
}

// quoteAny writes a JSON member's value for a message: strings quoted.
func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Verify checks raw (a compact JWT) and returns who it speaks for. use is
// the kind of token expected: UseID, UseAccess, or UseAny. Errors match one
// of the package's Err* sentinels with errors.Is.
//
// Verify does not check the nonce; compare Identity.Nonce yourself. The
// returned Identity is the caller's to keep or change.
func (v *Verifier) Verify(ctx context.Context, raw string, use TokenUse) (*Identity, error) {
	switch use {
	case UseID, UseAccess, UseAny:
	default:
		return nil, fmt.Errorf("%w: unknown use %q asked for", ErrTokenUse, use)
	}
	if raw == "" {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(raw), MaxTokenSize)
	}
	buf := []byte(raw)
	var key cacheKey
	if v.cache != nil {
		key = cacheKey{sum: sha256.Sum256(buf), use: use}
		if id, ok := v.cache.get(key, v.now()); ok {
			return id, nil
		}
	}
	id, err := v.verify(buf, use)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(key, id.Clone(), v.now())
	}
	return id, nil
}

func (v *Verifier) verify(buf []byte, use TokenUse) (*Identity, error) {
	hdr, _, _, err := jwsbb.SplitCompact(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: not a compact JWS: %w", ErrMalformed, err)
	}
	h := jwsbb.HeaderParseCompact(hdr)
	alg, err := jwsbb.HeaderGetString(h, jws.AlgorithmKey)
	if err != nil {
		return nil, fmt.Errorf("%w: header alg: %w", ErrMalformed, err)
	}
	// The allowlist is one algorithm, checked before the kid so that a
	// none or HMAC token never reaches key lookup.
	if alg != "RS256" {
		return nil, fmt.Errorf("%w: algorithm %q not allowed, only RS256", ErrSignature, short(alg))
	}
	kid, err := jwsbb.HeaderGetString(h, jws.KeyIDKey)
	if err != nil {
		return nil, fmt.Errorf("%w: header has no kid", ErrUnknownKey)
	}
	pub, ok := v.keys[kid]
	if !ok {
		return nil, fmt.Errorf("%w: kid %q not in the pinned key set", ErrUnknownKey, short(kid))
	}
	typ, _ := jwsbb.HeaderGetString(h, jws.TypeKey)

	payload, err := jws.VerifyCompactFast(pub, buf, jwa.RS256())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	tok, err := jwt.Parse(payload, v.parse...)
	if err != nil {
		return nil, classify(err)
	}
	return v.identity(tok, typ, use)
}

// classify maps jwx's parse and validation errors onto the sentinels,
// keeping jwx's error in the chain.
func classify(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		sentinel = ErrExpired
	case errors.Is(err, jwt.TokenNotYetValidError()), errors.Is(err, jwt.InvalidIssuedAtError()):
		sentinel = ErrNotYetValid
	case errors.Is(err, jwt.InvalidIssuerError()):
		sentinel = ErrIssuer
	case errors.Is(err, jwt.InvalidAudienceError()):
		sentinel = ErrAudience
	default: // unparsable claims, missing exp
		sentinel = ErrMalformed
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// identity applies the token-kind and audience rules and builds the Identity.
func (v *Verifier) identity(tok jwt.Token, typ string, use TokenUse) (*Identity, error) {
	sub, _ := tok.Subject()
	if sub == "" {
		return nil, fmt.Errorf("%w: no sub", ErrMalformed)
	}
	priv := privateClaims(tok)
	aud, _ := tok.Audience()
	kind, err := v.kind(typ, priv, aud, use)
	if err != nil {
		return nil, err
	}
	exp, _ := tok.Expiration()
	id := &Identity{
		Subject:  sub,
		Username: firstString(priv, "cognito:username", "username", "preferred_username", "name"),
		Email:    firstString(priv, "email"),
		Groups:   stringList(priv, "cognito:groups", "groups"),
		Scopes:   scopes(priv),
		Expiry:   exp,
		TokenUse: kind,
		Nonce:    firstString(priv, "nonce"),
		Claims:   make(map[string]string, len(priv)+4),
	}
	for k, val := range priv {
		if s, ok := val.(string); ok {
			id.Claims[k] = s
		}
	}
	id.Claims[jwt.SubjectKey] = sub
	id.Claims[jwt.IssuerKey] = v.issuer // validated equal
	if jti, ok := tok.JwtID(); ok {
		id.Claims[jwt.JwtIDKey] = jti
	}
	if len(aud) == 1 {
		id.Claims[jwt.AudienceKey] = aud[0]
	}
	return id, nil
}

// kind decides whether the token is an ID or an access token and checks
// its audience; see the package doc for the rules.
func (v *Verifier) kind(typ string, priv map[string]any, aud []string, use TokenUse) (TokenUse, error) {
	tokenUse, hasTokenUse := priv["token_use"].(string)
	if _, present := priv["token_use"]; present && !hasTokenUse {
		return "", fmt.Errorf("%w: token_use is not a string", ErrTokenUse)
	}
	atJWT := strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
	if atJWT && hasTokenUse && tokenUse != "access" {
		return "", fmt.Errorf("%w: typ at+jwt with token_use %q", ErrTokenUse, short(tokenUse))
	}

	var kind TokenUse
	strict := true
	switch {
	case tokenUse == "access", atJWT:
		kind = UseAccess
	case tokenUse == "id":
		kind = UseID
	case hasTokenUse:
		return "", fmt.Errorf("%w: token_use %q", ErrTokenUse, short(tokenUse))
	case v.cognito:
		return "", fmt.Errorf("%w: no token_use claim", ErrTokenUse)
	default: // generic OIDC, kind unmarked: accepted for both
		strict = false
		kind = UseID
		if _, ok := priv["scope"]; ok {
			kind = UseAccess
		} else if _, ok := priv["scp"]; ok {
			kind = UseAccess
		}
	}
	if strict && use != UseAny && use != kind {
		return "", fmt.Errorf("%w: got an %s token, want %s", ErrTokenUse, kind, use)
	}

	if v.cognito && kind == UseAccess {
		// Cognito access tokens have no aud; client_id names the client.
		if cid, _ := priv["client_id"].(string); cid != v.clientID {
			return "", fmt.Errorf("%w: client_id %q, want %q", ErrAudience, short(cid), v.clientID)
		}
		return kind, nil
	}
	if !slices.Contains(aud, v.clientID) {
		return "", fmt.Errorf("%w: aud does not contain %q", ErrAudience, v.clientID)
	}
	return kind, nil
}

// privateClaims returns the non-registered claims. jwx's token type has
// PrivateClaims (not in the Token interface); the fallback covers any other
// implementation.
func privateClaims(tok jwt.Token) map[string]any {
	if p, ok := tok.(interface{ PrivateClaims() map[string]any }); ok {
		return p.PrivateClaims()
	}
	out := make(map[string]any)
	for _, k := range tok.Keys() {
		switch k {
		case jwt.AudienceKey, jwt.ExpirationKey, jwt.IssuedAtKey, jwt.IssuerKey, jwt.JwtIDKey, jwt.NotBeforeKey, jwt.SubjectKey:
			continue
		}
		var v any
		if tok.Get(k, &v) == nil {
			out[k] = v
		}
	}
	return out
}

func firstString(claims map[string]any, names ...string) string {
	for _, n := range names {
		if s, ok := claims[n].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// stringList reads the first present claim as a string array (a lone
// string counts as one element; non-string elements are skipped).
func stringList(claims map[string]any, names ...string) []string {
	for _, n := range names {
		switch val := claims[n].(type) {
		case []any:
			out := make([]string, 0, len(val))
			for _, e := range val {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		case []string:
			return slices.Clone(val)
		case string:
			return []string{val}
		}
	}
	return nil
}

// scopes reads the space-separated scope claim (RFC 8693/9068), else scp as
// an array (Okta) or a space-separated string (Entra ID).
func scopes(claims map[string]any) []string {
	if s, ok := claims["scope"].(string); ok {
		return strings.Fields(s)
	}
	if s, ok := claims["scp"].(string); ok {
		return strings.Fields(s)
	}
	return stringList(claims, "scp")
}

// short bounds attacker-chosen text quoted in an error.
func short(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
