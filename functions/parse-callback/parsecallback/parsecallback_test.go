package parsecallback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/functions/parse-callback/parsecallback"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

const (
	issuer   = "https://login.example.org"
	clientID = "edgeauth-site"
	secret   = "test-only-client-secret"
	sub      = "user-1"
)

// idpServer is a real HTTP token endpoint whose answer each test sets.
type idpServer struct {
	*httptest.Server
	mu       sync.Mutex
	answer   func(w http.ResponseWriter, form url.Values)
	requests []url.Values
	auth     []string
}

func newIDP(t testing.TB) *idpServer {
	s := &idpServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, r.PostForm)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		answer := s.answer
		s.mu.Unlock()
		answer(w, r.PostForm)
	}))
	t.Cleanup(s.Close)
	return s
}

func tokens(w http.ResponseWriter, m map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	m["token_type"] = "Bearer"
	m["expires_in"] = 3600
	_ = json.NewEncoder(w).Encode(m)
}

type fixture struct {
	cfg      *config.Config
	h        *parsecallback.Handler
	sessions *session.Store
	mint     *testtoken.Minter
	idp      *idpServer
	logs     *bytes.Buffer
	now      time.Time
	index    *http.Cookie // the attempts index of the last login
}

// newFixture builds parse-callback from testdata/config/oidc.json with
// the token endpoint on a real test server; edits change the config first.
func newFixture(t testing.TB, edits ...func(m map[string]any)) *fixture {
	t.Helper()
	idp := newIDP(t)
	cfg := suitetest.Config(t, "oidc.json", func(m map[string]any) {
		o := m["oidc"].(map[string]any)
		o["tokenEndpoint"] = idp.URL + "/token"
		o["revocationEndpoint"] = idp.URL + "/revoke"
		m["hosts"] = []any{"www.example.com"}
		for _, e := range edits {
			e(m)
		}
	})
	f := &fixture{cfg: cfg, mint: testtoken.Keys(t), idp: idp, logs: &bytes.Buffer{}, now: suitetest.Now}
	clock := func() time.Time { return f.now }
	h, err := parsecallback.New(lambdafn.Deps{
		Config: cfg, Now: clock, Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
		HTTPClient: &http.Client{Timeout: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	f.sessions = suitetest.Sessions(t, cfg, clock)
	return f
}

// login starts an attempt as check-auth would and returns its state and cookie.
func (f *fixture) login(t testing.TB, ls session.LoginState) (string, *http.Cookie) {
	t.Helper()
	req, _, _ := suitetest.Request(t, "/x").Request()
	id, cookies, err := f.sessions.NewLogin(req.Cookies(), ls)
	if err != nil || len(cookies) != 2 {
		t.Fatalf("NewLogin: %v (%d cookies, want the login cookie and the attempts index)", err, len(cookies))
	}
	f.index = cookies[1]
	return id, cookies[0]
}

func (f *fixture) idToken(t testing.TB, nonce string, groups []string) string {
	return f.mint.Sign(t, testtoken.OIDCID(issuer, clientID, sub, nonce, groups, f.now.Add(time.Hour)))
}

func (f *fixture) handle(t *testing.T, ev edge.Event) *edge.Response {
	t.Helper()
	res, err := f.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle error %v; expected failures must be responses", err)
	}
	if res.Response == nil {
		t.Fatal("parse-callback passed a request on; it must always answer")
	}
	if !strings.Contains(res.Response.Headers.Get("cache-control"), "no-store") {
		t.Error("response without no-store")
	}
	return res.Response
}

func cookieNamed(cs []*http.Cookie, name, path string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name && (path == "" || c.Path == path) {
			return c
		}
	}
	return nil
}

func TestParseAuthSignsIn(t *testing.T) {
	f := newFixture(t)
	ls := session.LoginState{Nonce: "n-123", Verifier: strings.Repeat("v", 43), ReturnTo: "/docs/a?b=1&c=%2F", Created: f.now}
	state, lc := f.login(t, ls)
	f.idp.answer = func(w http.ResponseWriter, form url.Values) {
		tokens(w, map[string]any{
			"id_token":      f.idToken(t, "n-123", []string{"staff"}),
			"access_token":  f.mint.Sign(t, testtoken.OIDCAccess(issuer, clientID, sub, []string{"staff"}, f.now.Add(time.Hour))),
			"refresh_token": "refresh-abc",
		})
	}
	r := f.handle(t, suitetest.Request(t, "/parseauth?code=the-code&state="+state, "Cookie", suitetest.CookieHeader(lc, f.index)))
	if r.Status != "302" || r.Headers.Get("location") != "/docs/a?b=1&c=%2F" {
		t.Fatalf("status %s location %q, want 302 to the requested path", r.Status, r.Headers.Get("location"))
	}
	form := f.idp.requests[0]
	for k, want := range map[string]string{
		"grant_type":    "authorization_code",
		"code":          "the-code",
		"code_verifier": ls.Verifier,
		"redirect_uri":  "https://www.example.com/parseauth",
	} {
		if got := form.Get(k); got != want {
			t.Errorf("token request %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(f.idp.auth[0], "Basic ") || form.Get("client_secret") != "" {
		t.Error("client secret not sent by Basic auth")
	}
	cs := suitetest.SetCookies(t, r)
	sc := cookieNamed(cs, "auth-session", "/")
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Domain != "example.org" {
		t.Fatalf("session cookie = %+v", sc)
	}
	for _, p := range []string{f.cfg.Paths.RefreshAuth, f.cfg.Paths.SignOut} {
		if rc := cookieNamed(cs, "auth-refresh", p); rc == nil || !rc.HttpOnly || strings.Contains(rc.Value, "refresh-abc") {
			t.Errorf("refresh cookie for %s = %+v (must exist, encrypted)", p, rc)
		}
	}
	if ec := cookieNamed(cs, lc.Name, "/parseauth"); ec == nil || ec.MaxAge >= 0 {
		t.Errorf("login cookie not expired: %+v", ec)
	}
	if ic := cookieNamed(cs, "auth-attempts", "/"); ic == nil || ic.MaxAge >= 0 {
		t.Errorf("attempts index not emptied with the only attempt done: %+v", ic)
	}
	// The session reads back with the identity and its groups.
	back := suitetest.Request(t, "/docs", "Cookie", suitetest.CookieHeader(sc))
	req, _, _ := back.Request()
	sess, err := f.sessions.Session(req.Cookies())
	if err != nil || sess.Identity.Subject != sub || !sess.HasRefresh || !sess.Identity.InGroup("staff") {
		t.Errorf("session = %+v, %v", sess, err)
	}
	if strings.Contains(f.logs.String(), "the-code") || strings.Contains(f.logs.String(), "refresh-abc") || strings.Contains(f.logs.String(), ls.Verifier) {
		t.Error("a code, verifier or token reached the logs")
	}
}

func TestParseAuthFailures(t *testing.T) {
	good := func(f *fixture, t *testing.T) func(w http.ResponseWriter, form url.Values) {
		return func(w http.ResponseWriter, form url.Values) {
			tokens(w, map[string]any{"id_token": f.idToken(t, "n-1", nil), "access_token": "opaque", "refresh_token": "r"})
		}
	}
	tests := []struct {
		name       string
		query      func(state string) string
		cookie     func(f *fixture, lc *http.Cookie) string
		answer     func(f *fixture, t *testing.T) func(w http.ResponseWriter, form url.Values)
		before     func(f *fixture)
		wantStatus string
		wantBody   string
	}{
		{name: "idp error shows the escaped description", query: func(s string) string {
			return "error=access_denied&error_description=" + url.QueryEscape("<script>alert(1)</script> user said no") + "&state=" + s
		}, wantStatus: "401", wantBody: "&lt;script&gt;alert(1)&lt;/script&gt; user said no"},
		{name: "idp error other code is 400", query: func(s string) string { return "error=invalid_scope&state=" + s }, wantStatus: "400", wantBody: "invalid_scope"},
		{name: "missing code", query: func(s string) string { return "state=" + s }, wantStatus: "400"},
		{name: "missing state", query: func(s string) string { return "code=c" }, wantStatus: "400"},
		{name: "duplicated code", query: func(s string) string { return "code=a&code=b&state=" + s }, wantStatus: "400"},
		{name: "duplicated state", query: func(s string) string { return "code=a&state=" + s + "&state=" + s }, wantStatus: "400"},
		{name: "unknown attempt", query: func(s string) string { return "code=a&state=AAAAAAAAAAAAAAAAAAAAAA" }, wantStatus: "400"},
		{name: "garbage state", query: func(s string) string { return "code=a&state=%3Cx%3E%0D%0A" }, wantStatus: "400"},
		{name: "no login cookie (replayed callback)", query: func(s string) string { return "code=a&state=" + s }, cookie: func(*fixture, *http.Cookie) string { return "other=1" }, wantStatus: "400"},
		{name: "tampered login cookie", query: func(s string) string { return "code=a&state=" + s }, cookie: func(_ *fixture, lc *http.Cookie) string {
			return lc.Name + "=" + lc.Value[:len(lc.Value)-4] + "AAAA"
		}, wantStatus: "400"},
		{name: "expired login cookie", query: func(s string) string { return "code=a&state=" + s }, before: func(f *fixture) { f.now = f.now.Add(11 * time.Minute) }, wantStatus: "400"},
		{name: "invalid_grant", query: func(s string) string { return "code=used&state=" + s }, answer: func(*fixture, *testing.T) func(w http.ResponseWriter, form url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":"invalid_grant","error_description":"code used"}`)
			}
		}, wantStatus: "400"},
		{name: "idp 500", query: func(s string) string { return "code=a&state=" + s }, answer: func(*fixture, *testing.T) func(w http.ResponseWriter, form url.Values) {
			return func(w http.ResponseWriter, _ url.Values) { http.Error(w, "boom", 500) }
		}, wantStatus: "502"},
		{name: "idp invalid json", query: func(s string) string { return "code=a&state=" + s }, answer: func(*fixture, *testing.T) func(w http.ResponseWriter, form url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"access_token":`)
			}
		}, wantStatus: "502"},
		{name: "idp unreachable", query: func(s string) string { return "code=a&state=" + s }, before: func(f *fixture) { f.idp.Close() }, wantStatus: "502"},
		{name: "nonce mismatch", query: func(s string) string { return "code=a&state=" + s }, answer: func(f *fixture, t *testing.T) func(w http.ResponseWriter, form url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				tokens(w, map[string]any{"id_token": f.idToken(t, "another-nonce", nil), "access_token": "opaque"})
			}
		}, wantStatus: "400"},
		{name: "id token for another client", query: func(s string) string { return "code=a&state=" + s }, answer: func(f *fixture, t *testing.T) func(w http.ResponseWriter, form url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				tokens(w, map[string]any{"id_token": f.mint.Sign(t, testtoken.OIDCID(issuer, "other", sub, "n-1", nil, f.now.Add(time.Hour))), "access_token": "opaque"})
			}
		}, wantStatus: "502"},
		{name: "id token signed by an unknown key", query: func(s string) string { return "code=a&state=" + s }, answer: func(f *fixture, t *testing.T) func(w http.ResponseWriter, form url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				tokens(w, map[string]any{"id_token": f.mint.SignWith(t, "nope", "RS256", testtoken.OIDCID(issuer, clientID, sub, "n-1", nil, f.now.Add(time.Hour))), "access_token": "opaque"})
			}
		}, wantStatus: "502"},
		{name: "no id token", query: func(s string) string { return "code=a&state=" + s }, answer: func(*fixture, *testing.T) func(w http.ResponseWriter, form url.Values) {
			return func(w http.ResponseWriter, _ url.Values) { tokens(w, map[string]any{"access_token": "opaque"}) }
		}, wantStatus: "502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			state, lc := f.login(t, session.LoginState{Nonce: "n-1", Verifier: strings.Repeat("v", 43), ReturnTo: "/x", Created: f.now})
			answer := good
			if tt.answer != nil {
				answer = tt.answer
			}
			f.idp.answer = answer(f, t)
			cookie := suitetest.CookieHeader(lc)
			if tt.cookie != nil {
				cookie = tt.cookie(f, lc)
			}
			if tt.before != nil {
				tt.before(f)
			}
			r := f.handle(t, suitetest.Request(t, "/parseauth?"+tt.query(state), "Cookie", cookie))
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s; body: %.300s", r.Status, tt.wantStatus, r.Body)
			}
			if ct := r.Headers.Get("content-type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("content-type = %q, want an HTML page", ct)
			}
			if tt.wantBody != "" && !strings.Contains(r.Body, tt.wantBody) {
				t.Errorf("body lacks %q: %.500s", tt.wantBody, r.Body)
			}
			if strings.Contains(r.Body, "<script>") {
				t.Error("unescaped IdP text in the page")
			}
			for _, c := range suitetest.SetCookies(t, r) {
				if (c.Name == "auth-session" || c.Name == "auth-refresh") && c.MaxAge >= 0 {
					t.Errorf("a failed sign-in set cookie %s", c.Name)
				}
			}
		})
	}
}

// Only a same-origin relative path is ever used as the return path: the
// login state refuses anything else when the attempt starts, and the callback
// checks again before redirecting.
func TestParseAuthReturnPath(t *testing.T) {
	f := newFixture(t)
	req, _, _ := suitetest.Request(t, "/x").Request()
	for _, ret := range []string{"//evil.example/x", "/\\evil.example", "https://evil.example/", "/x\r\nSet-Cookie: a=b", "javascript:alert(1)", ""} {
		if _, _, err := f.sessions.NewLogin(req.Cookies(), session.LoginState{Nonce: "n", Verifier: strings.Repeat("v", 43), ReturnTo: ret, Created: f.now}); !errors.Is(err, session.ErrBadReturn) {
			t.Errorf("NewLogin(ReturnTo %q) err = %v, want ErrBadReturn", ret, err)
		}
	}
	state, lc := f.login(t, session.LoginState{Nonce: "n", Verifier: strings.Repeat("v", 43), ReturnTo: "/deep/link?q=1", Created: f.now})
	f.idp.answer = func(w http.ResponseWriter, _ url.Values) {
		tokens(w, map[string]any{"id_token": f.idToken(t, "n", nil), "access_token": "opaque"})
	}
	r := f.handle(t, suitetest.Request(t, "/parseauth?code=a&state="+state, "Cookie", suitetest.CookieHeader(lc)))
	if r.Status != "302" || r.Headers.Get("location") != "/deep/link?q=1" {
		t.Errorf("status %s location %q, want 302 to the deep link", r.Status, r.Headers.Get("location"))
	}
}

func (f *fixture) refreshCookies(t testing.TB, sessExpired bool) string {
	t.Helper()
	exp := f.now.Add(time.Hour)
	if sessExpired {
		exp = f.now.Add(-time.Minute)
	}
	past := suitetest.Sessions(t, f.cfg, func() time.Time { return f.now.Add(-2 * time.Hour) })
	sc, err := past.EncodeSession(session.Session{Identity: verifier.Identity{Subject: sub}, Expiry: exp, HasRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := f.sessions.EncodeRefresh(session.Refresh{RefreshToken: "refresh-old"})
	if err != nil {
		t.Fatal(err)
	}
	return suitetest.CookieHeader(sc, rcs[0])
}

func TestRefreshAuth(t *testing.T) {
	tests := []struct {
		name        string
		answer      func(f *fixture, t *testing.T) func(w http.ResponseWriter, form url.Values)
		noCookie    bool
		badReturn   bool
		wantStatus  string
		wantLoc     string
		wantSession bool // a new session cookie
		wantExpire  bool // session and refresh cookies expired
		wantRotated bool
	}{
		{name: "refresh renews the session", answer: func(f *fixture, t *testing.T) func(http.ResponseWriter, url.Values) {
			return func(w http.ResponseWriter, form url.Values) {
				if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "refresh-old" {
					http.Error(w, "bad form", 400)
					return
				}
				tokens(w, map[string]any{"id_token": f.idToken(t, "", []string{"staff"}), "access_token": "opaque"})
			}
		}, wantStatus: "302", wantLoc: "/docs?a=1", wantSession: true},
		{name: "rotated refresh token is stored", answer: func(f *fixture, t *testing.T) func(http.ResponseWriter, url.Values) {
			return func(w http.ResponseWriter, form url.Values) {
				tokens(w, map[string]any{"id_token": f.idToken(t, "", nil), "access_token": "opaque", "refresh_token": "refresh-new"})
			}
		}, wantStatus: "302", wantLoc: "/docs?a=1", wantSession: true, wantRotated: true},
		{name: "invalid_grant expires the cookies and goes back (to log in)", answer: func(*fixture, *testing.T) func(http.ResponseWriter, url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":"invalid_grant"}`)
			}
		}, wantStatus: "302", wantLoc: "/docs?a=1", wantExpire: true},
		{name: "another OAuth refusal (Dex's invalid_request) also goes back to log in", answer: func(*fixture, *testing.T) func(http.ResponseWriter, url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":"invalid_request","error_description":"Refresh token is invalid or has already been claimed by another client."}`)
			}
		}, wantStatus: "302", wantLoc: "/docs?a=1", wantExpire: true},
		{name: "no refresh cookie expires the session and goes back", noCookie: true, wantStatus: "302", wantLoc: "/docs?a=1", wantExpire: true},
		{name: "idp down keeps the cookies and says so", answer: func(*fixture, *testing.T) func(http.ResponseWriter, url.Values) {
			return func(w http.ResponseWriter, _ url.Values) { http.Error(w, "down", 503) }
		}, wantStatus: "502"},
		{name: "forged return goes home", badReturn: true, answer: func(f *fixture, t *testing.T) func(http.ResponseWriter, url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				tokens(w, map[string]any{"id_token": f.idToken(t, "", nil), "access_token": "opaque"})
			}
		}, wantStatus: "302", wantLoc: "/", wantSession: true},
		{name: "refreshed token for another subject", answer: func(f *fixture, t *testing.T) func(http.ResponseWriter, url.Values) {
			return func(w http.ResponseWriter, _ url.Values) {
				tokens(w, map[string]any{"id_token": f.mint.Sign(t, testtoken.OIDCID(issuer, clientID, "someone-else", "", nil, f.now.Add(time.Hour))), "access_token": "opaque"})
			}
		}, wantStatus: "302", wantLoc: "/docs?a=1", wantExpire: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.answer != nil {
				f.idp.answer = tt.answer(f, t)
			}
			ret, err := f.sessions.SignReturn("/docs?a=1")
			if err != nil {
				t.Fatal(err)
			}
			if tt.badReturn {
				ret = "https%3A%2F%2Fevil.example"
			}
			cookie := f.refreshCookies(t, true)
			if tt.noCookie {
				cookie = strings.Split(cookie, "; ")[0]
			}
			r := f.handle(t, suitetest.Request(t, "/refreshauth?return="+url.QueryEscape(ret), "Cookie", cookie))
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s (body %.200s)", r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantLoc != "" && r.Headers.Get("location") != tt.wantLoc {
				t.Errorf("location = %q, want %q", r.Headers.Get("location"), tt.wantLoc)
			}
			cs := suitetest.SetCookies(t, r)
			sc := cookieNamed(cs, "auth-session", "/")
			if got := sc != nil && sc.MaxAge >= 0; got != tt.wantSession {
				t.Errorf("new session cookie = %v, want %v", got, tt.wantSession)
			}
			if got := sc != nil && sc.MaxAge < 0 && cookieNamed(cs, "auth-refresh", f.cfg.Paths.RefreshAuth) != nil; got != tt.wantExpire {
				t.Errorf("cookies expired = %v, want %v (%v)", got, tt.wantExpire, r.Headers.Values("set-cookie"))
			}
			rc := cookieNamed(cs, "auth-refresh", f.cfg.Paths.RefreshAuth)
			if got := rc != nil && rc.MaxAge > 0; got != tt.wantRotated {
				t.Errorf("refresh cookie rewritten = %v, want %v", got, tt.wantRotated)
			}
			if tt.wantRotated {
				req, _, _ := suitetest.Request(t, "/refreshauth", "Cookie", suitetest.CookieHeader(rc)).Request()
				if back, err := f.sessions.Refresh(req.Cookies()); err != nil || back.RefreshToken != "refresh-new" {
					t.Errorf("rotated refresh token = %q, %v", back.RefreshToken, err)
				}
			}
		})
	}
}

func TestUnknownPath(t *testing.T) {
	f := newFixture(t)
	if r := f.handle(t, suitetest.Request(t, "/elsewhere")); r.Status != "404" {
		t.Errorf("status = %s, want 404", r.Status)
	}
}

// An IdP that hangs past the function's own deadline still gets the
// function's 502 page, answered before Lambda's deadline, not a timeout.
func TestIdPHangsPastTheDeadline(t *testing.T) {
	f := newFixture(t)
	state, lc := f.login(t, session.LoginState{Nonce: "n", Verifier: strings.Repeat("v", 43), ReturnTo: "/x", Created: f.now})
	release := make(chan struct{})
	defer close(release)
	f.idp.answer = func(w http.ResponseWriter, _ url.Values) { <-release }
	ctx, cancel := context.WithTimeout(context.Background(), lambdafn.DeadlineMargin+300*time.Millisecond)
	defer cancel()
	res, err := f.h.Handle(ctx, suitetest.Request(t, "/parseauth?code=a&state="+state, "Cookie", suitetest.CookieHeader(lc)))
	if err != nil || res.Response == nil || res.Response.Status != "502" {
		t.Fatalf("Handle = %+v, %v; want the 502 page", res.Response, err)
	}
	if ctx.Err() != nil {
		t.Error("answered only after the deadline had passed")
	}
}

// A refresh token too large for a cookie must not cost the sign-in: the
// session is kept without silent refresh, and no refresh cookie survives.
func TestRefreshTokenTooLargeForACookie(t *testing.T) {
	huge := strings.Repeat("R", session.MaxCookieBytes)
	check := func(t *testing.T, f *fixture, r *edge.Response, wantLoc string) {
		t.Helper()
		if r.Status != "302" || r.Headers.Get("location") != wantLoc {
			t.Fatalf("status %s location %q, want 302 to %s (body %.200s)", r.Status, r.Headers.Get("location"), wantLoc, r.Body)
		}
		cs := suitetest.SetCookies(t, r)
		sc := cookieNamed(cs, "auth-session", "/")
		if sc == nil || sc.MaxAge < 0 {
			t.Fatalf("no new session cookie: %v", r.Headers.Values("set-cookie"))
		}
		req, _, _ := suitetest.Request(t, "/docs", "Cookie", suitetest.CookieHeader(sc)).Request()
		if sess, err := f.sessions.Session(req.Cookies()); err != nil || sess.HasRefresh || sess.Identity.Subject != sub {
			t.Errorf("session = %+v, %v; want one without refresh", sess, err)
		}
		for _, p := range []string{f.cfg.Paths.RefreshAuth, f.cfg.Paths.SignOut} {
			if rc := cookieNamed(cs, "auth-refresh", p); rc == nil || rc.MaxAge >= 0 {
				t.Errorf("refresh cookie for %s = %+v, want it expired", p, rc)
			}
		}
		if !strings.Contains(f.logs.String(), "refresh token too large for a cookie") {
			t.Errorf("log does not say why the refresh token was dropped: %s", f.logs)
		}
		if strings.Contains(f.logs.String(), huge[:64]) {
			t.Error("the refresh token reached the logs")
		}
	}
	t.Run("sign-in", func(t *testing.T) {
		f := newFixture(t)
		state, lc := f.login(t, session.LoginState{Nonce: "n-1", Verifier: strings.Repeat("v", 43), ReturnTo: "/docs", Created: f.now})
		f.idp.answer = func(w http.ResponseWriter, _ url.Values) {
			tokens(w, map[string]any{"id_token": f.idToken(t, "n-1", nil), "access_token": "opaque", "refresh_token": huge})
		}
		check(t, f, f.handle(t, suitetest.Request(t, "/parseauth?code=c&state="+state, "Cookie", suitetest.CookieHeader(lc))), "/docs")
	})
	t.Run("rotation on refresh", func(t *testing.T) {
		f := newFixture(t)
		f.idp.answer = func(w http.ResponseWriter, _ url.Values) {
			tokens(w, map[string]any{"id_token": f.idToken(t, "", nil), "access_token": "opaque", "refresh_token": huge})
		}
		ret, err := f.sessions.SignReturn("/docs?a=1")
		if err != nil {
			t.Fatal(err)
		}
		check(t, f, f.handle(t, suitetest.Request(t, "/refreshauth?return="+url.QueryEscape(ret), "Cookie", f.refreshCookies(t, true))), "/docs?a=1")
	})
}

// The code exchange names the redirect URI the login used: at
// origin-request, the viewer's host from the template's header when it is
// a configured one.
func TestParseAuthViewerHostAtOriginRequest(t *testing.T) {
	f := newFixture(t)
	f.cfg.Hosts = []string{"www.example.com", "shop.example.com"}
	h, err := parsecallback.New(lambdafn.Deps{Config: f.cfg, Now: func() time.Time { return f.now }, Logger: slog.New(slog.DiscardHandler), HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	state, lc := f.login(t, session.LoginState{Nonce: "n-1", Verifier: strings.Repeat("v", 43), ReturnTo: "/", Created: f.now})
	f.idp.answer = func(w http.ResponseWriter, _ url.Values) {
		tokens(w, map[string]any{"id_token": f.idToken(t, "n-1", nil), "access_token": "opaque"})
	}
	ev := suitetest.Event(t, "origin-request-s3.json", func(r *edge.Request) {
		r.URI, r.QueryString = "/parseauth", "code=c&state="+state
		r.Headers.Set("Cookie", suitetest.CookieHeader(lc))
		r.Headers.Set(edge.ViewerHostHeader, "shop.example.com")
	})
	if r := f.handle(t, ev); r.Status != "302" {
		t.Fatalf("status %s, want the sign-in redirect", r.Status)
	}
	if got := f.idp.requests[0].Get("redirect_uri"); got != "https://shop.example.com/parseauth" {
		t.Errorf("redirect_uri = %q, want the viewer's host", got)
	}
}
