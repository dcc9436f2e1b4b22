package dex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/idpproc"
)

// revokeRequest describes one call to the revocation endpoint.
type revokeRequest struct {
	method      string // default POST
	contentType string // default form
	basic       []string
	authz       string // a raw Authorization header
	form        url.Values
	rawBody     string // instead of form
}

type revokeAnswer struct {
	status int
	code   string // the OAuth error code, "" on success
	header http.Header
}

func callRevoke(t *testing.T, endpoint string, rr revokeRequest) revokeAnswer {
	t.Helper()
	if rr.method == "" {
		rr.method = http.MethodPost
	}
	body := rr.rawBody
	if rr.form != nil {
		body = rr.form.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), rr.method, endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ct := rr.contentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", ct)
	if rr.basic != nil {
		req.SetBasicAuth(rr.basic[0], rr.basic[1])
	}
	if rr.authz != "" {
		req.Header.Set("Authorization", rr.authz)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("revocation request: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
			t.Errorf("error response %d is not an OAuth error: %q", resp.StatusCode, b)
		}
	}
	return revokeAnswer{status: resp.StatusCode, code: e.Error, header: resp.Header}
}

// dexLogin signs u in at s and exchanges the code, with offline_access.
func dexLogin(t *testing.T, s *Server, conf *oauth2.Config, u User) *oauth2.Token {
	t.Helper()
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	verifier := oauth2.GenerateVerifier()
	back, err := s.Login(ctx, newJarClient(t), conf.AuthCodeURL(idpproc.RandomString(16), oauth2.S256ChallengeOption(verifier)), u)
	if err != nil {
		t.Fatalf("Login %s: %v", u.Email, err)
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange for %s: %v", u.Email, err)
	}
	if tok.RefreshToken == "" {
		t.Fatalf("no refresh token for %s", u.Email)
	}
	return tok
}

func refreshTokens(t *testing.T, s *Server, u User) int {
	t.Helper()
	n, err := s.RefreshTokens(t.Context(), u.Subject())
	if err != nil {
		t.Fatalf("RefreshTokens(%s): %v", u.Email, err)
	}
	return n
}

// TestDexRevocationEndpoint drives the harness's RFC 7009 endpoint against
// a real Dex: client authentication, malformed requests, and revocation
// that Dex's admin API and token endpoint both see.
func TestDexRevocationEndpoint(t *testing.T) {
	const redirect = "http://localhost:8080/parseauth" // never visited
	s := StartForTest(t, Options{RedirectURIs: []string{redirect}})
	conf := s.OAuth2Config(redirect)
	endpoint := s.RevocationEndpoint()
	if u, err := url.Parse(endpoint); err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("RevocationEndpoint() = %q, want http on 127.0.0.1", endpoint)
	}
	alice, bob := DemoUsers()[0], DemoUsers()[1]
	if n := refreshTokens(t, s, alice); n != 0 {
		t.Fatalf("alice has %d refresh tokens before login, want 0", n)
	}
	tok := dexLogin(t, s, conf, alice)
	if n := refreshTokens(t, s, alice); n != 1 {
		t.Fatalf("alice has %d refresh tokens after login, want 1", n)
	}
	good := []string{url.QueryEscape(s.ClientID), url.QueryEscape(s.ClientSecret)}
	refreshForm := url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}

	t.Run("rejected requests revoke nothing", func(t *testing.T) {
		withBody := func(extra url.Values) url.Values {
			f := url.Values{"token": {tok.RefreshToken}}
			for k, v := range extra {
				f[k] = v
			}
			return f
		}
		for name, tc := range map[string]struct {
			rr     revokeRequest
			status int
			code   string
		}{
			"GET":                           {revokeRequest{method: http.MethodGet, basic: good}, 405, "invalid_request"},
			"no client authentication":      {revokeRequest{form: refreshForm}, 401, "invalid_client"},
			"wrong secret (basic)":          {revokeRequest{basic: []string{good[0], "wrong"}, form: refreshForm}, 401, "invalid_client"},
			"wrong client id (basic)":       {revokeRequest{basic: []string{"other", good[1]}, form: refreshForm}, 401, "invalid_client"},
			"wrong secret (body)":           {revokeRequest{form: withBody(url.Values{"client_id": {s.ClientID}, "client_secret": {"wrong"}})}, 401, "invalid_client"},
			"client id without a secret":    {revokeRequest{form: withBody(url.Values{"client_id": {s.ClientID}})}, 401, "invalid_client"},
			"bearer instead of the client":  {revokeRequest{authz: "Bearer " + tok.AccessToken, form: refreshForm}, 401, "invalid_client"},
			"credentials in the query only": {revokeRequest{form: refreshForm}, 401, "invalid_client"},
			"two authentication methods":    {revokeRequest{basic: good, form: withBody(url.Values{"client_id": {s.ClientID}, "client_secret": {s.ClientSecret}})}, 400, "invalid_request"},
			"no token":                      {revokeRequest{basic: good, form: url.Values{"token_type_hint": {"refresh_token"}}}, 400, "invalid_request"},
			"token twice":                   {revokeRequest{basic: good, form: url.Values{"token": {tok.RefreshToken, "x"}}}, 400, "invalid_request"},
			"JSON body":                     {revokeRequest{basic: good, contentType: "application/json", rawBody: `{"token":"x"}`}, 400, "invalid_request"},
			"bad form":                      {revokeRequest{basic: good, rawBody: "token=%zz"}, 400, "invalid_request"},
			"an access token":               {revokeRequest{basic: good, form: url.Values{"token": {tok.AccessToken}}}, 400, "unsupported_token_type"},
		} {
			t.Run(name, func(t *testing.T) {
				ep := endpoint
				if name == "credentials in the query only" {
					ep += "?" + url.Values{"client_id": {s.ClientID}, "client_secret": {s.ClientSecret}}.Encode()
				}
				got := callRevoke(t, ep, tc.rr)
				if got.status != tc.status || got.code != tc.code {
					t.Errorf("status %d error %q, want %d %q", got.status, got.code, tc.status, tc.code)
				}
				if got.status == 401 && !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("401 without a Basic challenge: %q", got.header.Get("WWW-Authenticate"))
				}
				if got.status == 405 && got.header.Get("Allow") != http.MethodPost {
					t.Errorf("405 with Allow %q, want POST", got.header.Get("Allow"))
				}
			})
		}
		if n := refreshTokens(t, s, alice); n != 1 {
			t.Fatalf("alice has %d refresh tokens after rejected requests, want 1", n)
		}
	})

	t.Run("unknown token", func(t *testing.T) {
		for _, token := range []string{"not-a-token", "Cg5ub3QtYS1yZWZyZXNoEgF4", "a.b.c"} {
			if got := callRevoke(t, endpoint, revokeRequest{basic: good, form: url.Values{"token": {token}}}); got.status != 200 {
				t.Errorf("unknown token %q: status %d %q, want 200", token, got.status, got.code)
			}
		}
		if n := refreshTokens(t, s, alice); n != 1 {
			t.Fatalf("alice has %d refresh tokens after unknown tokens, want 1", n)
		}
	})

	t.Run("revoke with basic", func(t *testing.T) {
		if got := callRevoke(t, endpoint, revokeRequest{basic: good, form: refreshForm}); got.status != 200 {
			t.Fatalf("revoke: status %d %q, want 200", got.status, got.code)
		}
		if n := refreshTokens(t, s, alice); n != 0 {
			t.Errorf("alice has %d refresh tokens after revocation, want 0", n)
		}
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
		_, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadRequest || re.ErrorCode != "invalid_request" {
			t.Errorf("refresh with the revoked token: err = %v; want Dex's 400 invalid_request", err)
		}
		// Revoking again: the token is unknown now, still 200.
		if got := callRevoke(t, endpoint, revokeRequest{basic: good, form: refreshForm}); got.status != 200 {
			t.Errorf("second revoke: status %d %q, want 200", got.status, got.code)
		}
	})

	t.Run("revoke with credentials in the body", func(t *testing.T) {
		btok := dexLogin(t, s, conf, bob)
		if n := refreshTokens(t, s, bob); n != 1 {
			t.Fatalf("bob has %d refresh tokens after login, want 1", n)
		}
		form := url.Values{"token": {btok.RefreshToken}, "client_id": {s.ClientID}, "client_secret": {s.ClientSecret}, "token_type_hint": {"no-such-hint"}}
		if got := callRevoke(t, endpoint, revokeRequest{form: form}); got.status != 200 {
			t.Fatalf("revoke: status %d %q, want 200", got.status, got.code)
		}
		if n := refreshTokens(t, s, bob); n != 0 {
			t.Errorf("bob has %d refresh tokens after revocation, want 0", n)
		}
	})
}

// fakeDex stands in for Dex's introspection and admin API.
type fakeDex struct {
	info       tokenInfo
	introErr   error
	revokeErr  error
	revokedSub []string
}

func (f *fakeDex) handler(log *slog.Logger) *revocationHandler {
	return &revocationHandler{
		clientID:     "my app",
		clientSecret: "s3cr+t/%&=",
		introspect: func(context.Context, string) (tokenInfo, error) {
			return f.info, f.introErr
		},
		revoke: func(_ context.Context, sub string) error {
			f.revokedSub = append(f.revokedSub, sub)
			return f.revokeErr
		},
		log: log,
	}
}

// TestRevocationHandler covers what a healthy single-client Dex cannot
// show: Dex failing, a token of another client, and credentials that need
// form-encoding inside HTTP Basic.
func TestRevocationHandler(t *testing.T) {
	const token = "the-refresh-token-value"
	active := tokenInfo{Active: true, ClientID: "my app", Subject: "CgF1EgFj", TokenUse: "refresh_token"}
	encoded := []string{url.QueryEscape("my app"), url.QueryEscape("s3cr+t/%&=")}
	form := url.Values{"token": {token}}
	for name, tc := range map[string]struct {
		dex         fakeDex
		basic       []string
		form        url.Values
		status      int
		code        string
		wantRevoked bool
	}{
		"revoked":                  {dex: fakeDex{info: active}, basic: encoded, form: form, status: 200, wantRevoked: true},
		"body credentials":         {dex: fakeDex{info: active}, form: url.Values{"token": {token}, "client_id": {"my app"}, "client_secret": {"s3cr+t/%&="}}, status: 200, wantRevoked: true},
		"basic not form-encoded":   {dex: fakeDex{info: active}, basic: []string{"my app", "s3cr+t/%&="}, form: form, status: 401, code: "invalid_client"},
		"body client id differs":   {dex: fakeDex{info: active}, basic: encoded, form: url.Values{"token": {token}, "client_id": {"other"}}, status: 400, code: "invalid_request"},
		"inactive":                 {dex: fakeDex{info: tokenInfo{}}, basic: encoded, form: form, status: 200},
		"another client's token":   {dex: fakeDex{info: tokenInfo{Active: true, ClientID: "other", Subject: "CgF1EgFj", TokenUse: "refresh_token"}}, basic: encoded, form: form, status: 400, code: "invalid_grant"},
		"access token":             {dex: fakeDex{info: tokenInfo{Active: true, ClientID: "my app", Subject: "CgF1EgFj", TokenUse: "access_token"}}, basic: encoded, form: form, status: 400, code: "unsupported_token_type"},
		"introspection fails":      {dex: fakeDex{introErr: errors.New("connection refused")}, basic: encoded, form: form, status: 503, code: "temporarily_unavailable"},
		"admin API fails":          {dex: fakeDex{info: active, revokeErr: errors.New("rpc error: code = Unavailable")}, basic: encoded, form: form, status: 503, code: "temporarily_unavailable", wantRevoked: true},
		"body too large":           {dex: fakeDex{info: active}, basic: encoded, form: url.Values{"token": {strings.Repeat("x", maxRevokeBody)}}, status: 400, code: "invalid_request"},
		"empty token":              {dex: fakeDex{info: active}, basic: encoded, form: url.Values{"token": {""}}, status: 400, code: "invalid_request"},
		"secret twice in the body": {dex: fakeDex{info: active}, form: url.Values{"token": {token}, "client_id": {"my app"}, "client_secret": {"s3cr+t/%&=", "x"}}, status: 400, code: "invalid_request"},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			h := tc.dex.handler(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			srv := httptest.NewServer(h)
			defer srv.Close()
			got := callRevoke(t, srv.URL, revokeRequest{basic: tc.basic, form: tc.form})
			if got.status != tc.status || got.code != tc.code {
				t.Errorf("status %d error %q, want %d %q", got.status, got.code, tc.status, tc.code)
			}
			if tc.status == 503 && got.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if revoked := len(tc.dex.revokedSub) > 0; revoked != tc.wantRevoked {
				t.Errorf("admin API called: %t, want %t", revoked, tc.wantRevoked)
			} else if revoked && tc.dex.revokedSub[0] != active.Subject {
				t.Errorf("revoked subject %q, want %q", tc.dex.revokedSub[0], active.Subject)
			}
			if l := logs.String(); strings.Contains(l, token) || strings.Contains(l, "s3cr") {
				t.Errorf("a token or the secret reached the log: %s", l)
			}
		})
	}
}
