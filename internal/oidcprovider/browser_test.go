package oidcprovider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/browser"
)

// client is a stand-in relying party on localhost: it records the query
// its redirect URI and its post-logout page receive.
type client struct {
	srv *httptest.Server
	url string // http://localhost:PORT

	mu        sync.Mutex
	callback  map[string]string // the last query at /parseauth
	loggedOut map[string]string // the last query at /signed-out
}

func newClient(t *testing.T) *client {
	t.Helper()
	c := &client{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := map[string]string{}
		for k := range r.URL.Query() {
			q[k] = r.URL.Query().Get(k)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		switch r.URL.Path {
		case "/parseauth":
			c.callback = q
			_, _ = w.Write([]byte(`<!DOCTYPE html><p id="callback">callback</p>`))
		case "/signed-out":
			c.loggedOut = q
			_, _ = w.Write([]byte(`<!DOCTYPE html><p id="signed-out">signed out</p>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(c.srv.Close)
	// The client on localhost, the provider on 127.0.0.1: separate cookie
	// hosts, as with the edge.
	c.url = strings.Replace(c.srv.URL, "127.0.0.1", "localhost", 1)
	return c
}

func (c *client) last() (callback, loggedOut map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callback, c.loggedOut
}

func runBrowser(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(c, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// TestBrowser drives the provider's own pages in headless Chromium: the
// sign-in form through BrowserLogin, the automatic consent, the
// self-submitting logout page, and Cancel.
func TestBrowser(t *testing.T) {
	ctx := browser.New(t)
	rp := newClient(t)
	redirect := rp.url + "/parseauth"
	s := StartForTest(t, Options{RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{rp.url + "/signed-out"}})
	conf := s.OAuth2Config(s.Confidential, redirect)
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st-login", oauth2.S256ChallengeOption(verifier), ConsentPrompt(), WithResource(DefaultResource))

	runBrowser(t, ctx, "open the authorization URL", chromedp.Navigate(authURL))
	runBrowser(t, ctx, "sign in as alice", BrowserLogin(alice()))
	runBrowser(t, ctx, "back at the client", chromedp.WaitVisible("#callback", chromedp.ByID))
	cb, _ := rp.last()
	if cb["state"] != "st-login" || cb["code"] == "" || cb["iss"] != s.Issuer {
		t.Fatalf("callback query = %v, want a code, state st-login and iss %s", cb, s.Issuer)
	}
	tok, err := conf.Exchange(t.Context(), cb["code"], oauth2.VerifierOption(verifier), WithResource(DefaultResource))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if tok.RefreshToken == "" || idToken == "" {
		t.Fatalf("Exchange gave refresh token %t, id token %t", tok.RefreshToken != "", idToken != "")
	}

	// The logout page posts itself; the browser lands on the client.
	runBrowser(t, ctx, "end the session", chromedp.Navigate(s.EndSessionURL(idToken, rp.url+"/signed-out", "st-logout")))
	runBrowser(t, ctx, "back at the client after logout", chromedp.WaitVisible("#signed-out", chromedp.ByID))
	if _, out := rp.last(); out["state"] != "st-logout" {
		t.Errorf("post-logout query = %v, want state st-logout", out)
	}

	// The provider session is gone: the sign-in form again. Cancel it.
	runBrowser(t, ctx, "open the authorization URL again", chromedp.Navigate(authURL))
	runBrowser(t, ctx, "cancel the sign-in", BrowserCancel())
	runBrowser(t, ctx, "back at the client after cancel", chromedp.WaitVisible("#callback", chromedp.ByID))
	if cb, _ := rp.last(); cb["error"] != "access_denied" || cb["state"] != "st-login" {
		t.Errorf("callback after cancel = %v, want error=access_denied and the state", cb)
	}
}
