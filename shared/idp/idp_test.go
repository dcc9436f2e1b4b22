package idp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	testClientID = "client-1"
	// testSecret has characters that RFC 6749 §2.3.1 form-encodes in Basic.
	testSecret   = "s3cr:t/+%"
	testCode     = "AUTHCODE-must-not-leak"
	testVerifier = "VERIFIER-must-not-leak-0123456789abcdefghijk" // 45 chars
	testRefresh  = "REFRESH-must-not-leak"
	testRedirect = "https://d111.cloudfront.net/parseauth"
)

// request is what a fake endpoint saw.
type request struct {
	method, path, contentType string
	basicUser, basicPass      string
	basic                     bool
	form                      url.Values
}

// endpoint is a fake token or revocation endpoint on a real httptest server
// that records each request and answers with status, content type and body.
type endpoint struct {
	t           *testing.T
	srv         *httptest.Server
	status      int
	contentType string
	body        string
	block       bool // wait for the client to give up
	stop        chan struct{}

	mu   sync.Mutex
	seen []request
}

func newEndpoint(t *testing.T, status int, body string) *endpoint {
	t.Helper()
	e := &endpoint{t: t, status: status, body: body, contentType: "application/json", stop: make(chan struct{})}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() { close(e.stop) }) // runs first: frees blocked handlers
	return e
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		e.t.Errorf("ParseForm: %v", err)
	}
	user, pass, ok := r.BasicAuth()
	e.mu.Lock()
	e.seen = append(e.seen, request{
		method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"),
		basicUser: user, basicPass: pass, basic: ok, form: r.PostForm,
	})
	e.mu.Unlock()
	if e.block {
		select {
		case <-r.Context().Done():
		case <-e.stop:
		}
		return
	}
	w.Header().Set("Content-Type", e.contentType)
	w.WriteHeader(e.status)
	_, _ = io.WriteString(w, e.body)
}

func (e *endpoint) requests() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]request(nil), e.seen...)
}

// closedURL returns the URL of a server that no longer listens.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

func newProvider(t *testing.T, secret, tokenURL, revokeURL string, timeout time.Duration) *Provider {
	t.Helper()
	p, err := New(Config{
		ClientID:     testClientID,
		ClientSecret: secret,
		Endpoints: Endpoints{
			Authorize: "https://idp.example/oauth2/authorize",
			Token:     tokenURL,
			Revoke:    revokeURL,
		},
		Scopes:     []string{"openid", "email"},
		HTTPClient: &http.Client{},
		Timeout:    timeout,
		Now:        func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestNew(t *testing.T) {
	valid := func() Config {
		return Config{
			ClientID: testClientID,
			Endpoints: Endpoints{
				Authorize: "https://idp.example/authorize",
				Token:     "https://idp.example/token",
			},
			Scopes: []string{"openid"},
		}
	}
	tests := []struct {
		name      string
		edit      func(*Config)
		wantField string // "" means success
		want      string // substring of the problem
	}{
		{"minimal", func(*Config) {}, "", ""},
		{"all endpoints", func(c *Config) {
			c.Endpoints.Revoke, c.Endpoints.Logout = "https://idp.example/revoke", "http://127.0.0.1:5556/logout?x=1"
		}, "", ""},
		// A query in an endpoint is legitimate (a tenant, say): the config
		// file's checks used to refuse it while New took it. Now New is the
		// one rule, and AuthorizeURL keeps the query (TestAuthorizeURL).
		{"authorize endpoint with a query", func(c *Config) { c.Endpoints.Authorize = "https://idp.example/authorize?tenant=t1" }, "", ""},
		{"no client id", func(c *Config) { c.ClientID = "" }, "clientId", "is required"},
		{"client id with a space", func(c *Config) { c.ClientID = "a b" }, "clientId", "must not contain white space"},
		{"no authorize", func(c *Config) { c.Endpoints.Authorize = "" }, "endpoints.authorize", "is required"},
		{"no token", func(c *Config) { c.Endpoints.Token = "" }, "endpoints.token", "is required"},
		{"relative token", func(c *Config) { c.Endpoints.Token = "/token" }, "endpoints.token", "must be an absolute http(s) URL"},
		{"ftp token", func(c *Config) { c.Endpoints.Token = "ftp://idp.example/token" }, "endpoints.token", "must be an absolute http(s) URL"},
		{"fragment", func(c *Config) { c.Endpoints.Authorize = "https://idp.example/a#x" }, "endpoints.authorize", "without a fragment"},
		{"user info", func(c *Config) { c.Endpoints.Token = "https://u:p@idp.example/token" }, "endpoints.token", "must be an absolute"},
		{"bad revoke", func(c *Config) { c.Endpoints.Revoke = "revoke" }, "endpoints.revoke", "must be an absolute"},
		{"bad logout", func(c *Config) { c.Endpoints.Logout = "https://" }, "endpoints.logout", "must be an absolute"},
		{"no openid", func(c *Config) { c.Scopes = []string{"email"} }, "scopes", `must include "openid"`},
		{"scope with space", func(c *Config) { c.Scopes = []string{"openid", "a b"} }, "scopes[1]", "one word"},
		{"scope with a quote", func(c *Config) { c.Scopes = []string{"openid", `a"b`} }, "scopes[1]", "one word"},
		{"empty scope", func(c *Config) { c.Scopes = []string{"openid", ""} }, "scopes[1]", "one word"},
		{"reserved extra state", func(c *Config) { c.ExtraParams = map[string]string{"state": "x"} }, "extraParams.state", `"state" is set by the suite`},
		{"reserved extra challenge", func(c *Config) { c.ExtraParams = map[string]string{"code_challenge_method": "plain"} }, "extraParams.code_challenge_method", "code_challenge_method"},
		{"empty extra key", func(c *Config) { c.ExtraParams = map[string]string{"": "x"} }, "extraParams", "extra authorize parameter"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout", "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.edit(&cfg)
			p, err := New(cfg)
			if tt.wantField == "" {
				if err != nil || p == nil {
					t.Fatalf("New() = %v, %v; want a provider", p, err)
				}
				return
			}
			ce, ok := errors.AsType[*ConfigError](err)
			if !ok || ce.Field != tt.wantField || !strings.Contains(ce.Problem, tt.want) {
				t.Fatalf("New() error = %v, want a ConfigError for %s saying %q", err, tt.wantField, tt.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		timeout, wantTimeout, wantRevoke time.Duration
	}{
		{0, 5 * time.Second, 2 * time.Second},
		{time.Second, time.Second, time.Second},
		{10 * time.Second, 10 * time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		p := newProvider(t, "", "https://idp.example/token", "", tt.timeout)
		if p.timeout != tt.wantTimeout || p.revokeWait != tt.wantRevoke {
			t.Errorf("Timeout %v: timeout, revoke = %v, %v; want %v, %v", tt.timeout, p.timeout, p.revokeWait, tt.wantTimeout, tt.wantRevoke)
		}
	}
	p, err := New(Config{ClientID: "c", Endpoints: Endpoints{Authorize: "https://a.example/", Token: "https://a.example/t"}, Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.client == nil || p.now == nil {
		t.Errorf("New left client %v or clock nil", p.client)
	}
}

func TestAuthorizeURL(t *testing.T) {
	const (
		state    = "c3RhdGU"
		nonce    = "bm9uY2U"
		verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	)
	// RFC 7636 appendix B gives the challenge for that verifier.
	const wantChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if sum := sha256.Sum256([]byte(verifier)); base64.RawURLEncoding.EncodeToString(sum[:]) != wantChallenge {
		t.Fatal("test vector broken")
	}
	tests := []struct {
		name      string
		authorize string
		extra     map[string]string
		wantBase  string
		wantExtra url.Values
	}{
		{"plain", "https://idp.example/oauth2/authorize", nil, "https://idp.example/oauth2/authorize", nil},
		{"extra params", "https://idp.example/oauth2/authorize",
			map[string]string{"identity_provider": "Google", "prompt": "login", "login_hint": "a b&c"},
			"https://idp.example/oauth2/authorize",
			url.Values{"identity_provider": {"Google"}, "prompt": {"login"}, "login_hint": {"a b&c"}}},
		{"endpoint with query", "http://127.0.0.1:5556/auth?tenant=t1", nil, "http://127.0.0.1:5556/auth",
			url.Values{"tenant": {"t1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Config{
				ClientID:    testClientID,
				Endpoints:   Endpoints{Authorize: tt.authorize, Token: "https://idp.example/token"},
				Scopes:      []string{"openid", "email", "profile"},
				ExtraParams: tt.extra,
			})
			if err != nil {
				t.Fatal(err)
			}
			raw := p.AuthorizeURL(testRedirect, state, nonce, verifier)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("AuthorizeURL = %q: %v", raw, err)
			}
			if base := u.Scheme + "://" + u.Host + u.Path; base != tt.wantBase {
				t.Errorf("base = %q, want %q", base, tt.wantBase)
			}
			want := url.Values{
				"response_type":         {"code"},
				"client_id":             {testClientID},
				"redirect_uri":          {testRedirect},
				"scope":                 {"openid email profile"},
				"state":                 {state},
				"nonce":                 {nonce},
				"code_challenge":        {wantChallenge},
				"code_challenge_method": {"S256"},
			}
			for k, v := range tt.wantExtra {
				want[k] = v
			}
			if got := u.Query(); !reflect.DeepEqual(got, want) {
				t.Errorf("query = %v\nwant    %v", got, want)
			}
			if strings.Contains(raw, verifier) {
				t.Error("the authorize URL carries the PKCE verifier")
			}
		})
	}
}

// TestAuthorizeURLSuiteParamsWin checks the defence behind New's check: even
// an extra parameter named like a suite parameter cannot replace it.
func TestAuthorizeURLSuiteParamsWin(t *testing.T) {
	p := newProvider(t, "", "https://idp.example/token", "", 0)
	p.extra = map[string]string{}
	suite := []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"}
	for _, k := range suite {
		if !reserved(k) {
			t.Errorf("reserved(%q) = false, want true", k)
		}
		p.extra[k] = "evil"
	}
	u, err := url.Parse(p.AuthorizeURL(testRedirect, "st", "no", testVerifier))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, k := range suite {
		if got := q[k]; len(got) != 1 || got[0] == "evil" {
			t.Errorf("%s = %q, want the suite's single value", k, got)
		}
	}
}

func TestExchange(t *testing.T) {
	const okBody = `{"id_token":"ID.TOKEN.x","access_token":"ACCESS","refresh_token":"REFRESH","token_type":"Bearer","expires_in":3600}`
	want := &Tokens{IDToken: "ID.TOKEN.x", AccessToken: "ACCESS", RefreshToken: "REFRESH", Expiry: testNow.Add(time.Hour)}
	tests := []struct {
		name      string
		secret    string
		wantForm  url.Values
		wantBasic bool
		wantUser  string
		wantPass  string
	}{
		{"public client sends client_id in the body", "", url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {testCode},
			"code_verifier": {testVerifier},
			"redirect_uri":  {testRedirect},
			"client_id":     {testClientID},
		}, false, "", ""},
		{"confidential client uses HTTP Basic", testSecret, url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {testCode},
			"code_verifier": {testVerifier},
			"redirect_uri":  {testRedirect},
		}, true, testClientID, url.QueryEscape(testSecret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, http.StatusOK, okBody)
			p := newProvider(t, tt.secret, e.srv.URL+"/oauth2/token", "", 0)
			got, err := p.Exchange(context.Background(), testCode, testVerifier, testRedirect)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Exchange = %+v, want %+v", got, want)
			}
			reqs := e.requests()
			if len(reqs) != 1 {
				t.Fatalf("token endpoint saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != http.MethodPost || r.path != "/oauth2/token" || r.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("request = %s %s (%s), want POST /oauth2/token form", r.method, r.path, r.contentType)
			}
			if !reflect.DeepEqual(r.form, tt.wantForm) {
				t.Errorf("form = %v\nwant   %v", r.form, tt.wantForm)
			}
			if r.basic != tt.wantBasic || r.basicUser != tt.wantUser || r.basicPass != tt.wantPass {
				t.Errorf("basic auth = %v %q:%q, want %v %q:%q", r.basic, r.basicUser, r.basicPass, tt.wantBasic, tt.wantUser, tt.wantPass)
			}
		})
	}
}

func TestExchangeFormEncodedResponse(t *testing.T) {
	e := newEndpoint(t, http.StatusOK, "id_token=ID&access_token=AT&expires_in=60")
	e.contentType = "application/x-www-form-urlencoded"
	p := newProvider(t, "", e.srv.URL, "", 0)
	got, err := p.Exchange(context.Background(), testCode, testVerifier, testRedirect)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	want := &Tokens{IDToken: "ID", AccessToken: "AT", Expiry: testNow.Add(time.Minute)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Exchange = %+v, want %+v", got, want)
	}
}

// leaks lists what must never appear in an error message.
var leaks = []string{testCode, testVerifier, testRefresh, testSecret, "BODY-MARKER"}

func checkErr(t *testing.T, err, want error, wantText string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want errors.Is %v", err, want)
	}
	for _, s := range []error{ErrInvalidGrant, ErrRejected, ErrUnavailable, ErrNoRevocation} {
		if s != want && errors.Is(err, s) {
			t.Errorf("error %v also matches %v", err, s)
		}
	}
	msg := err.Error()
	for _, l := range leaks {
		if strings.Contains(msg, l) {
			t.Errorf("error %q leaks %q", msg, l)
		}
	}
	if !strings.Contains(msg, wantText) {
		t.Errorf("error %q does not mention %q", msg, wantText)
	}
}

// failures are token endpoint answers shared by the Exchange and Refresh tests.
var failures = []struct {
	name     string
	status   int
	ctype    string
	body     string
	block    bool
	closed   bool
	want     error
	wantText string
}{
	{name: "connection refused", closed: true, want: ErrUnavailable, wantText: "connection refused"},
	{name: "timeout", block: true, want: ErrUnavailable, wantText: "deadline exceeded"},
	{name: "500", status: 500, ctype: "text/plain", body: "BODY-MARKER oops", want: ErrUnavailable, wantText: "status 500"},
	{name: "503 with code", status: 503, body: `{"error":"temporarily_unavailable","error_description":"BODY-MARKER"}`, want: ErrUnavailable, wantText: "temporarily_unavailable"},
	{name: "429", status: 429, body: `{}`, want: ErrUnavailable, wantText: "status 429"},
	{name: "invalid JSON", status: 200, body: `{"access_token":"BODY-MARKER`, want: ErrUnavailable, wantText: "malformed response"},
	{name: "no access token", status: 200, body: `{"id_token":"BODY-MARKER"}`, want: ErrUnavailable, wantText: "malformed response"},
	{name: "invalid_grant 400", status: 400, body: `{"error":"invalid_grant","error_description":"BODY-MARKER"}`, want: ErrInvalidGrant, wantText: `"invalid_grant"`},
	{name: "invalid_client 401", status: 401, body: `{"error":"invalid_client"}`, want: ErrRejected, wantText: `"invalid_client", status 401`},
	{name: "error code with status 200", status: 200, body: `{"error":"unauthorized_client","access_token":"x"}`, want: ErrRejected, wantText: "unauthorized_client"},
	{name: "404 html", status: 404, ctype: "text/html", body: "<h1>BODY-MARKER</h1>", want: ErrRejected, wantText: "status 404"},
	{name: "hostile error code", status: 400, body: `{"error":"BODY-MARKER\n with newline"}`, want: ErrRejected, wantText: `"invalid"`},
}

// failingEndpoint serves failures[i]; e is nil for a closed server.
func failingEndpoint(t *testing.T, i int) (tokenURL string, e *endpoint) {
	t.Helper()
	f := failures[i]
	if f.closed {
		return closedURL(t), nil
	}
	e = newEndpoint(t, f.status, f.body)
	if f.ctype != "" {
		e.contentType = f.ctype
	}
	e.block = f.block
	return e.srv.URL, e
}

// checkOneRequest fails unless the endpoint was called exactly once: x/oauth2's
// auth style probing would send a single-use code twice.
func checkOneRequest(t *testing.T, e *endpoint) {
	t.Helper()
	if e == nil {
		return
	}
	if n := len(e.requests()); n != 1 {
		t.Errorf("token endpoint saw %d requests, want 1", n)
	}
}

func TestExchangeErrors(t *testing.T) {
	for i, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			tokenURL, e := failingEndpoint(t, i)
			p := newProvider(t, testSecret, tokenURL, "", 50*time.Millisecond)
			tok, err := p.Exchange(context.Background(), testCode, testVerifier, testRedirect)
			if tok != nil {
				t.Errorf("Exchange returned tokens %+v with error %v", tok, err)
			}
			checkErr(t, err, f.want, f.wantText)
			checkOneRequest(t, e)
		})
	}
}

func TestExchangeUntrustedCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// newProvider's client does not trust the test server's certificate.
	p := newProvider(t, "", srv.URL, "", 0)
	_, err := p.Exchange(context.Background(), testCode, testVerifier, testRedirect)
	checkErr(t, err, ErrUnavailable, "certificate")
}

func TestExchangeRequiresIDToken(t *testing.T) {
	e := newEndpoint(t, 200, `{"access_token":"AT","refresh_token":"RT","expires_in":3600}`)
	p := newProvider(t, "", e.srv.URL, "", 0)
	_, err := p.Exchange(context.Background(), testCode, testVerifier, testRedirect)
	checkErr(t, err, ErrUnavailable, "no id_token")
}

func TestExchangeBadInput(t *testing.T) {
	e := newEndpoint(t, 200, `{"id_token":"I","access_token":"A"}`)
	p := newProvider(t, "", e.srv.URL, "", 0)
	if _, err := p.Exchange(context.Background(), "", testVerifier, testRedirect); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("empty code: error = %v, want ErrInvalidGrant", err)
	}
	for _, v := range []string{"", "short", strings.Repeat("a", 129), strings.Repeat("a", 42) + "+"} {
		_, err := p.Exchange(context.Background(), testCode, v, testRedirect)
		if err == nil || !strings.Contains(err.Error(), "malformed pkce verifier") || (v != "" && strings.Contains(err.Error(), v)) {
			t.Errorf("verifier %q: error = %v, want a malformed-verifier error", v, err)
		}
	}
	if n := len(e.requests()); n != 0 {
		t.Errorf("bad input reached the IdP %d times", n)
	}
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		body   string
		want   *Tokens
	}{
		{"rotated, with id token, public", "",
			`{"id_token":"ID2","access_token":"AT2","refresh_token":"RT2","expires_in":300}`,
			&Tokens{IDToken: "ID2", AccessToken: "AT2", RefreshToken: "RT2", Expiry: testNow.Add(5 * time.Minute)}},
		{"not rotated, confidential", testSecret,
			`{"id_token":"ID2","access_token":"AT2","expires_in":300}`,
			&Tokens{IDToken: "ID2", AccessToken: "AT2", Expiry: testNow.Add(5 * time.Minute)}},
		{"same token echoed counts as not rotated", "",
			`{"id_token":"ID2","access_token":"AT2","refresh_token":"` + testRefresh + `"}`,
			&Tokens{IDToken: "ID2", AccessToken: "AT2"}},
		{"no id token is not an error", "",
			`{"access_token":"AT2","token_type":"Bearer"}`,
			&Tokens{AccessToken: "AT2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, 200, tt.body)
			p := newProvider(t, tt.secret, e.srv.URL+"/token", "", 0)
			got, err := p.Refresh(context.Background(), testRefresh)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Refresh = %+v, want %+v", got, tt.want)
			}
			reqs := e.requests()
			if len(reqs) != 1 {
				t.Fatalf("token endpoint saw %d requests, want 1", len(reqs))
			}
			wantForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {testRefresh}}
			if tt.secret == "" {
				wantForm.Set("client_id", testClientID)
			}
			r := reqs[0]
			if r.method != http.MethodPost || r.path != "/token" || !reflect.DeepEqual(r.form, wantForm) {
				t.Errorf("request = %s %s %v, want POST /token %v", r.method, r.path, r.form, wantForm)
			}
			if r.basic != (tt.secret != "") || (r.basic && (r.basicUser != testClientID || r.basicPass != url.QueryEscape(tt.secret))) {
				t.Errorf("basic auth = %v %q:%q", r.basic, r.basicUser, r.basicPass)
			}
		})
	}
}

func TestRefreshErrors(t *testing.T) {
	for i, f := range failures {
		if f.name == "no access token" || f.name == "error code with status 200" {
			continue // same code path as Exchange; covered there
		}
		t.Run(f.name, func(t *testing.T) {
			tokenURL, e := failingEndpoint(t, i)
			p := newProvider(t, "", tokenURL, "", 50*time.Millisecond)
			tok, err := p.Refresh(context.Background(), testRefresh)
			if tok != nil {
				t.Errorf("Refresh returned tokens %+v with error %v", tok, err)
			}
			checkErr(t, err, f.want, f.wantText)
			checkOneRequest(t, e)
		})
	}
	t.Run("empty refresh token", func(t *testing.T) {
		p := newProvider(t, "", closedURL(t), "", 0)
		_, err := p.Refresh(context.Background(), "")
		checkErr(t, err, ErrInvalidGrant, "empty refresh token")
	})
}

func TestRevoke(t *testing.T) {
	for _, secret := range []string{"", testSecret} {
		t.Run("wire format, secret="+map[bool]string{true: "yes", false: "no"}[secret != ""], func(t *testing.T) {
			e := newEndpoint(t, 200, "")
			p := newProvider(t, secret, "https://idp.example/token", e.srv.URL+"/oauth2/revoke", 0)
			if err := p.Revoke(context.Background(), testRefresh); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			reqs := e.requests()
			if len(reqs) != 1 {
				t.Fatalf("revocation endpoint saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			wantForm := url.Values{"token": {testRefresh}, "token_type_hint": {"refresh_token"}}
			if secret == "" {
				wantForm.Set("client_id", testClientID)
			}
			if r.method != http.MethodPost || r.path != "/oauth2/revoke" || r.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("request = %s %s (%s)", r.method, r.path, r.contentType)
			}
			if !reflect.DeepEqual(r.form, wantForm) {
				t.Errorf("form = %v, want %v", r.form, wantForm)
			}
			if r.basic != (secret != "") || (r.basic && (r.basicUser != testClientID || r.basicPass != url.QueryEscape(secret))) {
				t.Errorf("basic auth = %v %q:%q", r.basic, r.basicUser, r.basicPass)
			}
		})
	}

	tests := []struct {
		name     string
		status   int
		body     string
		block    bool
		closed   bool
		unset    bool
		want     error
		wantText string
	}{
		{name: "200", status: 200, body: "{}"},
		{name: "204", status: 204},
		{name: "400 unsupported_token_type", status: 400, body: `{"error":"unsupported_token_type","error_description":"BODY-MARKER"}`, want: ErrRejected, wantText: `"unsupported_token_type", status 400`},
		{name: "400 without JSON", status: 400, body: "BODY-MARKER", want: ErrRejected, wantText: "status 400"},
		{name: "401 invalid_client", status: 401, body: `{"error":"invalid_client"}`, want: ErrRejected, wantText: "invalid_client"},
		{name: "400 invalid_grant", status: 400, body: `{"error":"invalid_grant"}`, want: ErrInvalidGrant, wantText: "invalid_grant"},
		{name: "503", status: 503, body: "BODY-MARKER", want: ErrUnavailable, wantText: "status 503"},
		{name: "timeout", block: true, want: ErrUnavailable, wantText: "deadline exceeded"},
		{name: "connection refused", closed: true, want: ErrUnavailable, wantText: "connection refused"},
		{name: "unset endpoint", unset: true, want: ErrNoRevocation, wantText: "no revocation endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var revokeURL string
			switch {
			case tt.unset:
			case tt.closed:
				revokeURL = closedURL(t)
			default:
				e := newEndpoint(t, tt.status, tt.body)
				e.block = tt.block
				revokeURL = e.srv.URL
			}
			p := newProvider(t, testSecret, "https://idp.example/token", revokeURL, 50*time.Millisecond)
			err := p.Revoke(context.Background(), testRefresh)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Revoke: %v", err)
				}
				return
			}
			checkErr(t, err, tt.want, tt.wantText)
		})
	}

	t.Run("empty token", func(t *testing.T) {
		e := newEndpoint(t, 200, "")
		p := newProvider(t, "", "https://idp.example/token", e.srv.URL, 0)
		if err := p.Revoke(context.Background(), ""); err == nil {
			t.Error("Revoke(\"\") succeeded")
		}
		if n := len(e.requests()); n != 0 {
			t.Errorf("empty token reached the IdP %d times", n)
		}
	})
}

func TestLogoutURL(t *testing.T) {
	const returnTo = "https://d111.cloudfront.net/"
	tests := []struct {
		name      string
		endpoints Endpoints
		idToken   string
		returnTo  string
		want      string // "" means no URL
		wantBase  string
		wantQuery url.Values
	}{
		{name: "cognito", endpoints: Endpoints{Logout: "https://x.auth.us-east-1.amazoncognito.com/logout", CognitoLogout: true},
			idToken: "ID.TOKEN", returnTo: returnTo,
			wantBase: "https://x.auth.us-east-1.amazoncognito.com/logout", wantQuery: url.Values{"client_id": {testClientID}, "logout_uri": {returnTo}}},
		{name: "oidc with id token", endpoints: Endpoints{Logout: "http://127.0.0.1:5556/dex/logout"},
			idToken: "ID.TOKEN", returnTo: returnTo,
			wantBase: "http://127.0.0.1:5556/dex/logout", wantQuery: url.Values{"client_id": {testClientID}, "post_logout_redirect_uri": {returnTo}, "id_token_hint": {"ID.TOKEN"}}},
		{name: "oidc without id token", endpoints: Endpoints{Logout: "https://idp.example/end?tenant=a"},
			returnTo: returnTo,
			wantBase: "https://idp.example/end", wantQuery: url.Values{"tenant": {"a"}, "client_id": {testClientID}, "post_logout_redirect_uri": {returnTo}}},
		{name: "oidc without return", endpoints: Endpoints{Logout: "https://idp.example/end"},
			wantBase: "https://idp.example/end", wantQuery: url.Values{"client_id": {testClientID}}},
		{name: "none", endpoints: Endpoints{}, idToken: "ID.TOKEN", returnTo: returnTo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.endpoints.Authorize, tt.endpoints.Token = "https://idp.example/a", "https://idp.example/t"
			p, err := New(Config{ClientID: testClientID, Endpoints: tt.endpoints, Scopes: []string{"openid"}})
			if err != nil {
				t.Fatal(err)
			}
			got := p.LogoutURL(tt.returnTo, tt.idToken)
			if tt.wantBase == "" {
				if got != "" {
					t.Errorf("LogoutURL = %q, want \"\"", got)
				}
				return
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("LogoutURL = %q: %v", got, err)
			}
			if base := u.Scheme + "://" + u.Host + u.Path; base != tt.wantBase {
				t.Errorf("base = %q, want %q", base, tt.wantBase)
			}
			if q := u.Query(); !reflect.DeepEqual(q, tt.wantQuery) {
				t.Errorf("query = %v, want %v", q, tt.wantQuery)
			}
		})
	}
}

func TestNewVerifierAndNonce(t *testing.T) {
	for name, gen := range map[string]func() string{"NewVerifier": NewVerifier, "NewNonce": NewNonce} {
		a, b := gen(), gen()
		if len(a) != 43 || !validVerifier(a) {
			t.Errorf("%s() = %q, want 43 base64url characters", name, a)
		}
		if a == b {
			t.Errorf("%s() returned %q twice", name, a)
		}
	}
}

func TestSanitizeCode(t *testing.T) {
	tests := map[string]string{
		"invalid_grant":            "invalid_grant",
		"":                         "",
		"a\nb":                     "invalid",
		`a"b`:                      "invalid",
		"é":                        "invalid",
		strings.Repeat("x", 64):    strings.Repeat("x", 64),
		strings.Repeat("x", 65):    "invalid",
		"temporarily_unavailable ": "temporarily_unavailable ",
	}
	for in, want := range tests {
		if got := SafeErrorCode(in); got != want {
			t.Errorf("SafeErrorCode(%q) = %q, want %q", in, got, want)
		}
	}
}
