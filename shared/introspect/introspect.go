// Package introspect checks opaque access tokens at the provider's RFC 7662
// introspection endpoint and turns an active one into a
// [verifier.Identity], with the same audience and issuer rules as JWT access
// tokens.
//
// An answer is accepted when active is true, token_type is "Bearer" (so a
// refresh token, which some providers also introspect, never passes as an
// access token), token_use and typ, when present, say access (Hydra,
// Keycloak), aud names one of the audiences, iss (when present) is the
// issuer, exp (when present) is not past and nbf not in the future (with
// the skew), and sub is set. Groups, scopes and rule claims are read from
// the answer as from a token (verifier.IdentityOf).
//
// Answers are cached by the token's SHA-256 (the token itself is never
// kept): an active one until the earlier of its exp and CacheTTL, an
// inactive or refused one for InactiveTTL, so that a flood of bad tokens is
// not a flood of calls. Concurrent checks of one token that miss the cache
// share one call. A provider that is down, slow or refuses the client is
// [ErrUnavailable] and is never cached: the caller answers 503, never a pass.
package introspect

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/internal/lru"
	"github.com/edgeauth/edgeauth/shared/claims"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Errors of Check beside verifier's sentinels (ErrAudience, ErrIssuer,
// ErrExpired, ErrNotYetValid, ErrTokenUse, ErrMalformed), which it uses for
// the same failures.
var (
	// ErrInactive: the provider says the token is not active (unknown,
	// expired, revoked, or not one it introspects, such as a JWT at
	// oidc-provider).
	ErrInactive = errors.New("introspect: token not active")
	// ErrUnavailable: the provider could not be asked (down, slow, a
	// malformed answer, or it refused the client). Retrying may help.
	ErrUnavailable = errors.New("introspect: provider unavailable")
)

// Reason names a Check failure for a log line: "inactive", "introspection
// unavailable", or verifier.Reason's vocabulary.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrInactive):
		return "inactive"
	case errors.Is(err, ErrUnavailable):
		return "introspection unavailable"
	}
	return verifier.Reason(err)
}

// Defaults and bounds of the cache lifetimes.
const (
	DefaultCacheTTL    = 60 * time.Second
	MaxCacheTTL        = time.Hour
	DefaultInactiveTTL = 5 * time.Second
	MaxInactiveTTL     = 5 * time.Minute
	DefaultCacheSize   = 1024
)

// Provider asks the introspection endpoint about a token and returns the
// answer's members (idp.Provider.Introspect).
type Provider interface {
	Introspect(ctx context.Context, token string) (map[string]any, error)
}

// ConfigError is the error New returns for a Config it refuses; Field is
// the Config field in lower camel case.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "introspect: " + e.Field + ": " + e.Problem }

// Config configures a Checker.
type Config struct {
	// Provider answers introspection requests. Required.
	Provider Provider
	// Issuer is what iss must be when an answer carries it. Required.
	Issuer string
	// Audiences: aud must name one of them. Required.
	Audiences []string
	// Read turns an answer into an Identity (verifier.Verifier.IdentityOf).
	// Required.
	Read func(map[string]any) *verifier.Identity
	// CacheTTL bounds how long an active answer is reused; 0 means
	// DefaultCacheTTL, at most MaxCacheTTL.
	CacheTTL time.Duration
	// InactiveTTL is how long an inactive or refused answer is reused; 0
	// means DefaultInactiveTTL, at most MaxInactiveTTL.
	InactiveTTL time.Duration
	// ClockSkew is tolerated on exp and nbf.
	ClockSkew time.Duration
	// CacheSize bounds the answers kept; 0 means DefaultCacheSize.
	CacheSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Checker checks opaque tokens. It is safe for concurrent use.
type Checker struct {
	cfg   Config
	cache *lru.Cache[[sha256.Size]byte, answer]

	mu    sync.Mutex
	calls map[[sha256.Size]byte]*call
}

// answer is a cached outcome: an identity, or the refusal.
type answer struct {
	id  *verifier.Identity
	err error
}

// call is one introspection in flight that later checks of the same token
// wait for.
type call struct {
	done    chan struct{}
	waiters int // for tests
	answer  answer
}

// New checks cfg and builds a Checker.
func New(cfg Config) (*Checker, error) {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case cfg.Provider == nil:
		return nil, bad("provider", "is required")
	case cfg.Issuer == "":
		return nil, bad("issuer", "is required")
	case len(cfg.Audiences) == 0 || slices.Contains(cfg.Audiences, ""):
		return nil, bad("audiences", "at least one non-empty audience is required")
	case cfg.Read == nil:
		return nil, bad("read", "is required")
	}
	for _, d := range []struct {
		field    string
		v        *time.Duration
		def, max time.Duration
	}{
		{"cacheTtl", &cfg.CacheTTL, DefaultCacheTTL, MaxCacheTTL},
		{"inactiveTtl", &cfg.InactiveTTL, DefaultInactiveTTL, MaxInactiveTTL},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 0 || *d.v > d.max:
			return nil, bad(d.field, "must be between 0s and %s, got %s", d.max, *d.v)
		}
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Audiences = slices.Clone(cfg.Audiences)
	return &Checker{cfg: cfg, cache: lru.New[[sha256.Size]byte, answer](cfg.CacheSize), calls: map[[sha256.Size]byte]*call{}}, nil
}

// Check returns who token speaks for, from the cache or the provider. The
// returned Identity is the caller's to change.
func (c *Checker) Check(ctx context.Context, token string) (*verifier.Identity, error) {
	key := sha256.Sum256([]byte(token))
	if a, ok := c.cache.Get(key, c.cfg.Now()); ok {
		return a.result()
	}
	c.mu.Lock()
	if cl, ok := c.calls[key]; ok {
		cl.waiters++
		c.mu.Unlock()
		select {
		case <-cl.done:
			return cl.answer.result()
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		}
	}
	cl := &call{done: make(chan struct{})}
	c.calls[key] = cl
	c.mu.Unlock()

	cl.answer = c.ask(ctx, key, token)
	c.mu.Lock()
	delete(c.calls, key)
	c.mu.Unlock()
	close(cl.done)
	return cl.answer.result()
}

func (a answer) result() (*verifier.Identity, error) {
	if a.err != nil {
		return nil, a.err
	}
	return a.id.Clone(), nil
}

// ask calls the provider, judges the answer and caches the outcome; a
// failure to ask is not cached.
func (c *Checker) ask(ctx context.Context, key [sha256.Size]byte, token string) answer {
	members, err := c.cfg.Provider.Introspect(ctx, token)
	if err != nil {
		return answer{err: fmt.Errorf("%w: %w", ErrUnavailable, err)}
	}
	now := c.cfg.Now()
	id, err := c.judge(members, now)
	if err != nil {
		a := answer{err: err}
		c.cache.Put(key, a, now.Add(c.cfg.InactiveTTL), now)
		return a
	}
	until := now.Add(c.cfg.CacheTTL)
	if !id.Expiry.IsZero() && id.Expiry.Before(until) {
		until = id.Expiry
	}
	if id.Expiry.IsZero() {
		id.Expiry = until
	}
	// The cache and the waiters share a: nothing changes an answer once
	// made, and result hands out copies.
	a := answer{id: id}
	c.cache.Put(key, a, until, now)
	return a
}

// judge applies the package doc's rules to an answer.
func (c *Checker) judge(m map[string]any, now time.Time) (*verifier.Identity, error) {
	if active, _ := m["active"].(bool); !active {
		return nil, ErrInactive
	}
	if tt, _ := m["token_type"].(string); !strings.EqualFold(tt, "Bearer") {
		return nil, fmt.Errorf("%w: token_type %q, want Bearer", verifier.ErrTokenUse, short(tt))
	}
	for _, f := range []struct{ name, want string }{{"token_use", "access_token"}, {"typ", "Bearer"}} {
		if v, ok := m[f.name]; ok {
			if s, _ := v.(string); !strings.EqualFold(s, f.want) && !strings.EqualFold(s, "access") {
				return nil, fmt.Errorf("%w: %s %v is not an access token's", verifier.ErrTokenUse, f.name, shortAny(v))
			}
		}
	}
	if v, ok := m["iss"]; ok {
		if iss, _ := v.(string); iss != c.cfg.Issuer {
			return nil, fmt.Errorf("%w: iss %v", verifier.ErrIssuer, shortAny(v))
		}
	}
	if !slices.ContainsFunc(audiences(m["aud"]), func(a string) bool { return slices.Contains(c.cfg.Audiences, a) }) {
		return nil, fmt.Errorf("%w: aud names none of the audiences", verifier.ErrAudience)
	}
	var exp time.Time
	if v, ok := m["exp"]; ok {
		t, ok := verifier.NumericDate(v)
		if !ok {
			return nil, fmt.Errorf("%w: exp is not a NumericDate", verifier.ErrMalformed)
		}
		if !now.Before(t.Add(c.cfg.ClockSkew)) {
			return nil, fmt.Errorf("%w: exp passed", verifier.ErrExpired)
		}
		exp = t
	}
	if v, ok := m["nbf"]; ok {
		if t, ok := verifier.NumericDate(v); !ok || t.After(now.Add(c.cfg.ClockSkew)) {
			return nil, fmt.Errorf("%w: nbf in the future", verifier.ErrNotYetValid)
		}
	}
	if v, ok := m["scope"]; ok {
		if _, isString := v.(string); !isString {
			return nil, fmt.Errorf("%w: scope is not a string", verifier.ErrMalformed)
		}
	}
	id := c.cfg.Read(m)
	if id == nil || id.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", verifier.ErrMalformed)
	}
	id.TokenUse = verifier.UseAccess
	id.Expiry = exp
	return id, nil
}

// audiences reads aud: a string (one audience, not split at spaces as
// claims.List would) or an array of strings.
func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		return claims.List(a)
	}
	return nil
}

func short(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func shortAny(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", short(s))
	}
	return fmt.Sprintf("%T", v)
}

// waiting reports how many checks wait for the call in flight for token
// (for tests).
func (c *Checker) waiting(token string) int {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.calls[key]; ok {
		return cl.waiters
	}
	return -1
}
