package signout_test

import (
	"context"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// FuzzHandle signs out with hostile query strings and cookies, the seeds
// holding a real signed-in browser. Whatever arrives, sign-out answers with
// an uncacheable redirect to Cognito's /logout or the after-sign-out path,
// sets only expiring cookies, and echoes no cookie value into the page or
// the logs.
func FuzzHandle(f *testing.F) {
	fx := newFixture(f, "cognito.json", cognitoAt)
	cookie, _ := fx.signedIn(f)
	seeded := edge.ParseCookieHeader(cookie)
	logout := fx.cfg.Endpoints.Logout + "?"

	f.Add("", cookie)
	f.Add("", "")
	f.Add("next=%2F%2Fevil.example", cookie+"; "+cookie)
	f.Add("a=%ZZ", "edgeauth-refresh=\x00; edgeauth-session=%%%")
	f.Add("", "edgeauth-session="+seeded[0].Value)
	f.Fuzz(func(t *testing.T, query, cookie string) {
		fx.logs.Reset()
		ev := suitetest.Request(t, fx.cfg.Paths.SignOut)
		req, _, _ := ev.Request()
		req.QueryString = query
		req.Headers.Del("Cookie")
		if cookie != "" {
			req.Headers.Set("Cookie", cookie)
		}
		res, err := fx.h.Handle(context.Background(), ev)
		if err != nil || res.Response == nil || res.Request != nil {
			t.Fatalf("Handle = %+v, %v; want a response and no error", res, err)
		}
		r := res.Response
		suitetest.CheckGenerated(t, r)
		loc := r.Headers.Get("location")
		if r.Status != "302" || (loc != fx.cfg.Paths.AfterSignOut && !strings.HasPrefix(loc, logout)) {
			t.Errorf("answer %s to %q, want a 302 to %s or %s", r.Status, loc, fx.cfg.Paths.AfterSignOut, logout)
		}
		for _, c := range suitetest.SetCookies(t, r) {
			if suitetest.Live(c) {
				t.Errorf("sign-out set a live cookie %s", c.Name)
			}
		}
		for _, c := range seeded {
			if strings.Contains(r.Body, c.Value) || strings.Contains(fx.logs.String(), c.Value) {
				t.Error("a cookie value was echoed into the page or the logs")
			}
		}
	})
}
