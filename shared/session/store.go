// Package session writes and reads every cookie the suite sets: the signed
// session cookie (the browser hot path), the encrypted refresh cookie, one
// encrypted login-state cookie per login attempt, and the signed return-path
// token carried through /refreshauth.
//
// All values go through gorilla/securecookie, which binds each value to its
// cookie name with an HMAC and supports key rotation (the first key pair
// encodes, all decode). securecookie's own clock cannot be injected, so every
// value carries its own expiry, checked here against Config.Now, and
// securecookie's age check is switched off.
//
// Every cookie, name and attributes included, must fit the browsers' 4,096
// byte limit. An encoding that would not fit fails with ErrTooLarge; an
// oversized cookie is never produced.
//
// The readers take the request's cookies as [edge.Cookies], which a handler
// parses once per request and hands to each, rather than the request: the
// Cookie header is read once however many cookies a decision needs. Each
// cookie's JSON is this package's own (the session's short names are a
// contract with every browser holding one; TestSessionCookieGolden pins
// them). New is the one check of a Config: a bad one is a *ConfigError
// naming the field.
package session

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/edgeauth/edgeauth/internal/lru"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// Errors, classified with errors.Is. They never carry a cookie value.
var (
	// ErrNoSession means the request carries no such cookie.
	ErrNoSession = errors.New("session: no cookie")
	// ErrInvalid means a cookie or token failed its MAC, decryption or
	// decoding: tampered, garbage, or made with a key no longer configured.
	ErrInvalid = errors.New("session: invalid cookie")
	// ErrExpired means the value was genuine but its lifetime has passed.
	ErrExpired = errors.New("session: expired")
	// ErrBadReturn means a return path is not a same-origin relative path.
	ErrBadReturn = errors.New("session: bad return path")
	// ErrTooLarge means the cookie would exceed MaxCookieBytes.
	ErrTooLarge = errors.New("session: cookie too large")
)

// Reason names a read failure for a log line: "missing", "expired",
// "invalid", or "unreadable" for anything else. It never holds a value.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrNoSession):
		return "missing"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	}
	return "unreadable"
}

// ConfigError is the error New returns for a Config it refuses. Field names
// the Config field at fault in lower camel case, with the index of the key
// pair when one is at fault ("keys[1].hash"); Problem says what is wrong. A
// caller that fills Config from a file maps Field onto the file's names.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "session: " + e.Field + ": " + e.Problem }

func bad(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// KeyPair is one securecookie key pair.
type KeyPair struct {
	// Hash authenticates (HMAC-SHA256): 32 or 64 bytes.
	Hash []byte
	// Block encrypts (AES): 16, 24 or 32 bytes.
	Block []byte
}

// MaxPrefix is the longest cookie name prefix New takes.
const MaxPrefix = 32

// MaxCookieBytes is the budget for one cookie: name, value and attributes as
// written in Set-Cookie. Browsers keep at most about this much per cookie.
const MaxCookieBytes = 4096

// Defaults applied by New to zero Config fields.
const (
	DefaultLoginStateTTL   = 10 * time.Minute
	DefaultMaxAttempts     = 5
	DefaultRefreshLifetime = 30 * 24 * time.Hour
	// DefaultSessionCacheSize is the number of verified session cookie
	// values kept when Config.SessionCacheSize is 0.
	DefaultSessionCacheSize = 1024
	// ReturnTTL is how long a SignReturn token is accepted.
	ReturnTTL = 10 * time.Minute
)

// maxInflated bounds a decompressed value. Values are MAC-checked before
// they are inflated, so this guards against our own bugs, not attackers.
const maxInflated = 64 << 10

// Config configures a Store. Zero durations and counts take the defaults.
type Config struct {
	// Prefix starts every cookie name: <prefix>-session, <prefix>-refresh,
	// <prefix>-login-<attemptID>, <prefix>-attempts. 1 to MaxPrefix
	// letters, digits, '-' or '_', not starting with __Host or __Secure
	// (browsers hold such names to rules, Path=/ and no Domain, that the
	// login and refresh cookies cannot keep).
	Prefix string
	// Domain is the cookies' Domain attribute; empty means host-only.
	Domain string
	// SameSite is "Lax" (the default when empty) or "None" (which needs
	// Secure). "Strict" is refused: see New.
	SameSite string
	// Secure adds the Secure attribute; leave it off only for plain-HTTP
	// local runs.
	Secure bool
	// Keys: the first pair encodes, every pair decodes (rotation).
	Keys []KeyPair

	// The paths the cookies are scoped to (see CheckPath).
	RefreshPath   string // the refresh cookie's first path: the refresh endpoint
	SignOutPath   string // the refresh cookie's second path: sign-out
	ParseAuthPath string // the login-state cookies' path: the login callback

	RefreshLifetime time.Duration // default 30 days
	LoginStateTTL   time.Duration // default 10 minutes
	MaxAttempts     int           // concurrent login attempts kept; default 5

	// Now is the clock every expiry is checked against; default time.Now.
	Now func() time.Time

	// SessionCacheSize is the number of verified session cookie values
	// kept, so that a browser's next request costs a lookup rather than an
	// HMAC and a JSON decode; 0 means DefaultSessionCacheSize, negative
	// disables the cache. An entry is keyed by the exact cookie value, and
	// its expiry is checked on every hit, as a decode would.
	SessionCacheSize int
}

// Store encodes and decodes the suite's cookies. It is safe for concurrent
// use and is meant to be built once per cold start.
type Store struct {
	cfg      Config
	sameSite http.SameSite

	signed    []securecookie.Codec // hash key only: session, return token
	encrypted []securecookie.Codec // hash + AES block key: refresh, login
	macs      []*macKey            // the signed codecs' hash keys, in order, for openSigned

	sessions *lru.Cache[string, sessionWire] // verified session values by cookie value; nil when off

	sessionName, refreshName, loginPrefix, returnName, attemptsName string

	inflaters sync.Pool // flate readers; decompression state is large
	// buffers hold a signed value's bytes while it is read (*[MaxCookieBytes]byte:
	// MaxCookieBytes bounds what securecookie accepts, and so what base64 decodes to).
	buffers sync.Pool
}

var (
	cookieDomainRE = regexp.MustCompile(`^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	prefixRE       = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// pathRE is what a cookie Path attribute and a CloudFront path pattern
	// both take: no query, no wildcard, no ';' or space.
	pathRE = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()+,=:@/-]*$`)
)

// New validates cfg and builds a Store. It checks everything it is given,
// once, and reports a problem as a *ConfigError naming the field, so a bad
// config fails the cold start; that includes what securecookie would only
// report on first use (a bad key).
//
// SameSite "Strict" is refused rather than handled: the IdP's redirect back
// to the callback is a cross-site navigation, on which a Strict session
// cookie is not sent, nor on any arrival from another site, so check-auth
// would start a login again, in a loop.
func New(cfg Config) (*Store, error) {
	switch p := cfg.Prefix; {
	case !prefixRE.MatchString(p):
		return nil, bad("prefix", "must be letters, digits, '-' or '_', got %q", p)
	case len(p) > MaxPrefix:
		return nil, bad("prefix", "must be at most %d characters, got %d", MaxPrefix, len(p))
	case strings.HasPrefix(strings.ToLower(p), "__host") || strings.HasPrefix(strings.ToLower(p), "__secure"):
		return nil, bad("prefix", "must not start with __Host or __Secure")
	}
	if cfg.Domain != "" && (len(cfg.Domain) > 253 || !cookieDomainRE.MatchString(cfg.Domain)) {
		// net/http silently drops an invalid Domain (a port, say), which
		// would turn a shared cookie into a host-only one.
		return nil, bad("domain", "must be a domain name without a port, got %q", cfg.Domain)
	}
	s := &Store{cfg: cfg}
	switch cfg.SameSite {
	case "", "Lax":
		s.sameSite = http.SameSiteLaxMode
	case "None":
		if !cfg.Secure {
			return nil, bad("sameSite", `"None" needs Secure cookies (scheme "https")`)
		}
		s.sameSite = http.SameSiteNoneMode
	case "Strict":
		return nil, bad("sameSite", `"Strict" would loop: the session cookie is not sent when the IdP redirects back; use "Lax"`)
	default:
		return nil, bad("sameSite", `must be "Lax" or "None", got %q`, cfg.SameSite)
	}
	for _, p := range []struct{ field, v string }{
		{"refreshPath", cfg.RefreshPath}, {"signOutPath", cfg.SignOutPath}, {"parseAuthPath", cfg.ParseAuthPath},
	} {
		if err := CheckPath(p.v); err != nil {
			return nil, bad(p.field, "%s", err)
		}
	}
	for _, d := range []struct {
		field string
		v     int64
	}{{"refreshLifetime", int64(cfg.RefreshLifetime)}, {"loginStateTTL", int64(cfg.LoginStateTTL)}, {"maxAttempts", int64(cfg.MaxAttempts)}} {
		if d.v < 0 {
			return nil, bad(d.field, "must not be negative")
		}
	}
	if s.cfg.RefreshLifetime == 0 {
		s.cfg.RefreshLifetime = DefaultRefreshLifetime
	}
	if s.cfg.LoginStateTTL == 0 {
		s.cfg.LoginStateTTL = DefaultLoginStateTTL
	}
	if s.cfg.MaxAttempts == 0 {
		s.cfg.MaxAttempts = DefaultMaxAttempts
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	if len(cfg.Keys) == 0 {
		return nil, bad("keys", "at least one key pair is required")
	}
	var signedPairs, encPairs [][]byte
	for i, k := range cfg.Keys {
		if len(k.Hash) != 32 && len(k.Hash) != 64 {
			return nil, bad(fmt.Sprintf("keys[%d].hash", i), "must be 32 or 64 bytes, got %d", len(k.Hash))
		}
		if _, err := aes.NewCipher(k.Block); err != nil {
			return nil, bad(fmt.Sprintf("keys[%d].block", i), "must be 16, 24 or 32 bytes, got %d", len(k.Block))
		}
		signedPairs = append(signedPairs, k.Hash, nil)
		encPairs = append(encPairs, k.Hash, k.Block)
		s.macs = append(s.macs, newMACKey(k.Hash))
	}
	switch n := cfg.SessionCacheSize; {
	case n == 0:
		s.sessions = lru.New[string, sessionWire](DefaultSessionCacheSize)
	case n > 0:
		s.sessions = lru.New[string, sessionWire](n)
	}
	s.signed = securecookie.CodecsFromPairs(signedPairs...)
	s.encrypted = securecookie.CodecsFromPairs(encPairs...)
	for _, codecs := range [][]securecookie.Codec{s.signed, s.encrypted} {
		for _, c := range codecs {
			sc := c.(*securecookie.SecureCookie)
			// Our own expiry, checked against the injected clock, is the
			// only age check; securecookie's uses the wall clock.
			sc.MaxAge(0)
			sc.MaxLength(MaxCookieBytes)
			sc.SetSerializer(securecookie.NopEncoder{})
			// Surface securecookie's deferred key errors now.
			if _, err := sc.Encode("probe", []byte("{}")); err != nil {
				return nil, bad("keys", "key check: %v", err)
			}
		}
	}
	s.sessionName = cfg.Prefix + "-session"
	s.refreshName = cfg.Prefix + "-refresh"
	s.loginPrefix = cfg.Prefix + "-login-"
	s.returnName = cfg.Prefix + "-return"
	s.attemptsName = cfg.Prefix + "-attempts"
	return s, nil
}

// CheckPath reports whether p can be one of the suite's own paths, which
// cookies are scoped to and CloudFront behaviors route on: it must start
// with one "/", hold only what a cookie Path attribute and a CloudFront path
// pattern both take (no query, wildcard, ';' or space), and be reachable as
// written, so no empty or dot segments (browsers rewrite dot segments, and
// the functions refuse both).
func CheckPath(p string) error {
	if strings.HasPrefix(p, "//") || len(p) > 512 || !pathRE.MatchString(p) {
		return fmt.Errorf(`must be a path starting with "/" without query, got %q`, p)
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		if seg == "." || seg == ".." || (seg == "" && i != len(segs)-1) {
			return fmt.Errorf("must not hold empty or dot segments, got %q", p)
		}
	}
	return nil
}

// IsSuiteCookie reports whether name is one of the cookies this Store sets,
// for edge.Request.DropCookies: the origin never sees them.
func (s *Store) IsSuiteCookie(name string) bool {
	return name == s.sessionName || name == s.refreshName || name == s.attemptsName || strings.HasPrefix(name, s.loginPrefix)
}

// SessionName, RefreshName and LoginName return the cookie names.
func (s *Store) SessionName() string { return s.sessionName }

// RefreshName returns the refresh cookie's name.
func (s *Store) RefreshName() string { return s.refreshName }

// LoginName returns the name of the login-state cookie for attemptID.
func (s *Store) LoginName(attemptID string) string { return s.loginPrefix + attemptID }

// cookie builds a cookie with the configured attributes.
func (s *Store) cookie(name, value, path string, maxAge time.Duration, sameSite http.SameSite) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		Domain:   s.cfg.Domain,
		Secure:   s.cfg.Secure,
		HttpOnly: true,
		SameSite: sameSite,
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
		if c.MaxAge == 0 {
			c.MaxAge = 1
		}
	} else {
		// Max-Age=0 plus a past Expires deletes the cookie everywhere.
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0).UTC()
	}
	return c
}

func (s *Store) expired(name, path string, sameSite http.SameSite) *http.Cookie {
	return s.cookie(name, "", path, 0, sameSite)
}

// checkSize enforces MaxCookieBytes on the cookie as it will be written.
func checkSize(c *http.Cookie) error {
	if n := len(c.String()); n > MaxCookieBytes {
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLarge, c.Name, n, MaxCookieBytes)
	}
	return nil
}

// Payload format: the securecookie value (after MAC and decryption) is JSON,
// which starts with '{', or 'z' followed by raw DEFLATE of that JSON. Small
// values stay uncompressed so the hot path never inflates.
const deflated = 'z'

// encodeValue serializes v and encodes it under name with the first codec.
// When the resulting cookie, built by mk, would not fit and compress is set,
// it retries with the JSON deflated.
func (s *Store) encodeValue(codecs []securecookie.Codec, name string, v any, compress bool, mk func(value string) *http.Cookie) (*http.Cookie, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("session: encode %s: %w", name, err)
	}
	c, err := s.encodeBytes(codecs, name, raw, mk)
	if err == nil || !compress || !errors.Is(err, ErrTooLarge) {
		return c, err
	}
	var buf bytes.Buffer
	buf.WriteByte(deflated)
	zw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("session: encode %s: %w", name, err)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("session: encode %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("session: encode %s: %w", name, err)
	}
	return s.encodeBytes(codecs, name, buf.Bytes(), mk)
}

func (s *Store) encodeBytes(codecs []securecookie.Codec, name string, b []byte, mk func(string) *http.Cookie) (*http.Cookie, error) {
	// Only the first codec encodes: EncodeMulti would fall back to an old
	// key, and a failure with the first key fails with every key.
	value, err := codecs[0].Encode(name, b)
	if err != nil {
		// securecookie's only encode failure with valid keys is its own
		// length limit.
		return nil, fmt.Errorf("%w: %s: %w", ErrTooLarge, name, err)
	}
	c := mk(value)
	if err := checkSize(c); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeValue checks value's MAC (and decrypts it) with every codec in turn,
// inflates it if needed and unmarshals the JSON into dst. Signed values are
// opened by openSigned, encrypted ones by securecookie.
func (s *Store) decodeValue(codecs []securecookie.Codec, name, value string, dst any) error {
	var b []byte
	if s.isSigned(codecs) {
		buf := s.buffer()
		defer s.buffers.Put(buf)
		var ok bool
		if b, ok = s.openSigned(name, value, buf[:0]); !ok {
			return ErrInvalid
		}
	} else if err := securecookie.DecodeMulti(name, value, &b, codecs...); err != nil {
		return ErrInvalid // the securecookie error names nothing secret, but says nothing useful either
	}
	if len(b) > 0 && b[0] == deflated {
		var err error
		if b, err = s.inflate(b[1:]); err != nil {
			return fmt.Errorf("%w: %s: inflate: %w", ErrInvalid, name, err)
		}
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	return nil
}

func (s *Store) buffer() *[MaxCookieBytes]byte {
	if b, ok := s.buffers.Get().(*[MaxCookieBytes]byte); ok {
		return b
	}
	return new([MaxCookieBytes]byte)
}

// isSigned reports whether codecs are the store's signed ones, which
// openSigned reads.
func (s *Store) isSigned(codecs []securecookie.Codec) bool {
	return len(codecs) > 0 && len(s.signed) > 0 && &codecs[0] == &s.signed[0]
}

// macKey is one hash key of the signed codecs, with a pool of HMACs keyed
// with it: hmac.New costs five allocations, Reset none.
type macKey struct{ pool sync.Pool }

func newMACKey(key []byte) *macKey {
	k := &macKey{}
	k.pool.New = func() any { return hmac.New(sha256.New, key) }
	return k
}

// openSigned reads a value written by a signed codec (a hash key, no block
// key, securecookie.NopEncoder, no age limits) exactly as
// securecookie.DecodeMulti does, without its per-call allocations:
// base64url(date|base64url(payload)|mac), the mac being HMAC-SHA256 of
// "name|date|base64url(payload)" under one of the keys, tried in order; a
// key whose MAC matches but whose date or payload does not decode fails as
// that codec would, and the next key is tried. It appends the payload to
// dst.
func (s *Store) openSigned(name, value string, dst []byte) ([]byte, bool) {
	if len(value) > MaxCookieBytes {
		return nil, false
	}
	rawBuf := s.buffer()
	defer s.buffers.Put(rawBuf)
	n, err := base64.URLEncoding.Decode(rawBuf[:], []byte(value))
	if err != nil {
		return nil, false
	}
	raw := rawBuf[:n]
	i := bytes.IndexByte(raw, '|')
	if i < 0 {
		return nil, false
	}
	j := bytes.IndexByte(raw[i+1:], '|')
	if j < 0 {
		return nil, false
	}
	j += i + 1
	date, payload, mac := raw[:i], raw[i+1:j], raw[j+1:]
	for _, k := range s.macs {
		h := k.pool.Get().(hash.Hash)
		h.Reset()
		h.Write([]byte(name))
		h.Write([]byte{'|'})
		h.Write(raw[:j])
		var sum [sha256.Size]byte
		ok := len(mac) == sha256.Size && subtle.ConstantTimeCompare(mac, h.Sum(sum[:0])) == 1
		k.pool.Put(h)
		if !ok || !isInt64(date) {
			continue
		}
		if cap(dst) < base64.URLEncoding.DecodedLen(len(payload)) {
			dst = make([]byte, 0, base64.URLEncoding.DecodedLen(len(payload)))
		}
		m, err := base64.URLEncoding.Decode(dst[:cap(dst)], payload)
		if err != nil {
			continue
		}
		return dst[:m], true
	}
	return nil, false
}

// isInt64 reports whether strconv.ParseInt(string(b), 10, 64) succeeds.
func isInt64(b []byte) bool {
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg := b[0] == '-'
		b = b[1:]
		if len(b) == 0 {
			return false
		}
		return digitsFit(b, neg)
	}
	return len(b) > 0 && digitsFit(b, false)
}

// digitsFit reports whether b is all decimal digits with a value that fits
// an int64 (its magnitude up to 1<<63 when negative).
func digitsFit(b []byte, neg bool) bool {
	limit := uint64(1<<63 - 1)
	if neg {
		limit = 1 << 63
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return false
		}
		n = n*10 + d
	}
	return true
}

func (s *Store) inflate(b []byte) ([]byte, error) {
	src := bytes.NewReader(b)
	zr, _ := s.inflaters.Get().(io.ReadCloser)
	if zr == nil {
		zr = flate.NewReader(src)
	} else if err := zr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer s.inflaters.Put(zr)
	out, err := io.ReadAll(io.LimitReader(zr, maxInflated+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxInflated {
		return nil, errors.New("value too large")
	}
	return out, nil
}

// decodeCookie tries each value the cookies carry for name (a browser may
// send two, say a host-only and a Domain cookie) and returns the first that
// decodes and passes check. Without one it returns ErrNoSession; otherwise
// it reports the most useful failure: ErrExpired, with that value (so the
// caller can still read it), over the first value's ErrInvalid. check
// returns nil, ErrExpired or ErrInvalid.
func decodeCookie[T any](s *Store, cs edge.Cookies, codecs []securecookie.Codec, name string, check func(*T, time.Time) error) (T, error) {
	return decodeCached(s, cs, codecs, name, check, nil, nil)
}

// decodeCached is decodeCookie with a cache of the values that decoded and
// passed check, keyed by the exact cookie value and kept until until(t):
// a hit stands for the decode it saves (the store's keys never change),
// and check runs on it again with the current clock. The cookies are read
// in the same order either way, so a hit gives what decoding would.
func decodeCached[T any](s *Store, cs edge.Cookies, codecs []securecookie.Codec, name string, check func(*T, time.Time) error,
	cache *lru.Cache[string, T], until func(*T) time.Time) (T, error) {
	var zero, expired T
	found, haveExpired := false, false
	firstErr := error(ErrInvalid)
	var now time.Time
	for _, c := range cs {
		if c.Name != name {
			continue
		}
		if !found {
			now = s.cfg.Now()
		}
		if cache != nil {
			if t, ok := cache.Get(c.Value, now); ok && check(&t, now) == nil {
				return t, nil
			}
		}
		var t T
		err := s.decodeValue(codecs, name, c.Value, &t)
		if err == nil {
			err = check(&t, now)
		}
		switch {
		case err == nil:
			if cache != nil {
				// A copy: c.Value is a substring of the Cookie header, which
				// the key would otherwise keep alive with the entry.
				cache.Put(strings.Clone(c.Value), t, until(&t), now)
			}
			return t, nil
		case errors.Is(err, ErrExpired):
			if !haveExpired {
				expired, haveExpired = t, true
			}
		case !found:
			firstErr = err
		}
		found = true
	}
	switch {
	case !found:
		return zero, ErrNoSession
	case haveExpired:
		return expired, fmt.Errorf("%w: %s", ErrExpired, name)
	}
	return zero, firstErr
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
