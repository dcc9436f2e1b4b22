package signout_test

import (
	"bytes"
	"context"
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
			<-r.Context().Done()
			return
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
	if q := loc.Query(); q.Get("client_id") != f.cfg.ClientID || q.Get("logout_uri") != "https://www.example.com/" {
		t.Errorf("logout query = %v", q)
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
				t.Error("revocation failure not logged")
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

func TestAlreadySignedOut(t *testing.T) {
	f := newFixture(t, "cognito.json", cognitoAt)
	r := f.handle(t, suitetest.Request(t, "/signout", "Cookie", "theme=dark"))
	if r.Status != "302" || r.Headers.Get("location") != "/" {
		t.Errorf("status %s location %q, want 302 to /", r.Status, r.Headers.Get("location"))
	}
	if len(f.srv.tokens) != 0 {
		t.Error("revocation called without a refresh token")
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
	if got := suitetest.Location(t, r).Query().Get("logout_uri"); got != "https://shop.example.com/" {
		t.Errorf("logout_uri = %q, want the viewer's host", got)
	}
}
