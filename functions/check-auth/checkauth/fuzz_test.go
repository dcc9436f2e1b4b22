package checkauth_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// FuzzHandle drives the whole handler with hostile URIs, query strings,
// cookies and headers, and checks what must hold for every request: exactly
// one answer and never an error; a well-formed, uncacheable response within
// CloudFront's limits; redirects only to a same-origin path or the IdP; no
// credential echoed into a page; the suite's credentials never forwarded; and
// a request without the seeded valid credentials passes only on a public
// path, and nothing passes /admin (no seeded credential is an admin). The
// oracle is written independently of authz: the percent-decoded path lies
// under /public (the example config's only public rule) or /admin.
func FuzzHandle(f *testing.F) {
	fx := newFixture(f, nil)
	later := suitetest.Now.Add(time.Hour)
	goodSession := fx.sessionCookie(f, []string{"staff"}, later, true).Value
	goodToken := fx.accessToken(f, []string{"staff"}, later)
	expired := suitetest.CookieHeader(fx.sessionCookie(f, nil, suitetest.Now.Add(-time.Minute), true))

	f.Add("/docs/a", "b=1", "", "", "text/html", "navigate")
	f.Add("/public/logo.png", "", "", "", "image/*", "no-cors")
	f.Add("/public/%2e%2e/admin/x", "", "", "", "", "")
	f.Add("/public/..%2fadmin", "", "", "", "", "")
	f.Add("/public+/x", "", "", "", "", "")
	f.Add("/admin/;/public/x", "", "", "", "", "")
	f.Add("public", "", "", "", "", "")
	f.Add("/docs", "x=%ZZ&&==", "edgeauth-session="+goodSession, "", "", "")
	f.Add("/admin/", "", "edgeauth-session="+goodSession+"; theme=dark", "", "", "")
	f.Add("/docs/a", "", expired, "", "*/*", "cors")
	f.Add("/docs/a", "", "", "Bearer "+goodToken, "application/json", "")
	f.Add("/api/x", "", "", "Bearer "+goodToken, "", "")
	f.Add("/docs/a", "", "", "Basic dXNlcjpwYXNz", "", "")
	f.Add("/docs/a", "", "", "Bearer a.b.c", "", "")
	f.Add("/docs/\x00\r\n", "\r\n", "edgeauth-session=\x00", "Bearer \n", "", "")
	f.Add("/users/"+sub+"/x", "", "edgeauth-session="+goodSession, "", "", "")

	f.Fuzz(func(t *testing.T, uri, query, cookie, authorization, accept, fetchMode string) {
		fx.logs.Reset()
		ev := suitetest.Request(t, "/")
		req, _, _ := ev.Request()
		req.URI, req.QueryString = uri, query
		for name, v := range map[string]string{"Cookie": cookie, "Authorization": authorization, "Accept": accept, "Sec-Fetch-Mode": fetchMode} {
			req.Headers.Del(name)
			if v != "" {
				req.Headers.Set(name, v)
			}
		}
		res, err := fx.h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("Handle error: %v", err)
		}
		if (res.Request == nil) == (res.Response == nil) {
			t.Fatalf("result must hold exactly one of request and response: %+v", res)
		}
		// securecookie stamps the real time into a cookie, so a session
		// seeded by an earlier run differs from goodSession and is judged by
		// the session store itself.
		credentialed := strings.Contains(authorization, goodToken) || validSession(t, fx, cookie)
		if r := res.Request; r != nil {
			if _, ok := r.Headers["authorization"]; ok {
				t.Error("Authorization forwarded to the origin")
			}
			for _, c := range edge.ParseCookieHeader(strings.Join(r.Headers.Values("cookie"), "; ")) {
				if strings.HasPrefix(c.Name, "edgeauth-") {
					t.Errorf("suite cookie %s forwarded to the origin", c.Name)
				}
			}
			if !credentialed && !under(uri, "/public") {
				t.Errorf("%q passed without a credential", uri)
			}
			if under(uri, "/admin") {
				t.Errorf("%q passed, but no seeded credential is in the admins group", uri)
			}
			return
		}
		r := res.Response
		suitetest.CheckGenerated(t, r)
		if loc := r.Headers.Get("location"); loc != "" && !strings.HasPrefix(loc, fx.cfg.Endpoints.Authorize+"?") {
			if !suitetest.SameOriginPath(loc) {
				t.Errorf("Location %q is neither the IdP nor a same-origin path", loc)
			}
		}
		for _, secret := range []string{goodSession, goodToken} {
			if strings.Contains(r.Body, secret) || strings.Contains(fx.logs.String(), secret) {
				t.Error("a credential was echoed into the page or the logs")
			}
		}
	})
}

func validSession(t *testing.T, fx *fixture, cookie string) bool {
	ev := suitetest.Request(t, "/")
	req, _, _ := ev.Request()
	req.Headers.Set("Cookie", cookie)
	_, err := fx.sessions.Session(req.Cookies())
	return err == nil
}

// under reports whether uri, percent-decoded, is dir or below it.
func under(uri, dir string) bool {
	p, err := url.PathUnescape(uri)
	if err != nil {
		return false
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
