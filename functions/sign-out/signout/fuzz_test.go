package signout_test

import (
	"context"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// FuzzHandle signs out with hostile query strings, cookies and the headers
// the cross-site decision reads, the seeds holding a real signed-in
// browser. Whatever arrives, sign-out answers with an uncacheable,
// well-formed response: a 302 to Cognito's /logout or the after-sign-out
// path, or a 200 page (signed out, or asking to confirm); it sets only
// expiring cookies; a request the browser marks cross-site changes nothing
// (no cookie, no revocation, no Clear-Site-Data); and no cookie value is
// echoed into the page or the logs.
func FuzzHandle(f *testing.F) {
	fx := newFixture(f, "cognito.json", cognitoAt)
	cookie, _ := fx.signedIn(f)
	seeded := edge.ParseCookieHeader(cookie)
	logout := fx.cfg.Endpoints.Logout + "?"

	f.Add("", cookie, "", "", "")
	f.Add("", "", "", "", "")
	f.Add("next=%2F%2Fevil.example", cookie+"; "+cookie, "", "", "")
	f.Add("a=%ZZ", "edgeauth-refresh=\x00; edgeauth-session=%%%", "", "", "")
	f.Add("", "edgeauth-session="+seeded[0].Value, "", "", "")
	f.Add("", cookie, "cross-site", "", "")
	f.Add("", cookie, "same-origin", "https://evil.example", "")
	f.Add("", cookie, "", "null", "")
	f.Add("", cookie, "", "", "https://evil.example/page")
	f.Add("", cookie, "", "https://www.example.com", "https://www.example.com/docs/")
	f.Add("", cookie, "bogus", "", "http://www.example.com/")
	f.Fuzz(func(t *testing.T, query, cookie, fetchSite, origin, referer string) {
		fx.logs.Reset()
		fx.srv.mu.Lock()
		revoked := len(fx.srv.tokens)
		fx.srv.mu.Unlock()
		ev := suitetest.Request(t, fx.cfg.Paths.SignOut)
		req, _, _ := ev.Request()
		req.QueryString = query
		for name, v := range map[string]string{"Cookie": cookie, "Sec-Fetch-Site": fetchSite, "Origin": origin, "Referer": referer} {
			req.Headers.Del(name)
			if v != "" {
				req.Headers.Set(name, v)
			}
		}
		res, err := fx.h.Handle(context.Background(), ev)
		if err != nil || res.Response == nil || res.Request != nil {
			t.Fatalf("Handle = %+v, %v; want a response and no error", res, err)
		}
		r := res.Response
		suitetest.CheckGenerated(t, r)
		loc := r.Headers.Get("location")
		switch r.Status {
		case "302":
			if loc != fx.cfg.Paths.AfterSignOut && !strings.HasPrefix(loc, logout) {
				t.Errorf("302 to %q, want %s or %s", loc, fx.cfg.Paths.AfterSignOut, logout)
			}
		case "200":
			if !strings.Contains(r.Body, "You are signed out of") && !strings.Contains(r.Body, "Nothing has changed yet") {
				t.Errorf("200 without the signed-out or confirmation page: %.300s", r.Body)
			}
		default:
			t.Errorf("answer %s, want a 302 or a page", r.Status)
		}
		for _, c := range suitetest.SetCookies(t, r) {
			if suitetest.Live(c) {
				t.Errorf("sign-out set a live cookie %s", c.Name)
			}
		}
		if fetchSite == "cross-site" {
			fx.srv.mu.Lock()
			n := len(fx.srv.tokens)
			fx.srv.mu.Unlock()
			if len(r.Headers.Values("set-cookie")) > 0 || r.Headers.Get("clear-site-data") != "" || n != revoked || strings.HasPrefix(loc, logout) {
				t.Errorf("a cross-site request changed something: cookies %q, Clear-Site-Data %q, revocations %d→%d, location %q",
					r.Headers.Values("set-cookie"), r.Headers.Get("clear-site-data"), revoked, n, loc)
			}
		}
		for _, c := range seeded {
			if strings.Contains(r.Body, c.Value) || strings.Contains(fx.logs.String(), c.Value) {
				t.Error("a cookie value was echoed into the page or the logs")
			}
		}
	})
}
