package idp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testResource = "https://api.example.test"

func resourceProvider(t *testing.T, secret, tokenURL string) *Provider {
	t.Helper()
	p, err := New(Config{
		ClientID: testClientID, ClientSecret: secret,
		Endpoints: Endpoints{Authorize: "https://idp.example/auth", Token: tokenURL},
		Scopes:    []string{"openid"}, Resource: testResource,
		HTTPClient: &http.Client{}, Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestResourceSent: RFC 8707's resource goes to the authorize endpoint and
// with the code exchange and every refresh (oidc-provider issues the JWT
// for the API only when the token request names it too).
func TestResourceSent(t *testing.T) {
	e := newEndpoint(t, 200, `{"id_token":"I","access_token":"A","refresh_token":"R2"}`)
	p := resourceProvider(t, testSecret, e.srv.URL)
	u, err := url.Parse(p.AuthorizeURL(testRedirect, "st", "no", testVerifier))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query()["resource"]; !reflect.DeepEqual(got, []string{testResource}) {
		t.Errorf("authorize resource = %q, want %q", got, testResource)
	}
	if _, err := p.Exchange(context.Background(), testCode, testVerifier, testRedirect); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Refresh(context.Background(), testRefresh); err != nil {
		t.Fatal(err)
	}
	reqs := e.requests()
	if len(reqs) != 2 {
		t.Fatalf("token endpoint saw %d requests, want 2", len(reqs))
	}
	for i, grant := range []string{"authorization_code", "refresh_token"} {
		f := reqs[i].form
		if f.Get("grant_type") != grant || f.Get("resource") != testResource || !reqs[i].basic {
			t.Errorf("%s request form %v (basic %v), want resource=%s with Basic auth", grant, f, reqs[i].basic, testResource)
		}
	}
	// Without a resource, none is sent.
	plain := newProvider(t, "", e.srv.URL, "", 0)
	if strings.Contains(plain.AuthorizeURL(testRedirect, "st", "no", testVerifier), "resource=") {
		t.Error("authorize URL carries resource without one configured")
	}
	if _, err := plain.Refresh(context.Background(), testRefresh); err != nil {
		t.Fatal(err)
	}
	if f := e.requests()[2].form; f.Has("resource") || f.Get("client_id") != testClientID {
		t.Errorf("refresh without resource: form %v", f)
	}
}

func TestResourceConfig(t *testing.T) {
	for _, tt := range []struct {
		resource string
		extra    map[string]string
		field    string
	}{
		{"api.example.test", nil, "resource"},
		{"https://api.example.test/#x", nil, "resource"},
		{"", map[string]string{"resource": testResource}, "extraParams.resource"},
	} {
		_, err := New(Config{
			ClientID: testClientID, Endpoints: Endpoints{Authorize: "https://idp.example/a", Token: "https://idp.example/t"},
			Scopes: []string{"openid"}, Resource: tt.resource, ExtraParams: tt.extra,
		})
		ce, ok := errors.AsType[*ConfigError](err)
		if !ok || ce.Field != tt.field {
			t.Errorf("New(resource %q, extra %v) = %v, want a ConfigError for %s", tt.resource, tt.extra, err, tt.field)
		}
	}
	if _, err := New(Config{
		ClientID: testClientID, Endpoints: Endpoints{Authorize: "https://idp.example/a", Token: "https://idp.example/t"},
		Scopes: []string{"openid"}, Resource: "urn:example:api",
	}); err != nil {
		t.Errorf("New(resource urn:example:api) = %v, want an absolute URI accepted", err)
	}
}

func TestRefreshFormEncodedAnswer(t *testing.T) {
	e := newEndpoint(t, 200, "access_token=AT&id_token=ID&refresh_token=RT2&expires_in=60")
	e.contentType = "application/x-www-form-urlencoded"
	got, err := newProvider(t, "", e.srv.URL, "", 0).Refresh(context.Background(), testRefresh)
	want := &Tokens{AccessToken: "AT", IDToken: "ID", RefreshToken: "RT2", Expiry: testNow.Add(time.Minute)}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Refresh = %+v, %v; want %+v", got, err, want)
	}
}

func introspectProvider(t *testing.T, secret, introspectURL string, timeout time.Duration) *Provider {
	t.Helper()
	p, err := New(Config{
		ClientID: testClientID, ClientSecret: secret,
		Endpoints:  Endpoints{Authorize: "https://idp.example/a", Token: "https://idp.example/t", Introspection: introspectURL, Userinfo: introspectURL},
		Scopes:     []string{"openid"},
		HTTPClient: &http.Client{}, Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIntrospect(t *testing.T) {
	for _, secret := range []string{"", testSecret} {
		e := newEndpoint(t, 200, `{"active":true,"sub":"u","aud":"x","exp":1767225600}`)
		got, err := introspectProvider(t, secret, e.srv.URL+"/introspect", 0).Introspect(context.Background(), "OPAQUE")
		if err != nil || got["active"] != true || got["sub"] != "u" {
			t.Fatalf("Introspect = %v, %v", got, err)
		}
		r := e.requests()[0]
		want := url.Values{"token": {"OPAQUE"}, "token_type_hint": {"access_token"}}
		if secret == "" {
			want.Set("client_id", testClientID)
		}
		if r.method != http.MethodPost || r.path != "/introspect" || !reflect.DeepEqual(r.form, want) ||
			r.basic != (secret != "") || (r.basic && (r.basicUser != testClientID || r.basicPass != url.QueryEscape(secret))) {
			t.Errorf("request = %+v, want POST /introspect %v authenticated as at the token endpoint", r, want)
		}
	}
	e := newEndpoint(t, 200, `{"active":false}`)
	if got, err := introspectProvider(t, "", e.srv.URL, 0).Introspect(context.Background(), "X"); err != nil || got["active"] != false {
		t.Errorf("Introspect(inactive) = %v, %v; an inactive token is an answer, not an error", got, err)
	}
	big := newEndpoint(t, 200, `{"active":true,"x":"`+strings.Repeat("a", maxAnswer)+`"}`)
	_, err := introspectProvider(t, "", big.srv.URL, 0).Introspect(context.Background(), "X")
	checkErr(t, err, ErrUnavailable, "answer over")
	p, _ := New(Config{ClientID: testClientID, Endpoints: configEndpoints("https://idp.example/t"), Scopes: []string{"openid"}})
	if _, err := p.Introspect(context.Background(), "X"); !errors.Is(err, ErrNoIntrospection) {
		t.Errorf("Introspect without an endpoint = %v, want ErrNoIntrospection", err)
	}
}

func TestIntrospectErrors(t *testing.T) {
	for i, f := range failures {
		if f.name == "no access token" || f.name == "error code with status 200" {
			continue // token-endpoint answers; any JSON object is an introspection answer
		}
		t.Run(f.name, func(t *testing.T) {
			u, e := failingEndpoint(t, i)
			got, err := introspectProvider(t, "", u, 50*time.Millisecond).Introspect(context.Background(), testRefresh)
			if got != nil {
				t.Errorf("Introspect returned %v with error %v", got, err)
			}
			checkErr(t, err, f.want, f.wantText)
			checkOneRequest(t, e)
		})
	}
}

// userinfoServer answers GET with status, content type and body, and
// records the Authorization header.
func userinfoServer(t *testing.T, status int, ctype, body string) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestUserinfo(t *testing.T) {
	srv, seen := userinfoServer(t, 200, "application/json; charset=utf-8", `{"sub":"u","realm_access":{"roles":["a"]}}`)
	got, err := introspectProvider(t, testSecret, srv.URL, 0).Userinfo(context.Background(), "ACCESS")
	if err != nil || got["sub"] != "u" {
		t.Fatalf("Userinfo = %v, %v", got, err)
	}
	if (*seen)[0] != "GET Bearer ACCESS" {
		t.Errorf("userinfo request = %q, want GET with the access token as Bearer", (*seen)[0])
	}
	for _, tt := range []struct {
		name         string
		status       int
		ctype, body  string
		want         error
		wantText     string
		closedServer bool
	}{
		{name: "token not good for userinfo", status: 401, ctype: "application/json", body: `{"error":"invalid_token"}`, want: ErrRejected, wantText: "invalid_token"},
		{name: "signed answer", status: 200, ctype: "application/jwt", body: "eyJ.BODY-MARKER.x", want: ErrRejected, wantText: "application/jwt"},
		{name: "not json", status: 200, ctype: "application/json", body: "BODY-MARKER", want: ErrUnavailable, wantText: "malformed response"},
		{name: "json array", status: 200, ctype: "application/json", body: `["BODY-MARKER"]`, want: ErrUnavailable, wantText: "malformed response"},
		{name: "503", status: 503, ctype: "text/html", body: "BODY-MARKER", want: ErrUnavailable, wantText: "status 503"},
		{name: "down", closedServer: true, want: ErrUnavailable, wantText: "connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := closedURL(t)
			if !tt.closedServer {
				s, _ := userinfoServer(t, tt.status, tt.ctype, tt.body)
				u = s.URL
			}
			got, err := introspectProvider(t, "", u, 0).Userinfo(context.Background(), "ACCESS")
			if got != nil {
				t.Errorf("Userinfo returned %v with %v", got, err)
			}
			checkErr(t, err, tt.want, tt.wantText)
		})
	}
	p, _ := New(Config{ClientID: testClientID, Endpoints: configEndpoints("https://idp.example/t"), Scopes: []string{"openid"}})
	if _, err := p.Userinfo(context.Background(), "X"); !errors.Is(err, ErrNoUserinfo) {
		t.Errorf("Userinfo without an endpoint = %v, want ErrNoUserinfo", err)
	}
}

// FuzzRefreshResponse feeds arbitrary token endpoint answers to Refresh,
// which reads them itself: never a panic, success only with an access
// token, and every failure exactly one sentinel with a short message.
func FuzzRefreshResponse(f *testing.F) {
	f.Add(200, "application/json", `{"id_token":"i","access_token":"a","refresh_token":"r","expires_in":3600}`)
	f.Add(200, "application/json", `{"access_token":"a","expires_in":"60"}`)
	f.Add(200, "application/json", `{"error":"invalid_grant"}`)
	f.Add(400, "application/json", `{"error":"invalid_grant"}`)
	f.Add(200, "application/x-www-form-urlencoded", `access_token=a&expires_in=9`)
	f.Add(200, "text/plain", `%zz`)
	f.Add(200, "application/json", `{"access_token":1}`)
	type answer struct {
		status      int
		ctype, body string
	}
	var (
		answers sync.Map // refresh token -> answer
		n       atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := answers.Load(r.FormValue("refresh_token"))
		a := v.(answer)
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	defer srv.Close()
	p, err := New(Config{ClientID: testClientID, Endpoints: configEndpoints(srv.URL), Scopes: []string{"openid"}, Resource: testResource})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, ctype, body string) {
		if status < 200 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		rt := "rt-" + strconv.FormatInt(n.Add(1), 10)
		answers.Store(rt, answer{status, ctype, body})
		defer answers.Delete(rt)
		tok, err := p.Refresh(context.Background(), rt)
		if err == nil {
			if tok == nil || tok.AccessToken == "" || tok.RefreshToken == rt {
				t.Fatalf("Refresh succeeded with %+v", tok)
			}
			return
		}
		matched := 0
		for _, s := range []error{ErrInvalidGrant, ErrRejected, ErrUnavailable} {
			if errors.Is(err, s) {
				matched++
			}
		}
		if matched != 1 || len(err.Error()) > 256 {
			t.Fatalf("error %v: matches %d sentinels, %d bytes", err, matched, len(err.Error()))
		}
	})
}
