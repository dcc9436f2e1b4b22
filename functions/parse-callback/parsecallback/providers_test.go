package parsecallback_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/session"
)

const api = "https://api.example.org"

// atJWT signs an RFC 9068 access token (typ at+jwt), as oidc-provider
// issues them for a resource.
func (f *fixture) atJWT(t testing.TB, subject string, aud any, kv ...any) string {
	c := map[string]any{"iss": issuer, "sub": subject, "client_id": clientID, "scope": "api:read", "jti": "j",
		"iat": f.now.Add(-time.Minute).Unix(), "exp": f.now.Add(time.Hour).Unix()}
	if aud != nil {
		c["aud"] = aud
	}
	for i := 0; i < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return f.mint.SignHeader(t, map[string]any{"alg": "RS256", "kid": testtoken.KeyID1, "typ": "at+jwt"}, c)
}

// signIn runs one callback with the token endpoint answering m, and
// returns the answer and the session it set (zero when none).
func (f *fixture) signIn(t *testing.T, answer map[string]any) (*session.Session, string) {
	t.Helper()
	state, lc := f.login(t, session.LoginState{Nonce: "n-1", Verifier: strings.Repeat("v", 43), ReturnTo: "/docs/", Created: f.now})
	f.idp.answer = func(w http.ResponseWriter, _ url.Values) { tokens(w, answer) }
	f.logs.Reset()
	r := f.handle(t, suitetest.Request(t, "/parseauth?code=c&state="+state, "Cookie", suitetest.CookieHeader(lc, f.index)))
	if r.Status != "302" {
		return nil, r.Status
	}
	sc := cookieNamed(suitetest.SetCookies(t, r), "auth-session", "/")
	req, _, _ := suitetest.Request(t, "/docs", "Cookie", suitetest.CookieHeader(sc)).Request()
	sess, err := f.sessions.Session(req.Cookies())
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	return &sess, r.Status
}

// TestLoginWithAnAPIAccessToken: the ID token proves the login; an access
// token addressed to an API, or to nobody (aud: []), does not end it.
func TestLoginWithAnAPIAccessToken(t *testing.T) {
	f := newFixture(t)
	for name, at := range map[string]string{
		"aud the API's URL (oidc-provider)": f.atJWT(t, sub, api),
		"aud [] (Hydra)":                    f.atJWT(t, sub, []any{}),
		"untyped (Okta)":                    f.mint.Sign(t, map[string]any{"iss": issuer, "sub": sub, "aud": "api://default", "exp": f.now.Add(time.Hour).Unix()}),
		"signed by a key not pinned":        f.mint.SignWith(t, "rotated-key", "RS256", map[string]any{"iss": issuer, "sub": sub, "exp": f.now.Add(time.Hour).Unix()}),
	} {
		t.Run(name, func(t *testing.T) {
			sess, status := f.signIn(t, map[string]any{"id_token": f.idToken(t, "n-1", []string{"staff"}), "access_token": at, "refresh_token": "r"})
			if sess == nil || !slices.Equal(sess.Identity.Groups, []string{"staff"}) || len(sess.Identity.Scopes) != 0 {
				t.Fatalf("sign-in = %s, session %+v; want a session from the ID token alone", status, sess)
			}
			if line := suitetest.LogLines(t, f.logs)[0]; !strings.Contains(line["reason"].(string), "access token not used: ") {
				t.Errorf("log reason = %q, want it to say the access token was not used", line["reason"])
			}
		})
	}
}

// TestLoginUsesAnAccessTokenForTheAPI: with the API among the audiences,
// the access token verifies, and its scopes (and groups, when the ID token
// has none) go into the session; one for another subject ends the login.
func TestLoginUsesAnAccessTokenForTheAPI(t *testing.T) {
	f := newFixture(t, func(m map[string]any) {
		m["resource"] = api
		m["groupsClaim"] = "realm_access.roles"
	})
	roles := map[string]any{"roles": []any{"admins"}}
	sess, status := f.signIn(t, map[string]any{"id_token": f.idToken(t, "n-1", nil), "access_token": f.atJWT(t, sub, api, "realm_access", roles)})
	if sess == nil || !slices.Equal(sess.Identity.Scopes, []string{"api:read"}) || !slices.Equal(sess.Identity.Groups, []string{"admins"}) {
		t.Fatalf("sign-in = %s, session %+v; want the access token's scopes and groups", status, sess)
	}
	req := f.idp.requests[len(f.idp.requests)-1]
	if req.Get("resource") != api || req.Get("grant_type") != "authorization_code" {
		t.Errorf("code exchange form = %v, want resource=%s (RFC 8707)", req, api)
	}
	if sess, status := f.signIn(t, map[string]any{"id_token": f.idToken(t, "n-1", nil), "access_token": f.atJWT(t, "someone-else", api)}); sess != nil || status != "502" {
		t.Errorf("access token for another subject: %s, %+v; want the 502 page", status, sess)
	}
}

// userinfoEndpoint is a real userinfo endpoint answering with status and
// claims, recording the Authorization header of each call.
type userinfoEndpoint struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	claims map[string]any
	seen   []string
}

func newUserinfo(t *testing.T, claims map[string]any) *userinfoEndpoint {
	u := &userinfoEndpoint{status: 200, claims: claims}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.seen = append(u.seen, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(u.status)
		_ = json.NewEncoder(w).Encode(u.claims)
	}))
	t.Cleanup(u.Close)
	return u
}

// TestUserinfo: claims the ID token lacks (as spec-strict providers leave
// them out) come from the userinfo endpoint, for the same subject only; a
// failure is the 502 page, never a session without its groups.
func TestUserinfo(t *testing.T) {
	ui := newUserinfo(t, map[string]any{"sub": sub, "realm_access": map[string]any{"roles": []any{"staff", "admins"}}, "email": "u@example.org"})
	f := newFixture(t, func(m map[string]any) {
		m["oidc"].(map[string]any)["userinfoEndpoint"] = ui.URL + "/me"
		m["userinfo"] = true
		m["groupsClaim"] = "realm_access.roles"
	})
	bare := f.mint.Sign(t, map[string]any{"iss": issuer, "aud": clientID, "sub": sub, "nonce": "n-1", "exp": f.now.Add(time.Hour).Unix()})
	sess, status := f.signIn(t, map[string]any{"id_token": bare, "access_token": "opaque-userinfo-token"})
	if sess == nil || !slices.Equal(sess.Identity.Groups, []string{"staff", "admins"}) || sess.Identity.Email != "u@example.org" {
		t.Fatalf("sign-in = %s, session %+v; want the groups and email from userinfo", status, sess)
	}
	if len(ui.seen) != 1 || ui.seen[0] != "Bearer opaque-userinfo-token" {
		t.Errorf("userinfo calls = %q, want one with the access token", ui.seen)
	}
	// An ID token with the groups needs no call.
	if sess, _ := f.signIn(t, map[string]any{"id_token": f.mint.Sign(t, map[string]any{"iss": issuer, "aud": clientID, "sub": sub, "nonce": "n-1", "exp": f.now.Add(time.Hour).Unix(), "realm_access": map[string]any{"roles": []any{"x"}}}), "access_token": "a"}); sess == nil || len(ui.seen) != 1 {
		t.Errorf("ID token with groups: session %+v, %d userinfo calls; want no call", sess, len(ui.seen))
	}
	for name, edit := range map[string]func(){
		"another subject": func() {
			ui.claims = map[string]any{"sub": "someone-else", "realm_access": map[string]any{"roles": []any{"admins"}}}
		},
		"no subject":       func() { ui.claims = map[string]any{"realm_access": map[string]any{"roles": []any{"admins"}}} },
		"userinfo refuses": func() { ui.status = 401 },
		"userinfo down":    func() { ui.status = 503 },
	} {
		t.Run(name, func(t *testing.T) {
			ui.mu.Lock()
			ui.status, ui.claims = 200, map[string]any{"sub": sub}
			edit()
			ui.mu.Unlock()
			if sess, status := f.signIn(t, map[string]any{"id_token": bare, "access_token": "a"}); sess != nil || status != "502" {
				t.Errorf("sign-in = %s, %+v; want the 502 page and no session", status, sess)
			}
			if line := suitetest.LogLines(t, f.logs)[0]; !strings.Contains(line["reason"].(string), "userinfo") {
				t.Errorf("log reason = %q, want it to name userinfo", line["reason"])
			}
		})
	}
}

// TestRefreshSendsResource: the refresh request names the resource too,
// or oidc-provider would answer with an access token for userinfo.
func TestRefreshSendsResource(t *testing.T) {
	f := newFixture(t, func(m map[string]any) { m["resource"] = api })
	f.idp.answer = func(w http.ResponseWriter, _ url.Values) {
		tokens(w, map[string]any{"id_token": f.idToken(t, "", nil), "access_token": f.atJWT(t, sub, api), "refresh_token": "refresh-new"})
	}
	ret, err := f.sessions.SignReturn("/docs")
	if err != nil {
		t.Fatal(err)
	}
	r := f.handle(t, suitetest.Request(t, "/refreshauth?return="+url.QueryEscape(ret), "Cookie", f.refreshCookies(t, true)))
	if r.Status != "302" || r.Headers.Get("location") != "/docs" {
		t.Fatalf("refresh = %s to %q", r.Status, r.Headers.Get("location"))
	}
	if form := f.idp.requests[0]; form.Get("grant_type") != "refresh_token" || form.Get("resource") != api {
		t.Errorf("refresh form = %v, want resource=%s", form, api)
	}
}
