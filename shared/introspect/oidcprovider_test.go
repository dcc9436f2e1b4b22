package introspect_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/oidcprovider"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/introspect"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// TestOIDCProvider checks real tokens at panva's oidc-provider: an opaque
// access token for an API passes, with the user's nested roles; its JWT
// access tokens (which it does not introspect), a userinfo-only token and a
// refresh token do not.
func TestOIDCProvider(t *testing.T) {
	const (
		redirect = "http://localhost:8080/parseauth"
		opaque   = "https://opaque.example.test"
	)
	s := oidcprovider.StartForTest(t, oidcprovider.Options{
		RedirectURIs: []string{redirect},
		Resources: []oidcprovider.Resource{
			{URL: oidcprovider.DefaultResource, Scopes: []string{"api:read"}},
			{URL: opaque, Scopes: []string{"api:read"}, Opaque: true},
		},
	})
	tokens := func(resource string) *oauth2.Token {
		t.Helper()
		conf := s.OAuth2Config(s.Confidential, redirect)
		verifier := oauth2.GenerateVerifier()
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidcprovider.ConsentPrompt()}
		if resource != "" {
			conf.Scopes = append(conf.Scopes, "api:read")
			opts = append(opts, oidcprovider.WithResource(resource))
		}
		jar, _ := cookiejar.New(nil)
		cb, err := s.Login(t.Context(), &http.Client{Jar: jar, Timeout: 10 * time.Second}, conf.AuthCodeURL("st", opts...), oidcprovider.DemoUsers()[0])
		if err != nil {
			t.Fatal(err)
		}
		ex := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
		if resource != "" {
			ex = append(ex, oidcprovider.WithResource(resource))
		}
		tok, err := conf.Exchange(t.Context(), cb.Query().Get("code"), ex...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	meta := s.Metadata()
	p, err := idp.New(idp.Config{
		ClientID: s.Confidential.ID, ClientSecret: s.Confidential.Secret,
		Endpoints: idp.Endpoints{Authorize: meta.AuthorizationEndpoint, Token: meta.TokenEndpoint, Introspection: meta.IntrospectionEndpoint},
		Scopes:    []string{"openid"},
	})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := s.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(verifier.Config{Issuer: s.Issuer, ClientID: s.Confidential.ID, GroupsClaim: "realm_access.roles", JWKS: jwks, Algorithms: []string{"RS256", "ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := introspect.New(introspect.Config{Provider: p, Issuer: s.Issuer, Audiences: []string{opaque, oidcprovider.DefaultResource}, Read: v.IdentityOf})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	alice := oidcprovider.DemoUsers()[0]

	op := tokens(opaque)
	id, err := c.Check(ctx, op.AccessToken)
	if err != nil || id.Subject != alice.Subject || !slices.Equal(id.Groups, alice.Groups) || !slices.Contains(id.Scopes, "api:read") {
		t.Errorf("Check(opaque access token) = %+v, %v; want alice with her roles and api:read", id, err)
	}
	if _, err := c.Check(ctx, op.RefreshToken); !errors.Is(err, verifier.ErrTokenUse) {
		t.Errorf("Check(refresh token) = %v, want ErrTokenUse (no token_type Bearer)", err)
	}
	jwt := tokens(oidcprovider.DefaultResource)
	if _, err := c.Check(ctx, jwt.AccessToken); !errors.Is(err, introspect.ErrInactive) {
		t.Errorf("Check(JWT access token) = %v, want ErrInactive (oidc-provider introspects opaque tokens only)", err)
	}
	userinfo := tokens("")
	if _, err := c.Check(ctx, userinfo.AccessToken); !errors.Is(err, verifier.ErrAudience) {
		t.Errorf("Check(userinfo access token) = %v, want ErrAudience (it has no aud)", err)
	}
}
