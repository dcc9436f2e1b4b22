package signout_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// revokeServer is a real revocation endpoint (TLS, as Cognito's domain is
// always https) that records what it was sent.
type revokeServer struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
	status int
	block  bool
}

func newRevokeServer(t testing.TB) *revokeServer {
	s := &revokeServer{status: 200}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/revoke" && r.URL.Path != "/revoke" {
			http.NotFound(w, r)
			return
		}
		_ = r.ParseForm()
		s.mu.Lock()
		s.tokens = append(s.tokens, r.PostForm.Get("token"))
		status, block := s.status, s.block
		s.mu.Unlock()
		if block {
			// Hang until the client gives up, then drop the connection
			// without an answer: returning would send an implicit 200,
			// which a client that has not yet noticed its own timeout may
			// still read as "revoked".
			<-r.Context().Done()
			panic(http.ErrAbortHandler)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s
}

type fixture struct {
	cfg      *config.Config
	h        *signout.Handler
	sessions *session.Store
	srv      *revokeServer
	logs     *bytes.Buffer
}

func newFixture(t testing.TB, name string, edit func(m map[string]any, srvHost string)) *fixture {
	t.Helper()
	srv := newRevokeServer(t)
	host := strings.TrimPrefix(srv.URL, "https://")
	cfg := suitetest.Config(t, name, func(m map[string]any) {
		if edit != nil {
			edit(m, host)
		}
	})
	client := srv.Client()
	client.Timeout = 500 * time.Millisecond
	logs := &bytes.Buffer{}
	h, err := signout.New(lambdafn.Deps{Config: cfg, Now: suitetest.Clock, HTTPClient: client, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s := suitetest.Sessions(t, cfg, suitetest.Clock)
	return &fixture{cfg: cfg, h: h, sessions: s, srv: srv, logs: logs}
}

func cognitoAt(m map[string]any, host string) {
	m["cognito"].(map[string]any)["domain"] = host
}

// signedIn returns the Cookie header of a signed-in browser with a refresh
// token and one pending login attempt.
func (f *fixture) signedIn(t testing.TB) (string, string) {
	t.Helper()
	sc, err := f.sessions.EncodeSession(session.Session{Identity: verifier.Identity{Subject: "u1"}, Expiry: suitetest.Now.Add(time.Hour), HasRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := f.sessions.EncodeRefresh(session.Refresh{RefreshToken: "the-refresh-token", IDToken: "the.id.token"})
	if err != nil {
		t.Fatal(err)
	}
	req, _, _ := suitetest.Request(t, "/x").Request()
	_, lcs, err := f.sessions.NewLogin(req.Cookies(), session.LoginState{Nonce: "n", Verifier: strings.Repeat("v", 43), ReturnTo: "/", Created: suitetest.Now})
	if err != nil {
		t.Fatal(err)
	}
	return suitetest.CookieHeader(sc, rcs[0], lcs[0]), lcs[0].Name
}

func (f *fixture) handle(t *testing.T, ev edge.Event) *edge.Response {
	t.Helper()
	res, err := f.h.Handle(context.Background(), ev)
	if err != nil || res.Response == nil {
		t.Fatalf("Handle = %+v, %v; want a response", res, err)
	}
	if !strings.Contains(res.Response.Headers.Get("cache-control"), "no-store") {
		t.Error("response without no-store")
	}
	return res.Response
}

// expired checks that every suite cookie is expired with the attributes it
// was set with.
func expired(t *testing.T, r *edge.Response, cfg *config.Config, loginName string) {
	t.Helper()
	want := map[string]bool{
		cfg.Cookies.Prefix + "-session|/":                        false,
		cfg.Cookies.Prefix + "-refresh|" + cfg.Paths.RefreshAuth: false,
		cfg.Cookies.Prefix + "-refresh|" + cfg.Paths.SignOut:     false,
		loginName + "|" + cfg.Paths.ParseAuth:                    false,
	}
	for _, c := range suitetest.SetCookies(t, r) {
		key := c.Name + "|" + c.Path
		if _, ok := want[key]; !ok {
			continue
		}
		if c.MaxAge >= 0 || c.Domain != cfg.Cookies.Domain || !c.HttpOnly || c.Secure != cfg.Secure() {
			t.Errorf("cookie %s not expired with its attributes: %+v", key, c)
		}
		want[key] = true
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("cookie %s was not expired", k)
		}
	}
}

func TestSignOutCognito(t *testing.T) {
	f := newFixture(t, "cognito.json", cognitoAt)
	cookie, login := f.signedIn(t)
	r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie))
	loc := suitetest.Location(t, r)
	if r.Status != "302" || loc.Host != strings.TrimPrefix(f.srv.URL, "https://") || loc.Path != "/logout" {
		t.Fatalf("status %s location %s, want Cognito's /logout", r.Status, loc)
	}
	// Cognito's logout comes back to the signed-out page, which sign-out
	// serves at its own path (the default since issue 9; it was "/",
	// which is protected and so ended on the IdP's login form).
	if q := loc.Query(); q.Get("client_id") != f.cfg.ClientID || q.Get("logout_uri") != "https://www.example.com/signout" {
		t.Errorf("logout query = %v", q)
	}
	if r.Headers.Get("Clear-Site-Data") != `"cache"` {
		t.Errorf("Clear-Site-Data = %q, want \"cache\"", r.Headers.Get("Clear-Site-Data"))
	}
	if len(f.srv.tokens) != 1 || f.srv.tokens[0] != "the-refresh-token" {
		t.Errorf("revoked tokens = %q, want the refresh token once", f.srv.tokens)
	}
	expired(t, r, f.cfg, login)
	if strings.Contains(f.logs.String(), "the-refresh-token") {
		t.Error("refresh token in the logs")
	}
}

func TestSignOutRevocationFailureDoesNotBlock(t *testing.T) {
	for name, set := range map[string]func(*revokeServer){
		"503":     func(s *revokeServer) { s.status = 503 },
		"timeout": func(s *revokeServer) { s.block = true },
		"refused": func(s *revokeServer) { s.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, "cognito.json", cognitoAt)
			cookie, login := f.signedIn(t)
			set(f.srv)
			r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie))
			if r.Status != "302" || suitetest.Location(t, r).Path != "/logout" {
				t.Fatalf("status %s location %q", r.Status, r.Headers.Get("location"))
			}
			expired(t, r, f.cfg, login)
			if !strings.Contains(f.logs.String(), "revoke refresh token failed") {
				t.Errorf("revocation failure not logged: %s", f.logs)
			}
		})
	}
}

func TestSignOutOIDC(t *testing.T) {
	f := newFixture(t, "oidc.json", func(m map[string]any, host string) {
		o := m["oidc"].(map[string]any)
		o["revocationEndpoint"] = "https://" + host + "/revoke"
		m["hosts"] = []any{"www.example.org"}
	})
	cookie, login := f.signedIn(t)
	r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie, "Host", "www.example.org"))
	loc := suitetest.Location(t, r)
	q := loc.Query()
	if loc.String()[:len("https://login.example.org/logout")] != "https://login.example.org/logout" ||
		q.Get("post_logout_redirect_uri") != "https://www.example.org/signed-out.html" || q.Get("id_token_hint") != "the.id.token" {
		t.Errorf("location = %s", loc)
	}
	expired(t, r, f.cfg, login)
}

func TestSignOutWithoutEndSession(t *testing.T) {
	f := newFixture(t, "oidc.json", func(m map[string]any, host string) {
		o := m["oidc"].(map[string]any)
		delete(o, "endSessionEndpoint")
		delete(o, "revocationEndpoint")
	})
	cookie, _ := f.signedIn(t)
	r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie))
	if r.Headers.Get("location") != "/signed-out.html" {
		t.Errorf("location = %q, want the after-sign-out path", r.Headers.Get("location"))
	}
	if !strings.Contains(f.logs.String(), "no revocation endpoint") {
		t.Error("skipped revocation not logged")
	}
}

// Without credentials, sign-out serves the signed-out page (the default
// afterSignOut is its own path), or sends the browser to the configured
// afterSignOut elsewhere.
func TestAlreadySignedOut(t *testing.T) {
	f := newFixture(t, "cognito.json", cognitoAt)
	r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", "theme=dark"))
	if r.Status != "200" || !strings.Contains(r.Body, "You are signed out of www.example.com.") || !strings.Contains(r.Body, `href="/">Sign in again<`) {
		t.Errorf("status %s body %.2000s, want the signed-out page", r.Status, r.Body)
	}
	if len(f.srv.tokens) != 0 {
		t.Error("revocation called without a refresh token")
	}
	f = newFixture(t, "cognito.json", func(m map[string]any, host string) {
		cognitoAt(m, host)
		m["paths"].(map[string]any)["afterSignOut"] = "/"
	})
	r = f.handle(t, suitetest.Request(t, "/signout", "Cookie", "theme=dark"))
	if r.Status != "302" || r.Headers.Get("location") != "/" {
		t.Errorf("status %s location %q, want 302 to /", r.Status, r.Headers.Get("location"))
	}
}

func TestSignedOutPage(t *testing.T) {
	f := newFixture(t, "cognito.json", func(m map[string]any, host string) {
		cognitoAt(m, host)
		m["paths"].(map[string]any)["afterSignOut"] = "/signout/done"
	})
	r := f.handle(t, suitetest.Request(t, "/signout/done"))
	if r.Status != "200" || !strings.Contains(r.Body, "signed out") {
		t.Errorf("status %s body %.200s, want the signed-out page", r.Status, r.Body)
	}
	cookie, _ := f.signedIn(t)
	r = f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie))
	if q := suitetest.Location(t, r).Query(); q.Get("logout_uri") != "https://www.example.com/signout/done" {
		t.Errorf("logout_uri = %q", q.Get("logout_uri"))
	}
}

// A real browser sends /signout no login cookie (they live at /parseauth);
// the attempts index names the pending ones, and sign-out expires them too.
func TestSignOutExpiresPendingLogins(t *testing.T) {
	f := newFixture(t, "cognito.json", cognitoAt)
	req, _, _ := suitetest.Request(t, "/docs/").Request()
	id, cs, err := f.sessions.NewLogin(req.Cookies(), session.LoginState{Nonce: "n", Verifier: strings.Repeat("v", 43), ReturnTo: "/"})
	if err != nil || len(cs) != 2 {
		t.Fatalf("NewLogin: %v (%d cookies)", err, len(cs))
	}
	r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", suitetest.CookieHeader(cs[1])))
	got := map[string]bool{}
	for _, c := range suitetest.SetCookies(t, r) {
		if c.MaxAge < 0 {
			got[c.Name+" "+c.Path] = true
		}
	}
	for _, want := range []string{f.sessions.LoginName(id) + " " + f.cfg.Paths.ParseAuth, "edgeauth-attempts /"} {
		if !got[want] {
			t.Errorf("sign-out did not expire %s: %v", want, r.Headers.Values("set-cookie"))
		}
	}
}

// Cognito's logout_uri goes back to the host the viewer used, as the
// template's header reports it at origin-request.
func TestSignOutViewerHostAtOriginRequest(t *testing.T) {
	f := newFixture(t, "cognito.json", func(m map[string]any, host string) {
		cognitoAt(m, host)
		m["hosts"] = []any{"www.example.com", "shop.example.com"}
	})
	cookie, _ := f.signedIn(t)
	ev := suitetest.Event(t, "origin-request-s3.json", func(r *edge.Request) {
		r.URI, r.QueryString = "/signout", ""
		r.Headers.Set("Cookie", cookie)
		r.Headers.Set(edge.ViewerHostHeader, "shop.example.com")
	})
	r := f.handle(t, ev)
	if got := suitetest.Location(t, r).Query().Get("logout_uri"); got != "https://shop.example.com/signout" {
		t.Errorf("logout_uri = %q, want the viewer's host", got)
	}
}

// Every answer that signs out tells the browser to drop its cache of the
// site, so a private page cannot be read back from it after sign-out.
func TestSignOutClearsTheCache(t *testing.T) {
	for name, edit := range map[string]func(m map[string]any, host string){
		"cognito logout": cognitoAt,
		"after sign-out is /": func(m map[string]any, host string) {
			cognitoAt(m, host)
			m["paths"].(map[string]any)["afterSignOut"] = "/"
		},
		"already signed out":    cognitoAt,
		"no end-session (oidc)": nil,
	} {
		t.Run(name, func(t *testing.T) {
			cfg := "cognito.json"
			if edit == nil {
				cfg = "oidc.json"
				edit = func(m map[string]any, host string) {
					o := m["oidc"].(map[string]any)
					delete(o, "endSessionEndpoint")
					o["revocationEndpoint"] = "https://" + host + "/revoke"
					delete(m["paths"].(map[string]any), "afterSignOut")
				}
			}
			f := newFixture(t, cfg, edit)
			cookie, _ := f.signedIn(t)
			if name == "already signed out" {
				cookie = "theme=dark"
			}
			r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie))
			if got := r.Headers.Get("Clear-Site-Data"); got != `"cache"` {
				t.Errorf("status %s: Clear-Site-Data = %q, want \"cache\"", r.Status, got)
			}
		})
	}
}

// Sign-out ends on the signed-out page by default. Without an IdP logout
// (Dex) sign-out answers with the page at once; with one (Cognito, an
// end_session_endpoint) the IdP comes back to the sign-out path, where a
// browser without credentials gets the page: no session needed, no loop.
func TestSignedOutPageByDefault(t *testing.T) {
	f := newFixture(t, "oidc.json", func(m map[string]any, host string) {
		o := m["oidc"].(map[string]any)
		delete(o, "endSessionEndpoint")
		o["revocationEndpoint"] = "https://" + host + "/revoke"
		delete(m["paths"].(map[string]any), "afterSignOut")
		m["pages"] = map[string]any{"siteName": "Example <Docs>"}
	})
	cookie, login := f.signedIn(t)
	r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie))
	if r.Status != "200" || !strings.Contains(r.Body, "You are signed out of Example &lt;Docs&gt;.") || !strings.Contains(r.Body, `href="/">Sign in again<`) {
		t.Fatalf("status %s, body %.3000s; want the signed-out page at once", r.Status, r.Body)
	}
	expired(t, r, f.cfg, login)
	if len(f.srv.tokens) != 1 {
		t.Errorf("revocations = %d, want 1", len(f.srv.tokens))
	}

	c := newFixture(t, "cognito.json", cognitoAt)
	cookie, _ = c.signedIn(t)
	r = c.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie))
	back := suitetest.Location(t, r).Query().Get("logout_uri")
	if back != "https://www.example.com/signout" {
		t.Fatalf("logout_uri = %q, want the sign-out path", back)
	}
	// The IdP's redirect back is cross-site, and the cookies are gone.
	for _, site := range []string{"cross-site", ""} {
		r = c.handle(t, suitetest.Request(t, "/signout", "Sec-Fetch-Site", site))
		if r.Status != "200" || !strings.Contains(r.Body, "You are signed out of www.example.com.") {
			t.Errorf("back from the IdP (%q): status %s location %q, want the signed-out page", site, r.Status, r.Headers.Get("location"))
		}
	}
}

// A request another site started does not sign out: it gets a page that
// asks, whose button is a link to the sign-out path. The browser's
// Sec-Fetch-Site decides; without it, an Origin or Referer of another
// origin does; with none, it is a direct navigation and signs out.
func TestCrossSiteSignOutAsksFirst(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		confirm bool
	}{
		{"cross-site fetch metadata", []string{"Sec-Fetch-Site", "cross-site"}, true},
		{"cross-site even with our referer", []string{"Sec-Fetch-Site", "cross-site", "Referer", "https://www.example.com/docs/"}, true},
		{"same-origin", []string{"Sec-Fetch-Site", "same-origin"}, false},
		{"same-origin wins over a foreign referer", []string{"Sec-Fetch-Site", "same-origin", "Referer", "https://evil.example/"}, false},
		{"same-site", []string{"Sec-Fetch-Site", "same-site"}, false},
		{"typed or bookmarked", []string{"Sec-Fetch-Site", "none"}, false},
		{"no signal at all", nil, false},
		{"foreign origin", []string{"Origin", "https://evil.example"}, true},
		{"opaque origin", []string{"Origin", "null"}, true},
		{"our origin", []string{"Origin", "https://www.example.com"}, false},
		{"foreign referer", []string{"Referer", "https://evil.example/page?x"}, true},
		{"our referer", []string{"Referer", "https://www.example.com/docs/"}, false},
		{"our host over http", []string{"Referer", "http://www.example.com/"}, true},
		{"a sibling host without fetch metadata", []string{"Referer", "https://app.example.com/"}, true},
		{"unknown fetch metadata falls back to the referer", []string{"Sec-Fetch-Site", "bogus", "Referer", "https://evil.example/"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "cognito.json", cognitoAt)
			cookie, login := f.signedIn(t)
			r := f.handle(t, suitetest.Request(t, "/signout", append([]string{"Cookie", cookie}, tt.headers...)...))
			suitetest.CheckGenerated(t, r)
			if !tt.confirm {
				if r.Status != "302" || suitetest.Location(t, r).Path != "/logout" {
					t.Fatalf("status %s location %q, want signed out at once", r.Status, r.Headers.Get("location"))
				}
				expired(t, r, f.cfg, login)
				return
			}
			if r.Status != "200" || !strings.Contains(r.Body, "Sign out of www.example.com?") ||
				!strings.Contains(r.Body, `href="/signout">Sign out</a>`) || !strings.Contains(r.Body, `href="/">Stay signed in</a>`) {
				t.Fatalf("status %s body %.3000s, want the confirmation page", r.Status, r.Body)
			}
			if sc := r.Headers.Values("set-cookie"); len(sc) > 0 || r.Headers.Get("clear-site-data") != "" || len(f.srv.tokens) != 0 {
				t.Errorf("the confirmation changed something: Set-Cookie %q, Clear-Site-Data %q, %d revocations", sc, r.Headers.Get("clear-site-data"), len(f.srv.tokens))
			}
			// The button: a same-origin navigation from the page.
			r = f.handle(t, suitetest.Request(t, "/signout", "Cookie", cookie, "Sec-Fetch-Site", "same-origin"))
			if r.Status != "302" || suitetest.Location(t, r).Path != "/logout" {
				t.Fatalf("the button: status %s location %q, want signed out", r.Status, r.Headers.Get("location"))
			}
			expired(t, r, f.cfg, login)
		})
	}
}

// At CloudFront's limits, sign-out still answers within what CloudFront
// takes: a signed-in browser whose request fills the whole 20,480 bytes
// with login-named cookies gets a bounded answer, not a 502.
func TestSignOutAtHeaderLimits(t *testing.T) {
	f := newFixture(t, "cognito.json", cognitoAt)
	cookie, _ := f.signedIn(t)
	ev := suitetest.Request(t, "/signout")
	req, _, _ := ev.Request()
	var b strings.Builder
	b.WriteString(cookie)
	budget := 20480 - requestBytes(req) - len("Cookie: \r\n")
	for i := 0; b.Len() < budget-len("; edgeauth-login-AAAAAAAAAAAAAAAAAAAAAA=x"); i++ {
		fmt.Fprintf(&b, "; edgeauth-login-%s=x", base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("attempt-%08d", i))))
	}
	req.Headers.Set("Cookie", b.String())
	if n := requestBytes(req); n > 20480 {
		t.Fatalf("request is %d bytes, over CloudFront's 20,480", n)
	}
	r := f.handle(t, ev)
	suitetest.CheckGenerated(t, r)
	logins := 0
	for _, c := range suitetest.SetCookies(t, r) {
		if strings.HasPrefix(c.Name, "edgeauth-login-") {
			logins++
		}
	}
	if logins > session.DefaultMaxAttempts {
		t.Errorf("%d login cookies expired, want at most %d", logins, session.DefaultMaxAttempts)
	}
}

// requestBytes is the size of req as CloudFront counts a request: request
// line and headers.
func requestBytes(req *edge.Request) int {
	n := len(req.Method) + len(" ") + len(req.PathAndQuery()) + len(" HTTP/1.1\r\n\r\n")
	for name, hs := range req.Headers {
		for _, h := range hs {
			n += len(name) + len(": \r\n") + len(h.Value)
		}
	}
	return n
}
