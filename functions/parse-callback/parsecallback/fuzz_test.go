package parsecallback_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/session"
)

// FuzzHandle drives /parseauth and /refreshauth with hostile query strings
// and cookies, the seeds holding a real login attempt and a real refresh
// cookie, against an IdP that refuses every grant. Whatever arrives, the
// function answers (never an error, never a pass to the origin) with a
// well-formed, uncacheable response; redirects stay on the same origin; no
// live session or refresh cookie is ever set, since nothing was granted; and
// no cookie value is echoed into the page.
func FuzzHandle(f *testing.F) {
	fx := newFixture(f)
	fx.idp.answer = func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
	}
	state, lc := fx.login(f, session.LoginState{Nonce: "n-1", Verifier: strings.Repeat("v", 43), ReturnTo: "/docs?a=1", Created: fx.now})
	login := suitetest.CookieHeader(lc)
	refresh := fx.refreshCookies(f, true)
	ret, err := fx.sessions.SignReturn("/docs?a=1")
	if err != nil {
		f.Fatal(err)
	}

	prefix := fx.cfg.Cookies.Prefix
	seeded := edge.ParseCookieHeader(login + "; " + refresh)
	if len(seeded) != 3 {
		f.Fatalf("seeded cookies: %d, want login, session and refresh", len(seeded))
	}

	f.Add(false, "code=c&state="+state, login)
	f.Add(false, "code=c&state="+state+"&state="+state, login)
	f.Add(false, "error=access_denied&error_description=%3Cscript%3E&state="+state, login)
	f.Add(false, "code=c&state=AAAA", "")
	f.Add(false, "code=%ZZ&state=%00", login+"; "+login)
	f.Add(true, "return="+url.QueryEscape(ret), refresh)
	f.Add(true, "return=%2F%2Fevil.example", refresh)
	f.Add(true, "", "")
	f.Add(true, "return="+url.QueryEscape(ret)+"&return=x", "auth-refresh=\x00; auth-session=\r\n")

	f.Fuzz(func(t *testing.T, refreshPath bool, query, cookie string) {
		fx.logs.Reset()
		uri := fx.cfg.Paths.ParseAuth
		if refreshPath {
			uri = fx.cfg.Paths.RefreshAuth
		}
		ev := suitetest.Request(t, uri)
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
		if loc := r.Headers.Get("location"); loc != "" && !suitetest.SameOriginPath(loc) {
			t.Errorf("Location %q is not a same-origin path", loc)
		}
		for _, c := range suitetest.SetCookies(t, r) {
			if suitetest.Live(c) && (c.Name == prefix+"-session" || c.Name == prefix+"-refresh") {
				t.Errorf("the IdP granted nothing, yet %s was set", c.Name)
			}
		}
		for _, c := range seeded {
			if strings.Contains(r.Body, c.Value) || strings.Contains(fx.logs.String(), c.Value) {
				t.Error("a cookie value was echoed into the page or the logs")
			}
		}
	})
}
