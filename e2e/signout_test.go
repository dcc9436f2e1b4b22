package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/edgeauth/edgeauth/internal/browser"
	"github.com/edgeauth/edgeauth/internal/demo"
)

// TestCrossSiteSignOut: a link on another site to /signout signs no one
// out. Chromium follows it with Sec-Fetch-Site: cross-site and gets the page
// that asks; the browser stays signed in; the page's own button then signs
// out. In the deployed shape sign-out sees Sec-Fetch-Site only because its
// origin request policy forwards it (localedge-aws.json, kept equal to the
// template), so this also checks that forwarding.
func TestCrossSiteSignOut(t *testing.T) {
	for _, shape := range []string{"", "testdata/demo/localedge-aws.json"} {
		name := "viewer-request"
		if shape != "" {
			name = "deployed shape"
		}
		t.Run(name, func(t *testing.T) {
			e := startEdge(t, demo.InProcess, 0, shape)
			// Another site: 127.0.0.1 is not localhost's site.
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><title>elsewhere</title><a id="out" href="%s/signout">win a prize</a>`, e.URL)
			}))
			t.Cleanup(other.Close)

			ctx := browser.New(t)
			login(t, ctx, e, "/docs/", alice())
			followLink := func(what string) {
				t.Helper()
				run(t, ctx, "open the other site", chromedp.Navigate(other.URL+"/"))
				run(t, ctx, what, chromedp.Click("#out", chromedp.ByID))
				waitOnEdge(t, ctx, e)
			}
			followLink("follow its sign-out link")
			host := strings.TrimPrefix(e.URL, "http://")
			if h := heading(t, ctx); h != "Sign out of "+host+"?" {
				t.Fatalf("a cross-site link to /signout shows %q, want the confirmation page", h)
			}
			if cs := cookies(t, ctx, e.URL); cs["edgeauth-session|/"] == nil || cs["edgeauth-refresh|/signout"] == nil {
				t.Fatalf("the confirmation page signed out: cookies %v", cs)
			}
			run(t, ctx, "a protected page still opens", chromedp.Navigate(e.URL+"/docs/"))
			if loc := location(t, ctx); loc != e.URL+"/docs/" {
				t.Fatalf("after the confirmation page, /docs/ ended at %s: signed out", loc)
			}
			followLink("follow the link again")
			run(t, ctx, "confirm", chromedp.Click(`//a[text()="Sign out"]`, chromedp.BySearch))
			waitOnEdge(t, ctx, e)
			if h := heading(t, ctx); h != "You are signed out" {
				t.Errorf("after the button: heading %q, want the signed-out page", h)
			}
			for k := range cookies(t, ctx, e.URL) {
				if strings.HasPrefix(k, "edgeauth-session") || strings.HasPrefix(k, "edgeauth-refresh") {
					t.Errorf("cookie %s survived the confirmed sign-out", k)
				}
			}
		})
	}
}

// TestSignOutClearsTheBrowserCache: a private page the origin lets the
// browser keep for an hour is gone from the browser after sign-out, so the
// next person at the same computer opening it gets the login, not the last
// user's page. Chromium keeps the page (a visit that no longer reaches the
// origin shows it), sign-out answers with Clear-Site-Data: "cache", and the
// next visit reaches the edge, which sends it to log in.
func TestSignOutClearsTheBrowserCache(t *testing.T) {
	var hits atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/private.html":
			n := hits.Add(1)
			w.Header().Set("Cache-Control", "private, max-age=3600")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>private</title><h1>Private %d</h1>`, n)
		case "/other.html":
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>other</title><h1>Other</h1>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(origin.Close)
	// The demo's edge, with this origin instead of the folder.
	b, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "localedge.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["origin"] = map[string]any{"url": origin.URL}
	// The config moves to a temporary folder: its CloudFront Function's
	// code path, relative to the config, becomes absolute.
	fn, err := filepath.Abs(filepath.Join("..", "deploy", "functions", "viewer-request.js"))
	if err != nil {
		t.Fatal(err)
	}
	cfg["cloudfrontFunctions"] = map[string]any{"viewer-request": map[string]any{"code": fn}}
	b, err = json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	edgeConfig := filepath.Join(t.TempDir(), "localedge.json")
	if err := os.WriteFile(edgeConfig, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEdge(t, demo.InProcess, 0, edgeConfig)

	ctx := browser.New(t)
	login(t, ctx, e, "/private.html", alice())
	if h := heading(t, ctx); !strings.HasPrefix(h, "Private ") {
		t.Fatalf("after login: %q, want the private page", h)
	}
	// Chromium does not keep the response that ended the login's
	// cross-site redirect chain, only one loaded afterwards: visit until a
	// visit no longer reaches the origin.
	cached := false
	for range 3 {
		before := hits.Load()
		run(t, ctx, "open another page", chromedp.Navigate(e.URL+"/other.html"))
		run(t, ctx, "open the private page again", chromedp.Navigate(e.URL+"/private.html"))
		if hits.Load() == before {
			cached = true
			break
		}
	}
	if !cached {
		t.Skipf("Chromium never served the page from its cache (%d origin hits): nothing to clear", hits.Load())
	}
	if h := heading(t, ctx); !strings.HasPrefix(h, "Private ") {
		t.Fatalf("the cached visit shows %q", h)
	}
	run(t, ctx, "sign out", chromedp.Navigate(e.URL+"/signout"))
	if h := heading(t, ctx); h != "You are signed out" {
		t.Fatalf("sign-out shows %q", h)
	}
	run(t, ctx, "open the private page after sign-out", chromedp.Navigate(e.URL+"/private.html"))
	if loc := location(t, ctx); !strings.HasPrefix(loc, e.Dex.Issuer) {
		var h string
		_ = chromedp.Run(ctx, chromedp.Text("h1", &h, chromedp.ByQuery))
		t.Errorf("after sign-out the private page opened at %s (%q, %d origin hits), want the login: read from the browser cache", loc, h, hits.Load())
	}
}
