package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/shared/config"
)

func example(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func parse(t *testing.T, m map[string]any) (*config.Config, error) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return config.Parse(b)
}

func TestExamplesLoad(t *testing.T) {
	c, err := config.Load(filepath.Join("..", "..", "testdata", "config", "cognito.json"))
	if err != nil {
		t.Fatalf("cognito example: %v", err)
	}
	if got, want := c.Issuer, "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"; got != want {
		t.Errorf("Issuer = %q, want %q", got, want)
	}
	e := c.Endpoints
	if e.Authorize != "https://example.auth.us-east-1.amazoncognito.com/oauth2/authorize" ||
		e.Token != "https://example.auth.us-east-1.amazoncognito.com/oauth2/token" ||
		e.Revoke != "https://example.auth.us-east-1.amazoncognito.com/oauth2/revoke" ||
		e.Logout != "https://example.auth.us-east-1.amazoncognito.com/logout" || !e.CognitoLogout ||
		e.JWKS != c.Issuer+"/.well-known/jwks.json" {
		t.Errorf("Cognito endpoints = %+v", e)
	}
	if c.ClockSkew.Std() != 30*time.Second || c.BearerToken != "access" || !c.Secure() {
		t.Errorf("defaults: skew %v bearer %q secure %v", c.ClockSkew.Std(), c.BearerToken, c.Secure())
	}

	o, err := config.Load(filepath.Join("..", "..", "testdata", "config", "oidc.json"))
	if err != nil {
		t.Fatalf("oidc example: %v", err)
	}
	if o.Issuer != "https://login.example.org" || o.Endpoints.CognitoLogout || o.Endpoints.Logout != "https://login.example.org/logout" {
		t.Errorf("OIDC derived = %q %+v", o.Issuer, o.Endpoints)
	}
	if o.Paths.ParseAuth != "/parseauth" || o.Paths.AfterSignOut != "/signed-out.html" || len(o.Keys) != 2 {
		t.Errorf("OIDC paths/keys = %+v, %d keys", o.Paths, len(o.Keys))
	}
	if got := o.AccessAudiences(); !slices.Equal(got, []string{"edgeauth-site"}) {
		t.Errorf("OIDC audiences = %v, want the client id by default", got)
	}
	if w := o.Warnings(); len(w) != 1 || !strings.Contains(w[0], "offline_access is requested without") {
		t.Errorf("OIDC example warnings = %q, want the offline_access one (prompt=login)", w)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Cognito example warnings = %q, want none (Cognito issues refresh tokens without prompt=consent)", w)
	}

	r, err := config.Load(filepath.Join("..", "..", "testdata", "config", "rfc9068.json"))
	if err != nil {
		t.Fatalf("rfc9068 example: %v", err)
	}
	if got := r.AccessAudiences(); !slices.Equal(got, []string{r.Resource}) || r.Resource == "" {
		t.Errorf("RFC 9068 audiences = %v, want the resource %q", got, r.Resource)
	}
	if r.Endpoints.Introspection == "" || r.Endpoints.Userinfo == "" || len(r.Warnings()) != 0 {
		t.Errorf("RFC 9068 example: endpoints %+v, warnings %q", r.Endpoints, r.Warnings())
	}
}

// Each bad file fails with one message naming the field. These are what
// only the file knows; what the parts are built from is checked by their
// constructors (lambdafn's TestCheckConfigNamesTheField holds those cases).
func TestValidationNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		substr string
	}{
		{"cors origin with a path", func(m map[string]any) { m["corsOrigins"] = []any{"https://app.example.com/"} }, "config: corsOrigins[0]: must be an origin"},
		{"cors wildcard", func(m map[string]any) { m["corsOrigins"] = []any{"*"} }, "config: corsOrigins[0]:"},
		{"cors origin in upper case", func(m map[string]any) { m["corsOrigins"] = []any{"https://App.example.com"} }, "config: corsOrigins[0]:"},
		{"unknown pages field", func(m map[string]any) { m["pages"] = map[string]any{"logo": "x.png"} }, "logo"},
		{"no issuer", func(m map[string]any) { delete(m, "cognito") }, "config: cognito: set either cognito or oidc"},
		{"both issuers", func(m map[string]any) { m["oidc"] = map[string]any{"issuerUrl": "https://x"} }, "config: oidc: set only one"},
		{"region", func(m map[string]any) { m["cognito"].(map[string]any)["region"] = "mars" }, "config: cognito.region:"},
		{"pool in other region", func(m map[string]any) { m["cognito"].(map[string]any)["userPoolId"] = "eu-west-1_abc" }, "config: cognito.userPoolId: pool"},
		{"bad duration", func(m map[string]any) { m["clockSkew"] = "soon" }, "clockSkew"},
		{"bearer", func(m map[string]any) { m["bearerToken"] = "refresh" }, "config: bearerToken:"},
		{"bearer any is gone", func(m map[string]any) { m["bearerToken"] = "any" }, `config: bearerToken: "any" is no longer accepted: an ID token is not an access token`},
		{"bearer id is gone", func(m map[string]any) { m["bearerToken"] = "id" }, `config: bearerToken: "id" is no longer accepted`},
		{"bad introspection ttl", func(m map[string]any) { m["introspectionCacheTtl"] = "later" }, "config: introspectionCacheTtl:"},
		{"userinfo without endpoint", func(m map[string]any) {
			delete(m, "cognito")
			m["oidc"] = map[string]any{"issuerUrl": "https://x.example", "authorizationEndpoint": "https://x.example/a", "tokenEndpoint": "https://x.example/t"}
			m["userinfo"] = true
		}, "config: userinfo: needs oidc.userinfoEndpoint"},
		{"log level", func(m map[string]any) { m["logLevel"] = "loud" }, "config: logLevel:"},
		{"duplicate path", func(m map[string]any) { m["paths"].(map[string]any)["signOut"] = "/parseauth" }, "config: paths.signOut: is the same as paths.parseAuth"},
		{"unknown field", func(m map[string]any) { m["clientSecrets"] = "x" }, `unknown field "clientSecrets"`},
		{"wrong type", func(m map[string]any) { m["scopes"] = "openid" }, "config: scopes: want []string"},
		{"host", func(m map[string]any) { m["hosts"] = []any{"https://x"} }, "config: hosts[0]:"},
		{"scheme", func(m map[string]any) { m["scheme"] = "ftp" }, "config: scheme:"},
		{"cognito domain", func(m map[string]any) { m["cognito"].(map[string]any)["domain"] = "https://x" }, "config: cognito.domain: must be a host name"},
		{"negative session lifetime", func(m map[string]any) { m["sessionLifetime"] = "-1s" }, "config: sessionLifetime: must not be negative"},
		{"duplicate refresh path", func(m map[string]any) { m["paths"].(map[string]any)["refreshAuth"] = "/parseauth" }, "config: paths.refreshAuth: is the same as paths.parseAuth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := example(t, "cognito.json")
			tt.edit(m)
			_, err := parse(t, m)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("Parse err = %q, want it to contain %q", err, tt.substr)
			}
			if strings.Count(err.Error(), "config:") != 1 {
				t.Errorf("err = %q: want one message", err)
			}
		})
	}
}

func TestFieldErrorIsInvalid(t *testing.T) {
	m := example(t, "cognito.json")
	m["scheme"] = "ftp"
	_, err := parse(t, m)
	var fe *config.FieldError
	if !errors.Is(err, config.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "scheme" {
		t.Errorf("err = %v, want a FieldError for scheme that is ErrInvalid", err)
	}
}

func TestPublicOrigin(t *testing.T) {
	m := example(t, "cognito.json")
	m["hosts"] = []any{"www.example.com", "example.com"}
	c, err := parse(t, m)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"example.com":     "https://example.com",
		"EXAMPLE.com":     "https://example.com",
		"evil.example":    "https://www.example.com",
		"":                "https://www.example.com",
		"www.example.com": "https://www.example.com",
	} {
		if got := c.PublicOrigin("d1.cloudfront.net", host); got != want {
			t.Errorf("PublicOrigin(%q) = %q, want %q", host, got, want)
		}
	}
	// At origin-request the Host is the bucket's; the viewer's comes second.
	for _, tt := range []struct{ host, viewer, want string }{
		{"bucket.s3.us-east-1.amazonaws.com", "example.com", "https://example.com"},
		{"bucket.s3.us-east-1.amazonaws.com", "evil.example", "https://www.example.com"},
		{"bucket.s3.us-east-1.amazonaws.com", "", "https://www.example.com"},
		{"example.com", "www.example.com", "https://example.com"},
	} {
		if got := c.PublicOrigin("d1.cloudfront.net", tt.host, tt.viewer); got != tt.want {
			t.Errorf("PublicOrigin(%q, %q) = %q, want %q", tt.host, tt.viewer, got, tt.want)
		}
	}
	delete(m, "hosts")
	m["scheme"] = "http"
	c, err = parse(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PublicOrigin("localhost:8080", "localhost:8080"); got != "http://localhost:8080" {
		t.Errorf("PublicOrigin = %q", got)
	}
	if got := c.PublicOrigin("d1.cloudfront.net", "forged.example"); got != "http://d1.cloudfront.net" {
		t.Errorf("PublicOrigin with no hosts = %q, want the distribution domain", got)
	}
	if got := c.PublicOrigin("", "", "localhost:8080"); got != "http://localhost:8080" {
		t.Errorf("PublicOrigin with no hosts or distribution = %q, want the first non-empty host", got)
	}
	if c.Secure() {
		t.Error("http scheme is Secure")
	}
}

func TestPathFromEnv(t *testing.T) {
	t.Setenv(config.EnvPath, "/tmp/x.json")
	if p, err := config.Path(); err != nil || p != "/tmp/x.json" {
		t.Errorf("Path() = %q, %v", p, err)
	}
	t.Setenv(config.EnvPath, "")
	p, err := config.Path()
	if err != nil || filepath.Base(p) != "config.json" {
		t.Errorf("Path() = %q, %v", p, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"cognito.json", "oidc.json", "rfc9068.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "config", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Found by make fuzz: an empty issuer is the parts' to refuse.
	f.Add([]byte(`{"oidC":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := config.Parse(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error without the config prefix: %v", err)
			}
			return
		}
		// Cognito's issuer and endpoints are derived here; an OIDC
		// issuer's are copied, and checked (required, absolute URLs) by
		// the parts that use them (lambdafn.CheckConfig), not by Parse.
		switch {
		case c.Cognito != nil && (c.Issuer == "" || c.Endpoints.Authorize == ""):
			t.Fatalf("valid Cognito config without derived fields: %+v", c)
		case c.OIDC != nil && (c.Issuer != c.OIDC.IssuerURL || c.Endpoints.Authorize != c.OIDC.AuthorizationEndpoint):
			t.Fatalf("OIDC config derived %q, %q from %+v", c.Issuer, c.Endpoints.Authorize, c.OIDC)
		}
	})
}
