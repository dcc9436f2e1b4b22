package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/functions/parse-callback/parsecallback"
	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// TestCachePerCredential runs the real check-auth behind the local edge
// shaped as the template deploys it (testdata/demo/localedge-aws.json, which
// a test in deploy keeps equal to the template's cache and origin request
// policies), and checks the template's promise: a cached object is served
// only to a request carrying the very credential that passed the check, the
// suite's own answers are never cached, and a credential keeps reading what
// it cached for at most the object's TTL past its own expiry.
func TestCachePerCredential(t *testing.T) {
	cfg := suitetest.Config(t, "cognito.json", nil)
	clock := suitetest.NewFakeClock(suitetest.Now) // the edge's cache and the functions share it
	d := startDeployed(t, cfg, clock)
	checks, cookie, get := d.checks, d.cookie, d.get
	later := suitetest.Now.Add(time.Hour)
	alice, bob := cookie("alice", []string{"admins"}, later), cookie("bob", []string{"staff"}, later)
	mint := testtoken.Keys(t)
	adminToken := mint.Sign(t, testtoken.CognitoAccess(cfg.Issuer, cfg.ClientID, "carol", []string{"admins"}, later))
	staffToken := mint.Sign(t, testtoken.CognitoAccess(cfg.Issuer, cfg.ClientID, "dave", []string{"staff"}, later))

	steps := []struct {
		name       string
		wait       time.Duration
		path       string
		header     []string
		wantStatus int
		wantHit    bool
		wantChecks int64 // check-auth runs so far
		wantBody   string
	}{
		{"alice reads admin", 0, "/admin/", []string{"Cookie", alice}, 200, false, 1, "admin"},
		{"alice again: from the cache, no check", 0, "/admin/", []string{"Cookie", alice}, 200, true, 1, "admin"},
		{"alice's other cookies are not in the key", 0, "/admin/", []string{"Cookie", "theme=dark; " + alice}, 200, true, 1, "admin"},
		{"bob: his own key, refused", 0, "/admin/", []string{"Cookie", bob}, 403, false, 2, "Access denied"},
		{"bob again: the 403 is never cached", 0, "/admin/", []string{"Cookie", bob}, 403, false, 3, "Access denied"},
		{"no credential: login, not the cached page", 0, "/admin/", nil, 302, false, 4, cfg.Endpoints.Authorize},
		{"again: the redirect is never cached", 0, "/admin/", nil, 302, false, 5, cfg.Endpoints.Authorize},
		{"a tampered session: its own key, login", 0, "/admin/", []string{"Cookie", alice + "x"}, 302, false, 6, cfg.Endpoints.Authorize},
		{"an admin token reads admin", 0, "/admin/", []string{"Authorization", "Bearer " + adminToken}, 200, false, 7, "admin"},
		{"the same token: from the cache", 0, "/admin/", []string{"Authorization", "Bearer " + adminToken}, 200, true, 7, "admin"},
		{"another token: checked, refused", 0, "/admin/", []string{"Authorization", "Bearer " + staffToken}, 403, false, 8, "insufficient_scope"},
		{"another query: checked", 0, "/admin/?v=2", []string{"Cookie", alice}, 200, false, 9, "admin"},
		// alice's session expires at +1h; her cached /admin/ (stored at 0)
		// lives for the default TTL, 60 s, however long her session has.
		{"within the TTL: still cached", 59 * time.Second, "/admin/", []string{"Cookie", alice}, 200, true, 9, "admin"},
		{"past the TTL: checked again", 2 * time.Second, "/admin/", []string{"Cookie", alice}, 200, false, 10, "admin"},
		// A missing object: S3's 404 (the template grants s3:ListBucket)
		// becomes the site's 404 page, cached for the error TTL (10 s);
		// the suite's own 403 is never replaced by it, nor cached.
		{"a missing page: the 404 page", 0, "/admin/nope.html", []string{"Cookie", alice}, 404, false, 11, "Page not found"},
		{"again: the 404 page from the cache", 0, "/admin/nope.html", []string{"Cookie", alice}, 404, true, 11, "Page not found"},
		{"bob there: the suite's 403, not the 404 page", 0, "/admin/nope.html", []string{"Cookie", bob}, 403, false, 12, "Access denied"},
		{"bob again: still checked", 0, "/admin/nope.html", []string{"Cookie", bob}, 403, false, 13, "Access denied"},
	}
	for _, s := range steps {
		clock.Advance(s.wait)
		status, xcache, body := get(s.path, s.header...)
		if hit := xcache == "Hit from cloudfront"; status != s.wantStatus || hit != s.wantHit || checks.Load() != s.wantChecks {
			t.Fatalf("%s: status %d, X-Cache %q, checks %d; want %d, hit %v, %d", s.name, status, xcache, checks.Load(), s.wantStatus, s.wantHit, s.wantChecks)
		}
		if !strings.Contains(body, s.wantBody) {
			t.Errorf("%s: answer does not mention %q", s.name, s.wantBody)
		}
	}

	// The exposure past a credential's expiry is bounded by the TTL: a
	// session that expires 30 s after caching still reads the object until
	// the TTL ends, then is sent to refresh.
	erin := cookie("erin", []string{"staff"}, clock.Now().Add(30*time.Second))
	base := checks.Load()
	for _, s := range []struct {
		name       string
		wait       time.Duration
		wantStatus int
		wantHit    bool
		wantChecks int64
	}{
		{"erin reads docs", 0, 200, false, base + 1},
		{"her session expired, the object has not", 45 * time.Second, 200, true, base + 1},
		{"the object expired too: refresh", 16 * time.Second, 302, false, base + 2},
	} {
		clock.Advance(s.wait)
		status, xcache, body := get("/docs/", "Cookie", erin)
		if hit := xcache == "Hit from cloudfront"; status != s.wantStatus || hit != s.wantHit || checks.Load() != s.wantChecks {
			t.Fatalf("%s: status %d, X-Cache %q, checks %d; want %d, hit %v, %d", s.name, status, xcache, checks.Load(), s.wantStatus, s.wantHit, s.wantChecks)
		}
		if s.wantStatus == 302 && !strings.Contains(body, cfg.Paths.RefreshAuth) {
			t.Errorf("%s: redirect %q, want %s", s.name, body, cfg.Paths.RefreshAuth)
		}
	}
}

// deployed is the local edge shaped as the template deploys it
// (testdata/demo/localedge-aws.json) in front of the real functions.
type deployed struct {
	checks *atomic.Int64 // check-auth runs so far
	// cookie mints a session cookie header value for a subject.
	cookie func(sub string, groups []string, expiry time.Time) string
	// get asks for path as a browser would (Accept: text/html, extra
	// header pairs), and returns the status, X-Cache and the body with
	// Location and WWW-Authenticate appended.
	get func(path string, header ...string) (int, string, string)
}

// startDeployed serves localedge-aws.json with the functions built from
// cfg, all on clock, for the test's duration.
func startDeployed(t *testing.T, cfg *config.Config, clock *suitetest.FakeClock) *deployed {
	t.Helper()
	deps := lambdafn.Deps{Config: cfg, Now: clock.Now, Logger: slog.New(slog.DiscardHandler), HTTPClient: &http.Client{Timeout: time.Second}}
	ca, err := checkauth.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := parsecallback.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	so, err := signout.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	d := &deployed{checks: &atomic.Int64{}}
	funcs := map[string]localedge.Function{
		"check-auth": func(ctx context.Context, ev edge.Event) (edge.Result, error) {
			d.checks.Add(1)
			return ca.Handle(ctx, ev)
		},
		"parse-callback": pc.Handle,
		"sign-out":       so.Handle,
	}
	lc, err := localedge.LoadConfig(filepath.Join(testtoken.ModuleRoot(t), "testdata", "demo", "localedge-aws.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := localedge.New(lc, funcs, slog.New(slog.DiscardHandler), localedge.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveEdge(t, s)
	sessions := suitetest.Sessions(t, cfg, clock.Now)
	d.cookie = func(sub string, groups []string, expiry time.Time) string {
		c, err := sessions.EncodeSession(session.Session{
			Identity: verifier.Identity{Subject: sub, Username: sub, Groups: groups}, Expiry: expiry, HasRefresh: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c.Name + "=" + c.Value
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	d.get = func(path string, header ...string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/html")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("X-Cache"), string(b) + resp.Header.Get("Location") + resp.Header.Get("WWW-Authenticate")
	}
	return d
}

// serveEdge serves the local edge s on a test server, both stopped when
// the test ends.
func serveEdge(t *testing.T, s *localedge.Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		_ = s.Close()
	})
	return srv
}
