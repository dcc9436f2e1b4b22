package oidcprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/idpproc"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

// The redirect URIs are never served: Login stops at the redirect that
// leaves the provider.
const (
	testRedirect   = "http://localhost:8080/parseauth"
	testPostLogout = "http://localhost:8080/signed-out"
	opaqueResource = "https://opaque.example.test"
)

func testOptions() Options {
	return Options{
		RedirectURIs:           []string{testRedirect},
		PostLogoutRedirectURIs: []string{testPostLogout},
		Resources: []Resource{
			{URL: DefaultResource, Scopes: []string{"api:read", "api:write"}},
			{URL: opaqueResource, Scopes: []string{"api:read"}, Opaque: true},
		},
	}
}

func alice() User { return DemoUsers()[0] }
func bob() User   { return DemoUsers()[1] }

func newJarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// tokenResponse is the token endpoint's answer, success or error.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	IDToken          string `json:"id_token"`
	RefreshToken     string `json:"refresh_token"`
	Scope            string `json:"scope"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	status           int
}

// tokenRequest posts form to the token endpoint as client c: HTTP Basic for
// the confidential client, client_id in the body for the public one. It is
// raw on purpose: x/oauth2 cannot send resource with a refresh.
func tokenRequest(t *testing.T, s *Server, c Client, form url.Values) tokenResponse {
	t.Helper()
	return postForm(t, s, s.Metadata().TokenEndpoint, c, form)
}

func postForm(t *testing.T, s *Server, endpoint string, c Client, form url.Values) tokenResponse {
	t.Helper()
	if c.IsPublic() {
		form.Set("client_id", c.ID)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !c.IsPublic() {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tokenResponse{status: resp.StatusCode}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatalf("POST %s: %s: %v", endpoint, resp.Status, err)
		}
	}
	return tr
}

// session is one login's results.
type session struct {
	client   *http.Client // its cookie jar holds the provider session
	code     string
	verifier string
	nonce    string
}

// login signs u in at s as client c through the HTTP forms, asking for
// prompt=consent (so a refresh token comes) and, when resource is set, an
// access token for it with scope api:read.
func login(t *testing.T, s *Server, c Client, u User, resource string, extra ...oauth2.AuthCodeOption) session {
	t.Helper()
	conf := s.OAuth2Config(c, testRedirect)
	se := session{client: newJarClient(t), verifier: oauth2.GenerateVerifier(), nonce: idpproc.RandomString(12)}
	state := idpproc.RandomString(12)
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(se.verifier), oauth2.SetAuthURLParam("nonce", se.nonce), ConsentPrompt()}, extra...)
	if resource != "" {
		conf.Scopes = append(conf.Scopes, "api:read")
		opts = append(opts, WithResource(resource))
	}
	cb, err := s.Login(t.Context(), se.client, conf.AuthCodeURL(state, opts...), u)
	if err != nil {
		t.Fatalf("Login(%s): %v", u.Email, err)
	}
	q := cb.Query()
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect {
		t.Fatalf("Login left the provider for %s, want %s", got, testRedirect)
	}
	if q.Get("error") != "" || q.Get("state") != state || q.Get("iss") != s.Issuer {
		t.Fatalf("callback error %q, state ok %t, iss %q; want a code, the state and iss %s", q.Get("error"), q.Get("state") == state, q.Get("iss"), s.Issuer)
	}
	se.code = q.Get("code")
	return se
}

// exchange redeems se's code, sending resource at the token endpoint too.
func exchange(t *testing.T, s *Server, c Client, se session, resource string) tokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {se.code}, "redirect_uri": {testRedirect}, "code_verifier": {se.verifier}}
	if resource != "" {
		form.Set("resource", resource)
	}
	tr := tokenRequest(t, s, c, form)
	if tr.status != http.StatusOK {
		t.Fatalf("code exchange: %d %s (%s)", tr.status, tr.Error, tr.ErrorDescription)
	}
	return tr
}

func refresh(t *testing.T, s *Server, c Client, rt, resource string) tokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if resource != "" {
		form.Set("resource", resource)
	}
	return tokenRequest(t, s, c, form)
}

// verified is a JWT checked against the provider's JWKS.
type verified struct {
	header map[string]any
	claims map[string]any
}

func verifyJWT(t *testing.T, s *Server, raw string, audience string) verified {
	t.Helper()
	set, err := jwk.Parse(jwksOf(t, s))
	if err != nil {
		t.Fatalf("jwk.Parse: %v", err)
	}
	if _, err := jwt.Parse([]byte(raw), jwt.WithKeySet(set), jwt.WithIssuer(s.Issuer), jwt.WithAudience(audience)); err != nil {
		t.Fatalf("verify token for %s: %v", audience, err)
	}
	parts := strings.Split(raw, ".")
	var v verified
	for i, dst := range []*map[string]any{&v.header, &v.claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func jwksOf(t *testing.T, s *Server) []byte {
	t.Helper()
	b, err := s.JWKS(t.Context())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return b
}

func liveRefreshTokens(t *testing.T, s *Server, u User, c Client) int {
	t.Helper()
	n, err := s.LiveRefreshTokens(t.Context(), u.Subject, c.ID)
	if err != nil {
		t.Fatalf("LiveRefreshTokens: %v", err)
	}
	return n
}

func isJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// roles reads realm_access.roles.
func roles(claims map[string]any) []string {
	ra, _ := claims["realm_access"].(map[string]any)
	list, _ := ra["roles"].([]any)
	var out []string
	for _, r := range list {
		s, _ := r.(string)
		out = append(out, s)
	}
	return out
}

// keyIDs returns the kid of the RSA and the EC key of the JWKS.
func keyIDs(t *testing.T, s *Server) (rsaKid, ecKid string) {
	t.Helper()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwksOf(t, s), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		switch k["kty"] {
		case "RSA":
			rsaKid, _ = k["kid"].(string)
		case "EC":
			ecKid, _ = k["kid"].(string)
		}
	}
	return rsaKid, ecKid
}

// TestProvider runs the checks that need no special options against one
// provider, which saves a start (about half a second) each.
func TestProvider(t *testing.T) {
	s := StartForTest(t, testOptions())
	for _, tt := range []struct {
		name string
		run  func(*testing.T, *Server)
	}{
		{"Discovery", testDiscovery},
		{"JWKSHoldsAnRSAAndAnECKey", testJWKSHoldsAnRSAAndAnECKey},
		{"CodeFlowWithResource", testCodeFlowWithResource},
		{"OpaqueAccessTokens", testOpaqueAccessTokens},
		{"RefreshRotation", testRefreshRotation},
		{"NoRefreshTokenWithoutPromptConsent", testNoRefreshTokenWithoutPromptConsent},
		{"Revocation", testRevocation},
		{"EndSession", testEndSession},
		{"PKCEIsRequired", testPKCEIsRequired},
		{"LoginRejectsWrongPassword", testLoginRejectsWrongPassword},
		{"SuiteConfig", testSuiteConfig},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
	}
}

func testDiscovery(t *testing.T, s *Server) {
	d, err := s.Discovery(t.Context())
	if err != nil {
		t.Fatalf("Discovery: %v", err)
	}
	if d.Issuer != s.Issuer || !strings.HasPrefix(s.Issuer, "http://127.0.0.1:") {
		t.Errorf("issuer = %q (server says %q), want http://127.0.0.1:PORT", d.Issuer, s.Issuer)
	}
	for name, ep := range map[string]string{
		"authorization": d.AuthorizationEndpoint, "token": d.TokenEndpoint, "revocation": d.RevocationEndpoint,
		"end_session": d.EndSessionEndpoint, "introspection": d.IntrospectionEndpoint, "jwks": d.JWKSURI, "userinfo": d.UserinfoEndpoint,
	} {
		if !strings.HasPrefix(ep, s.Issuer+"/") {
			t.Errorf("%s endpoint = %q, want one under %s", name, ep, s.Issuer)
		}
	}
	if !slices.Equal(d.CodeChallengeMethodsSupported, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v, want [S256] only", d.CodeChallengeMethodsSupported)
	}
	for _, alg := range []string{RS256, ES256} {
		if !slices.Contains(d.IDTokenSigningAlgValuesSupported, alg) {
			t.Errorf("id_token_signing_alg_values_supported = %v, missing %s", d.IDTokenSigningAlgValuesSupported, alg)
		}
	}
	for _, sc := range Scopes() {
		if !slices.Contains(d.ScopesSupported, sc) {
			t.Errorf("scopes_supported = %v, missing %s", d.ScopesSupported, sc)
		}
	}
	if !slices.Contains(d.ClaimsSupported, "realm_access") {
		t.Errorf("claims_supported = %v, missing realm_access", d.ClaimsSupported)
	}
	if !d.AuthorizationResponseISSParameterSupported {
		t.Error("authorization_response_iss_parameter_supported is false; login() expects iss at the callback")
	}
	if m := s.Metadata(); m.TokenEndpoint != d.TokenEndpoint || m.EndSessionEndpoint != d.EndSessionEndpoint {
		t.Errorf("Metadata() = %+v, want the document fetched at start", m)
	}
}

func testJWKSHoldsAnRSAAndAnECKey(t *testing.T, s *Server) {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwksOf(t, s), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}
	want := map[string]string{"RSA": RS256, "EC": ES256}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kty, _ := k["kty"].(string)
		if k["alg"] != want[kty] || k["use"] != "sig" {
			t.Errorf("%s key: alg %v use %v, want %s sig", kty, k["alg"], k["use"], want[kty])
		}
		delete(want, kty)
		if kty == "EC" && k["crv"] != "P-256" {
			t.Errorf("EC key curve = %v, want P-256", k["crv"])
		}
		if kty == "RSA" {
			n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
			if len(n)*8 != 2048 {
				t.Errorf("RSA key has %d bits, want 2048", len(n)*8)
			}
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("%s key publishes private member %q", kty, private)
			}
		}
		kid, _ := k["kid"].(string)
		if kid == "" || kids[kid] {
			t.Errorf("%s key kid %q: want a distinct kid", kty, kid)
		}
		kids[kid] = true
	}
	if len(want) != 0 {
		t.Errorf("JWKS lacks key types %v", want)
	}
	if _, err := jwk.Parse(jwksOf(t, s)); err != nil {
		t.Errorf("jwk.Parse: %v", err)
	}
}

// TestCodeFlowWithResource runs authorization code + PKCE for both clients
// and both users with a resource: the ID token carries the nested roles,
// the access token is an RFC 9068 JWT for the resource.
func testCodeFlowWithResource(t *testing.T, s *Server) {
	rsaKid, _ := keyIDs(t, s)
	for _, c := range []Client{s.Confidential, s.Public} {
		for _, u := range []User{alice(), bob()} {
			t.Run(c.ID+"/"+u.Username, func(t *testing.T) {
				se := login(t, s, c, u, DefaultResource)
				tr := exchange(t, s, c, se, DefaultResource)
				if tr.RefreshToken == "" || tr.TokenType != "Bearer" {
					t.Errorf("refresh token %t, token_type %q; want a refresh token and Bearer", tr.RefreshToken != "", tr.TokenType)
				}

				id := verifyJWT(t, s, tr.IDToken, c.ID)
				if id.header["alg"] != RS256 || id.header["kid"] != rsaKid || id.header["typ"] != "JWT" {
					t.Errorf("id token header = %v, want RS256 with the RSA key's kid and typ JWT", id.header)
				}
				if got := roles(id.claims); !slices.Equal(got, u.Groups) {
					t.Errorf("id token realm_access.roles = %v, want %v", got, u.Groups)
				}
				for claim, want := range map[string]string{"sub": u.Subject, "email": u.Email, "preferred_username": u.Username, "nonce": se.nonce} {
					if id.claims[claim] != want {
						t.Errorf("id token %s = %v, want %q", claim, id.claims[claim], want)
					}
				}
				if _, ok := id.claims["groups"]; ok {
					t.Error("id token has a flat groups claim; the roles should only be nested")
				}

				if !isJWT(tr.AccessToken) {
					t.Fatalf("access token for a resource is not a JWT")
				}
				at := verifyJWT(t, s, tr.AccessToken, DefaultResource)
				if at.header["typ"] != "at+jwt" || at.header["alg"] != RS256 {
					t.Errorf("access token header = %v, want typ at+jwt, RS256", at.header)
				}
				if at.claims["aud"] != DefaultResource || at.claims["client_id"] != c.ID || at.claims["sub"] != u.Subject || at.claims["scope"] != "api:read" {
					t.Errorf("access token aud %v client_id %v sub %v scope %v; want %s %s %s api:read",
						at.claims["aud"], at.claims["client_id"], at.claims["sub"], at.claims["scope"], DefaultResource, c.ID, u.Subject)
				}
				if got := roles(at.claims); !slices.Equal(got, u.Groups) {
					t.Errorf("access token realm_access.roles = %v, want %v", got, u.Groups)
				}
				for _, idOnly := range []string{"nonce", "at_hash"} {
					if _, ok := at.claims[idOnly]; ok {
						t.Errorf("access token carries %s", idOnly)
					}
				}
				// oidc-provider keeps no state for JWT access tokens:
				// introspection does not know them.
				in, err := s.Introspect(t.Context(), tr.AccessToken, "access_token")
				if err != nil || in.Active {
					t.Errorf("Introspect(JWT access token) = %+v, %v; want inactive", in, err)
				}
				if ok, err := s.RefreshTokenActive(t.Context(), tr.RefreshToken); err != nil || !ok {
					t.Errorf("RefreshTokenActive(new refresh token) = %t, %v; want true", ok, err)
				}
			})
		}
	}
}

// TestOpaqueAccessTokens: without a resource the access token is opaque
// (good for userinfo) and introspection describes it; a resource marked
// Opaque gets an opaque token whose introspection names the audience.
func testOpaqueAccessTokens(t *testing.T, s *Server) {
	t.Run("no resource", func(t *testing.T) {
		u := alice()
		tr := exchange(t, s, s.Confidential, login(t, s, s.Confidential, u, ""), "")
		if isJWT(tr.AccessToken) {
			t.Fatal("access token without a resource is a JWT, want opaque")
		}
		// By default the ID token carries the scope claims even when the
		// access token is for userinfo (see ClaimsOnlyAtUserinfo).
		if got := roles(verifyJWT(t, s, tr.IDToken, s.Confidential.ID).claims); !slices.Equal(got, u.Groups) {
			t.Errorf("id token realm_access.roles = %v, want %v", got, u.Groups)
		}
		in, err := s.Introspect(t.Context(), tr.AccessToken, "")
		if err != nil {
			t.Fatalf("Introspect: %v", err)
		}
		if !in.Active || in.TokenType != "Bearer" || in.ClientID != s.Confidential.ID || in.Subject != u.Subject || in.Issuer != s.Issuer {
			t.Errorf("introspection = %+v, want active Bearer for %s, sub %s, iss %s", in, s.Confidential.ID, u.Subject, s.Issuer)
		}
		if !slices.Contains(strings.Fields(in.Scope), "groups") || in.Audience != nil {
			t.Errorf("introspection scope %q aud %s; want the OIDC scopes and no aud", in.Scope, in.Audience)
		}
		if now := time.Now().Unix(); in.Expiry < now+3000 || in.Expiry > now+3700 {
			t.Errorf("introspection exp in %ds, want about an hour", in.Expiry-now)
		}
		if got := roles(in.Raw); !slices.Equal(got, u.Groups) {
			t.Errorf("introspection realm_access.roles = %v, want %v", got, u.Groups)
		}
		claims := userinfo(t, s, tr.AccessToken)
		if got := roles(claims); !slices.Equal(got, u.Groups) || claims["sub"] != u.Subject {
			t.Errorf("userinfo sub %v roles %v, want %s %v", claims["sub"], got, u.Subject, u.Groups)
		}
	})
	t.Run("opaque resource", func(t *testing.T) {
		tr := exchange(t, s, s.Public, login(t, s, s.Public, bob(), opaqueResource), opaqueResource)
		if isJWT(tr.AccessToken) {
			t.Fatal("access token for an opaque resource is a JWT")
		}
		in, err := s.Introspect(t.Context(), tr.AccessToken, "access_token")
		if err != nil {
			t.Fatalf("Introspect: %v", err)
		}
		if !in.Active || in.Scope != "api:read" || string(in.Audience) != `"`+opaqueResource+`"` || in.ClientID != s.Public.ID {
			t.Errorf("introspection = %+v, want active, scope api:read, aud %q, client %s", in, opaqueResource, s.Public.ID)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		in, err := s.Introspect(t.Context(), "not-a-token", "")
		if err != nil || in.Active {
			t.Errorf("Introspect(unknown) = %+v, %v; want inactive, no error", in, err)
		}
	})
	t.Run("unknown resource", func(t *testing.T) {
		conf := s.OAuth2Config(s.Confidential, testRedirect)
		authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), WithResource("https://unknown.example.test"))
		cb, err := s.Login(t.Context(), newJarClient(t), authURL, alice())
		if err != nil || cb.Query().Get("error") != "invalid_target" {
			t.Errorf("Login for an unknown resource = %v, %v; want a redirect with error=invalid_target", cb, err)
		}
	})
}

func userinfo(t *testing.T, s *Server, accessToken string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Metadata().UserinfoEndpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	b, err := s.do(req)
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestRefreshRotation: every refresh gives a new refresh token and retires
// the old one; presenting a retired one revokes the whole chain.
func testRefreshRotation(t *testing.T, s *Server) {
	for _, c := range []Client{s.Confidential, s.Public} {
		t.Run(c.ID, func(t *testing.T) {
			u := alice()
			before := liveRefreshTokens(t, s, u, c)
			first := exchange(t, s, c, login(t, s, c, u, DefaultResource), DefaultResource)
			rt := first.RefreshToken
			var used []string
			for i := range 2 {
				next := refresh(t, s, c, rt, DefaultResource)
				if next.status != http.StatusOK {
					t.Fatalf("refresh %d: %d %s (%s)", i+1, next.status, next.Error, next.ErrorDescription)
				}
				if next.RefreshToken == "" || next.RefreshToken == rt {
					t.Fatalf("refresh %d did not rotate the refresh token", i+1)
				}
				// The refresh answer carries a new ID token, and with
				// resource a JWT access token for it.
				id := verifyJWT(t, s, next.IDToken, c.ID)
				if id.claims["sub"] != u.Subject || !slices.Equal(roles(id.claims), u.Groups) {
					t.Errorf("refreshed id token sub %v roles %v", id.claims["sub"], roles(id.claims))
				}
				if at := verifyJWT(t, s, next.AccessToken, DefaultResource); at.header["typ"] != "at+jwt" {
					t.Errorf("refreshed access token typ = %v", at.header["typ"])
				}
				if ok, err := s.RefreshTokenActive(t.Context(), rt); err != nil || ok {
					t.Errorf("RefreshTokenActive(rotated-away token) = %t, %v; want false", ok, err)
				}
				used, rt = append(used, rt), next.RefreshToken
			}
			// Without resource the refresh gets an opaque userinfo token.
			plain := refresh(t, s, c, rt, "")
			if plain.status != http.StatusOK || isJWT(plain.AccessToken) {
				t.Fatalf("refresh without resource: %d %s, JWT %t; want 200 and an opaque token", plain.status, plain.Error, isJWT(plain.AccessToken))
			}
			rt = plain.RefreshToken
			if n := liveRefreshTokens(t, s, u, c); n != before+1 {
				t.Errorf("LiveRefreshTokens = %d, want %d (one chain more)", n, before+1)
			}

			if old := refresh(t, s, c, used[0], ""); old.status != http.StatusBadRequest || old.Error != "invalid_grant" {
				t.Errorf("refresh with a rotated-away token: %d %q, want 400 invalid_grant", old.status, old.Error)
			}
			// Reuse detection: the chain is revoked, the newest token too.
			if newest := refresh(t, s, c, rt, ""); newest.Error != "invalid_grant" {
				t.Errorf("refresh with the newest token after a reuse: %d %q, want invalid_grant", newest.status, newest.Error)
			}
			if n := liveRefreshTokens(t, s, u, c); n != before {
				t.Errorf("LiveRefreshTokens after reuse = %d, want %d", n, before)
			}
		})
	}
}

func testNoRefreshTokenWithoutPromptConsent(t *testing.T, s *Server) {
	conf := s.OAuth2Config(s.Confidential, testRedirect)
	verifier := oauth2.GenerateVerifier()
	cb, err := s.Login(t.Context(), newJarClient(t), conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), alice())
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	tr := exchange(t, s, s.Confidential, session{code: cb.Query().Get("code"), verifier: verifier}, "")
	if tr.RefreshToken != "" || slices.Contains(strings.Fields(tr.Scope), "offline_access") {
		t.Errorf("without prompt=consent: refresh token %t, scope %q; want none and no offline_access", tr.RefreshToken != "", tr.Scope)
	}
}

// TestRevocation: RFC 7009 revocation of a refresh token, by either client,
// is seen by introspection, the admin check and the token endpoint; it takes
// the grant's opaque access tokens with it.
func testRevocation(t *testing.T, s *Server) {
	for _, c := range []Client{s.Confidential, s.Public} {
		t.Run(c.ID, func(t *testing.T) {
			u := bob()
			before := liveRefreshTokens(t, s, u, c)
			tr := exchange(t, s, c, login(t, s, c, u, ""), "")
			if n := liveRefreshTokens(t, s, u, c); n != before+1 {
				t.Fatalf("LiveRefreshTokens after login = %d, want %d", n, before+1)
			}
			rev := postForm(t, s, s.Metadata().RevocationEndpoint, c, url.Values{"token": {tr.RefreshToken}, "token_type_hint": {"refresh_token"}})
			if rev.status != http.StatusOK {
				t.Fatalf("revocation: %d %s (%s)", rev.status, rev.Error, rev.ErrorDescription)
			}
			if ok, err := s.RefreshTokenActive(t.Context(), tr.RefreshToken); err != nil || ok {
				t.Errorf("RefreshTokenActive(revoked) = %t, %v; want false", ok, err)
			}
			if n := liveRefreshTokens(t, s, u, c); n != before {
				t.Errorf("LiveRefreshTokens after revocation = %d, want %d", n, before)
			}
			if in, err := s.Introspect(t.Context(), tr.AccessToken, ""); err != nil || in.Active {
				t.Errorf("Introspect(access token of the revoked grant) = %+v, %v; want inactive", in, err)
			}
			if again := refresh(t, s, c, tr.RefreshToken, ""); again.Error != "invalid_grant" {
				t.Errorf("refresh with a revoked token: %d %q, want invalid_grant", again.status, again.Error)
			}
		})
	}
	t.Run("wrong client secret", func(t *testing.T) {
		c := s.Confidential
		c.Secret = "wrong"
		rev := postForm(t, s, s.Metadata().RevocationEndpoint, c, url.Values{"token": {"x"}})
		if rev.status != http.StatusUnauthorized || rev.Error != "invalid_client" {
			t.Errorf("revocation with a wrong secret: %d %q, want 401 invalid_client", rev.status, rev.Error)
		}
	})
}

// TestEndSession: RP-initiated logout with id_token_hint goes back to the
// post_logout_redirect_uri with state and ends the provider session; the
// refresh token (offline_access) outlives it, as the spec allows.
func testEndSession(t *testing.T, s *Server) {
	u := alice()
	se := login(t, s, s.Confidential, u, "")
	tr := exchange(t, s, s.Confidential, se, "")

	out, err := s.Logout(t.Context(), se.client, s.EndSessionURL(tr.IDToken, testPostLogout, "st-1"))
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if got := out.Scheme + "://" + out.Host + out.Path; got != testPostLogout || out.Query().Get("state") != "st-1" {
		t.Errorf("Logout went to %s, want %s?state=st-1", out, testPostLogout)
	}
	if !showsLoginForm(t, s, se.client) {
		t.Error("after logout the provider session still signs the browser in")
	}
	if ok, err := s.RefreshTokenActive(t.Context(), tr.RefreshToken); err != nil || !ok {
		t.Errorf("RefreshTokenActive after end session = %t, %v; want true (offline_access survives logout)", ok, err)
	}

	t.Run("unregistered post_logout_redirect_uri", func(t *testing.T) {
		se := login(t, s, s.Confidential, u, "")
		tr := exchange(t, s, s.Confidential, se, "")
		if out, err := s.Logout(t.Context(), se.client, s.EndSessionURL(tr.IDToken, "http://localhost:8080/elsewhere", "")); err == nil || !strings.Contains(err.Error(), "invalid_request") {
			t.Errorf("Logout to an unregistered URI = %v, %v; want an invalid_request error", out, err)
		}
	})
	t.Run("without a session", func(t *testing.T) {
		// A client that lost the provider's cookies still gets a form to
		// post (oidc-provider's self-submitting one) and its redirect.
		out, err := s.Logout(t.Context(), newJarClient(t), s.EndSessionURL(tr.IDToken, testPostLogout, "st-2"))
		if err != nil || out.Query().Get("state") != "st-2" {
			t.Errorf("Logout without a session = %v, %v; want %s?state=st-2", out, err, testPostLogout)
		}
	})
}

// showsLoginForm reports whether a new authorization request with client's
// cookies ends at the sign-in form rather than back at the client.
func showsLoginForm(t *testing.T, s *Server, client *http.Client) bool {
	t.Helper()
	conf := s.OAuth2Config(s.Confidential, testRedirect)
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	_, err := s.walk(t.Context(), client, authURL, func(f form) (url.Values, error) {
		if f.password {
			return nil, errSawLoginForm
		}
		return nil, errors.New("another form")
	})
	return errors.Is(err, errSawLoginForm)
}

var errSawLoginForm = errors.New("sign-in form")

func TestSigningAlgorithms(t *testing.T) {
	// RS256 for both is the default, which TestProvider covers.
	for _, tt := range []struct{ idAlg, atAlg string }{{ES256, ES256}, {RS256, ES256}} {
		t.Run("id "+tt.idAlg+" access "+tt.atAlg, func(t *testing.T) {
			o := testOptions()
			o.IDTokenAlg, o.AccessTokenAlg = tt.idAlg, tt.atAlg
			s := StartForTest(t, o)
			rsaKid, ecKid := keyIDs(t, s)
			kidOf := map[string]string{RS256: rsaKid, ES256: ecKid}
			tr := exchange(t, s, s.Confidential, login(t, s, s.Confidential, alice(), DefaultResource), DefaultResource)
			if id := verifyJWT(t, s, tr.IDToken, s.Confidential.ID); id.header["alg"] != tt.idAlg || id.header["kid"] != kidOf[tt.idAlg] {
				t.Errorf("id token header = %v, want %s with kid %s", id.header, tt.idAlg, kidOf[tt.idAlg])
			}
			if at := verifyJWT(t, s, tr.AccessToken, DefaultResource); at.header["alg"] != tt.atAlg || at.header["kid"] != kidOf[tt.atAlg] || at.header["typ"] != "at+jwt" {
				t.Errorf("access token header = %v, want %s with kid %s, typ at+jwt", at.header, tt.atAlg, kidOf[tt.atAlg])
			}
		})
	}
}

// TestClaimsOnlyAtUserinfo: oidc-provider's spec-strict default leaves the
// scope claims out of an ID token whose access token is for userinfo, and
// puts them in when the access token is for an API.
func TestClaimsOnlyAtUserinfo(t *testing.T) {
	o := testOptions()
	o.ClaimsOnlyAtUserinfo = true
	s := StartForTest(t, o)
	u := alice()

	tr := exchange(t, s, s.Confidential, login(t, s, s.Confidential, u, ""), "")
	id := verifyJWT(t, s, tr.IDToken, s.Confidential.ID)
	if id.claims["sub"] != u.Subject {
		t.Errorf("id token sub = %v, want %s", id.claims["sub"], u.Subject)
	}
	for _, claim := range []string{"realm_access", "email", "preferred_username"} {
		if _, ok := id.claims[claim]; ok {
			t.Errorf("id token has %s; want it only at userinfo", claim)
		}
	}
	if got := roles(userinfo(t, s, tr.AccessToken)); !slices.Equal(got, u.Groups) {
		t.Errorf("userinfo realm_access.roles = %v, want %v", got, u.Groups)
	}

	withResource := exchange(t, s, s.Confidential, login(t, s, s.Confidential, u, DefaultResource), DefaultResource)
	if got := roles(verifyJWT(t, s, withResource.IDToken, s.Confidential.ID).claims); !slices.Equal(got, u.Groups) {
		t.Errorf("id token with an API access token: realm_access.roles = %v, want %v", got, u.Groups)
	}
}

func TestUseGrantedResource(t *testing.T) {
	for _, granted := range []bool{false, true} {
		t.Run("useGrantedResource="+map[bool]string{false: "false", true: "true"}[granted], func(t *testing.T) {
			o := testOptions()
			o.UseGrantedResource = granted
			s := StartForTest(t, o)
			// resource at authorization only, not at the token endpoint.
			tr := exchange(t, s, s.Confidential, login(t, s, s.Confidential, alice(), DefaultResource), "")
			if isJWT(tr.AccessToken) != granted {
				t.Errorf("code exchange without resource: JWT %t, want %t", isJWT(tr.AccessToken), granted)
			}
			next := refresh(t, s, s.Confidential, tr.RefreshToken, "")
			if next.status != http.StatusOK || isJWT(next.AccessToken) != granted {
				t.Errorf("refresh without resource: %d, JWT %t; want 200, %t", next.status, isJWT(next.AccessToken), granted)
			}
			if granted {
				verifyJWT(t, s, next.AccessToken, DefaultResource)
			}
		})
	}
}

func testPKCEIsRequired(t *testing.T, s *Server) {
	conf := s.OAuth2Config(s.Confidential, testRedirect)
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"no challenge": nil,
		"plain method": {oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
	} {
		t.Run(name, func(t *testing.T) {
			cb, err := s.Login(t.Context(), newJarClient(t), conf.AuthCodeURL("st", opts...), alice())
			if err != nil || cb.Query().Get("error") != "invalid_request" {
				t.Errorf("Login = %v, %v; want a redirect with error=invalid_request", cb, err)
			}
		})
	}
	t.Run("wrong verifier", func(t *testing.T) {
		se := login(t, s, s.Confidential, alice(), "")
		se.verifier = oauth2.GenerateVerifier()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {se.code}, "redirect_uri": {testRedirect}, "code_verifier": {se.verifier}}
		if tr := tokenRequest(t, s, s.Confidential, form); tr.Error != "invalid_grant" {
			t.Errorf("exchange with a wrong verifier: %d %q, want invalid_grant", tr.status, tr.Error)
		}
	})
}

func testLoginRejectsWrongPassword(t *testing.T, s *Server) {
	conf := s.OAuth2Config(s.Confidential, testRedirect)
	for name, u := range map[string]User{
		"wrong password": {Email: alice().Email, Password: "not-" + alice().Password},
		"unknown user":   {Email: "mallory@example.com", Password: "x"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Login(t.Context(), newJarClient(t), conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), u)
			if !errors.Is(err, ErrLoginRejected) {
				t.Errorf("Login = %v, want ErrLoginRejected", err)
			}
		})
	}
}

func TestCloseStopsEverything(t *testing.T) {
	s := StartForTest(t, testOptions())
	dir, pid := s.dir, s.cmd.Process.Pid
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s (err %v)", dir, err)
	}
	select {
	case <-s.exited:
	default:
		t.Errorf("node (pid %d) still running after Close", pid)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.Discovery(ctx); err == nil {
		t.Error("discovery still answers after Close")
	}
}

// BenchmarkStart measures a provider start (node, oidc-provider's import,
// two fresh keys, discovery and JWKS fetched) and Close, once installed.
func BenchmarkStart(b *testing.B) {
	StartForTest(b, testOptions()).Close() // installs, or skips without Node
	o := testOptions()
	o.CacheDir = ""
	for b.Loop() {
		s, err := Start(b.Context(), o)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// testSuiteConfig: the generated suite config passes the whole check a cold
// start makes, with both of the provider's keys loaded and its endpoints,
// resource and audiences carried over.
func testSuiteConfig(t *testing.T, s *Server) {
	b, err := s.SuiteConfig("http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	c, err := lambdafn.CheckConfig(b)
	if err != nil {
		t.Fatalf("CheckConfig(SuiteConfig) = %v", err)
	}
	m := s.Metadata()
	if c.Endpoints.Introspection != m.IntrospectionEndpoint || c.Endpoints.Userinfo != m.UserinfoEndpoint || c.Endpoints.Logout != m.EndSessionEndpoint || c.Endpoints.Revoke != m.RevocationEndpoint {
		t.Errorf("endpoints = %+v, want the discovery document's", c.Endpoints)
	}
	if c.Resource != DefaultResource || !slices.Equal(c.AccessAudiences(), []string{DefaultResource, opaqueResource}) || c.AuthorizeParams["prompt"] != "consent" {
		t.Errorf("resource %q, audiences %v, prompt %q", c.Resource, c.AccessAudiences(), c.AuthorizeParams["prompt"])
	}
	p, err := lambdafn.NewParts(lambdafn.Deps{Config: c}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if ks := p.Verifier.KeySet(); len(ks.Loaded) != 2 || len(ks.Skipped) != 0 {
		t.Errorf("key set = %s, want the RS256 and the ES256 key loaded", ks)
	}
	if len(c.Warnings()) != 0 {
		t.Errorf("warnings = %q", c.Warnings())
	}
}
