package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/edgeauth/edgeauth/internal/browser"
	"github.com/edgeauth/edgeauth/internal/demo"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/internal/testtoken"
)

// TestPrivatePagesAfterSignOut: alice signs in, opens /admin/, her session
// ends, and /admin/ typed again is the IdP's login, not the page from the
// browser's cache. The demo site's objects carry Last-Modified and no
// Cache-Control, as S3 serves them, so a browser may reuse them without
// asking (heuristic freshness, RFC 9111 §4.2.2); the response headers
// policy of the protected behavior (Cache-Control: private, no-cache
// unless the object has its own) makes it ask again. The site is served
// from a copy whose files are years old, so the heuristic is certain to
// apply; the last case removes the policy and shows the cached page, so
// this test fails without the policy.
func TestPrivatePagesAfterSignOut(t *testing.T) {
	site := oldSite(t)
	for _, tt := range []struct {
		name, config string
		policy       bool
		signOut      bool // through /signout; else the session cookies are deleted
		wantLogin    bool
	}{
		{"make run's edge: signed out", "localedge.json", true, true, true},
		{"make run's edge: session cookies gone", "localedge.json", true, false, true},
		{"the deployed shape: signed out", "localedge-aws.json", true, true, true},
		// Deleting the cookies, not /signout: sign-out's Clear-Site-Data
		// empties the cache by itself.
		{"without the policy: the cached page", "localedge.json", false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := startEdge(t, demo.InProcess, 0, edgeConfigWith(t, tt.config, site, tt.policy))
			ctx := browser.New(t)
			login(t, ctx, e, "/", alice())
			run(t, ctx, "open admin", chromedp.Navigate(e.URL+"/admin/"))
			if h := heading(t, ctx); !strings.Contains(h, "Admin") {
				t.Fatalf("admin heading = %q", h)
			}
			if tt.signOut {
				run(t, ctx, "sign out", chromedp.Navigate(e.URL+"/signout"))
			} else {
				run(t, ctx, "delete the cookies", network.ClearBrowserCookies())
			}
			run(t, ctx, "open admin again", chromedp.Navigate(e.URL+"/admin/"))
			loc := location(t, ctx)
			switch {
			case tt.wantLogin && !strings.HasPrefix(loc, e.Dex.Issuer):
				t.Errorf("/admin/ after the session ended: at %s (heading %q), want the IdP's login", loc, heading(t, ctx))
			case !tt.wantLogin && (loc != e.URL+"/admin/" || !strings.Contains(heading(t, ctx), "Admin")):
				t.Errorf("without the policy: at %s, want the admin page from the browser's cache (else this test proves nothing)", loc)
			}
		})
	}
}

// oldSite copies the demo site into a temporary folder, every file dated
// 2020, so a browser's heuristic freshness (a tenth of the object's age)
// spans years.
func oldSite(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testtoken.ModuleRoot(t), "testdata", "site")
	dst := t.TempDir()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(to, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// edgeConfigWith writes testdata/demo/<name> with its origin at site and,
// unless policy, without response headers policies; it returns the path.
func edgeConfigWith(t *testing.T, name, site string, policy bool) string {
	t.Helper()
	c, err := localedge.LoadConfig(filepath.Join(testtoken.ModuleRoot(t), "testdata", "demo", name))
	if err != nil {
		t.Fatal(err)
	}
	c.Origin.Dir = site
	for i := range c.Behaviors {
		if !policy {
			c.Behaviors[i].ResponseHeadersPolicy = nil
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
