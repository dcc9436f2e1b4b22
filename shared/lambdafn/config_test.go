package lambdafn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

func jwksKeys(m map[string]any) []any { return m["jwks"].(map[string]any)["keys"].([]any) }

// checkRefused asserts the one message a bad file gets: the field named,
// one "config:" prefix, a *config.FieldError that is config.ErrInvalid.
func checkRefused(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatal("CheckConfig succeeded, want an error")
	}
	if !strings.Contains(err.Error(), substr) {
		t.Errorf("CheckConfig err = %q, want it to contain %q", err, substr)
	}
	if strings.Count(err.Error(), "config:") != 1 {
		t.Errorf("err = %q: want one message", err)
	}
	var fe *config.FieldError
	if !errors.Is(err, config.ErrInvalid) || !errors.As(err, &fe) {
		t.Errorf("err = %v, want a *config.FieldError that is config.ErrInvalid", err)
	}
}

// These are the cases config's own tests held while config checked the
// parts' input too. The parts' constructors are the one authority now:
// config.Parse lets each of these through, and the whole check (Parse, then
// NewParts) refuses it with the same message, the file's field named.
func TestCheckConfigNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		substr string
	}{
		{"rule path", func(m map[string]any) { m["rules"].([]any)[2].(map[string]any)["path"] = "users/{sub}" }, `config: rules[2].path: must start with "/"`},
		{"css in the accent colour", func(m map[string]any) { m["pages"] = map[string]any{"accentColor": "red;background:url(//x)"} }, "config: pages.accentColor: must be a colour"},
		{"script support link", func(m map[string]any) { m["pages"] = map[string]any{"supportUrl": "javascript:alert(1)"} }, "config: pages.supportUrl: must be an https URL"},
		{"plain http support link", func(m map[string]any) { m["pages"] = map[string]any{"supportUrl": "http://help.example.com"} }, "config: pages.supportUrl:"},
		{"mailto without address", func(m map[string]any) { m["pages"] = map[string]any{"supportUrl": "mailto:"} }, "config: pages.supportUrl:"},
		{"site name with a newline", func(m map[string]any) { m["pages"] = map[string]any{"siteName": "a\nb"} }, "config: pages.siteName:"},
		{"client id", func(m map[string]any) { m["clientId"] = "" }, "config: clientId: is required"},
		{"client id with a space", func(m map[string]any) { m["clientId"] = "a b" }, "config: clientId: must not contain white space"},
		{"scopes without openid", func(m map[string]any) { m["scopes"] = []any{"email"} }, `config: scopes: must include "openid"`},
		{"scope with a quote", func(m map[string]any) { m["scopes"] = []any{"openid", `a"b`} }, "config: scopes[1]: must be one word"},
		{"short hash key", func(m map[string]any) { m["keys"].([]any)[0].(map[string]any)["hash"] = "c2hvcnQ=" }, "config: keys[0].hash: must be 32 or 64 bytes, got 5"},
		{"short block key", func(m map[string]any) { m["keys"].([]any)[0].(map[string]any)["block"] = "c2hvcnQ=" }, "config: keys[0].block: must be 16, 24 or 32 bytes, got 5"},
		{"no keys", func(m map[string]any) { m["keys"] = []any{} }, "config: keys: at least one key pair is required (make package generates one)"},
		{"no jwks", func(m map[string]any) { delete(m, "jwks") }, "config: jwks: is required (make package fetches it from the issuer)"},
		{"private jwk", func(m map[string]any) { jwksKeys(m)[0].(map[string]any)["d"] = "secret" }, "config: jwks.keys[0]: is a private key"},
		{"hmac jwk", func(m map[string]any) { jwksKeys(m)[0].(map[string]any)["kty"] = "oct" }, "config: jwks.keys[0].kty"},
		{"duplicate kid", func(m map[string]any) {
			ks := jwksKeys(m)
			ks[1].(map[string]any)["kid"] = ks[0].(map[string]any)["kid"]
		}, "config: jwks.keys[1].kid:"},
		{"only encryption keys", func(m map[string]any) {
			for _, k := range jwksKeys(m) {
				k.(map[string]any)["use"] = "enc"
			}
		}, "config: jwks.keys: has no signing key"},
		// A set whose keys are all RS512 used to pass config validation and
		// fail the verifier with another message: one answer, naming jwks.
		{"only RS512 keys", func(m map[string]any) {
			for _, k := range jwksKeys(m) {
				k.(map[string]any)["alg"] = "RS512"
			}
		}, `config: jwks.keys: has no signing key for the allowed algorithms (RS256); skipped keys[0] (alg "RS512" not allowed), keys[1] (alg "RS512" not allowed)`},
		// Issue 8's fields, named as the file names them.
		{"hmac algorithm", func(m map[string]any) { m["algorithms"] = []any{"RS256", "HS256"} }, `config: algorithms[1]: "HS256" is never accepted`},
		{"unsupported algorithm", func(m map[string]any) { m["algorithms"] = []any{"ES512"} }, `config: algorithms[0]: "ES512" is not supported`},
		{"empty audience", func(m map[string]any) { m["audiences"] = []any{""} }, "config: audiences[0]: must not be empty"},
		{"untyped with Cognito", func(m map[string]any) { m["untypedAccessTokens"] = true }, "config: untypedAccessTokens: does not apply to Cognito"},
		{"resource not a URI", func(m map[string]any) { m["resource"] = "api" }, "config: resource: must be an absolute URI"},
		{"resource as an authorize parameter", func(m map[string]any) { m["authorizeParams"] = map[string]any{"resource": "https://api.example.com"} }, "config: authorizeParams.resource:"},
		{"groups claim", func(m map[string]any) { m["groupsClaim"] = "/" }, "config: groupsClaim:"},
		{"star in middle", func(m map[string]any) { m["rules"].([]any)[0].(map[string]any)["path"] = "/a/*/b" }, "config: rules[0].path:"},
		{"public with groups", func(m map[string]any) { m["rules"].([]any)[0].(map[string]any)["groups"] = []any{"x"} }, "config: rules[0].public:"},
		// An empty segment in a rule used to pass config (and make package)
		// and fail only check-auth's cold start.
		{"rule with an empty segment", func(m map[string]any) { m["rules"].([]any)[1].(map[string]any)["path"] = "/admin//x" }, "config: rules[1].path: must not contain empty segments"},
		{"empty group", func(m map[string]any) { m["rules"].([]any)[1].(map[string]any)["groups"] = []any{""} }, "config: rules[1].groups[0]: must not be empty"},
		{"skew", func(m map[string]any) { m["clockSkew"] = "1h" }, "config: clockSkew: must be between 0s and 5m, got 1h0m0s"},
		{"negative skew", func(m map[string]any) { m["clockSkew"] = "-1s" }, "config: clockSkew: must be between"},
		{"samesite", func(m map[string]any) { m["cookies"].(map[string]any)["sameSite"] = "lax " }, "config: cookies.sameSite:"},
		{"samesite strict", func(m map[string]any) { m["cookies"].(map[string]any)["sameSite"] = "Strict" }, `config: cookies.sameSite: "Strict" would loop`},
		{"samesite none over http", func(m map[string]any) { m["cookies"].(map[string]any)["sameSite"] = "None"; m["scheme"] = "http" }, `config: cookies.sameSite: "None" needs Secure cookies (scheme "https")`},
		{"prefix", func(m map[string]any) { m["cookies"].(map[string]any)["prefix"] = "a b" }, "config: cookies.prefix:"},
		{"long prefix", func(m map[string]any) { m["cookies"].(map[string]any)["prefix"] = strings.Repeat("a", 33) }, "config: cookies.prefix: must be at most 32"},
		{"__Host prefix", func(m map[string]any) { m["cookies"].(map[string]any)["prefix"] = "__Host-x" }, "config: cookies.prefix: must not start with __Host"},
		{"cookie domain with port", func(m map[string]any) { m["cookies"].(map[string]any)["domain"] = "example.com:443" }, "config: cookies.domain: must be a domain name without a port"},
		{"cookie domain with an empty label", func(m map[string]any) { m["cookies"].(map[string]any)["domain"] = "example..com" }, "config: cookies.domain: must be a domain name"},
		{"protocol-relative path", func(m map[string]any) { m["paths"].(map[string]any)["afterSignOut"] = "//evil" }, "config: paths.afterSignOut:"},
		{"after sign-out with a query", func(m map[string]any) { m["paths"].(map[string]any)["afterSignOut"] = "/bye?x=1" }, "config: paths.afterSignOut: must be a path"},
		{"path with empty segment", func(m map[string]any) { m["paths"].(map[string]any)["parseAuth"] = "/auth//cb" }, "config: paths.parseAuth: must not hold empty or dot segments"},
		{"path with dot segment", func(m map[string]any) { m["paths"].(map[string]any)["parseAuth"] = "/a/../parseauth" }, "config: paths.parseAuth: must not hold empty or dot segments"},
		{"path with wildcard", func(m map[string]any) { m["paths"].(map[string]any)["signOut"] = "/out*" }, "config: paths.signOut:"},
		{"path with semicolon", func(m map[string]any) { m["paths"].(map[string]any)["refreshAuth"] = "/refresh;x" }, "config: paths.refreshAuth:"},
		{"negative refresh lifetime", func(m map[string]any) { m["refreshLifetime"] = "-1h" }, "config: refreshLifetime: must not be negative"},
		{"reserved authorize param", func(m map[string]any) { m["authorizeParams"] = map[string]any{"redirect_uri": "x"} }, "config: authorizeParams.redirect_uri:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := suitetest.ConfigJSON(t, "cognito.json", tt.edit)
			if _, err := config.Parse(b); err != nil {
				t.Errorf("config.Parse = %v; the part's constructor, not config, should answer this", err)
			}
			_, err := lambdafn.CheckConfig(b)
			checkRefused(t, err, tt.substr)
		})
	}
}

// What only the file knows is answered by config.Parse, and CheckConfig
// gives the same answer.
func TestCheckConfigParseErrors(t *testing.T) {
	b := suitetest.ConfigJSON(t, "cognito.json", func(m map[string]any) { m["bearerToken"] = "refresh" })
	_, perr := config.Parse(b)
	_, err := lambdafn.CheckConfig(b)
	if perr == nil || err == nil || err.Error() != perr.Error() {
		t.Errorf("CheckConfig = %v, config.Parse = %v; want the same error", err, perr)
	}
	checkRefused(t, err, "config: bearerToken:")
}

func TestCheckConfigOIDC(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(o map[string]any)
		substr string
	}{
		{"no issuer", func(o map[string]any) { delete(o, "issuerUrl") }, "config: oidc.issuerUrl: is required"},
		{"issuer not a URL", func(o map[string]any) { o["issuerUrl"] = "login.example.org" }, "config: oidc.issuerUrl: must be an absolute http(s) URL"},
		{"issuer with a query", func(o map[string]any) { o["issuerUrl"] = "https://login.example.org/?a=b" }, "config: oidc.issuerUrl: must not carry a query or fragment"},
		{"no token endpoint", func(o map[string]any) { delete(o, "tokenEndpoint") }, "config: oidc.tokenEndpoint: is required"},
		{"no authorize endpoint", func(o map[string]any) { delete(o, "authorizationEndpoint") }, "config: oidc.authorizationEndpoint: is required"},
		{"revocation endpoint not a URL", func(o map[string]any) { o["revocationEndpoint"] = "not a url" }, "config: oidc.revocationEndpoint:"},
		{"end-session endpoint with a fragment", func(o map[string]any) { o["endSessionEndpoint"] = "https://login.example.org/logout#x" }, "config: oidc.endSessionEndpoint: must be an absolute http(s) URL without a fragment"},
		{"introspection endpoint", func(o map[string]any) { o["introspectionEndpoint"] = "ftp://x" }, "config: oidc.introspectionEndpoint:"},
		{"userinfo endpoint", func(o map[string]any) { o["userinfoEndpoint"] = "/me" }, "config: oidc.userinfoEndpoint:"},
		{"untyped without an API audience", func(o map[string]any) { o["untypedAccessTokens"] = true }, "config: audiences: untyped access tokens need an API audience other than the client id"},
		{"introspection cache ttl", func(o map[string]any) {
			o["introspectionEndpoint"] = "https://login.example.org/introspect"
			o["introspectionCacheTtl"] = "2h"
		}, "config: introspectionCacheTtl: must be between 0s and 1h0m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lambdafn.CheckConfig(suitetest.ConfigJSON(t, "oidc.json", func(m map[string]any) {
				o := m["oidc"].(map[string]any)
				tt.edit(o)
				// Top-level fields set through o move up.
				for _, f := range []string{"untypedAccessTokens", "introspectionCacheTtl"} {
					if v, ok := o[f]; ok {
						m[f] = v
						delete(o, f)
					}
				}
			}))
			checkRefused(t, err, tt.substr)
		})
	}
}

// An endpoint with a query (a tenant, say) used to be refused by config and
// taken by idp.New: it is taken now, and the query reaches the IdP.
func TestCheckConfigEndpointWithQuery(t *testing.T) {
	b := suitetest.ConfigJSON(t, "oidc.json", func(m map[string]any) {
		m["oidc"].(map[string]any)["authorizationEndpoint"] = "https://login.example.org/authorize?tenant=t1"
	})
	c, err := lambdafn.CheckConfig(b)
	if err != nil {
		t.Fatalf("CheckConfig(endpoint with a query) = %v", err)
	}
	p, err := lambdafn.NewParts(lambdafn.Deps{Config: c}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p.IdP.AuthorizeURL("https://www.example.com/parseauth", "state", "nonce", strings.Repeat("v", 43)))
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); u.Path != "/authorize" || q.Get("tenant") != "t1" || q.Get("state") != "state" {
		t.Errorf("authorize URL = %s, want the tenant kept beside the suite's parameters", u)
	}
}

// A set with an EC key beside the RSA ones used to be refused by config
// while the verifier and the packager skipped the EC key: it loads now, and
// the EC key is skipped.
func TestCheckConfigECKeyBesideRSA(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.Import(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.KeyIDKey, "ec-1"); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	var ecKey map[string]any
	if err := json.Unmarshal(raw, &ecKey); err != nil {
		t.Fatal(err)
	}
	b := suitetest.ConfigJSON(t, "cognito.json", func(m map[string]any) {
		m["jwks"].(map[string]any)["keys"] = append(jwksKeys(m), ecKey)
	})
	c, err := lambdafn.CheckConfig(b)
	if err != nil {
		t.Fatalf("CheckConfig(RSA keys + an EC key) = %v", err)
	}
	p, err := lambdafn.NewParts(lambdafn.Deps{Config: c, Now: suitetest.Clock}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	m := testtoken.Keys(t)
	tok := m.Sign(t, testtoken.CognitoAccess(c.Issuer, c.ClientID, "u", nil, suitetest.Now.Add(time.Hour)))
	if _, err := p.Verifier.Verify(context.Background(), tok, verifier.UseAccess); err != nil {
		t.Errorf("Verify with an RSA key beside the EC key = %v", err)
	}
	ecTok := m.SignWith(t, "ec-1", "RS256", testtoken.CognitoAccess(c.Issuer, c.ClientID, "u", nil, suitetest.Now.Add(time.Hour)))
	if _, err := p.Verifier.Verify(context.Background(), ecTok, verifier.UseAccess); !errors.Is(err, verifier.ErrUnknownKey) {
		t.Errorf("Verify naming the skipped EC key = %v, want ErrUnknownKey", err)
	}
}

// The prefix length used to be 32 in config and 64 in the session store:
// 32, in the store, now.
func TestCheckConfigPrefixLength(t *testing.T) {
	ok := suitetest.ConfigJSON(t, "cognito.json", func(m map[string]any) {
		m["cookies"].(map[string]any)["prefix"] = strings.Repeat("a", session.MaxPrefix)
	})
	if _, err := lambdafn.CheckConfig(ok); err != nil {
		t.Errorf("CheckConfig(prefix of %d) = %v", session.MaxPrefix, err)
	}
	long := suitetest.ConfigJSON(t, "cognito.json", func(m map[string]any) {
		m["cookies"].(map[string]any)["prefix"] = strings.Repeat("a", session.MaxPrefix+1)
	})
	_, err := lambdafn.CheckConfig(long)
	checkRefused(t, err, "config: cookies.prefix: must be at most 32 characters, got 33")
}

func TestFieldErrorIsInvalid(t *testing.T) {
	_, err := lambdafn.CheckConfig(suitetest.ConfigJSON(t, "cognito.json", func(m map[string]any) { m["clientId"] = "" }))
	var fe *config.FieldError
	if !errors.Is(err, config.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "clientId" {
		t.Errorf("err = %v, want a FieldError for clientId that is ErrInvalid", err)
	}
}

// NewParts carries the file over to each part: the verifier's issuer,
// client, Cognito rules and skew; the store's names and paths; the IdP's
// scopes and parameters; the rules and the claims they need.
func TestNewPartsCarriesTheFile(t *testing.T) {
	c := suitetest.Config(t, "cognito.json", nil)
	p, err := lambdafn.NewParts(lambdafn.Deps{Config: c, Now: suitetest.Clock}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	m := testtoken.Keys(t)
	withinSkew := m.Sign(t, testtoken.CognitoAccess(c.Issuer, c.ClientID, "u", nil, suitetest.Now.Add(-10*time.Second)))
	if _, err := p.Verifier.Verify(context.Background(), withinSkew, verifier.UseAccess); err != nil {
		t.Errorf("Verify (Cognito access token within skew) = %v, want nil", err)
	}
	if _, err := p.Verifier.Verify(context.Background(), withinSkew, verifier.UseID); !errors.Is(err, verifier.ErrTokenUse) {
		t.Errorf("Verify as id = %v, want ErrTokenUse (Cognito rules)", err)
	}
	if got := p.Sessions.SessionName(); got != c.Cookies.Prefix+"-session" {
		t.Errorf("SessionName() = %q", got)
	}
	rc, err := p.Sessions.EncodeRefresh(session.Refresh{RefreshToken: "rt"})
	if err != nil || rc[0].Path != c.Paths.RefreshAuth || rc[1].Path != c.Paths.SignOut || !rc[0].Secure {
		t.Errorf("refresh cookies = %v, %v; want Secure at the config's paths", rc, err)
	}
	u, err := url.Parse(p.IdP.AuthorizeURL("https://www.example.com/parseauth", "s", "n", strings.Repeat("v", 43)))
	if err != nil || u.Host != "example.auth.us-east-1.amazoncognito.com" || u.Query().Get("scope") != "openid email profile" ||
		u.Query().Get("identity_provider") != "COGNITO" {
		t.Errorf("authorize URL = %s, %v", u, err)
	}
	if got := strings.Join(p.Rules.Claims(), ","); got != "sub" {
		t.Errorf("Rules.Claims() = %q, want sub", got)
	}
	r, err := authz.Read("/admin/x")
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Rules.Decide(r, &verifier.Identity{Subject: "u", Groups: []string{"admins"}}); !d.Allow || d.Reason != "group admins" {
		t.Errorf("Decide(/admin/x, admins) = %+v", d)
	}
}

func FuzzCheckConfig(f *testing.F) {
	for _, n := range []string{"cognito.json", "oidc.json", "rfc9068.json"} {
		b, err := os.ReadFile(filepath.Join(testtoken.ModuleRoot(f), "testdata", "config", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := lambdafn.CheckConfig(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error without the config prefix: %v", err)
			}
			return
		}
		if c.Issuer == "" || c.Endpoints.Authorize == "" || len(c.Keys) == 0 || len(c.JWKS) == 0 {
			t.Fatalf("accepted config without derived fields, keys or key set: %+v", c)
		}
	})
}

// Key sets as providers publish them (issue 8): an EC and an OKP key, an
// encryption key and a key type the suite does not know, beside the RSA
// keys, load; the cold start logs one line saying which keys verify tokens
// and which were skipped and why. An EC key verifies once ES256 is allowed.
func TestKeySetAsProvidersPublishIt(t *testing.T) {
	ec := testtoken.NewKey(t, "ec-1", "ES256")
	ed := testtoken.NewKey(t, "ed-1", "EdDSA")
	enc := testtoken.NewKey(t, "enc-1", "RS256").JWK(false)
	enc["use"], enc["alg"] = "enc", "RSA-OAEP"
	pq := map[string]any{"kty": "AKP", "alg": "ML-DSA-65", "kid": "pq-1", "pub": "AAAA"}
	build := func(algs ...any) (*config.Config, *lambdafn.Parts, string) {
		t.Helper()
		b := suitetest.ConfigJSON(t, "cognito.json", func(m map[string]any) {
			m["jwks"].(map[string]any)["keys"] = append(jwksKeys(m), ec.JWK(true), ed.JWK(true), enc, pq)
			if len(algs) > 0 {
				m["algorithms"] = algs
			}
		})
		c, err := lambdafn.CheckConfig(b)
		if err != nil {
			t.Fatalf("CheckConfig(a key set as published, algorithms %v) = %v", algs, err)
		}
		var logs strings.Builder
		p, err := lambdafn.NewParts(lambdafn.Deps{Config: c, Now: suitetest.Clock, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}.WithDefaults())
		if err != nil {
			t.Fatal(err)
		}
		return c, p, logs.String()
	}
	c, p, logs := build()
	var line struct {
		Msg             string
		Loaded, Skipped int
		Keys            string
	}
	if err := json.Unmarshal([]byte(strings.SplitN(logs, "\n", 2)[0]), &line); err != nil {
		t.Fatalf("cold-start log %q: %v", logs, err)
	}
	if line.Msg != "key set" || line.Loaded != 2 || line.Skipped != 4 ||
		!strings.Contains(line.Keys, `ec-1: alg "ES256" not allowed`) || !strings.Contains(line.Keys, `enc-1: use "enc"`) ||
		!strings.Contains(line.Keys, `pq-1: kty "AKP" not supported`) || !strings.Contains(line.Keys, `ed-1: alg "EdDSA" not allowed`) {
		t.Errorf("cold-start log line = %+v", line)
	}
	ecTok := ec.Sign(t, testtoken.CognitoAccess(c.Issuer, c.ClientID, "u", nil, suitetest.Now.Add(time.Hour)))
	if _, err := p.Verifier.Verify(context.Background(), ecTok, verifier.UseAccess); !errors.Is(err, verifier.ErrSignature) {
		t.Errorf("Verify(ES256 token, RS256 only) = %v, want ErrSignature", err)
	}
	_, p, logs = build("RS256", "ES256", "EdDSA")
	for _, k := range []*testtoken.Key{ec, ed} {
		tok := k.Sign(t, testtoken.CognitoAccess(c.Issuer, c.ClientID, "u", nil, suitetest.Now.Add(time.Hour)))
		if _, err := p.Verifier.Verify(context.Background(), tok, verifier.UseAccess); err != nil {
			t.Errorf("Verify(%s token, %s allowed) = %v", k.Alg, k.Alg, err)
		}
	}
	if !strings.Contains(logs, `"loaded":4,"skipped":2`) {
		t.Errorf("cold-start log = %s, want 4 keys loaded and 2 skipped", logs)
	}
}

// A generic issuer asked for offline_access without prompt=consent gets a
// warning at cold start: spec-strict providers issue no refresh token then.
func TestColdStartWarnings(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"offline_access without consent", nil, "offline_access is requested without authorizeParams.prompt"},
		{"with consent", func(m map[string]any) { m["authorizeParams"] = map[string]any{"prompt": "login consent"} }, ""},
		{"no offline_access", func(m map[string]any) { m["scopes"] = []any{"openid"} }, ""},
		{"insecure bearer", func(m map[string]any) { m["scopes"] = []any{"openid"}; m["bearerToken"] = "insecureIdToken" }, "insecureIdToken accepts ID tokens"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := lambdafn.CheckConfig(suitetest.ConfigJSON(t, "oidc.json", tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			if _, err := lambdafn.NewParts(lambdafn.Deps{Config: c, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}.WithDefaults()); err != nil {
				t.Fatal(err)
			}
			warns := strings.Count(logs.String(), `"level":"WARN"`)
			if (tt.want == "") != (warns == 0) || (tt.want != "" && !strings.Contains(logs.String(), tt.want)) {
				t.Errorf("cold-start log:\n%s\nwant a warning saying %q", logs.String(), tt.want)
			}
		})
	}
}
