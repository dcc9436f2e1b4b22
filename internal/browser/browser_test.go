package browser_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/browser"
	"github.com/edgeauth/edgeauth/internal/dex"
)

// step bounds one browser step so a hang fails the test instead of the run.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestChromium(t *testing.T) {
	bin, err := browser.Chromium()
	if err != nil {
		t.Skipf("Chromium: %v", err)
	}
	if !strings.Contains(bin, "chromium") {
		t.Errorf("Chromium() = %q, want a chromium binary", bin)
	}
}

func TestFlags(t *testing.T) {
	for _, want := range []string{"--headless", "--no-sandbox", "--disable-quic", "--disable-component-update"} {
		if !slices.Contains(browser.Flags(), want) {
			t.Errorf("Flags() = %v, missing %s", browser.Flags(), want)
		}
	}
}

// TestPageTextAndCookies loads a page from an httptest server and reads its
// text and the cookies it set through the browser.
func TestPageTextAndCookies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.SetCookie(w, &http.Cookie{Name: "visited", Value: "yes", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			http.SetCookie(w, &http.Cookie{Name: "scoped", Value: "1", Path: "/only-here"})
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><title>t</title><h1>Admin area</h1><p id="who">hello, alice</p><a id="next" href="/next">next</a>`))
		case "/next":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><h1>Next page</h1><p id="cookie">` + r.Header.Get("Cookie") + `</p>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	ctx := browser.New(t)
	var h1, who string
	var cookies []*network.Cookie
	step(t, ctx, "load page",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Text("h1", &h1, chromedp.ByQuery),
		chromedp.Text("#who", &who, chromedp.ByID),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			cookies, err = network.GetCookies().WithURLs([]string{srv.URL + "/"}).Do(ctx)
			return err
		}),
	)
	if h1 != "Admin area" || who != "hello, alice" {
		t.Errorf("page text = %q, %q; want %q, %q", h1, who, "Admin area", "hello, alice")
	}
	if len(cookies) != 1 || cookies[0].Name != "visited" || cookies[0].Value != "yes" || !cookies[0].HTTPOnly {
		t.Errorf("cookies for / = %+v, want only the HttpOnly visited=yes", cookies)
	}

	var sent string
	step(t, ctx, "follow link",
		chromedp.Click("#next", chromedp.ByID),
		chromedp.WaitVisible("#cookie", chromedp.ByID),
		chromedp.Text("#cookie", &sent, chromedp.ByID),
	)
	if sent != "visited=yes" {
		t.Errorf("the browser sent Cookie %q on /next, want %q", sent, "visited=yes")
	}
}

// TestFreshProfilePerTest checks that two browsers share no cookies.
func TestFreshProfilePerTest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("set") != "" {
			http.SetCookie(w, &http.Cookie{Name: "c", Value: "1", Path: "/"})
		}
		_, _ = w.Write([]byte("<p>ok</p>"))
	}))
	defer srv.Close()

	count := func(ctx context.Context) int {
		var cs []*network.Cookie
		step(t, ctx, "cookies", chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			cs, err = network.GetCookies().WithURLs([]string{srv.URL}).Do(ctx)
			return err
		}))
		return len(cs)
	}
	first := browser.New(t)
	step(t, first, "set cookie", chromedp.Navigate(srv.URL+"/?set=1"))
	if n := count(first); n != 1 {
		t.Fatalf("first browser has %d cookies, want 1", n)
	}
	second := browser.New(t)
	step(t, second, "load", chromedp.Navigate(srv.URL+"/"))
	if n := count(second); n != 0 {
		t.Errorf("second browser has %d cookies, want 0 (fresh profile)", n)
	}
}

// TestDexLogin signs alice in through Dex's real login page in Chromium and
// checks that the code arrives at the redirect URI.
func TestDexLogin(t *testing.T) {
	var mu sync.Mutex
	var gotState, gotCode string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/parseauth" { // Chromium also asks for /favicon.ico
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		gotState, gotCode = r.URL.Query().Get("state"), r.URL.Query().Get("code")
		mu.Unlock()
		_, _ = w.Write([]byte(`<!doctype html><h1 id="back">Back at the client</h1>`))
	}))
	defer cb.Close()
	// The edge runs on localhost and Dex on 127.0.0.1, as in the demo.
	redirect := strings.Replace(cb.URL, "127.0.0.1", "localhost", 1) + "/parseauth"
	s := dex.StartForTest(t, dex.Options{RedirectURIs: []string{redirect}})
	ctx := browser.New(t)

	alice := dex.DemoUsers()[0]
	authURL := s.OAuth2Config(redirect).AuthCodeURL("state-123", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	var landed string
	step(t, ctx, "login",
		chromedp.Navigate(authURL),
		browser.DexLogin(alice.Email, alice.Password),
		chromedp.WaitVisible("#back", chromedp.ByID),
		chromedp.Location(&landed),
	)
	u, err := url.Parse(landed)
	if err != nil || u.Host != strings.TrimPrefix(strings.TrimSuffix(redirect, "/parseauth"), "http://") || u.Path != "/parseauth" {
		t.Errorf("landed on %q, want the redirect URI %s", landed, redirect)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotState != "state-123" || gotCode == "" {
		t.Errorf("redirect URI got state %q and a code %t; want state-123 and a code", gotState, gotCode != "")
	}
}
