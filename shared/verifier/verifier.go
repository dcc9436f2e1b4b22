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
package verifier

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/edgeauth/edgeauth/shared/config"
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

// MaxTokenSize bounds a token's length (16 KiB). Cognito tokens run 1–2 KB
// and grow with groups; anything bigger is refused before any work is done.
const MaxTokenSize = 16 << 10

// DefaultCacheSize is the verified-token cache size when Config.CacheSize is 0.
const DefaultCacheSize = 1024

// Config configures a Verifier.
type Config struct {
	// Issuer is the exact iss claim.
	Issuer string
	// ClientID is the aud of ID tokens (and of OIDC access tokens) and the
	// client_id of Cognito access tokens.
	ClientID string
	// Cognito applies Cognito's rules: the token_use claim decides the
	// token kind; access tokens carry client_id and no aud.
	Cognito bool
	// JWKS is the pinned key set (JSON). Keys are chosen by kid; RSA keys
	// marked for signing with RS256 (or no alg) are used, others ignored.
	JWKS []byte
	// ClockSkew is tolerated on exp, nbf and iat.
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

// New builds a Verifier. It rejects an empty issuer or client id, a negative
// skew, and a key set that does not parse, has a key without kid, a
// duplicate kid, a private or short (< 2048 bits) RSA key, or no usable RSA
// signing key at all, so that a bad config fails the cold start.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("verifier: issuer is required")
	}
	if cfg.ClientID == "" {
		return nil, errors.New("verifier: client id is required")
	}
	if cfg.ClockSkew < 0 {
		return nil, fmt.Errorf("verifier: clock skew must not be negative, got %s", cfg.ClockSkew)
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

// FromConfig builds a Verifier from the deployment config: its derived
// Issuer, ClientID, JWKS and ClockSkew, with Cognito rules when the issuer is
// a Cognito user pool.
func FromConfig(c *config.Config, now func() time.Time) (*Verifier, error) {
	return New(Config{
		Issuer:    c.Issuer,
		ClientID:  c.ClientID,
		Cognito:   c.Cognito != nil,
		JWKS:      c.JWKS,
		ClockSkew: c.ClockSkew.Std(),
		Now:       now,
	})
}

func parseKeys(raw []byte) (map[string]*rsa.PublicKey, error) {
	if len(raw) == 0 {
		return nil, errors.New("verifier: jwks is required")
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("verifier: parse jwks: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, set.Len())
	for i := range set.Len() {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		if kid == "" {
			return nil, fmt.Errorf("verifier: jwks key %d has no kid: keys are chosen by kid", i)
		}
		if _, dup := keys[kid]; dup {
			return nil, fmt.Errorf("verifier: jwks has kid %q twice", kid)
		}
		if k.KeyType() != jwa.RSA() {
			continue // not usable for RS256; other keys may be
		}
		if use, ok := k.KeyUsage(); ok && use != "sig" {
			continue
		}
		if alg, ok := k.Algorithm(); ok && alg.String() != jwa.RS256().String() {
			continue
		}
		var rawKey any
		if err := jwk.Export(k, &rawKey); err != nil {
			return nil, fmt.Errorf("verifier: jwks key %q: %w", kid, err)
		}
		pub, ok := rawKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("verifier: jwks key %q is a private key; pin only public keys", kid)
		}
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("verifier: jwks key %q has %d bits, want at least 2048", kid, pub.N.BitLen())
		}
		keys[kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("verifier: jwks has no usable RSA signing key (kty RSA, use sig, alg RS256)")
	}
	return keys, nil
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
