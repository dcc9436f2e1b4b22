// Package verifier checks the issuer's JWTs against a pinned key set and
// turns a valid one into an [Identity].
//
// It follows RFC 8725: the algorithm comes from an allowlist (RS256 unless
// configured otherwise; never HS* or none), and it is never taken from the
// token alone: the key chosen by kid from the pinned set (no network, no
// key discovery) is bound to one algorithm, and the header's alg must be
// that one. iss must equal the configured issuer exactly; exp is required;
// exp, nbf and iat are checked with the configured skew against an
// injected clock.
//
// # ID tokens and access tokens
//
// With Config.Cognito set, the token_use claim decides: it must be "id" or
// "access" and match the use the caller asks for. Cognito access tokens carry
// no aud: their client_id must be one of the audiences (the client id by
// default); ID tokens must list the client id in aud.
//
// For other OpenID Connect issuers the token is typed explicitly (RFC 9068,
// RFC 8725 §3.11):
//   - an access token has the JWS header typ "at+jwt" (or
//     "application/at+jwt") and an aud holding one of Config.Audiences;
//   - with Config.UntypedAccessTokens, a token without typ or with typ
//     "JWT" is an access token too, unless it looks like an ID token: it
//     carries nonce, at_hash, c_hash or s_hash (claims OpenID Connect
//     defines for ID tokens only; the suite always sends a nonce, so every ID
//     token its logins obtain has one), or no audience but the client id
//     names it (an ID token's aud is always the client id, so the client id
//     alone proves nothing; an untyped access token must name an API audience
//     other than it). Marker claims are enough to refuse; their absence is
//     not enough to accept, which is why the audience rule stands beside them;
//   - an ID token is a token whose typ is absent or "JWT", whose token_use
//     (if any) is "id", and whose aud holds the client id.
//
// An ID token where an access token is required is [ErrIDToken] (an
// [ErrTokenUse]); an untyped token where only typed ones are accepted is
// [ErrUntyped].
//
// # Claims
//
// Groups come from Config.GroupsClaim, a claim path (package claims): a
// flat list, a nested path, an object whose keys are the roles, or a
// space-separated string. Identity.Claims holds the token's top-level string
// claims and the string at each of Config.ClaimPaths (the claims path rules
// name), keyed by the path as written.
//
// # Cost
//
// Verify keeps a bounded cache of verified tokens, keyed by the SHA-256 of
// the token and the requested use, which never serves a token past its exp.
// A token seen for the first time costs one signature verification with
// the one key its kid names plus one decoding of its claims: the fast path
// (fast.go) does both with the standard library and the key material
// worked out at New, and restates jwx's claim rules; a token of a shape it
// does not read exactly as jwx does (padded base64, duplicate or escaped
// member names, dates that are not plain integers…) goes to jwx's
// jws.VerifyCompactFast and jwt.Parse instead. Both decide alike:
// FuzzFastPathAgreesWithJWX compares them.
//
// Verify does not check the ID token's nonce; the caller compares
// Identity.Nonce with the one it sent.
//
// # Configuration
//
// New is the one check of a Config: issuer, client id, audiences,
// algorithms, claim paths, skew and the pinned key set, read one key at a
// time, so that a refusal, a *ConfigError, names the key
// ("jwks.keys[1].kid"). Keys no allowed algorithm can use (an encryption
// key, an unknown kty or curve, an algorithm not allowed) are skipped rather
// than refused, as issuers publish them beside the ones they sign with;
// [Verifier.KeySet] reports them. The package knows nothing of the suite's
// config file; failures of Verify are named for logs by [Reason].
package verifier

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/edgeauth/edgeauth/shared/claims"
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
	// ErrSignature: the signature does not verify, the algorithm is not
	// allowed (none, HS*, anything not configured), or it is not the one
	// the key named by kid is bound to.
	ErrSignature = errors.New("verifier: invalid signature")
	// ErrUnknownKey: the header has no kid, or a kid not in the pinned set.
	ErrUnknownKey = errors.New("verifier: unknown signing key")
	// ErrIssuer: iss is not the configured issuer.
	ErrIssuer = errors.New("verifier: wrong issuer")
	// ErrAudience: aud (or a Cognito access token's client_id) does not
	// name the client (ID tokens) or one of the audiences (access tokens).
	ErrAudience = errors.New("verifier: wrong audience")
	// ErrTokenUse: the token is not of the kind asked for.
	ErrTokenUse = errors.New("verifier: wrong token use")
	// ErrIDToken: an ID token (or a token that looks like one) where an
	// access token is required. It is also an ErrTokenUse.
	ErrIDToken = errors.New("verifier: an id token, not an access token")
	// ErrUntyped: a token without typ at+jwt where an access token is
	// required and untyped ones are not accepted. It is also an ErrTokenUse.
	ErrUntyped = errors.New("verifier: untyped token, not an access token")
)

// Reason names a Verify failure for a log line, from a fixed vocabulary:
// "expired", "not yet valid", "bad signature", "unknown key", "wrong
// issuer", "wrong audience", "id token, not an access token", "untyped
// token, not an access token", "wrong token use", "malformed", or "invalid"
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
		{ErrIDToken, "id token, not an access token"}, {ErrUntyped, "untyped token, not an access token"},
		{ErrTokenUse, "wrong token use"}, {ErrMalformed, "malformed"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "invalid"
}

// ConfigError is the error New returns for a Config it refuses. Field names
// the Config field at fault in lower camel case ("issuer", "clockSkew",
// "audiences[1]"), with the path into the key set when one key is at fault
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
	// ClientID is the aud of ID tokens.
	ClientID string
	// Cognito applies Cognito's rules: the token_use claim decides the
	// token kind; access tokens carry client_id and no aud.
	Cognito bool
	// Audiences are what an access token must name, any one of them: in
	// aud (RFC 9068: the API's identifier, e.g. an RFC 8707 resource), or
	// for Cognito in client_id (app client ids). Default: ClientID.
	Audiences []string
	// UntypedAccessTokens accepts, for a non-Cognito issuer, access tokens
	// without typ at+jwt (no typ, or typ JWT), as Okta, Entra ID, Hydra and
	// Keycloak issue by default, unless they look like ID tokens (see the
	// package doc). It needs an audience other than ClientID.
	UntypedAccessTokens bool
	// Algorithms are the JWS algorithms allowed, from
	// [SupportedAlgorithms]. Default: RS256.
	Algorithms []string
	// GroupsClaim is the claim path groups are read from. Default:
	// "cognito:groups" with Cognito, else "groups".
	GroupsClaim string
	// ClaimPaths are further claim paths read into Identity.Claims (the
	// claims path rules compare), keyed by the path as written.
	ClaimPaths []string
	// JWKS is the pinned key set (JSON). Keys are chosen by kid; each is
	// bound to one allowed algorithm (see [Verifier.KeySet]).
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
	issuer    string
	clientID  string
	cognito   bool
	audiences []string
	untyped   bool
	allowed   map[string]bool // algorithm names
	keys      map[string]signingKey
	report    KeyReport
	groups    claims.Path
	paths     []claims.Path
	now       func() time.Time
	skew      time.Duration
	parse     []jwt.ParseOption // claim parsing and validation, signature already checked
	cache     *cache            // nil when disabled
}

// New builds a Verifier. It checks everything it is given, once, so that a
// bad config fails the cold start with a *ConfigError naming the field: an
// issuer that is not an absolute http(s) URL, an empty client id or
// audience, an algorithm not supported (HS* and none never are), untyped
// access tokens without an API audience, a claim path that does not parse, a
// skew outside 0 to MaxClockSkew, and a key set that does not parse, has a
// key without kid, a duplicate kid, a private or secret key, a malformed or
// short (under 2048 bits) RSA key, or no key usable with an allowed
// algorithm at all. Other keys are skipped, not refused (see
// [Verifier.KeySet]).
func New(cfg Config) (*Verifier, error) {
	if err := checkIssuer(cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, bad("clientId", "is required")
	}
	audiences := cfg.Audiences
	if len(audiences) == 0 {
		audiences = []string{cfg.ClientID}
	}
	for i, a := range audiences {
		switch {
		case a == "":
			return nil, bad(fmt.Sprintf("audiences[%d]", i), "must not be empty")
		case slices.Index(audiences, a) != i:
			return nil, bad(fmt.Sprintf("audiences[%d]", i), "%q appears twice", a)
		}
	}
	if cfg.UntypedAccessTokens {
		if cfg.Cognito {
			return nil, bad("untypedAccessTokens", "does not apply to Cognito, whose token_use claim types its tokens")
		}
		if !slices.ContainsFunc(audiences, func(a string) bool { return a != cfg.ClientID }) {
			return nil, bad("audiences", "untyped access tokens need an API audience other than the client id %q: an ID token's aud is the client id, so it alone cannot tell the two apart", cfg.ClientID)
		}
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > MaxClockSkew {
		return nil, bad("clockSkew", "must be between 0s and %s, got %s", shortDuration(MaxClockSkew), cfg.ClockSkew)
	}
	algs, err := parseAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	groupsClaim := cfg.GroupsClaim
	if groupsClaim == "" {
		groupsClaim = "groups"
		if cfg.Cognito {
			groupsClaim = "cognito:groups"
		}
	}
	groups, err := claims.Parse(groupsClaim)
	if err != nil {
		return nil, bad("groupsClaim", "%v", err)
	}
	paths := make([]claims.Path, 0, len(cfg.ClaimPaths))
	for i, s := range cfg.ClaimPaths {
		p, err := claims.Parse(s)
		if err != nil {
			return nil, bad(fmt.Sprintf("claimPaths[%d]", i), "%v", err)
		}
		paths = append(paths, p)
	}
	keys, report, err := parseKeys(cfg.JWKS, algs)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	v := &Verifier{
		issuer:    cfg.Issuer,
		clientID:  cfg.ClientID,
		cognito:   cfg.Cognito,
		audiences: slices.Clone(audiences),
		untyped:   cfg.UntypedAccessTokens,
		allowed:   make(map[string]bool, len(algs)),
		keys:      keys,
		report:    report,
		groups:    groups,
		paths:     paths,
		now:       now,
		skew:      cfg.ClockSkew,
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
	for _, a := range algs {
		v.allowed[a.String()] = true
	}
	switch size := cfg.CacheSize; {
	case size == 0:
		v.cache = newCache(DefaultCacheSize)
	case size > 0:
		v.cache = newCache(size)
	}
	return v, nil
}

// KeySet reports which keys of the pinned set verify tokens, bound to which
// algorithm, and which were skipped and why: what a cold start logs.
func (v *Verifier) KeySet() KeyReport {
	return KeyReport{Loaded: slices.Clone(v.report.Loaded), Skipped: slices.Clone(v.report.Skipped)}
}

// Audiences returns the audiences an access token must name, any one.
func (v *Verifier) Audiences() []string { return slices.Clone(v.audiences) }

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

// Verify checks raw (a compact JWT) and returns who it speaks for. use is
// the kind of token expected: UseID, UseAccess, or UseAny (an access token
// or an ID token for the client: insecure where a Bearer token is
// expected, see [UseAny]). Errors match one of the package's Err* sentinels
// with errors.Is.
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

// verify checks a first-seen token: by the fast path (fast.go) when the
// token has the common shape, else by jwx (verifyJWX). Both apply the same
// rules in the same order; FuzzFastPathAgreesWithJWX holds them to it.
func (v *Verifier) verify(buf []byte, use TokenUse) (*Identity, error) {
	if id, handled, err := v.verifyFast(buf, use); handled {
		return id, err
	}
	return v.verifyJWX(buf, use)
}

// verifyJWX is the three steps of a first-seen token done by jwx: the
// signature (with the key and algorithm the pinned set binds), the
// registered claims, then the token kind, audience and identity. The last
// step works on plain values (typ and a claimSet), which the fast path
// fills from its own decoding.
func (v *Verifier) verifyJWX(buf []byte, use TokenUse) (*Identity, error) {
	payload, typ, err := v.verifySignature(buf)
	if err != nil {
		return nil, err
	}
	tok, err := jwt.Parse(payload, v.parse...)
	if err != nil {
		return nil, classify(err)
	}
	return v.identity(claimsOf(tok), typ, use)
}

// verifySignature checks the JWS and returns its payload and header typ.
func (v *Verifier) verifySignature(buf []byte) (payload []byte, typ string, err error) {
	hdr, _, _, err := jwsbb.SplitCompact(buf)
	if err != nil {
		return nil, "", fmt.Errorf("%w: not a compact JWS: %w", ErrMalformed, err)
	}
	key, typ, err := v.headerKey(jwsbb.HeaderParseCompact(hdr))
	if err != nil {
		return nil, "", err
	}
	payload, err = jws.VerifyCompactFast(key.pub, buf, key.alg)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return payload, typ, nil
}

// headerKey reads the JWS header with jwsbb and picks the key (keyFor).
// jwsbb's reading is the one the fast path's readHeader matches (duplicate
// members, escapes, base64 variants), or leaves to this path.
func (v *Verifier) headerKey(h jwsbb.Header) (key signingKey, typ string, err error) {
	alg, err := jwsbb.HeaderGetString(h, jws.AlgorithmKey)
	if err != nil {
		return key, "", fmt.Errorf("%w: header alg: %w", ErrMalformed, err)
	}
	kid, kidErr := jwsbb.HeaderGetString(h, jws.KeyIDKey)
	if key, err = v.keyFor(alg, kid, kidErr == nil); err != nil {
		return key, "", err
	}
	typ, _ = jwsbb.HeaderGetString(h, jws.TypeKey)
	return key, typ, nil
}

// keyFor is the key a header's alg and kid name, for both paths. The
// algorithm is checked against the allowlist before the kid is looked up,
// so a none or HMAC token never reaches key lookup; then it must be the one
// algorithm the key is bound to, so an RSA key never verifies an ES token
// nor a P-384 key an ES256 one.
func (v *Verifier) keyFor(alg, kid string, hasKid bool) (signingKey, error) {
	var key signingKey
	if !v.allowed[alg] {
		return key, fmt.Errorf("%w: algorithm %q not allowed", ErrSignature, short(alg))
	}
	if !hasKid {
		return key, fmt.Errorf("%w: header has no kid", ErrUnknownKey)
	}
	key, ok := v.keys[kid]
	if !ok {
		return key, fmt.Errorf("%w: kid %q not in the pinned key set", ErrUnknownKey, short(kid))
	}
	if key.alg.String() != alg {
		return key, fmt.Errorf("%w: algorithm %q, but key %q verifies %s only", ErrSignature, alg, short(kid), key.alg)
	}
	return key, nil
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

// claimSet is what the kind, audience and identity rules read of a token
// whose signature and registered claims have been checked.
type claimSet struct {
	sub    string
	aud    []string
	exp    time.Time
	jti    string
	hasJTI bool
	priv   map[string]any // the claims other than jwt's seven registered ones
}

// claimsOf reads a claimSet from a token jwt.Parse made.
func claimsOf(tok jwt.Token) claimSet {
	var c claimSet
	c.sub, _ = tok.Subject()
	c.aud, _ = tok.Audience()
	c.exp, _ = tok.Expiration()
	c.jti, c.hasJTI = tok.JwtID()
	c.priv = privateClaims(tok)
	return c
}

// identity applies the token-kind and audience rules and builds the Identity.
func (v *Verifier) identity(c claimSet, typ string, use TokenUse) (*Identity, error) {
	if c.sub == "" {
		return nil, fmt.Errorf("%w: no sub", ErrMalformed)
	}
	kind, err := v.kind(typ, c.priv, c.aud, use)
	if err != nil {
		return nil, err
	}
	id := v.fromClaims(c.priv)
	id.Subject = c.sub
	id.Expiry = c.exp
	id.TokenUse = kind
	id.Nonce = firstString(c.priv, "nonce")
	id.Claims[jwt.SubjectKey] = c.sub
	id.Claims[jwt.IssuerKey] = v.issuer // validated equal
	if c.hasJTI {
		id.Claims[jwt.JwtIDKey] = c.jti
	}
	if len(c.aud) == 1 {
		id.Claims[jwt.AudienceKey] = c.aud[0]
	}
	return id, nil
}

// IdentityOf reads an identity from claims as decoded JSON (a userinfo or
// an introspection answer): sub, the username and email, the groups at the
// groups claim, the scopes, the top-level string claims and the claim paths.
// It checks nothing (no issuer, audience, expiry or kind): that is the
// caller's, who knows where the claims come from. Expiry is exp when it is a
// number.
func (v *Verifier) IdentityOf(c map[string]any) *Identity {
	id := v.fromClaims(c)
	id.Subject, _ = c[jwt.SubjectKey].(string)
	if exp, ok := NumericDate(c[jwt.ExpirationKey]); ok {
		id.Expiry = exp
	}
	return id
}

// NumericDate reads a JWT NumericDate (RFC 7519 §2) from decoded JSON: a
// positive number of seconds, as float64, int64 or json.Number.
func NumericDate(v any) (time.Time, bool) {
	var secs float64
	switch n := v.(type) {
	case float64:
		secs = n
	case int64:
		secs = float64(n)
	case int:
		secs = float64(n)
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return time.Time{}, false
		}
		secs = f
	default:
		return time.Time{}, false
	}
	if secs <= 0 || secs > 1<<40 || secs != secs {
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0).UTC(), true
}

// fromClaims fills what both tokens and JSON answers give.
func (v *Verifier) fromClaims(c map[string]any) *Identity {
	id := &Identity{
		Username: firstString(c, "cognito:username", "username", "preferred_username", "name"),
		Email:    firstString(c, "email"),
		Groups:   v.groups.ListAt(c),
		Scopes:   scopes(c),
		Claims:   make(map[string]string, len(c)+len(v.paths)+4),
	}
	for k, val := range c {
		if s, ok := val.(string); ok {
			id.Claims[k] = s
		}
	}
	for _, p := range v.paths {
		if s, ok := p.TextAt(c); ok {
			id.Claims[p.String()] = s
		}
	}
	return id
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

// scopes reads the space-separated scope claim (RFC 8693/9068), else scp as
// an array (Okta, Hydra) or a space-separated string (Entra ID).
func scopes(c map[string]any) []string {
	if s, ok := c["scope"].(string); ok {
		return strings.Fields(s)
	}
	return claims.List(c["scp"])
}

// short bounds attacker-chosen text quoted in an error.
func short(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
