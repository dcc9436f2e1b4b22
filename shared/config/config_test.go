package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
}

// Each bad file fails with one message naming the field.
func TestValidationNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		substr string
	}{
		{"rule path", func(m map[string]any) { m["rules"].([]any)[2].(map[string]any)["path"] = "users/{sub}" }, `config: rules[2].path: must start with "/"`},
		{"cors origin with a path", func(m map[string]any) { m["corsOrigins"] = []any{"https://app.example.com/"} }, "config: corsOrigins[0]: must be an origin"},
		{"cors wildcard", func(m map[string]any) { m["corsOrigins"] = []any{"*"} }, "config: corsOrigins[0]:"},
		{"cors origin in upper case", func(m map[string]any) { m["corsOrigins"] = []any{"https://App.example.com"} }, "config: corsOrigins[0]:"},
		{"css in the accent colour", func(m map[string]any) { m["pages"] = map[string]any{"accentColor": "red;background:url(//x)"} }, "config: pages.accentColor: must be a colour"},
		{"script support link", func(m map[string]any) { m["pages"] = map[string]any{"supportUrl": "javascript:alert(1)"} }, "config: pages.supportUrl: must be an https URL"},
		{"plain http support link", func(m map[string]any) { m["pages"] = map[string]any{"supportUrl": "http://help.example.com"} }, "config: pages.supportUrl:"},
		{"mailto without address", func(m map[string]any) { m["pages"] = map[string]any{"supportUrl": "mailto:"} }, "config: pages.supportUrl:"},
		{"site name with a newline", func(m map[string]any) { m["pages"] = map[string]any{"siteName": "a\nb"} }, "config: pages.siteName:"},
		{"unknown pages field", func(m map[string]any) { m["pages"] = map[string]any{"logo": "x.png"} }, "logo"},
		{"no issuer", func(m map[string]any) { delete(m, "cognito") }, "config: cognito: set either cognito or oidc"},
		{"both issuers", func(m map[string]any) { m["oidc"] = map[string]any{"issuerUrl": "https://x"} }, "config: oidc: set only one"},
		{"region", func(m map[string]any) { m["cognito"].(map[string]any)["region"] = "mars" }, "config: cognito.region:"},
		{"pool in other region", func(m map[string]any) { m["cognito"].(map[string]any)["userPoolId"] = "eu-west-1_abc" }, "config: cognito.userPoolId: pool"},
		{"client id", func(m map[string]any) { m["clientId"] = "" }, "config: clientId: is required"},
		{"scopes without openid", func(m map[string]any) { m["scopes"] = []any{"email"} }, `config: scopes: must include "openid"`},
		{"short hash key", func(m map[string]any) { m["keys"].([]any)[0].(map[string]any)["hash"] = "c2hvcnQ=" }, "config: keys[0].hash: must be 32 or 64 bytes, got 5"},
		{"no keys", func(m map[string]any) { m["keys"] = []any{} }, "config: keys: at least one"},
		{"no jwks", func(m map[string]any) { delete(m, "jwks") }, "config: jwks: is required"},
		{"private jwk", func(m map[string]any) {
			m["jwks"].(map[string]any)["keys"].([]any)[0].(map[string]any)["d"] = "secret"
		}, "config: jwks.keys[0]: is a private key"},
		{"hmac jwk", func(m map[string]any) { m["jwks"].(map[string]any)["keys"].([]any)[0].(map[string]any)["kty"] = "oct" }, "config: jwks.keys[0].kty"},
		{"duplicate kid", func(m map[string]any) {
			ks := m["jwks"].(map[string]any)["keys"].([]any)
			ks[1].(map[string]any)["kid"] = ks[0].(map[string]any)["kid"]
		}, "config: jwks.keys[1].kid:"},
		{"only encryption keys", func(m map[string]any) {
			for _, k := range m["jwks"].(map[string]any)["keys"].([]any) {
				k.(map[string]any)["use"] = "enc"
			}
		}, "config: jwks.keys: has no signing key"},
		{"star in middle", func(m map[string]any) { m["rules"].([]any)[0].(map[string]any)["path"] = "/a/*/b" }, "config: rules[0].path:"},
		{"public with groups", func(m map[string]any) { m["rules"].([]any)[0].(map[string]any)["groups"] = []any{"x"} }, "config: rules[0].public:"},
		{"skew", func(m map[string]any) { m["clockSkew"] = "1h" }, "config: clockSkew: must be between"},
		{"bad duration", func(m map[string]any) { m["clockSkew"] = "soon" }, "clockSkew"},
		{"bearer", func(m map[string]any) { m["bearerToken"] = "refresh" }, "config: bearerToken:"},
		{"log level", func(m map[string]any) { m["logLevel"] = "loud" }, "config: logLevel:"},
		{"samesite", func(m map[string]any) { m["cookies"].(map[string]any)["sameSite"] = "lax " }, "config: cookies.sameSite:"},
		{"prefix", func(m map[string]any) { m["cookies"].(map[string]any)["prefix"] = "a b" }, "config: cookies.prefix:"},
		{"duplicate path", func(m map[string]any) { m["paths"].(map[string]any)["signOut"] = "/parseauth" }, "config: paths.signOut: is the same as paths.parseAuth"},
		{"protocol-relative path", func(m map[string]any) { m["paths"].(map[string]any)["afterSignOut"] = "//evil" }, "config: paths.afterSignOut:"},
		{"reserved authorize param", func(m map[string]any) { m["authorizeParams"] = map[string]any{"redirect_uri": "x"} }, "config: authorizeParams.redirect_uri:"},
		{"unknown field", func(m map[string]any) { m["clientSecrets"] = "x" }, `unknown field "clientSecrets"`},
		{"wrong type", func(m map[string]any) { m["scopes"] = "openid" }, "config: scopes: want []string"},
		{"cookie domain with port", func(m map[string]any) { m["cookies"].(map[string]any)["domain"] = "example.com:443" }, "config: cookies.domain: must be a domain name without a port"},
		{"samesite strict", func(m map[string]any) { m["cookies"].(map[string]any)["sameSite"] = "Strict" }, `config: cookies.sameSite: "Strict" would loop`},
		{"long prefix", func(m map[string]any) { m["cookies"].(map[string]any)["prefix"] = strings.Repeat("a", 33) }, "config: cookies.prefix: must be at most 32"},
		{"__Host prefix", func(m map[string]any) { m["cookies"].(map[string]any)["prefix"] = "__Host-x" }, "config: cookies.prefix: must not start with __Host"},
		{"path with empty segment", func(m map[string]any) { m["paths"].(map[string]any)["parseAuth"] = "/auth//cb" }, "config: paths.parseAuth: must not hold empty or dot segments"},
		{"path with dot segment", func(m map[string]any) { m["paths"].(map[string]any)["parseAuth"] = "/a/../parseauth" }, "config: paths.parseAuth: must not hold empty or dot segments"},
		{"path with wildcard", func(m map[string]any) { m["paths"].(map[string]any)["signOut"] = "/out*" }, "config: paths.signOut:"},
		{"path with semicolon", func(m map[string]any) { m["paths"].(map[string]any)["refreshAuth"] = "/refresh;x" }, "config: paths.refreshAuth:"},
		{"host", func(m map[string]any) { m["hosts"] = []any{"https://x"} }, "config: hosts[0]:"},
		{"scheme", func(m map[string]any) { m["scheme"] = "ftp" }, "config: scheme:"},
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
	m["clientId"] = ""
	_, err := parse(t, m)
	var fe *config.FieldError
	if !errors.Is(err, config.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "clientId" {
		t.Errorf("err = %v, want a FieldError for clientId that is ErrInvalid", err)
	}
}

func TestOIDCRequiresEndpoints(t *testing.T) {
	m := example(t, "oidc.json")
	delete(m["oidc"].(map[string]any), "tokenEndpoint")
	if _, err := parse(t, m); err == nil || !strings.Contains(err.Error(), "config: oidc.tokenEndpoint: is required") {
		t.Errorf("err = %v", err)
	}
	m = example(t, "oidc.json")
	m["oidc"].(map[string]any)["revocationEndpoint"] = "not a url"
	if _, err := parse(t, m); err == nil || !strings.Contains(err.Error(), "config: oidc.revocationEndpoint:") {
		t.Errorf("err = %v", err)
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

func TestRuleClaims(t *testing.T) {
	m := example(t, "cognito.json")
	m["rules"] = append(m["rules"].([]any), map[string]any{"path": "/t/{custom:tenant}/{sub}/*"})
	c, err := parse(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.RuleClaims(), ","); got != "sub,custom:tenant" {
		t.Errorf("RuleClaims() = %q", got)
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
	for _, n := range []string{"cognito.json", "oidc.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "config", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := config.Parse(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error without the config prefix: %v", err)
			}
			return
		}
		if c.Issuer == "" || c.Endpoints.Authorize == "" || len(c.Keys) == 0 {
			t.Fatalf("valid config without derived fields: %+v", c)
		}
	})
}
