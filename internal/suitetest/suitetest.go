// Package suitetest holds what the three functions' tests share: the example
// configs from testdata, a pinned clock, sample events to edit, and readers
// for generated responses. It is for tests only.
package suitetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
)

// Now is the pinned clock of the suite's tests.
var Now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Clock returns Now, for Deps.Now.
func Clock() time.Time { return Now }

// Config loads testdata/config/<name> (cognito.json or oidc.json), lets edit
// change the decoded JSON, and parses it with the real loader.
func Config(t testing.TB, name string, edit func(m map[string]any)) *config.Config {
	t.Helper()
	c, err := config.Parse(ConfigJSON(t, name, edit))
	if err != nil {
		t.Fatalf("config %s: %v", name, err)
	}
	return c
}

// ConfigJSON is testdata/config/<name> as edit leaves the decoded JSON: a
// config file's bytes, not yet checked.
func ConfigJSON(t testing.TB, name string, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testtoken.ModuleRoot(t), "testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return b
}

// Sessions is the session store the functions build from c, on the clock
// now: what a test mints and reads the functions' cookies with.
func Sessions(t testing.TB, c *config.Config, now func() time.Time) *session.Store {
	t.Helper()
	p, err := lambdafn.NewParts(lambdafn.Deps{Config: c, Now: now}.WithDefaults())
	if err != nil {
		t.Fatalf("parts: %v", err)
	}
	return p.Sessions
}

// Event reads testdata/events/<name> and lets edit change its request.
func Event(t testing.TB, name string, edit func(r *edge.Request)) edge.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testtoken.ModuleRoot(t), "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := edge.DecodeEvent(b)
	if err != nil {
		t.Fatalf("event %s: %v", name, err)
	}
	req, _, _ := ev.Request()
	if edit != nil {
		edit(req)
	}
	return ev
}

// Request is a browser GET of uri (path?query) on host www.example.com, from
// AWS's sample viewer-request event, with extra headers as name, value pairs.
func Request(t testing.TB, uri string, headers ...string) edge.Event {
	t.Helper()
	return Event(t, "viewer-request.json", func(r *edge.Request) {
		path, query, _ := strings.Cut(uri, "?")
		r.URI, r.QueryString = path, query
		r.Headers.Set("Host", "www.example.com")
		r.Headers.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
		// Host and Accept given here replace the defaults; others add.
		replaced := map[string]bool{}
		for i := 0; i+1 < len(headers); i += 2 {
			name := strings.ToLower(headers[i])
			if (name == "host" || name == "accept") && !replaced[name] {
				replaced[name] = true
				r.Headers.Set(headers[i], headers[i+1])
				continue
			}
			r.Headers.Add(headers[i], headers[i+1])
		}
	})
}

// CookieHeader joins cookies into one Cookie header value.
func CookieHeader(cs ...*http.Cookie) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// SetCookies parses a generated response's Set-Cookie entries.
func SetCookies(t testing.TB, r *edge.Response) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, v := range r.Headers.Values("set-cookie") {
		c, err := http.ParseSetCookie(v)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", v, err)
		}
		out = append(out, c)
	}
	return out
}

// Location parses a response's Location header.
func Location(t testing.TB, r *edge.Response) *url.URL {
	t.Helper()
	u, err := url.Parse(r.Headers.Get("location"))
	if err != nil {
		t.Fatalf("bad Location: %v", err)
	}
	return u
}

// CheckGenerated fails t unless r is a generated response CloudFront takes
// from any trigger and the suite's rules allow: a status in 200-599,
// Cache-Control no-store, a body within the 40 KB of a viewer trigger.
func CheckGenerated(t testing.TB, r *edge.Response) {
	t.Helper()
	if code, err := strconv.Atoi(r.Status); err != nil || code < 200 || code > 599 {
		t.Fatalf("status %q", r.Status)
	}
	if !strings.Contains(r.Headers.Get("cache-control"), "no-store") {
		t.Error("generated response without no-store")
	}
	if len(r.Body) > 40*1024 {
		t.Errorf("body %d bytes, over CloudFront's 40 KB", len(r.Body))
	}
}

// SameOriginPath reports whether loc, a Location value, stays on the same
// origin: a path, never "//host" or "/\host" (which browsers read as
// another host), and no header-splitting characters. It is written apart
// from session.CleanReturnPath so that tests do not judge the code with
// itself.
func SameOriginPath(loc string) bool {
	return strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, `/\`) &&
		!strings.ContainsAny(loc, "\r\n")
}

// Live reports whether a parsed Set-Cookie sets a cookie rather than
// deleting it: Max-Age wins, and without one an Expires in the past deletes.
func Live(c *http.Cookie) bool {
	return c.MaxAge > 0 || (c.MaxAge == 0 && (c.Expires.IsZero() || c.Expires.After(time.Now())))
}

// FakeClock is a clock a test moves by hand; its Now goes into Deps.Now and
// localedge.WithClock. It is safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock reading t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Hostile is text an attacker chooses, for a token's header or claims or a
// request's query: a line break followed by a forged JSON log record,
// quotes, a backslash, a terminal escape, non-ASCII, and more than any log
// excerpt keeps. A log that holds HostileMarker carried some of it.
func Hostile() string {
	return "evil\n{\"level\":\"ERROR\",\"msg\":\"" + HostileMarker + "\"}\"\\\x1b[31m\u00e9" + strings.Repeat("X", 300) + "end"
}

// HostileMarker is in Hostile(), and in nothing the suite writes itself.
const HostileMarker = "forged-by-attacker"

// HostileTokens returns tokens built from claims (valid ones, for the
// verifier at hand) that carry Hostile() where the verifier quotes a token:
// "kid" (unknown, the signature real), "alg" (the header rewritten over a
// real RS256 signature) and "iss" (signed). The verifier's reasons for
// them are "unknown key", "bad signature" and "wrong issuer".
func HostileTokens(t testing.TB, m *testtoken.Minter, claims map[string]any) map[string]string {
	t.Helper()
	hostile := Hostile()
	valid := m.Sign(t, claims)
	header, err := json.Marshal(map[string]any{"alg": hostile, "kid": testtoken.KeyID1})
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(valid, ".")
	iss := make(map[string]any, len(claims))
	for k, v := range claims {
		iss[k] = v
	}
	iss["iss"] = hostile
	return map[string]string{
		"kid": m.SignWith(t, hostile, "RS256", claims),
		"alg": base64.RawURLEncoding.EncodeToString(header) + "." + rest,
		"iss": m.Sign(t, iss),
	}
}

// LogLines decodes a JSON log, one record a line.
func LogLines(t testing.TB, log *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, rec)
	}
	return out
}
