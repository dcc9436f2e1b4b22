// Package e2e drives the whole suite the way a person would: headless
// Chromium against the local edge, with a real Dex as the IdP. Every flow
// runs twice: with the functions in-process and as the built bootstrap
// binaries over a loopback Lambda Runtime API.
//
// Under CI=true a missing Chromium, Dex or bootstrap binary fails the run;
// elsewhere it skips.
package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/edgeauth/edgeauth/internal/browser"
	"github.com/edgeauth/edgeauth/internal/demo"
	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/idp"
)

// syncBuffer collects the edge's JSON logs for assertions.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	*demo.Env
	logs   *syncBuffer
	invoke string
}

// start runs Dex and the local edge for one test, stopped at its end.
func start(t *testing.T, invoke string, idTTL time.Duration) *env {
	t.Helper()
	return startEdge(t, invoke, idTTL, "")
}

// startEdge is start with another local edge config (absolute, or relative
// to the module root; "" is the demo's).
func startEdge(t *testing.T, invoke string, idTTL time.Duration, edgeConfig string) *env {
	t.Helper()
	root, err := dex.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dex.BinaryPath(root)); err != nil {
		if dex.InCI() {
			t.Fatalf("dex binary missing (make dex): %v", err)
		}
		t.Skipf("dex binary missing (make dex): %v", err)
	}
	return launch(t, demo.Options{Root: root, Invoke: invoke, IDTokenTTL: idTTL, EdgeConfig: edgePath(root, edgeConfig)})
}

// launch starts the demo o describes on a free port for one test, its logs
// collected, and stops it at the test's end. Under CI a missing bootstrap
// binary fails the test; elsewhere it skips.
func launch(t *testing.T, o demo.Options) *env {
	t.Helper()
	if o.Invoke == demo.RuntimeAPI {
		if _, err := os.Stat(filepath.Join(o.Root, "bin", "bootstrap")); err != nil {
			if dex.InCI() {
				t.Fatalf("bootstrap binary missing (make build): %v", err)
			}
			t.Skipf("bootstrap binary missing (make build): %v", err)
		}
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o.Listen = "localhost:0"
	o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, err := demo.Start(ctx, o)
	if err != nil {
		t.Fatalf("start demo (%s): %v", o.IDP, err)
	}
	if e.Warnings != nil {
		t.Errorf("the demo IdP's generated config does not fit the edge: %q", e.Warnings)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("stop demo: %v", err)
		}
		if t.Failed() {
			t.Logf("edge logs:\n%s", logs.String())
		}
	})
	return &env{Env: e, logs: logs, invoke: o.Invoke}
}

func edgePath(root, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	var loc string
	run(t, ctx, "read location", chromedp.Location(&loc))
	return loc
}

func heading(t *testing.T, ctx context.Context) string {
	t.Helper()
	var h string
	run(t, ctx, "read heading", chromedp.Text("h1", &h, chromedp.ByQuery))
	return strings.TrimSpace(h)
}

// cookies returns the browser's cookies for the edge, by name.
func cookies(t *testing.T, ctx context.Context, edgeURL string) map[string]*network.Cookie {
	t.Helper()
	var cs []*network.Cookie
	run(t, ctx, "read cookies", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cs, err = network.GetCookies().WithURLs([]string{edgeURL + "/", edgeURL + "/parseauth", edgeURL + "/refreshauth", edgeURL + "/signout"}).Do(ctx)
		return err
	}))
	out := map[string]*network.Cookie{}
	for _, c := range cs {
		out[c.Name+"|"+c.Path] = c
	}
	return out
}

func hasSuiteCookie(cs map[string]*network.Cookie) bool {
	for k := range cs {
		if strings.HasPrefix(k, "edgeauth-") {
			return true
		}
	}
	return false
}

// issuer is the demo IdP's: Dex's or oidc-provider's.
func (e *env) issuer() string {
	if e.OIDCProvider != nil {
		return e.OIDCProvider.Issuer
	}
	return e.Dex.Issuer
}

// login opens path, expects the IdP's login page, signs in as u and waits
// until the browser is back on the edge. Both demo IdPs have the demo users
// (same emails, passwords and subjects) and a sign-in form with the same
// field ids.
func login(t *testing.T, ctx context.Context, e *env, path string, u dex.User) {
	t.Helper()
	run(t, ctx, "open "+path, chromedp.Navigate(e.URL+path))
	if loc := location(t, ctx); !strings.HasPrefix(loc, e.issuer()) {
		t.Fatalf("opening %s landed on %s, want the IdP's login", path, loc)
	}
	run(t, ctx, "sign in as "+u.Email, browser.DexLogin(u.Email, u.Password))
	waitOnEdge(t, ctx, e)
}

// waitOnEdge waits until the page is a loaded page of the edge. The browser
// is still navigating through redirects meanwhile, so each look may fail.
func waitOnEdge(t *testing.T, ctx context.Context, e *env) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		var loc, state string
		err := chromedp.Run(c, chromedp.Evaluate(`location.href`, &loc), chromedp.Evaluate(`document.readyState`, &state))
		cancel()
		if err == nil && strings.HasPrefix(loc, e.URL+"/") && state == "complete" {
			return
		}
		last = loc
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not back on the edge after 20s (last at %q)", last)
}

var modes = []string{demo.InProcess, demo.RuntimeAPI}

func alice() dex.User { return dex.DemoUsers()[0] }
func bob() dex.User   { return dex.DemoUsers()[1] }

func TestFlows(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			e := start(t, mode, 0)
			t.Run("1 deep link survives login, alice reads admin", func(t *testing.T) { deepLink(t, e) })
			t.Run("2 bob gets 403 on admin, home works, no loop", func(t *testing.T) { forbidden(t, e) })
			t.Run("3 public without login or cookie", func(t *testing.T) { public(t, e) })
			t.Run("4 api client with bearer token", func(t *testing.T) { bearer(t, e) })
			t.Run("6 two tabs log in at once", func(t *testing.T) { twoTabs(t, e) })
			t.Run("7 sign-out", func(t *testing.T) { signOut(t, e) })
			t.Run("8 tampering never gives access", func(t *testing.T) { tampering(t, e) })
		})
	}
}

func deepLink(t *testing.T, e *env) {
	ctx := browser.New(t)
	deep := "/docs/guide.html?section=intro&lang=en%20GB"
	login(t, ctx, e, deep, alice())
	if got := location(t, ctx); got != e.URL+deep {
		t.Fatalf("after login at %s, want exactly %s", got, e.URL+deep)
	}
	if h := heading(t, ctx); !strings.Contains(h, "Guide") {
		t.Errorf("deep link heading = %q", h)
	}
	run(t, ctx, "open admin", chromedp.Navigate(e.URL+"/admin/"))
	if h := heading(t, ctx); !strings.Contains(h, "Admin") {
		t.Errorf("admin heading = %q", h)
	}
	own := "/users/" + alice().Subject() + "/"
	run(t, ctx, "open own user folder", chromedp.Navigate(e.URL+own))
	if loc := location(t, ctx); loc != e.URL+own {
		t.Errorf("own folder at %s", loc)
	}
	cs := cookies(t, ctx, e.URL)
	s := cs["edgeauth-session|/"]
	if s == nil || !s.HTTPOnly {
		t.Fatalf("session cookie = %+v", s)
	}
	for _, p := range []string{"/refreshauth", "/signout"} {
		if c := cs["edgeauth-refresh|"+p]; c == nil || !c.HTTPOnly {
			t.Errorf("refresh cookie for %s = %+v", p, c)
		}
	}
	for k := range cs {
		if strings.HasPrefix(k, "edgeauth-login-") {
			t.Errorf("login-state cookie %s left after login", k)
		}
	}
}

func forbidden(t *testing.T, e *env) {
	ctx := browser.New(t)
	login(t, ctx, e, "/", bob())
	if h := heading(t, ctx); !strings.Contains(h, "Home") {
		t.Errorf("home heading = %q", h)
	}
	run(t, ctx, "open admin", chromedp.Navigate(e.URL+"/admin/"))
	if loc := location(t, ctx); loc != e.URL+"/admin/" {
		t.Errorf("admin as bob ended at %s (a loop would leave the page)", loc)
	}
	if h := heading(t, ctx); !strings.Contains(h, "Access denied") {
		t.Errorf("admin as bob heading = %q, want the 403 page", h)
	}
	// The page says who is signed in and offers a way home.
	var who, home string
	run(t, ctx, "read the 403 page", chromedp.Text("main strong", &who, chromedp.ByQuery),
		chromedp.AttributeValue(`//a[text()="Go to the home page"]`, "href", &home, nil, chromedp.BySearch))
	if who != bob().Email || home != "/" {
		t.Errorf("403 page names %q and links home to %q; want %s and /", who, home, bob().Email)
	}
	run(t, ctx, "open alice's folder", chromedp.Navigate(e.URL+"/users/"+alice().Subject()+"/"))
	if h := heading(t, ctx); !strings.Contains(h, "Access denied") {
		t.Errorf("alice's folder as bob heading = %q, want the 403 page", h)
	}
	if n := strings.Count(e.logs.String(), `"status":403`); n < 2 {
		t.Errorf("edge logged %d 403s, want 2", n)
	}
}

func public(t *testing.T, e *env) {
	ctx := browser.New(t)
	run(t, ctx, "open public", chromedp.Navigate(e.URL+"/public/"))
	if loc := location(t, ctx); loc != e.URL+"/public/" {
		t.Fatalf("public ended at %s", loc)
	}
	if h := heading(t, ctx); !strings.Contains(h, "Public") {
		t.Errorf("public heading = %q", h)
	}
	if cs := cookies(t, ctx, e.URL); len(cs) != 0 {
		t.Errorf("public page set cookies: %v", cs)
	}
	// Every path the README lists as public is there.
	for _, p := range []string{"/style.css", "/favicon.ico", "/public/"} {
		resp, err := apiClient().Get(e.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a session: %d, want 200", p, resp.StatusCode)
		}
	}
}

// apiClient never follows redirects: an API call must not get one.
func apiClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// apiGet is an API client's GET of url (Accept: application/json) with
// the Authorization header authz, left out when empty. The body is read
// and closed; the status and headers remain.
func apiGet(t *testing.T, url, authz string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := apiClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// dexTokens signs alice in at Dex without a browser and exchanges the code.
func dexTokens(t *testing.T, e *env, u dex.User) (access, refresh string) {
	t.Helper()
	ctx := context.Background()
	oc := e.Dex.OAuth2Config(e.URL + "/parseauth")
	verifier := idp.NewVerifier()
	authURL := oc.AuthCodeURL("state-e2e", oauth2S256(verifier)...)
	jar, _ := cookiejar.New(nil)
	back, err := e.Dex.Login(ctx, &http.Client{Jar: jar, Timeout: 10 * time.Second}, authURL, u)
	if err != nil {
		t.Fatalf("dex login: %v", err)
	}
	tok, err := oc.Exchange(ctx, back.Query().Get("code"), oauth2Verifier(verifier)...)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok.AccessToken, tok.RefreshToken
}

func bearer(t *testing.T, e *env) {
	access, _ := dexTokens(t, e, alice())
	call := func(path, authz string) *http.Response {
		t.Helper()
		return apiGet(t, e.URL+path, authz)
	}
	if r := call("/admin/", "Bearer "+access); r.StatusCode != 200 {
		t.Errorf("valid token: status %d, want 200", r.StatusCode)
	}
	parts := strings.Split(access, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(claims), `"admins"`, `"admin5"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	for name, tc := range map[string]struct {
		authz string
		want  int
	}{
		"tampered token":   {"Bearer " + tampered, 401},
		"garbage token":    {"Bearer abc.def.ghi", 401},
		"no token (json)":  {"", 401},
		"malformed header": {"Bearer a b", 400},
	} {
		r := call("/docs/", tc.authz)
		if r.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", name, r.StatusCode, tc.want)
		}
		if r.StatusCode == http.StatusFound || r.Header.Get("Location") != "" {
			t.Errorf("%s: redirected", name)
		}
		if r.StatusCode == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer realm=") {
			t.Errorf("%s: WWW-Authenticate = %q", name, r.Header.Get("WWW-Authenticate"))
		}
	}
	if strings.Contains(e.logs.String(), access[:30]) {
		t.Error("a token reached the logs")
	}
}

func twoTabs(t *testing.T, e *env) {
	ctx := browser.New(t)
	tab2, cancel := chromedp.NewContext(ctx)
	defer cancel()
	// Open the tab on its own context: a tab is closed with the context of
	// its first Run, and run's contexts end with each step.
	if err := chromedp.Run(tab2); err != nil {
		t.Fatalf("open tab 2: %v", err)
	}
	// Both tabs start a login before either finishes.
	run(t, ctx, "tab 1 opens /a", chromedp.Navigate(e.URL+"/docs/guide.html?tab=1"))
	run(t, tab2, "tab 2 opens /b", chromedp.Navigate(e.URL+"/docs/?tab=2"))
	for i, c := range []context.Context{ctx, tab2} {
		if loc := location(t, c); !strings.HasPrefix(loc, e.Dex.Issuer) {
			t.Fatalf("tab %d at %s, want Dex", i+1, loc)
		}
	}
	n := 0
	for k := range cookies(t, ctx, e.URL) {
		if strings.HasPrefix(k, "edgeauth-login-") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d login-state cookies, want one per attempt (2)", n)
	}
	run(t, tab2, "tab 2 signs in", browser.DexLogin(alice().Email, alice().Password))
	waitOnEdge(t, tab2, e)
	run(t, ctx, "tab 1 signs in", browser.DexLogin(alice().Email, alice().Password))
	waitOnEdge(t, ctx, e)
	// The viewer-request function made /docs/ ask for /docs/index.html
	// before check-auth saw it (as on AWS), so that is the return path.
	if got := location(t, tab2); got != e.URL+"/docs/index.html?tab=2" {
		t.Errorf("tab 2 at %s", got)
	}
	if got := location(t, ctx); got != e.URL+"/docs/guide.html?tab=1" {
		t.Errorf("tab 1 at %s", got)
	}
}

func signOut(t *testing.T, e *env) {
	ctx := browser.New(t)
	login(t, ctx, e, "/", alice())
	if !hasSuiteCookie(cookies(t, ctx, e.URL)) {
		t.Fatal("no suite cookie after login")
	}
	// Dex keeps one refresh token per user and client: this login's.
	if n, err := e.Dex.RefreshTokens(ctx, alice().Subject()); err != nil || n < 1 {
		t.Fatalf("refresh tokens of alice at Dex before sign-out: %d, %v; want at least 1", n, err)
	}
	// A copy of the credentials, as someone at the same computer could take.
	before := cookies(t, ctx, e.URL)
	copied, refreshCopy := before["edgeauth-session|/"], before["edgeauth-refresh|/refreshauth"]
	if copied == nil || refreshCopy == nil {
		t.Fatalf("no session or refresh cookie to copy: %v", before)
	}
	run(t, ctx, "sign out", chromedp.Navigate(e.URL+"/signout"))
	// Dex has no end-session endpoint: sign-out answers with the
	// signed-out page itself, at its own path (issue 9: it used to send the
	// browser to "/", which is protected, so it ended on Dex's login form).
	if loc := location(t, ctx); loc != e.URL+"/signout" {
		t.Errorf("after sign-out at %s, want the signed-out page at /signout", loc)
	}
	var text, again string
	run(t, ctx, "read the signed-out page", chromedp.Text("main", &text, chromedp.ByQuery),
		chromedp.AttributeValue(`//a[text()="Sign in again"]`, "href", &again, nil, chromedp.BySearch))
	if host := strings.TrimPrefix(e.URL, "http://"); !strings.Contains(text, "You are signed out of "+host+".") || again != "/" {
		t.Errorf("signed-out page says %q, links %q; want it to name %s and link /", text, again, host)
	}
	cs := cookies(t, ctx, e.URL)
	for k := range cs {
		if strings.HasPrefix(k, "edgeauth-session") || strings.HasPrefix(k, "edgeauth-refresh") {
			t.Errorf("cookie %s survived sign-out", k)
		}
	}
	// Sign-out revoked the refresh token at Dex, through the harness's
	// revocation endpoint (Dex has none of its own).
	if n, err := e.Dex.RefreshTokens(ctx, alice().Subject()); err != nil || n != 0 {
		t.Errorf("refresh tokens of alice at Dex after sign-out: %d, %v; want 0 (revoked)", n, err)
	}
	// In-process, the functions log through the edge's logger; as bootstrap
	// processes they write to the test's stderr.
	if e.invoke == demo.InProcess && !strings.Contains(e.logs.String(), `"revocation":"revoked"`) {
		t.Error("sign-out did not log that it revoked the refresh token")
	}
	run(t, ctx, "open a protected page", chromedp.Navigate(e.URL+"/docs/"))
	if loc := location(t, ctx); !strings.HasPrefix(loc, e.Dex.Issuer) {
		t.Errorf("protected page after sign-out at %s, want the IdP", loc)
	}
	copiedCredentials(t, e, copied, refreshCopy)
}

// copiedCredentials: what a copy of the cookies taken before sign-out is
// worth after it. The session cookie lasts its lifetime (15 minutes with a
// refresh token, however long the ID token), and renewing it at
// /refreshauth fails, since sign-out revoked the refresh token: the copy
// gets its cookies expired and no new session.
func copiedCredentials(t *testing.T, e *env, sess, refresh *network.Cookie) {
	t.Helper()
	store := suitetest.Sessions(t, e.Config, time.Now)
	s, err := store.Session(edge.Cookies{{Name: sess.Name, Value: sess.Value}})
	if err != nil {
		t.Fatalf("copied session: %v", err)
	}
	if left := time.Until(s.Expiry); left > config.DefaultSessionLifetime || !s.HasRefresh {
		t.Errorf("copied session good for %v more (refresh %v), want at most %v", left, s.HasRefresh, config.DefaultSessionLifetime)
	}
	ret, err := store.SignReturn("/docs/")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.URL+"/refreshauth?return="+url.QueryEscape(ret), nil)
	req.Header.Set("Cookie", sess.Name+"="+sess.Value+"; "+refresh.Name+"="+refresh.Value)
	resp, err := apiClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/docs/" {
		t.Errorf("renewal with the copied refresh cookie: %d to %q, want 302 back to the page", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == sess.Name && suitetest.Live(c) {
			t.Error("a revoked refresh token renewed the copied session")
		}
	}
}

func tampering(t *testing.T, e *env) {
	ctx := browser.New(t)
	// Capture the callback URL by stopping at it: log in with a plain client.
	login(t, ctx, e, "/docs/", alice())
	cs := cookies(t, ctx, e.URL)
	sess := cs["edgeauth-session|/"]
	if sess == nil {
		t.Fatal("no session")
	}
	host := strings.TrimPrefix(e.URL, "http://")
	domain, _, _ := strings.Cut(host, ":")
	// A tampered session cookie sends the browser to log in again.
	v := []byte(sess.Value)
	v[len(v)/2] ^= 1
	run(t, ctx, "tamper with the session", network.SetCookie("edgeauth-session", string(v)).WithDomain(domain).WithPath("/").WithHTTPOnly(true))
	run(t, ctx, "open protected", chromedp.Navigate(e.URL+"/admin/"))
	if loc := location(t, ctx); !strings.HasPrefix(loc, e.Dex.Issuer) {
		t.Errorf("tampered session at %s, want the IdP", loc)
	}

	// A replayed or tampered callback: log in with a plain client, keep its
	// callback URL, let it complete once, then replay it and a tampered state.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.URL + "/docs/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback, err := e.Dex.Login(context.Background(), client, resp.Header.Get("Location"), alice())
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) (int, string) {
		t.Helper()
		r, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r.StatusCode, string(b)
	}
	q := callback.Query()
	badState := *callback
	q2 := url.Values{"code": {q.Get("code")}, "state": {"AAAAAAAAAAAAAAAAAAAAAA"}}
	badState.RawQuery = q2.Encode()
	if code, _ := get(badState.String()); code != 400 {
		t.Errorf("tampered state: status %d, want 400", code)
	}
	if code, _ := get(callback.String()); code != 302 {
		t.Fatalf("first callback: status %d, want 302", code)
	}
	if code, body := get(callback.String()); code != 400 || !strings.Contains(body, "Sign-in failed") {
		t.Errorf("replayed callback: status %d, want the 400 page", code)
	}
}

// TestDeployedShape runs the flows through the edge shaped as the template
// deploys it: every function on origin-request, seeing only what the
// behaviors' policies forward, Host the bucket's.
func TestDeployedShape(t *testing.T) {
	e := startEdge(t, demo.InProcess, 0, "testdata/demo/localedge-aws.json")
	t.Run("deep link survives login, alice reads admin", func(t *testing.T) { deepLink(t, e) })
	t.Run("bob gets 403 on admin, no loop", func(t *testing.T) { forbidden(t, e) })
	t.Run("api client with bearer token", func(t *testing.T) { bearer(t, e) })
	t.Run("sign-out", func(t *testing.T) { signOut(t, e) })
	t.Run("a page is cached for its session only", func(t *testing.T) { cachedPerSession(t, e) })
}

// cachedPerSession: the page a browser loaded in the deployed shape is
// served from the edge's cache to a request with that browser's session
// cookie, and to nothing else.
func cachedPerSession(t *testing.T, e *env) {
	ctx := browser.New(t)
	login(t, ctx, e, "/docs/", bob())
	sc := cookies(t, ctx, e.URL)["edgeauth-session|/"]
	if sc == nil {
		t.Fatal("no session cookie after login")
	}
	get := func(header ...string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", e.URL+"/docs/", nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := apiClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Cache")
	}
	if code, xcache := get("Cookie", sc.Name+"="+sc.Value); code != 200 || xcache != "Hit from cloudfront" {
		t.Errorf("with bob's session: %d, X-Cache %q; want the page bob's browser loaded, from the cache", code, xcache)
	}
	if code, xcache := get("Accept", "text/html"); code != 302 || xcache == "Hit from cloudfront" {
		t.Errorf("without a session: %d, X-Cache %q; want the login redirect", code, xcache)
	}
}

// refreshAfterExpiry signs alice in on e, whose ID tokens last ttl, waits
// past their expiry and requires the next page load to renew the session
// through /refreshauth, query string kept.
func refreshAfterExpiry(t *testing.T, e *env, ttl time.Duration) {
	t.Helper()
	ctx := browser.New(t)
	login(t, ctx, e, "/docs/", alice())
	loggedIn := time.Now()
	// The real clock has to pass the token's expiry; nothing to poll.
	time.Sleep(time.Until(loggedIn.Add(ttl + time.Second)))
	page := "/docs/guide.html?x=1&y=%2Fz"
	run(t, ctx, "open after expiry", chromedp.Navigate(e.URL+page))
	waitOnEdge(t, ctx, e)
	if got := location(t, ctx); got != e.URL+page {
		t.Errorf("after refresh at %s, want %s", got, e.URL+page)
	}
	// The edge's own request log shows the round trip through the
	// refresh path, whichever way the functions run.
	if logs := e.logs.String(); !strings.Contains(logs, `"path":"/refreshauth","behavior":"/refreshauth*","function":"parse-callback","decision":"generated","status":302`) {
		t.Errorf("no silent refresh through /refreshauth in the logs")
	}
}

// TestSessionRefresh: with a short ID token lifetime the session expires and
// the next page load renews it through /refreshauth, query string kept.
func TestSessionRefresh(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			const ttl = 8 * time.Second
			refreshAfterExpiry(t, start(t, mode, ttl), ttl)
		})
	}
}
