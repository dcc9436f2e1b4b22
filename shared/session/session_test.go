package session

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a settable test clock; tests move it, never sleep.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func keyPair(b byte) KeyPair {
	return KeyPair{Hash: bytes.Repeat([]byte{b}, 32), Block: bytes.Repeat([]byte{b + 100}, 32)}
}

func testConfig(clk *clock, keys ...KeyPair) Config {
	if len(keys) == 0 {
		keys = []KeyPair{keyPair(1)}
	}
	return Config{
		Prefix:        "edgeauth",
		SameSite:      "Lax",
		Secure:        true,
		Keys:          keys,
		RefreshPath:   "/refreshauth",
		SignOutPath:   "/signout",
		ParseAuthPath: "/parseauth",
		Now:           clk.Now,
	}
}

func newStore(t testing.TB, clk *clock, keys ...KeyPair) *Store {
	t.Helper()
	s, err := New(testConfig(clk, keys...))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// request builds a request whose Cookie header carries the given pairs, as a
// browser would send them, and returns its parsed cookies.
func request(cookies ...*http.Cookie) edge.Cookies { return httpRequest(cookies...).Cookies() }

func httpRequest(cookies ...*http.Cookie) *edge.Request {
	req := &edge.Request{Method: "GET", URI: "/", Headers: edge.Headers{}}
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) > 0 {
		req.Headers.Set("Cookie", strings.Join(parts, "; "))
	}
	return req
}

func testIdentity() verifier.Identity {
	return verifier.Identity{
		Subject:  "3f1c2a9e-7b4d-4e21-9c55-0d6c1b2e8a41",
		Username: "alice",
		Email:    "alice@example.com",
		Groups:   []string{"admins", "staff"},
		Claims:   map[string]string{"custom:tenant": "acme"},
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	clk := &clock{t0}
	tests := []struct {
		name      string
		edit      func(*Config)
		wantField string
		want      string
	}{
		{"empty prefix", func(c *Config) { c.Prefix = "" }, "prefix", "must be letters"},
		{"prefix with semicolon", func(c *Config) { c.Prefix = "a;b" }, "prefix", "must be letters"},
		{"prefix of 33 characters", func(c *Config) { c.Prefix = strings.Repeat("a", 33) }, "prefix", "must be at most 32 characters, got 33"},
		{"__Host prefix", func(c *Config) { c.Prefix = "__Host-x" }, "prefix", "must not start with __Host"},
		{"__secure prefix", func(c *Config) { c.Prefix = "__secure-x" }, "prefix", "must not start with __Host or __Secure"},
		{"domain with port", func(c *Config) { c.Domain = "example.com:443" }, "domain", "must be a domain name without a port"},
		{"domain with space", func(c *Config) { c.Domain = "exa mple.com" }, "domain", "must be a domain name"},
		{"domain with an empty label", func(c *Config) { c.Domain = "example..com" }, "domain", "must be a domain name"},
		{"samesite unknown", func(c *Config) { c.SameSite = "sometimes" }, "sameSite", `must be "Lax" or "None"`},
		{"samesite in lower case", func(c *Config) { c.SameSite = "lax" }, "sameSite", `must be "Lax" or "None"`},
		// Strict used to be refused by the config file's checks and handled
		// here; it is refused here now, once.
		{"samesite strict", func(c *Config) { c.SameSite = "Strict" }, "sameSite", `"Strict" would loop`},
		{"samesite none without secure", func(c *Config) { c.SameSite, c.Secure = "None", false }, "sameSite", `"None" needs Secure`},
		{"no keys", func(c *Config) { c.Keys = nil }, "keys", "at least one key pair is required"},
		{"short hash key", func(c *Config) { c.Keys = []KeyPair{{Hash: make([]byte, 16), Block: make([]byte, 32)}} }, "keys[0].hash", "must be 32 or 64 bytes, got 16"},
		{"bad block key", func(c *Config) { c.Keys = []KeyPair{{Hash: make([]byte, 32), Block: make([]byte, 15)}} }, "keys[0].block", "must be 16, 24 or 32 bytes, got 15"},
		{"missing block key", func(c *Config) { c.Keys = []KeyPair{{Hash: make([]byte, 32)}} }, "keys[0].block", "got 0"},
		{"bad second key", func(c *Config) {
			c.Keys = []KeyPair{keyPair(1), {Hash: make([]byte, 31), Block: make([]byte, 32)}}
		}, "keys[1].hash", "got 31"},
		{"relative refresh path", func(c *Config) { c.RefreshPath = "refreshauth" }, "refreshPath", `must be a path starting with "/"`},
		{"parse path with semicolon", func(c *Config) { c.ParseAuthPath = "/parse;x" }, "parseAuthPath", `must be a path starting with "/" without query`},
		{"empty sign-out path", func(c *Config) { c.SignOutPath = "" }, "signOutPath", "must be a path"},
		{"protocol-relative path", func(c *Config) { c.SignOutPath = "//evil" }, "signOutPath", "must be a path"},
		{"path with a wildcard", func(c *Config) { c.SignOutPath = "/out*" }, "signOutPath", "must be a path"},
		{"path with a query", func(c *Config) { c.SignOutPath = "/out?x=1" }, "signOutPath", "without query"},
		{"path with an empty segment", func(c *Config) { c.ParseAuthPath = "/auth//cb" }, "parseAuthPath", "must not hold empty or dot segments"},
		{"path with a dot segment", func(c *Config) { c.ParseAuthPath = "/a/../parseauth" }, "parseAuthPath", "must not hold empty or dot segments"},
		{"negative lifetime", func(c *Config) { c.RefreshLifetime = -time.Second }, "refreshLifetime", "must not be negative"},
		{"negative login TTL", func(c *Config) { c.LoginStateTTL = -time.Second }, "loginStateTTL", "must not be negative"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "maxAttempts", "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(clk)
			tt.edit(&cfg)
			_, err := New(cfg)
			ce, ok := errors.AsType[*ConfigError](err)
			if !ok || ce.Field != tt.wantField || !strings.Contains(ce.Problem, tt.want) {
				t.Fatalf("New(%s) = %v; want a ConfigError for %s saying %q", tt.name, err, tt.wantField, tt.want)
			}
		})
	}
	good := testConfig(clk)
	good.Domain = ".example.com"
	good.SameSite = "None"
	good.Prefix = strings.Repeat("a", MaxPrefix)
	good.RefreshPath = "/auth/refresh/"
	if _, err := New(good); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
}

func TestSessionRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name       string
		hasRefresh bool
		wantMaxAge int
	}{
		{"without refresh lives until expiry", false, 3600},
		{"with refresh lives for the refresh lifetime", true, int(DefaultRefreshLifetime / time.Second)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t0}
			cfg := testConfig(clk)
			cfg.Domain = "example.com"
			cfg.SameSite = "None"
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour), HasRefresh: tt.hasRefresh}
			c, err := s.EncodeSession(in)
			if err != nil {
				t.Fatalf("EncodeSession: %v", err)
			}
			if c.Name != "edgeauth-session" || c.Path != "/" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteNoneMode || c.Domain != "example.com" {
				t.Errorf("cookie attributes = %s", c.String())
			}
			if c.MaxAge != tt.wantMaxAge {
				t.Errorf("MaxAge = %d, want %d", c.MaxAge, tt.wantMaxAge)
			}
			got, err := s.Session(request(c))
			if err != nil {
				t.Fatalf("Session: %v", err)
			}
			if got.Identity.Subject != in.Identity.Subject || got.Identity.Email != in.Identity.Email ||
				strings.Join(got.Identity.Groups, ",") != "admins,staff" || got.Identity.Claim("custom:tenant") != "acme" {
				t.Errorf("identity = %+v, want %+v", got.Identity, in.Identity)
			}
			if !got.Expiry.Equal(in.Expiry) || !got.Identity.Expiry.Equal(in.Expiry) || got.HasRefresh != tt.hasRefresh {
				t.Errorf("session = %+v", got)
			}
		})
	}
}

func TestEncodeSessionRejects(t *testing.T) {
	s := newStore(t, &clock{t0})
	if _, err := s.EncodeSession(Session{Identity: verifier.Identity{}, Expiry: t0.Add(time.Hour)}); err == nil {
		t.Error("EncodeSession(no subject) = nil error")
	}
	if _, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0}); err == nil {
		t.Error("EncodeSession(expiry now) = nil error")
	}
}

// flip changes one character of a cookie value to another base64url one.
func flip(v string, i int) string {
	b := []byte(v)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestSessionTampering(t *testing.T) {
	clk := &clock{t0}
	oldKey, newKey := keyPair(1), keyPair(2)
	oldStore := newStore(t, clk, oldKey)
	rotated := newStore(t, clk, newKey, oldKey) // new key first, old still accepted
	dropped := newStore(t, clk, newKey)         // old key rotated out
	sess := Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour), HasRefresh: true}
	oldCookie, err := oldStore.EncodeSession(sess)
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := oldStore.EncodeRefresh(Refresh{RefreshToken: "rt"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		store   *Store
		cookies []*http.Cookie
		advance time.Duration
		wantErr error
	}{
		{"valid", oldStore, []*http.Cookie{oldCookie}, 0, nil},
		{"signed by second key still accepted", rotated, []*http.Cookie{oldCookie}, 0, nil},
		{"signed with rotated-out key", dropped, []*http.Cookie{oldCookie}, 0, ErrInvalid},
		{"byte flipped at start", oldStore, []*http.Cookie{{Name: oldCookie.Name, Value: flip(oldCookie.Value, 0)}}, 0, ErrInvalid},
		{"byte flipped in middle", oldStore, []*http.Cookie{{Name: oldCookie.Name, Value: flip(oldCookie.Value, len(oldCookie.Value)/2)}}, 0, ErrInvalid},
		{"truncated", oldStore, []*http.Cookie{{Name: oldCookie.Name, Value: oldCookie.Value[:len(oldCookie.Value)-4]}}, 0, ErrInvalid},
		{"refresh value under session name", oldStore, []*http.Cookie{{Name: oldCookie.Name, Value: refresh[0].Value}}, 0, ErrInvalid},
		{"garbage", oldStore, []*http.Cookie{{Name: oldCookie.Name, Value: "hello"}}, 0, ErrInvalid},
		{"empty value", oldStore, []*http.Cookie{{Name: oldCookie.Name, Value: ""}}, 0, ErrInvalid},
		{"no cookie", oldStore, nil, 0, ErrNoSession},
		{"other cookies only", oldStore, []*http.Cookie{{Name: "theme", Value: "dark"}}, 0, ErrNoSession},
		{"expired at exp", oldStore, []*http.Cookie{oldCookie}, time.Hour, ErrExpired},
		{"garbage then valid duplicate", oldStore, []*http.Cookie{{Name: oldCookie.Name, Value: "junk"}, oldCookie}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.t = t0.Add(tt.advance)
			defer func() { clk.t = t0 }()
			got, err := tt.store.Session(request(tt.cookies...))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Session() error = %v, want %v", err, tt.wantErr)
			}
			switch {
			case tt.wantErr == nil || errors.Is(tt.wantErr, ErrExpired):
				// An expired session still reports what it held, so the
				// caller can choose /refreshauth over a new login.
				if got.Identity.Subject != sess.Identity.Subject || !got.HasRefresh {
					t.Errorf("Session() = %+v, want the decoded session", got)
				}
			default:
				if got.Identity.Subject != "" {
					t.Errorf("Session() leaked %+v on error", got)
				}
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	clk := &clock{t0}
	s := newStore(t, clk)
	cookies, err := s.EncodeRefresh(Refresh{RefreshToken: "refresh-token", IDToken: "id-token"})
	if err != nil {
		t.Fatalf("EncodeRefresh: %v", err)
	}
	if len(cookies) != 2 || cookies[0].Path != "/refreshauth" || cookies[1].Path != "/signout" ||
		cookies[0].Value != cookies[1].Value || cookies[0].Name != "edgeauth-refresh" || cookies[1].Name != "edgeauth-refresh" {
		t.Fatalf("refresh cookies = %v", cookies)
	}
	for _, c := range cookies {
		if !c.HttpOnly || !c.Secure || c.MaxAge != int(DefaultRefreshLifetime/time.Second) {
			t.Errorf("refresh cookie attributes = %s", c)
		}
		if strings.Contains(c.Value, "refresh-token") {
			t.Errorf("refresh cookie is not encrypted")
		}
	}
	got, err := s.Refresh(request(cookies[0]))
	if err != nil || got.RefreshToken != "refresh-token" || got.IDToken != "id-token" {
		t.Fatalf("Refresh() = %+v, %v", got, err)
	}
	if _, err := s.Refresh(request(&http.Cookie{Name: "edgeauth-refresh", Value: flip(cookies[0].Value, 10)})); !errors.Is(err, ErrInvalid) {
		t.Errorf("Refresh(tampered) error = %v, want ErrInvalid", err)
	}
	if _, err := s.Refresh(request()); !errors.Is(err, ErrNoSession) {
		t.Errorf("Refresh(none) error = %v, want ErrNoSession", err)
	}
	clk.t = t0.Add(DefaultRefreshLifetime)
	if _, err := s.Refresh(request(cookies[0])); !errors.Is(err, ErrExpired) {
		t.Errorf("Refresh(after lifetime) error = %v, want ErrExpired", err)
	}
}

// randomToken returns n bytes of base64url text, incompressible like a real
// JWE refresh token or a JWT's signature.
func randomToken(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func TestRefreshSizeBudget(t *testing.T) {
	s := newStore(t, &clock{t0})
	rt := randomToken(t, 1800) // a Cognito refresh token is a ~1.7 KB JWE
	tests := []struct {
		name       string
		idToken    string
		wantIDKept bool
	}{
		{"small id token kept", "eyJ.small.sig", true},
		{"2 KB id token dropped", randomToken(t, 2000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cookies, err := s.EncodeRefresh(Refresh{RefreshToken: rt, IDToken: tt.idToken})
			if err != nil {
				t.Fatalf("EncodeRefresh: %v", err)
			}
			for _, c := range cookies {
				if n := len(c.String()); n > MaxCookieBytes {
					t.Errorf("cookie is %d bytes", n)
				}
			}
			got, err := s.Refresh(request(cookies[0]))
			if err != nil || got.RefreshToken != rt || (got.IDToken != "") != tt.wantIDKept {
				t.Errorf("Refresh() kept id token = %v, err %v; want kept = %v", got.IDToken != "", err, tt.wantIDKept)
			}
		})
	}
	if _, err := s.EncodeRefresh(Refresh{RefreshToken: randomToken(t, 4000)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("EncodeRefresh(4 KB token) error = %v, want ErrTooLarge", err)
	}
}

func groups(n int, name func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = name(i)
	}
	return out
}

// TestSessionSizeLimit is the worst case of DESIGN.md: 100 groups of 40
// characters. Realistic names (shared prefixes, as IdP groups have) fit
// thanks to compression; 40 random characters each cannot fit in 4 KB and
// fail with ErrTooLarge. It logs the real limit for random names.
func TestSessionSizeLimit(t *testing.T) {
	s := newStore(t, &clock{t0})
	encode := func(g []string) (*http.Cookie, error) {
		id := testIdentity()
		id.Groups = g
		return s.EncodeSession(Session{Identity: id, Expiry: t0.Add(time.Hour), HasRefresh: true})
	}
	realistic := groups(100, func(i int) string { return fmt.Sprintf("us-east-1_AbCdEf123_engineering-team-%03d", i)[:40] })
	c, err := encode(realistic)
	if err != nil {
		t.Fatalf("100 realistic groups of 40 chars: %v", err)
	}
	if n := len(c.String()); n > MaxCookieBytes {
		t.Fatalf("cookie is %d bytes", n)
	}
	t.Logf("100 realistic groups of 40 chars: cookie %d bytes", len(c.String()))
	got, err := s.Session(request(c))
	if err != nil || len(got.Identity.Groups) != 100 || got.Identity.Groups[99] != realistic[99] {
		t.Fatalf("Session(compressed) = %d groups, %v", len(got.Identity.Groups), err)
	}

	random := groups(100, func(int) string { return randomToken(t, 40) })
	if _, err := encode(random); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("100 random groups of 40 chars: error = %v, want ErrTooLarge", err)
	}
	limit := 0
	for n := 1; n <= 100; n++ {
		c, err := encode(random[:n])
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d groups: %v", n, err)
			}
			break
		}
		if len(c.String()) > MaxCookieBytes {
			t.Fatalf("%d groups produced a %d byte cookie", n, len(c.String()))
		}
		limit = n
	}
	// Measured: 64 random 40-character groups fit (DEFLATE still saves a
	// quarter of base64-like text; the rest of the identity shifts it a
	// little). Shared prefixes, as real group names have, raise it a lot.
	t.Logf("random 40-char groups that fit: %d", limit)
	if limit < 55 || limit > 75 {
		t.Errorf("random 40-char groups that fit = %d, want 55-75: the encoding changed size", limit)
	}
}

func TestLogin(t *testing.T) {
	clk := &clock{t0}
	s := newStore(t, clk)
	ls := LoginState{Nonce: "nonce-1", Verifier: "verifier-1", ReturnTo: "/docs/a?b=c"}
	id, cookies, err := s.NewLogin(request(), ls)
	if err != nil {
		t.Fatalf("NewLogin: %v", err)
	}
	if validAttemptID(id) != nil || len(cookies) != 2 {
		t.Fatalf("NewLogin() = %q, %d cookies, want the login cookie and the attempts index", id, len(cookies))
	}
	c := cookies[0]
	if c.Name != "edgeauth-login-"+id || c.Path != "/parseauth" || c.MaxAge != 600 || !c.HttpOnly || !c.Secure {
		t.Errorf("login cookie = %s", c)
	}
	if idx := cookies[1]; idx.Name != "edgeauth-attempts" || idx.Path != "/" || idx.MaxAge != 600 || !idx.HttpOnly || !idx.Secure {
		t.Errorf("attempts index = %s", idx)
	}
	id2, cookies2, err := s.NewLogin(request(), LoginState{Nonce: "nonce-2", Verifier: "verifier-2", ReturnTo: "/"})
	if err != nil || id2 == id {
		t.Fatalf("second NewLogin = %q, %v", id2, err)
	}
	both := request(c, cookies2[0])

	got, err := s.Login(both, id)
	if err != nil || got.Nonce != "nonce-1" || got.Verifier != "verifier-1" || got.ReturnTo != "/docs/a?b=c" || !got.Created.Equal(t0) {
		t.Fatalf("Login() = %+v, %v", got, err)
	}
	tests := []struct {
		name    string
		req     edge.Cookies
		id      string
		advance time.Duration
		wantErr error
	}{
		{"second attempt independent", both, id2, 0, nil},
		{"unknown attempt", both, strings.Repeat("A", 22), 0, ErrNoSession},
		{"malformed id", both, "../../etc", 0, ErrInvalid},
		{"id with bad tail bits", both, strings.Repeat("A", 21) + "B", 0, ErrInvalid},
		{"empty id", both, "", 0, ErrInvalid},
		{"cookie swapped to another attempt's name", request(&http.Cookie{Name: s.LoginName(id2), Value: c.Value}), id2, 0, ErrInvalid},
		{"tampered", request(&http.Cookie{Name: c.Name, Value: flip(c.Value, 20)}), id, 0, ErrInvalid},
		{"just before ttl", both, id, 10*time.Minute - time.Second, nil},
		{"expired at ttl", both, id, 10 * time.Minute, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.t = t0.Add(tt.advance)
			defer func() { clk.t = t0 }()
			_, err := s.Login(tt.req, tt.id)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Login(%s) error = %v, want %v", tt.name, err, tt.wantErr)
			}
		})
	}
}

func TestNewLoginRejects(t *testing.T) {
	s := newStore(t, &clock{t0})
	for _, ls := range []LoginState{
		{Nonce: "", Verifier: "v", ReturnTo: "/"},
		{Nonce: "n", Verifier: "", ReturnTo: "/"},
		{Nonce: "n", Verifier: "v", ReturnTo: "//evil.com"},
		{Nonce: "n", Verifier: "v", ReturnTo: ""},
	} {
		if _, _, err := s.NewLogin(request(), ls); err == nil {
			t.Errorf("NewLogin(%+v) = nil error", ls)
		}
	}
}

// named returns the cookie called name among cs, or nil.
func named(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// The cap works from the attempts index alone, as at check-auth, which
// never sees the login cookies (their Path is /parseauth).
func TestNewLoginCapsAttempts(t *testing.T) {
	clk := &clock{t0}
	s := newStore(t, clk)
	var index *http.Cookie
	var ids []string
	start := func(i int) []*http.Cookie {
		t.Helper()
		var held []*http.Cookie
		if index != nil {
			held = append(held, index)
		}
		id, cs, err := s.NewLogin(request(held...), LoginState{Nonce: "n", Verifier: "v", ReturnTo: "/"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if index = named(cs, "edgeauth-attempts"); index == nil || index.MaxAge <= 0 {
			t.Fatalf("attempt %d: no live attempts index in %v", i, cs)
		}
		var expired []*http.Cookie
		for _, c := range cs {
			if c.MaxAge < 0 {
				expired = append(expired, c)
			}
		}
		return expired
	}
	for i := range 5 {
		clk.t = t0.Add(time.Duration(i) * time.Minute)
		if expired := start(i); len(expired) != 0 {
			t.Fatalf("attempt %d expired %v, want nothing below the cap", i, expired)
		}
	}
	clk.t = t0.Add(5 * time.Minute)
	expired := start(5)
	if len(expired) != 1 || expired[0].Name != s.LoginName(ids[0]) || expired[0].Path != "/parseauth" {
		t.Fatalf("sixth attempt expired %v, want the oldest attempt's cookie at /parseauth", expired)
	}
	got := s.Attempts(request(index))
	if len(got) != 5 || got[0].ID != ids[1] || got[4].ID != ids[5] {
		t.Errorf("index after the cap = %v, want attempts 1-5", got)
	}
	// Attempts past the TTL leave the index without being expired: their
	// cookies are gone already.
	clk.t = t0.Add(5*time.Minute + DefaultLoginStateTTL)
	if got := s.Attempts(request(index)); len(got) != 0 {
		t.Errorf("index after the TTL = %v, want empty", got)
	}
	// A tampered index reads as empty and never blocks a login.
	clk.t = t0
	bad := &http.Cookie{Name: index.Name, Value: flip(index.Value, 12)}
	if got := s.Attempts(request(bad)); got != nil {
		t.Errorf("tampered index = %v", got)
	}
	if _, cs, err := s.NewLogin(request(bad), LoginState{Nonce: "n", Verifier: "v", ReturnTo: "/"}); err != nil || len(cs) != 2 {
		t.Errorf("login with a tampered index: %d cookies, %v", len(cs), err)
	}
}

func TestFinishLogin(t *testing.T) {
	s := newStore(t, &clock{t0})
	id1, cs, err := s.NewLogin(request(), LoginState{Nonce: "n", Verifier: "v", ReturnTo: "/"})
	if err != nil {
		t.Fatal(err)
	}
	id2, cs, err := s.NewLogin(request(named(cs, "edgeauth-attempts")), LoginState{Nonce: "n", Verifier: "v", ReturnTo: "/"})
	if err != nil {
		t.Fatal(err)
	}
	idx := s.FinishLogin(request(named(cs, "edgeauth-attempts")), id1)
	if got := s.Attempts(request(idx)); len(got) != 1 || got[0].ID != id2 || idx.MaxAge <= 0 {
		t.Fatalf("after finishing the first attempt: %v (%s)", got, idx)
	}
	if last := s.FinishLogin(request(idx), id2); last.MaxAge >= 0 || last.Path != "/" {
		t.Errorf("an empty index is %s, want it expired", last)
	}
	if none := s.FinishLogin(request(), id2); none.MaxAge >= 0 {
		t.Errorf("without an index: %s, want an expiry", none)
	}
}

func TestExpireAllAndSuiteCookies(t *testing.T) {
	s := newStore(t, &clock{t0})
	id, cs, err := s.NewLogin(request(), LoginState{Nonce: "n", Verifier: "v", ReturnTo: "/"})
	if err != nil {
		t.Fatal(err)
	}
	// A second attempt that only the index names, as at sign-out, which
	// sees no login cookie.
	id2, cs2, err := s.NewLogin(request(cs[1]), LoginState{Nonce: "n", Verifier: "v", ReturnTo: "/"})
	if err != nil {
		t.Fatal(err)
	}
	req := httpRequest(cs[0], &http.Cookie{Name: "theme", Value: "dark"}, &http.Cookie{Name: "edgeauth-session", Value: "x"}, named(cs2, "edgeauth-attempts"))
	out := s.ExpireAll(req.Cookies())
	var got []string
	for _, c := range out {
		if c.MaxAge >= 0 || c.Value != "" || !strings.Contains(c.String(), "Max-Age=0") {
			t.Errorf("%s does not expire", c)
		}
		got = append(got, c.Name+" "+c.Path)
	}
	want := []string{"edgeauth-session /", "edgeauth-refresh /refreshauth", "edgeauth-refresh /signout", "edgeauth-attempts /",
		"edgeauth-login-" + id + " /parseauth", "edgeauth-login-" + id2 + " /parseauth"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ExpireAll() = %v, want %v", got, want)
	}
	for name, want := range map[string]bool{
		"edgeauth-session": true, "edgeauth-refresh": true, "edgeauth-login-" + id: true, "edgeauth-attempts": true,
		"theme": false, "edgeauth-sessionx": false, "other-session": false, "edgeauth": false,
	} {
		if got := s.IsSuiteCookie(name); got != want {
			t.Errorf("IsSuiteCookie(%q) = %v, want %v", name, got, want)
		}
	}
	req.DropCookies(s.IsSuiteCookie)
	if got := req.Headers.Get("cookie"); got != "theme=dark" {
		t.Errorf("after DropCookies, Cookie = %q", got)
	}
}

// TestCookiesFitBudget checks every cookie written with long, legal
// attributes stays within MaxCookieBytes.
func TestCookiesFitBudget(t *testing.T) {
	clk := &clock{t0}
	cfg := testConfig(clk)
	cfg.Domain = "a-rather-long-subdomain.of-a-long-corporate-domain.example.com"
	cfg.SameSite = "None"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var all []*http.Cookie
	for _, tt := range []struct{ returnTo, want string }{
		{"/docs?q=" + strings.Repeat("a", MaxReturnPath-8), "/docs"},
		{"/" + strings.Repeat("a", MaxReturnPath-1), "/"},
		{"/" + strings.Repeat("a", 1500), "/" + strings.Repeat("a", 1500)},
	} {
		id, cs, err := s.NewLogin(request(), LoginState{Nonce: randomToken(t, 43), Verifier: randomToken(t, 128), ReturnTo: tt.returnTo})
		if err != nil {
			t.Fatalf("NewLogin(%d byte return path): %v", len(tt.returnTo), err)
		}
		ls, err := s.Login(request(cs...), id)
		if err != nil || ls.ReturnTo != tt.want {
			t.Errorf("Login() return path = %.20q (%d bytes), %v; want %.20q", ls.ReturnTo, len(ls.ReturnTo), err, tt.want)
		}
		all = append(all, cs...)
	}
	all = append(all, s.ExpireAll(request(all...))...)
	for _, c := range all {
		if n := len(c.String()); n > MaxCookieBytes {
			t.Errorf("%s is %d bytes", c.Name, n)
		}
	}
}

func TestCleanReturnPath(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"/", true},
		{"/docs/page.html", true},
		{"/x?y=//z", true},
		{"/search?q=a%20b&x=1#top", true},
		{"/a/../b", true}, // same origin whatever it resolves to
		{"/%2e%2e/x", true},
		{"/x%2fy", true},
		{"", false},
		{"//evil.com", false},
		{"/\\evil.com", false},
		{"/\\/evil", false},
		{"///x", false},
		{"https://evil", false},
		{"javascript:x", false},
		{"x", false},
		{"/%0d%0aSet-Cookie:x", false}, // harmless verbatim, but never a real navigation
		{"/%00", false},
		{"/%5cevil.com", false},
		{"/%2f/evil.com", false},
		{"/%2Fevil.com", false},
		{"/x%", false},
		{"/x%zz", false},
		{"\t/x", false},
		{" /x", false},
		{"/x\r\n", false},
		{"/x\nSet-Cookie: a=b", false},
		{"/a b", false}, // browsers send %20; a raw space never comes from a navigation
		{"/caf\u00e9", false},
		{"/x\\y", false},
		{"/" + strings.Repeat("a", MaxReturnPath-1), true},
		{"/" + strings.Repeat("a", MaxReturnPath), false},
	}
	for _, tt := range tests {
		got, err := CleanReturnPath(tt.in)
		if tt.ok && (err != nil || got != tt.in) {
			t.Errorf("CleanReturnPath(%q) = %q, %v; want it unchanged", tt.in, got, err)
		}
		if !tt.ok && (!errors.Is(err, ErrBadReturn) || got != "") {
			t.Errorf("CleanReturnPath(%q) = %q, %v; want ErrBadReturn", tt.in, got, err)
		}
	}
}

func TestSignReturn(t *testing.T) {
	clk := &clock{t0}
	s := newStore(t, clk)
	tok, err := s.SignReturn("/docs?page=2")
	if err != nil {
		t.Fatalf("SignReturn: %v", err)
	}
	if got, err := s.VerifyReturn(tok); err != nil || got != "/docs?page=2" {
		t.Fatalf("VerifyReturn() = %q, %v", got, err)
	}
	if _, err := s.SignReturn("//evil.com"); !errors.Is(err, ErrBadReturn) {
		t.Errorf("SignReturn(//evil.com) error = %v, want ErrBadReturn", err)
	}
	session, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		store   *Store
		token   string
		advance time.Duration
		wantErr error
	}{
		{"flipped", s, flip(tok, 12), 0, ErrInvalid},
		{"empty", s, "", 0, ErrInvalid},
		{"a session cookie is not a return token", s, session.Value, 0, ErrInvalid},
		{"other key", newStore(t, clk, keyPair(9)), tok, 0, ErrInvalid},
		{"expired", s, tok, ReturnTTL, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.t = t0.Add(tt.advance)
			defer func() { clk.t = t0 }()
			if got, err := tt.store.VerifyReturn(tt.token); !errors.Is(err, tt.wantErr) || got != "" {
				t.Errorf("VerifyReturn() = %q, %v; want %v", got, err, tt.wantErr)
			}
		})
	}
}

// TestErrorsHideValues checks no error message repeats a cookie value.
func TestErrorsHideValues(t *testing.T) {
	s := newStore(t, &clock{t0})
	secret := "SECRETVALUE" + strings.Repeat("Q", 30)
	for _, err := range []error{
		func() error {
			_, err := s.Session(request(&http.Cookie{Name: "edgeauth-session", Value: secret}))
			return err
		}(),
		func() error {
			_, err := s.Refresh(request(&http.Cookie{Name: "edgeauth-refresh", Value: secret}))
			return err
		}(),
		func() error { _, err := s.VerifyReturn(secret); return err }(),
		func() error {
			_, err := s.EncodeRefresh(Refresh{RefreshToken: secret + randomToken(t, 5000)})
			return err
		}(),
	} {
		if err == nil || strings.Contains(err.Error(), "SECRETVALUE") {
			t.Errorf("error %v", err)
		}
	}
}

func FuzzSession(f *testing.F) {
	clk := &clock{t0}
	s := newStore(f, clk)
	valid, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Value[:len(valid.Value)-1])
	f.Add(flip(valid.Value, 5))
	f.Add("")
	f.Add("MTcwMDAwMDAwMHx8")
	f.Add(strings.Repeat("=", 100))
	f.Fuzz(func(t *testing.T, v string) {
		if v == valid.Value {
			return
		}
		sess, err := s.Session(request(&http.Cookie{Name: "edgeauth-session", Value: v}))
		if err == nil {
			t.Fatalf("random value decoded as a valid session: %+v", sess)
		}
		if errors.Is(err, ErrExpired) {
			t.Fatalf("random value decoded as an expired session")
		}
	})
}

func FuzzCleanReturnPath(f *testing.F) {
	for _, s := range []string{"/", "/x?y=//z", "//evil.com", "/\\evil", "/%2f/x", "/%0d%0a", "https://e", "/a b", "/%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := CleanReturnPath(p)
		if err != nil {
			if !errors.Is(err, ErrBadReturn) || got != "" {
				t.Fatalf("CleanReturnPath(%q) = %q, %v", p, got, err)
			}
			return
		}
		if got != p || len(got) > MaxReturnPath || got[0] != '/' || strings.HasPrefix(got, "//") ||
			strings.ContainsAny(got, "\\ \r\n\t\x00") || hasControl(got) {
			t.Fatalf("CleanReturnPath(%q) = %q breaks the invariant", p, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x7f {
				t.Fatalf("CleanReturnPath(%q) kept non-ASCII", p)
			}
		}
		// Resolved against the site, it must stay on the site.
		base := "https://site.example/dir/page"
		u, err := urlResolve(base, got)
		if err != nil || u != "site.example" {
			t.Fatalf("CleanReturnPath(%q) resolves to host %q (%v)", p, u, err)
		}
	})
}

func FuzzVerifyReturn(f *testing.F) {
	clk := &clock{t0}
	s := newStore(f, clk)
	tok, err := s.SignReturn("/x")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(flip(tok, 3))
	f.Add(tok[:10])
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		if v == tok {
			return
		}
		if got, err := s.VerifyReturn(v); err == nil {
			t.Fatalf("VerifyReturn(random) = %q", got)
		}
	})
}

func BenchmarkSessionDecode(b *testing.B) {
	s := newStore(b, &clock{t0})
	c, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour), HasRefresh: true})
	if err != nil {
		b.Fatal(err)
	}
	req := request(&http.Cookie{Name: "theme", Value: "dark"}, c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Session(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionDecodeUncached is a value seen for the first time: one
// HMAC and one JSON decode (BenchmarkSessionDecode is a cache hit).
func BenchmarkSessionDecodeUncached(b *testing.B) {
	cfg := testConfig(&clock{t0})
	cfg.SessionCacheSize = -1
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	c, err := s.EncodeSession(Session{Identity: testIdentity(), Expiry: t0.Add(time.Hour), HasRefresh: true})
	if err != nil {
		b.Fatal(err)
	}
	req := request(&http.Cookie{Name: "theme", Value: "dark"}, c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Session(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionDecodeCompressed(b *testing.B) {
	s := newStore(b, &clock{t0})
	id := testIdentity()
	id.Groups = groups(100, func(i int) string { return fmt.Sprintf("us-east-1_AbCdEf123_engineering-team-%03d", i)[:40] })
	c, err := s.EncodeSession(Session{Identity: id, Expiry: t0.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	req := request(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Session(req); err != nil {
			b.Fatal(err)
		}
	}
}

func urlResolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).Host, nil
}

// FuzzLogin fuzzes the state decoding: an attempt id from the query and a
// login-state cookie value from the browser. Only the pair NewLogin made may
// decode.
func FuzzLogin(f *testing.F) {
	clk := &clock{t0}
	s := newStore(f, clk)
	id, cookies, err := s.NewLogin(request(), LoginState{Nonce: "n", Verifier: strings.Repeat("v", 43), ReturnTo: "/x", Created: t0})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(id, cookies[0].Value)
	f.Add(id, flip(cookies[0].Value, 7))
	f.Add("AAAAAAAAAAAAAAAAAAAAAA", cookies[0].Value)
	f.Add("../x", "")
	f.Add(strings.Repeat("A", 23), "x")
	f.Fuzz(func(t *testing.T, state, value string) {
		ls, err := s.Login(request(&http.Cookie{Name: "edgeauth-login-" + state, Value: value}), state)
		// Attempt ids are random per process (the fuzzer's workers mint their
		// own), so the check is on what decodes: only a state of the right
		// form carrying a cookie these keys minted for that very name.
		if err == nil && (!ValidAttemptID(state) || ls.Nonce != "n" || ls.ReturnTo != "/x") {
			t.Fatalf("state %q with value %q decoded: %+v", state, value, ls)
		}
		if state == id && value == cookies[0].Value && err != nil {
			t.Fatalf("the real pair did not decode: %v", err)
		}
	})
}

// FuzzAttempts signs arbitrary payloads as the attempts index (so the fuzzer
// reaches the JSON reading behind the MAC) and checks that Attempts keeps
// only well-formed, unique, live attempts, oldest first, whatever the index
// holds.
func FuzzAttempts(f *testing.F) {
	clk := &clock{t0}
	s := newStore(f, clk)
	f.Add([]byte(`[["AAAAAAAAAAAAAAAAAAAAAA",1767268800]]`))
	f.Add([]byte(`[["AAAAAAAAAAAAAAAAAAAAAA",1767268800],["AAAAAAAAAAAAAAAAAAAAAA",1767268801],["x",1]]`))
	f.Add([]byte(`[[1,"a"],null,[],{"a":1}]`))
	f.Add([]byte(`{"n":"x"}`))
	f.Add([]byte(`[["BBBBBBBBBBBBBBBBBBBBBA",9e300],["CCCCCCCCCCCCCCCCCCCCCA",-1]]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		value, err := s.signed[0].Encode("edgeauth-attempts", payload)
		if err != nil {
			return
		}
		got := s.Attempts(request(&http.Cookie{Name: "edgeauth-attempts", Value: value}))
		seen := map[string]bool{}
		for i, a := range got {
			if !ValidAttemptID(a.ID) || seen[a.ID] {
				t.Fatalf("attempt %q is malformed or repeated", a.ID)
			}
			seen[a.ID] = true
			if !t0.Before(a.Created.Add(DefaultLoginStateTTL)) {
				t.Fatalf("attempt %v is past its TTL", a)
			}
			if i > 0 && a.Created.Before(got[i-1].Created) {
				t.Fatal("attempts not oldest first")
			}
		}
	})
}

// Sign-out's expiries stay small whatever the request carries: with a
// Cookie header of CloudFront's whole 20,480-byte request filled with
// login-named cookies, ExpireAll still names at most MaxAttempts of them,
// the index's pending attempts first.
func TestExpireAllIsBounded(t *testing.T) {
	s := newStore(t, &clock{t0})
	id, cs, err := s.NewLogin(request(), LoginState{Nonce: "n", Verifier: "v", ReturnTo: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(named(cs, "edgeauth-attempts").Name + "=" + named(cs, "edgeauth-attempts").Value)
	n := 0
	for b.Len() < 20480-64 {
		raw := make([]byte, 16)
		raw[0], raw[1] = byte(n>>8), byte(n)
		fmt.Fprintf(&b, "; edgeauth-login-%s=x", base64.RawURLEncoding.EncodeToString(raw))
		n++
	}
	req := httpRequest()
	req.Headers.Set("Cookie", b.String())
	out := s.ExpireAll(req.Cookies())
	logins, size := 0, 0
	for _, c := range out {
		size += len("Set-Cookie: \r\n") + len(c.String())
		if strings.HasPrefix(c.Name, "edgeauth-login-") {
			logins++
		}
	}
	if n < 400 || logins != DefaultMaxAttempts || out[4].Name != s.LoginName(id) {
		t.Errorf("%d login cookies sent: %d expired (first %s), want %d, the pending one first", n, logins, out[4].Name, DefaultMaxAttempts)
	}
	if size > 2048 {
		t.Errorf("expiries take %d bytes, want a small, bounded answer", size)
	}
}
