package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeauth/edgeauth/internal/browser"
	"github.com/edgeauth/edgeauth/internal/demo"
)

// viewerEdge is make run EDGE=viewer's edge: the template in viewer mode,
// the viewer function generated at start from the demo's config.
const viewerEdge = "testdata/demo/localedge-viewer.json"

// TestViewerMode runs the browser flows through the edge in viewer mode
// (the generated CloudFront Function at viewer-request, the cache key
// without the session cookie and with X-Edgeauth-Cache-Key, check-auth at
// origin-request) and checks what the mode promises: signed-in users share
// one cached copy, and the shared copy reaches only a request the function
// verified.
func TestViewerMode(t *testing.T) {
	e := startEdge(t, demo.InProcess, 0, viewerEdge)
	t.Run("shared cache", func(t *testing.T) { viewerShared(t, e) })
	t.Run("deep link survives login, alice reads admin", func(t *testing.T) { deepLink(t, e) })
	t.Run("bob gets 403 on admin, no loop", func(t *testing.T) { forbidden(t, e) })
	t.Run("api client with bearer token", func(t *testing.T) { bearer(t, e) })
	t.Run("sign-out", func(t *testing.T) { signOut(t, e) })
}

// edgeGet asks the edge for path with header pairs and returns the status,
// X-Cache and body (Location appended).
func edgeGet(t *testing.T, e *env, path string, header ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := apiClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Cache"), string(b) + resp.Header.Get("Location")
}

const hit = "Hit from cloudfront"

func viewerShared(t *testing.T, e *env) {
	page := "/docs/guide.html"
	// alice reads the page in her browser: the miss fills the shared entry.
	a := browser.New(t)
	login(t, a, e, page, alice())
	run(t, a, "alice reads "+page, chromedp.Navigate(e.URL+page))
	aliceCookie := cookies(t, a, e.URL)["edgeauth-session|/"]
	if aliceCookie == nil {
		t.Fatal("no session cookie for alice")
	}
	aliceC := "edgeauth-session=" + aliceCookie.Value

	// bob signs in in another browser and lands on the same page: served
	// from alice's copy, as the edge's log shows, without check-auth.
	b := browser.New(t)
	before := strings.Count(e.logs.String(), `"path":"`+page+`","behavior":"*","function":"check-auth","decision":"hit"`)
	login(t, b, e, page, bob())
	if h := heading(t, b); h == "" {
		t.Fatalf("bob's page has no heading")
	}
	if after := strings.Count(e.logs.String(), `"path":"`+page+`","behavior":"*","function":"check-auth","decision":"hit"`); after <= before {
		t.Errorf("bob's %s was not a cache hit (hits in the log %d -> %d)", page, before, after)
	}
	bobCookie := cookies(t, b, e.URL)["edgeauth-session|/"]
	if bobCookie == nil {
		t.Fatal("no session cookie for bob")
	}
	bobC := "edgeauth-session=" + bobCookie.Value

	// alice's admin page, cached for admins.
	run(t, a, "alice reads /admin/", chromedp.Navigate(e.URL+"/admin/"))
	if h := heading(t, a); !strings.Contains(strings.ToLower(h), "admin") {
		t.Fatalf("alice on /admin/: %q", h)
	}
	if code, xc, _ := edgeGet(t, e, "/admin/", "Cookie", aliceC); code != 200 || xc != hit {
		t.Fatalf("alice's /admin/ again: %d %q, want 200 from the cache", code, xc)
	}
	time.Sleep(10 * time.Millisecond)

	tampered := aliceC[:len(aliceC)-3] + flip(aliceC[len(aliceC)-3:])
	for _, s := range []struct {
		name       string
		path       string
		header     []string
		wantStatus int
		wantHit    bool
		wantBody   string
	}{
		{"bob on alice's page: shared", page, []string{"Cookie", bobC}, 200, true, ""},
		{"bob on admin: refused, never alice's copy", "/admin/", []string{"Cookie", bobC}, 403, false, "Access denied"},
		{"no session on admin: login", "/admin/", nil, 302, false, e.issuer()},
		{"no session on the page: login", page, nil, 302, false, e.issuer()},
		{"a forged shared key: login", "/admin/", []string{"X-Edgeauth-Cache-Key", "shared"}, 302, false, e.issuer()},
		{"a forged shared key beside bob's cookie", "/admin/", []string{"X-Edgeauth-Cache-Key", "shared", "Cookie", bobC}, 403, false, "Access denied"},
		{"a tampered cookie: login", "/admin/", []string{"Cookie", tampered}, 302, false, e.issuer()},
		{"a bad Bearer token beside alice's cookie: check-auth", "/admin/", []string{"Authorization", "Bearer x.y.z", "Cookie", aliceC}, 401, false, ""},
		{"alice still shares", page, []string{"Cookie", aliceC}, 200, true, ""},
	} {
		code, xc, body := edgeGet(t, e, s.path, s.header...)
		if code != s.wantStatus || (xc == hit) != s.wantHit {
			t.Errorf("%s: %d, X-Cache %q; want %d, hit %v", s.name, code, xc, s.wantStatus, s.wantHit)
		}
		if !strings.Contains(body, s.wantBody) {
			t.Errorf("%s: answer does not mention %q", s.name, s.wantBody)
		}
	}

	// A valid Bearer token reads admin through check-auth, and its copy is
	// its own: a token never reaches the shared entry.
	access, _ := dexTokens(t, e, alice())
	for i, wantHit := range []bool{false, true} {
		code, xc, _ := edgeGet(t, e, "/admin/", "Authorization", "Bearer "+access)
		if code != 200 || (xc == hit) != wantHit {
			t.Errorf("bearer request %d on /admin/: %d %q, want 200, hit %v (its own entry)", i+1, code, xc, wantHit)
		}
	}

	// Sign-out as today: the browser's session is gone, the page asks for
	// a login again.
	run(t, b, "bob signs out", chromedp.Navigate(e.URL+"/signout"))
	if h := heading(t, b); h != "You are signed out" {
		t.Fatalf("sign-out shows %q", h)
	}
	run(t, b, "bob opens the page again", chromedp.Navigate(e.URL+page))
	if loc := location(t, b); !strings.HasPrefix(loc, e.issuer()) {
		t.Errorf("after sign-out bob's browser is at %s, want the login", loc)
	}
}

// flip changes every character of s, so a MAC over it cannot verify.
func flip(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// TestViewerModeExpiry: an expired session is sent through /refreshauth
// as today, in viewer mode too.
func TestViewerModeExpiry(t *testing.T) {
	const ttl = 8 * time.Second
	refreshAfterExpiry(t, startEdge(t, demo.InProcess, ttl, viewerEdge), ttl)
}
