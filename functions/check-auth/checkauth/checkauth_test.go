package checkauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

const (
	clientID = "1example23456789"
	sub      = "2b4c6d8e-aaaa-bbbb-cccc-000000000001"
)

type fixture struct {
	cfg      *config.Config
	h        *checkauth.Handler
	sessions *session.Store
	mint     *testtoken.Minter
	logs     *bytes.Buffer
}

func newFixture(t testing.TB, edit func(map[string]any)) *fixture {
	t.Helper()
	logs := &bytes.Buffer{}
	f := newFixtureLogging(t, edit, logs)
	f.logs = logs
	return f
}

// newFixtureLogging is newFixture with the JSON log written to w.
func newFixtureLogging(t testing.TB, edit func(map[string]any), w io.Writer) *fixture {
	t.Helper()
	cfg := suitetest.Config(t, "cognito.json", edit)
	h, err := checkauth.New(lambdafn.Deps{Config: cfg, Now: suitetest.Clock, Logger: slog.New(slog.NewJSONHandler(w, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s := suitetest.Sessions(t, cfg, suitetest.Clock)
	return &fixture{cfg: cfg, h: h, sessions: s, mint: testtoken.Keys(t)}
}

func (f *fixture) sessionCookie(t testing.TB, groups []string, expiry time.Time, hasRefresh bool) *http.Cookie {
	t.Helper()
	// A store whose clock is two hours back mints cookies that have
	// expired by now; it shares the keys.
	s := suitetest.Sessions(t, f.cfg, func() time.Time { return suitetest.Now.Add(-2 * time.Hour) })
	c, err := s.EncodeSession(session.Session{
		Identity:   verifier.Identity{Subject: sub, Username: "alice", Groups: groups, Claims: map[string]string{"sub": sub}},
		Expiry:     expiry,
		HasRefresh: hasRefresh,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) accessToken(t testing.TB, groups []string, exp time.Time) string {
	return f.mint.Sign(t, testtoken.CognitoAccess(f.cfg.Issuer, clientID, sub, groups, exp))
}

func (f *fixture) handle(t testing.TB, ev edge.Event) edge.Result {
	t.Helper()
	res, err := f.h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle returned error %v; expected failures must be responses", err)
	}
	if (res.Request == nil) == (res.Response == nil) {
		t.Fatalf("result must hold exactly one of request and response: %+v", res)
	}
	return res
}

func TestCheckAuth(t *testing.T) {
	f := newFixture(t, nil)
	later, past := suitetest.Now.Add(time.Hour), suitetest.Now.Add(-time.Minute)
	sessionOK := f.sessionCookie(t, []string{"staff"}, later, true)
	sessionAdmin := f.sessionCookie(t, []string{"admins"}, later, true)
	expiredWithRefresh := f.sessionCookie(t, nil, past, true)
	expiredNoRefresh := f.sessionCookie(t, nil, past, false)
	tampered := *sessionOK
	tampered.Value = strings.Replace(tampered.Value, tampered.Value[10:11], flip(tampered.Value[10:11]), 1)
	valid := f.accessToken(t, []string{"staff"}, later)
	admin := f.accessToken(t, []string{"admins"}, later)
	expired := f.accessToken(t, []string{"staff"}, suitetest.Now.Add(-time.Hour))
	otherClient := f.mint.Sign(t, testtoken.CognitoAccess(f.cfg.Issuer, "someone-else", sub, nil, later))
	idToken := f.mint.Sign(t, testtoken.CognitoID(f.cfg.Issuer, clientID, sub, "", nil, later))
	noneAlg := f.mint.SignWith(t, testtoken.KeyID1, "none", testtoken.CognitoAccess(f.cfg.Issuer, clientID, sub, nil, later))

	tests := []struct {
		name       string
		uri        string
		headers    []string
		method     string // GET when empty
		wantStatus string // "" = passed on
		wantLoc    string // prefix of Location
		wantAuthn  string // substring of WWW-Authenticate
	}{
		{name: "no credential redirects to the hosted UI", uri: "/docs/a?b=1", wantStatus: "302", wantLoc: "https://example.auth.us-east-1.amazoncognito.com/oauth2/authorize?"},
		{name: "api call without credential gets 401", uri: "/docs/a", headers: []string{"Accept", "application/json"}, wantStatus: "401", wantAuthn: `Bearer realm="www.example.com"`},
		{name: "xhr without credential gets 401", uri: "/docs/a", headers: []string{"X-Requested-With", "XMLHttpRequest"}, wantStatus: "401"},
		{name: "public path passes without credential", uri: "/public/logo.png"},
		{name: "cors preflight without an S3 origin is an API call", uri: "/docs/a", headers: []string{"Access-Control-Request-Method", "GET", "Origin", "https://app.example.com"}, method: "OPTIONS", wantStatus: "401"},
		{name: "expired session refreshes for an image too", uri: "/docs/a.png", headers: []string{"Cookie", suitetest.CookieHeader(expiredWithRefresh), "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Site", "same-origin", "Accept", "image/*"}, wantStatus: "302", wantLoc: "/refreshauth?return="},
		{name: "expired session refreshes for a same-origin fetch", uri: "/docs/a", headers: []string{"Cookie", suitetest.CookieHeader(expiredWithRefresh), "Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "same-origin", "Accept", "*/*"}, wantStatus: "302", wantLoc: "/refreshauth?return="},
		{name: "expired session, cross-site fetch gets 401", uri: "/docs/a", headers: []string{"Cookie", suitetest.CookieHeader(expiredWithRefresh), "Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "cross-site"}, wantStatus: "401"},
		{name: "fetch without credential gets 401", uri: "/docs/a", headers: []string{"Sec-Fetch-Mode", "cors", "Accept", "*/*"}, wantStatus: "401"},
		{name: "image without credential gets 401", uri: "/docs/a.png", headers: []string{"Accept", "image/avif,image/webp,*/*"}, wantStatus: "401"},
		{name: "navigation logs in whatever it accepts", uri: "/docs/a", headers: []string{"Sec-Fetch-Mode", "navigate", "Accept", "*/*"}, wantStatus: "302", wantLoc: "https://example.auth"},
		{name: "public bare directory passes", uri: "/public"},
		{name: "valid session passes", uri: "/docs/a", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}},
		{name: "session in a later cookie entry passes", uri: "/docs/a", headers: []string{"Cookie", "theme=dark", "Cookie", suitetest.CookieHeader(sessionOK)}},
		{name: "session without group gets 403 page", uri: "/admin/", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "403"},
		{name: "session with group passes admin", uri: "/admin/", headers: []string{"Cookie", suitetest.CookieHeader(sessionAdmin)}},
		{name: "dot segments are refused", uri: "/public/../admin/", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "400"},
		{name: "empty segments are refused", uri: "/admin//../secret.html", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "400"},
		{name: "own user folder passes", uri: "/users/" + sub + "/notes.txt", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}},
		{name: "another user's folder is refused", uri: "/users/someone-else/notes.txt", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "403"},
		{name: "expired session with refresh goes to refresh", uri: "/docs/a?b=1&c=%2F", headers: []string{"Cookie", suitetest.CookieHeader(expiredWithRefresh)}, wantStatus: "302", wantLoc: "/refreshauth?return="},
		{name: "expired session without refresh logs in", uri: "/docs/a", headers: []string{"Cookie", suitetest.CookieHeader(expiredNoRefresh)}, wantStatus: "302", wantLoc: "https://example.auth.us-east-1.amazoncognito.com/oauth2/authorize?"},
		{name: "tampered session logs in", uri: "/docs/a", headers: []string{"Cookie", suitetest.CookieHeader(&tampered)}, wantStatus: "302", wantLoc: "https://example.auth.us-east-1.amazoncognito.com/oauth2/authorize?"},
		{name: "garbage session logs in", uri: "/docs/a", headers: []string{"Cookie", "edgeauth-session=%%%garbage"}, wantStatus: "302", wantLoc: "https://example.auth"},
		{name: "expired session api call gets 401", uri: "/docs/a", headers: []string{"Cookie", suitetest.CookieHeader(expiredWithRefresh), "Accept", "application/json"}, wantStatus: "401"},
		{name: "bearer passes", uri: "/docs/a", headers: []string{"Authorization", "Bearer " + valid}},
		{name: "bearer with group passes admin", uri: "/admin/x", headers: []string{"Authorization", "Bearer " + admin}},
		{name: "bearer without group gets 403", uri: "/admin/x", headers: []string{"Authorization", "Bearer " + valid}, wantStatus: "403", wantAuthn: `error="insufficient_scope"`},
		{name: "expired bearer gets 401 invalid_token", uri: "/docs/a", headers: []string{"Authorization", "Bearer " + expired}, wantStatus: "401", wantAuthn: `error="invalid_token"`},
		{name: "bearer for another client gets 401", uri: "/docs/a", headers: []string{"Authorization", "Bearer " + otherClient}, wantStatus: "401", wantAuthn: `error="invalid_token"`},
		{name: "id token where an access token is required gets 401", uri: "/docs/a", headers: []string{"Authorization", "Bearer " + idToken}, wantStatus: "401", wantAuthn: `error="invalid_token"`},
		{name: "alg none gets 401", uri: "/docs/a", headers: []string{"Authorization", "Bearer " + noneAlg}, wantStatus: "401", wantAuthn: `error="invalid_token"`},
		{name: "garbage bearer gets 401", uri: "/docs/a", headers: []string{"Authorization", "Bearer abc.def.ghi"}, wantStatus: "401", wantAuthn: `error="invalid_token"`},
		{name: "malformed bearer header gets 400", uri: "/docs/a", headers: []string{"Authorization", "Bearer a b c"}, wantStatus: "400", wantAuthn: `error="invalid_request"`},
		{name: "empty bearer gets 400", uri: "/docs/a", headers: []string{"Authorization", "Bearer "}, wantStatus: "400"},
		{name: "basic auth gets a plain 401", uri: "/docs/a", headers: []string{"Authorization", "Basic dXNlcjpwYXNz"}, wantStatus: "401", wantAuthn: `Bearer realm="www.example.com"`},
		{name: "two authorization headers get 400", uri: "/docs/a", headers: []string{"Authorization", "Bearer " + valid, "Authorization", "Bearer " + valid}, wantStatus: "400"},
		{name: "bearer beats a valid session: bad token is 401, not a pass", uri: "/docs/a", headers: []string{"Authorization", "Bearer " + expired, "Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "401"},
		{name: "public path with a bad token still passes", uri: "/public/x", headers: []string{"Authorization", "Bearer " + expired}},
		{name: "control character in path gets 400", uri: "/docs/%00a", wantStatus: "400"},
		// ";params" an origin could strip to a rule's segment (issue 9).
		{name: "jsessionid on admin gets 400", uri: "/admin;jsessionid=1/index.html", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "400"},
		{name: "params on admin gets 400", uri: "/admin;x/", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "400"},
		{name: "empty params on admin gets 400", uri: "/admin;/index.html", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "400"},
		{name: "encoded admin with params gets 400", uri: "/%61dmin;x/index.html", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "400"},
		{name: "encoded semicolon on admin gets 400", uri: "/admin%3Bx/index.html", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "400"},
		{name: "params on admin get 400 for an admin too", uri: "/admin;x/", headers: []string{"Cookie", suitetest.CookieHeader(sessionAdmin)}, wantStatus: "400"},
		{name: "params on admin get 400 with a bearer token", uri: "/admin;x/", headers: []string{"Authorization", "Bearer " + admin}, wantStatus: "400"},
		{name: "params on admin get 400 without a credential", uri: "/admin;x/", wantStatus: "400"},
		{name: "params on public get 400", uri: "/public;x/logo.png", wantStatus: "400"},
		{name: "params on a user folder are no one's folder", uri: "/users/" + sub + ";x/notes.txt", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}, wantStatus: "403"},
		{name: "a semicolon where no rule looks passes", uri: "/docs/a;b.html", headers: []string{"Cookie", suitetest.CookieHeader(sessionOK)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := suitetest.Request(t, tt.uri, tt.headers...)
			if tt.method != "" {
				ev.Records[0].CF.Request.Method = tt.method
			}
			res := f.handle(t, ev)
			if tt.wantStatus == "" {
				if res.Request == nil {
					t.Fatalf("got response %s %v, want the request passed on", res.Response.Status, res.Response.Headers)
				}
				if _, ok := res.Request.Headers["authorization"]; ok {
					t.Error("Authorization header reached the origin")
				}
				for _, c := range res.Request.Cookies() {
					if strings.HasPrefix(c.Name, "edgeauth-") {
						t.Errorf("suite cookie %s reached the origin", c.Name)
					}
				}
				return
			}
			if res.Response == nil {
				t.Fatalf("request passed on, want status %s", tt.wantStatus)
			}
			r := res.Response
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s (location %q, www-authenticate %q)", r.Status, tt.wantStatus, r.Headers.Get("location"), r.Headers.Get("www-authenticate"))
			}
			// Every 401 carries its challenge (RFC 9110 §15.5.2), every
			// answer fits CloudFront's limits.
			suitetest.CheckGenerated(t, r)
			for _, h := range []string{"strict-transport-security", "x-content-type-options", "x-frame-options", "referrer-policy"} {
				if r.Headers.Get(h) == "" {
					t.Errorf("generated response lacks %s", h)
				}
			}
			if tt.wantLoc != "" && !strings.HasPrefix(r.Headers.Get("location"), tt.wantLoc) {
				t.Errorf("location = %q, want prefix %q", r.Headers.Get("location"), tt.wantLoc)
			}
			if tt.wantAuthn != "" && !strings.Contains(r.Headers.Get("www-authenticate"), tt.wantAuthn) {
				t.Errorf("www-authenticate = %q, want %q", r.Headers.Get("www-authenticate"), tt.wantAuthn)
			}
			// An Authorization header makes a request an API call, which is
			// never redirected, wherever the header stands in the list.
			for i := 0; i < len(tt.headers); i += 2 {
				if strings.EqualFold(tt.headers[i], "Authorization") && r.Status == "302" {
					t.Error("an API call was redirected")
				}
			}
		})
	}
	if strings.Contains(f.logs.String(), valid[:40]) || strings.Contains(f.logs.String(), sessionOK.Value[:20]) {
		t.Error("a token or cookie value reached the logs")
	}
}

// The 403 page says who is signed in (escaped), and offers both a way home
// and a way to sign in as someone else.
func TestForbiddenPageNamesTheAccount(t *testing.T) {
	f := newFixture(t, nil)
	s := suitetest.Sessions(t, f.cfg, suitetest.Clock)
	for _, tt := range []struct {
		id   verifier.Identity
		want string
	}{
		{verifier.Identity{Subject: sub, Username: "alice", Email: "alice@example.com"}, "Signed in as <strong>alice@example.com</strong>"},
		{verifier.Identity{Subject: sub, Username: "alice"}, "Signed in as <strong>alice</strong>"},
		{verifier.Identity{Subject: sub, Username: `<img src=x onerror=alert(1)>`}, "Signed in as <strong>&lt;img src=x onerror=alert(1)&gt;</strong>"},
	} {
		c, err := s.EncodeSession(session.Session{Identity: tt.id, Expiry: suitetest.Now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		res := f.handle(t, suitetest.Request(t, "/admin/", "Cookie", suitetest.CookieHeader(c)))
		r := res.Response
		if r == nil || r.Status != "403" {
			t.Fatalf("result %+v, want the 403 page", res)
		}
		for _, want := range []string{tt.want, `href="/signout">Sign out and use another account</a>`, `href="/">Go to the home page</a>`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("403 page lacks %q:\n%s", want, r.Body)
			}
		}
	}
}

func flip(s string) string {
	if s == "A" {
		return "B"
	}
	return "A"
}

// The login redirect carries everything the callback needs, and the state is
// the attempt id naming a login-state cookie that the callback can read back.
func TestLoginRedirect(t *testing.T) {
	f := newFixture(t, nil)
	res := f.handle(t, suitetest.Request(t, "/docs/a?b=1&c=two"))
	loc := suitetest.Location(t, res.Response)
	q := loc.Query()
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             clientID,
		"redirect_uri":          "https://www.example.com/parseauth",
		"code_challenge_method": "S256",
		"scope":                 "openid email profile",
		"identity_provider":     "COGNITO",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Errorf("authorize URL lacks %s", k)
		}
	}
	cookies := suitetest.SetCookies(t, res.Response)
	if len(cookies) != 2 || cookies[1].Name != "edgeauth-attempts" || cookies[1].Path != "/" {
		t.Fatalf("Set-Cookie = %v, want the login-state cookie and the attempts index", res.Response.Headers.Values("set-cookie"))
	}
	lc := cookies[0]
	if lc.Path != "/parseauth" || !lc.HttpOnly || !lc.Secure || lc.MaxAge <= 0 || lc.MaxAge > 900 {
		t.Errorf("login cookie attributes: %+v", lc)
	}
	callback := suitetest.Request(t, "/parseauth?code=x&state="+q.Get("state"), "Cookie", suitetest.CookieHeader(lc))
	req, _, _ := callback.Request()
	ls, err := f.sessions.Login(req.Cookies(), q.Get("state"))
	if err != nil {
		t.Fatalf("login state cannot be read back: %v", err)
	}
	if ls.ReturnTo != "/docs/a?b=1&c=two" || ls.Nonce != q.Get("nonce") || len(ls.Verifier) < 43 {
		t.Errorf("login state = return %q nonce match %v verifier %d chars", ls.ReturnTo, ls.Nonce == q.Get("nonce"), len(ls.Verifier))
	}
	// Two tabs: two attempts, two states, two cookies.
	res2 := f.handle(t, suitetest.Request(t, "/other"))
	if q2 := suitetest.Location(t, res2.Response).Query(); q2.Get("state") == q.Get("state") || q2.Get("nonce") == q.Get("nonce") {
		t.Error("two login attempts share state or nonce")
	}
}

// Login cookies never reach check-auth (Path=/parseauth), so the attempts
// cap works from the index cookie at Path=/: past the cap, a new login
// expires the oldest attempt's cookie by name, and the index never reaches
// the origin.
func TestLoginAttemptsCap(t *testing.T) {
	f := newFixture(t, nil)
	var index *http.Cookie
	var states []string
	for i := range session.DefaultMaxAttempts + 1 {
		var headers []string
		if index != nil {
			headers = []string{"Cookie", "theme=dark; " + suitetest.CookieHeader(index)}
		}
		res := f.handle(t, suitetest.Request(t, "/docs/", headers...))
		if res.Response == nil || res.Response.Status != "302" {
			t.Fatalf("login %d: %+v", i, res)
		}
		states = append(states, suitetest.Location(t, res.Response).Query().Get("state"))
		var expired []string
		index = nil
		for _, c := range suitetest.SetCookies(t, res.Response) {
			switch {
			case c.Name == "edgeauth-attempts":
				index = c
			case c.MaxAge < 0:
				expired = append(expired, c.Name+" "+c.Path)
			}
		}
		if index == nil {
			t.Fatalf("login %d sent no attempts index", i)
		}
		want := ""
		if i == session.DefaultMaxAttempts {
			want = f.sessions.LoginName(states[0]) + " /parseauth"
		}
		if strings.Join(expired, ",") != want {
			t.Errorf("login %d expired %q, want %q", i, expired, want)
		}
	}
	res := f.handle(t, suitetest.Request(t, "/public/x", "Cookie", "theme=dark; "+suitetest.CookieHeader(index)))
	if res.Request == nil || res.Request.Headers.Get("cookie") != "theme=dark" {
		t.Errorf("the origin got cookies %q, want only the site's", res.Request.Headers.Get("cookie"))
	}
}

func TestRefreshRedirectKeepsTheFullURI(t *testing.T) {
	f := newFixture(t, nil)
	c := f.sessionCookie(t, nil, suitetest.Now.Add(-time.Second), true)
	res := f.handle(t, suitetest.Request(t, "/docs/a?b=1&c=%2F", "Cookie", suitetest.CookieHeader(c)))
	loc := suitetest.Location(t, res.Response)
	if loc.Path != "/refreshauth" {
		t.Fatalf("location = %s", loc)
	}
	got, err := f.sessions.VerifyReturn(loc.Query().Get("return"))
	if err != nil || got != "/docs/a?b=1&c=%2F" {
		t.Errorf("signed return = %q, %v; want the full path and query", got, err)
	}
}

func TestPassKeepsOtherCookies(t *testing.T) {
	f := newFixture(t, nil)
	c := f.sessionCookie(t, nil, suitetest.Now.Add(time.Hour), false)
	res := f.handle(t, suitetest.Request(t, "/x", "Cookie", "theme=dark; "+suitetest.CookieHeader(c), "Cookie", "lang=en"))
	if got := res.Request.Headers.Values("cookie"); len(got) != 2 || got[0] != "theme=dark" || got[1] != "lang=en" {
		t.Errorf("cookies at origin = %q", got)
	}
}

// The seed-style event (uri without "/", no querystring, a config with only
// distributionId) gets a clear decision.
func TestSeedEvent(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.accessToken(t, nil, suitetest.Now.Add(time.Hour))
	for name, tc := range map[string]struct {
		token, want string
	}{
		"minted token passes":               {tok, ""},
		"placeholder is a malformed header": {"<token>", "400"},
	} {
		t.Run(name, func(t *testing.T) {
			ev := suitetest.Event(t, "seed-bearer-viewer-request.json", func(r *edge.Request) {
				r.Headers.Set("Authorization", "Bearer "+tc.token)
			})
			res := f.handle(t, ev)
			switch {
			case tc.want == "" && res.Request == nil:
				t.Fatalf("status %s, want pass", res.Response.Status)
			case tc.want != "" && (res.Response == nil || res.Response.Status != tc.want):
				t.Fatalf("result %+v, want %s", res, tc.want)
			}
		})
	}
}

func TestBadEventIsAnswered(t *testing.T) {
	f := newFixture(t, nil)
	res, err := f.h.Handle(context.Background(), edge.Event{})
	if err != nil || res.Response == nil || res.Response.Status != "400" {
		t.Errorf("empty event: %+v, %v", res, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := checkauth.New(lambdafn.Deps{}); err == nil {
		t.Error("New without config succeeded")
	}
}

func BenchmarkSessionCookie(b *testing.B) {
	f := newFixtureLogging(b, nil, io.Discard)
	c := f.sessionCookie(b, []string{"staff"}, suitetest.Now.Add(time.Hour), true)
	ev := suitetest.Request(b, "/docs/a?b=1", "Cookie", "theme=dark; "+suitetest.CookieHeader(c))
	benchmark(b, f, ev, false)
}

func BenchmarkBearer(b *testing.B) {
	f := newFixtureLogging(b, nil, io.Discard)
	tok := f.accessToken(b, []string{"staff"}, suitetest.Now.Add(time.Hour))
	ev := suitetest.Request(b, "/docs/a", "Authorization", "Bearer "+tok)
	benchmark(b, f, ev, false)
}

func BenchmarkRedirect(b *testing.B) {
	f := newFixtureLogging(b, nil, io.Discard)
	ev := suitetest.Request(b, "/docs/a?b=1")
	benchmark(b, f, ev, true)
}

// benchmark runs the handler on a fresh copy of the event each time, since a
// pass edits the request in place. The RSA floor is measured beside it
// (x-rsa-floor), and the log goes to io.Discard through the JSON handler
// the functions use: the fixture's buffer would grow by every line.
func benchmark(b *testing.B, f *fixture, ev edge.Event, wantResponse bool) {
	req, _, _ := ev.Request()
	orig := req.Headers
	ctx := context.Background()
	floor := testtoken.NewFloorMeter(b, 16)
	defer floor.Report()
	b.ReportAllocs()
	for b.Loop() {
		floor.Tick()
		h := make(edge.Headers, len(orig))
		for k, v := range orig {
			h[k] = v
		}
		req.Headers = h
		res, err := f.h.Handle(ctx, ev)
		if err != nil || (res.Response != nil) != wantResponse {
			b.Fatalf("unexpected result %+v %v", res, err)
		}
	}
}

// Each decision is one JSON log line with the request id, path, decision and
// reason, and the subject when known.
func TestDecisionLog(t *testing.T) {
	f := newFixture(t, nil)
	c := f.sessionCookie(t, []string{"staff"}, suitetest.Now.Add(time.Hour), false)
	for _, tc := range []struct {
		uri, cookie, decision, subject string
	}{
		{"/docs/a?secret=1", suitetest.CookieHeader(c), "allow", sub},
		{"/admin/", suitetest.CookieHeader(c), "deny", sub},
		{"/docs/b", "", "login", ""},
	} {
		f.logs.Reset()
		headers := []string{}
		if tc.cookie != "" {
			headers = []string{"Cookie", tc.cookie}
		}
		f.handle(t, suitetest.Request(t, tc.uri, headers...))
		lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("%s: %d log lines, want 1:\n%s", tc.uri, len(lines), f.logs)
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
			t.Fatal(err)
		}
		path, _, _ := strings.Cut(tc.uri, "?")
		if line["request_id"] != "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==" || line["path"] != path ||
			line["decision"] != tc.decision || line["reason"] == "" {
			t.Errorf("%s: log line = %v", tc.uri, line)
		}
		if got, _ := line["subject"].(string); got != tc.subject {
			t.Errorf("%s: subject = %q, want %q", tc.uri, got, tc.subject)
		}
		if strings.Contains(lines[0], "secret=1") {
			t.Errorf("%s: the query string was logged", tc.uri)
		}
	}
}

// A request URI that would be an open redirect or a header injection as a
// return path is never kept as one. Paths such as "//evil.example" never get
// this far: check-auth refuses empty segments with a 400.
func TestLoginReturnPathIsSafe(t *testing.T) {
	f := newFixture(t, nil)
	for uri, want := range map[string]string{
		"/docs/ok?next=//x": "/docs/ok?next=//x",
		"/docs/x?q=a\\b":    "/",
	} {
		res := f.handle(t, suitetest.Request(t, uri))
		if res.Response == nil || res.Response.Status != "302" {
			t.Fatalf("%s: want the login redirect, got %+v", uri, res.Response)
		}
		state := suitetest.Location(t, res.Response).Query().Get("state")
		cb := suitetest.Request(t, "/parseauth", "Cookie", suitetest.CookieHeader(suitetest.SetCookies(t, res.Response)[0]))
		req, _, _ := cb.Request()
		ls, err := f.sessions.Login(req.Cookies(), state)
		if err != nil || ls.ReturnTo != want {
			t.Errorf("%s: return path = %q, %v; want %q", uri, ls.ReturnTo, err, want)
		}
	}
}

// A CORS preflight bound for S3 (which answers it without content) passes
// without credentials; the deployed shape runs check-auth at origin-request,
// where the event names the origin.
func TestPreflightToS3Passes(t *testing.T) {
	f := newFixture(t, nil)
	ev := suitetest.Event(t, "origin-request-s3.json", func(r *edge.Request) {
		r.Method = "OPTIONS"
		r.URI = "/docs/a"
		r.Headers.Set("Access-Control-Request-Method", "GET")
		r.Headers.Set("Origin", "https://app.example.com")
	})
	if res := f.handle(t, ev); res.Request == nil {
		t.Fatalf("preflight to S3 got %s, want it passed to the origin", res.Response.Status)
	}
	ev = suitetest.Event(t, "origin-request-s3.json", func(r *edge.Request) {
		r.URI = "/docs/a"
		r.Headers.Set("Origin", "https://app.example.com")
	})
	if res := f.handle(t, ev); res.Response == nil {
		t.Fatal("a GET without credentials passed")
	}
}

// At origin-request the Host is the bucket's; the viewer's comes in the
// header the template's CloudFront Function sets, and picks among the
// configured hosts, never beyond them.
func TestOriginRequestViewerHost(t *testing.T) {
	f := newFixture(t, func(m map[string]any) { m["hosts"] = []any{"www.example.com", "shop.example.com"} })
	for _, tt := range []struct{ viewer, want string }{
		{"shop.example.com", "https://shop.example.com/parseauth"},
		{"SHOP.example.com", "https://shop.example.com/parseauth"},
		{"evil.example", "https://www.example.com/parseauth"},
		{"", "https://www.example.com/parseauth"},
	} {
		ev := suitetest.Event(t, "origin-request-s3.json", func(r *edge.Request) {
			r.URI, r.QueryString = "/docs/a", ""
			r.Headers.Set("Accept", "text/html")
			if tt.viewer != "" {
				r.Headers.Set(edge.ViewerHostHeader, tt.viewer)
			}
		})
		res := f.handle(t, ev)
		if res.Response == nil || res.Response.Status != "302" {
			t.Fatalf("viewer host %q: want the login redirect, got %+v", tt.viewer, res)
		}
		if got := suitetest.Location(t, res.Response).Query().Get("redirect_uri"); got != tt.want {
			t.Errorf("viewer host %q: redirect_uri %q, want %q", tt.viewer, got, tt.want)
		}
	}
}

// The config's page branding reaches the function's pages.
func TestBrandedForbiddenPage(t *testing.T) {
	f := newFixture(t, func(m map[string]any) {
		m["pages"] = map[string]any{"siteName": "Example Docs", "supportUrl": "https://help.example.com/"}
	})
	res := f.handle(t, suitetest.Request(t, "/admin/", "Cookie", suitetest.CookieHeader(f.sessionCookie(t, []string{"staff"}, suitetest.Now.Add(time.Hour), true))))
	if res.Response == nil || res.Response.Status != "403" {
		t.Fatalf("want the 403 page, got %+v", res)
	}
	for _, want := range []string{"<title>Access denied · Example Docs</title>", `<a href="https://help.example.com/">Contact support</a>`} {
		if !strings.Contains(res.Response.Body, want) {
			t.Errorf("403 page lacks %q", want)
		}
	}
}

// A script on a configured origin can read the 401 and 403 answers; other
// origins get no CORS headers, so the browser keeps hiding them.
func TestChallengeCORS(t *testing.T) {
	f := newFixture(t, func(m map[string]any) { m["corsOrigins"] = []any{"https://app.example.com"} })
	staff := f.accessToken(t, []string{"staff"}, suitetest.Now.Add(time.Hour))
	for _, tt := range []struct {
		name, uri, origin string
		headers           []string
		wantStatus        string
		wantCORS          bool
	}{
		{"401 to an allowed origin", "/docs/a", "https://app.example.com", []string{"Accept", "application/json"}, "401", true},
		{"403 to an allowed origin", "/admin/x", "https://app.example.com", []string{"Authorization", "Bearer " + staff}, "403", true},
		{"bad token to an allowed origin", "/docs/a", "https://app.example.com", []string{"Authorization", "Bearer x.y.z"}, "401", true},
		{"another origin", "/docs/a", "https://evil.example", []string{"Accept", "application/json"}, "401", false},
		{"an origin differing in case", "/docs/a", "https://APP.example.com", []string{"Accept", "application/json"}, "401", false},
		{"no origin", "/docs/a", "", []string{"Accept", "application/json"}, "401", false},
	} {
		headers := tt.headers
		if tt.origin != "" {
			headers = append(headers, "Origin", tt.origin)
		}
		res := f.handle(t, suitetest.Request(t, tt.uri, headers...))
		if res.Response == nil || res.Response.Status != tt.wantStatus {
			t.Fatalf("%s: %+v, want %s", tt.name, res.Response, tt.wantStatus)
		}
		h := res.Response.Headers
		got := h.Get("access-control-allow-origin") != ""
		if got != tt.wantCORS {
			t.Errorf("%s: CORS headers %v, want %v", tt.name, got, tt.wantCORS)
		}
		if got && (h.Get("access-control-allow-origin") != tt.origin || h.Get("access-control-allow-credentials") != "true" ||
			h.Get("access-control-expose-headers") != "WWW-Authenticate" || !strings.Contains(strings.Join(h.Values("vary"), ","), "Origin")) {
			t.Errorf("%s: CORS headers %v", tt.name, h)
		}
	}
}
