package oidcprovider

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/shared/config"
)

// SuiteConfig returns an edgeauth config.json for this provider and an edge
// at edgeOrigin (e.g. http://localhost:8080), as a user of an RFC 9068
// provider would write it (testdata/config/rfc9068.json): every endpoint of
// the discovery document (revocation, end-session, introspection and
// userinfo included); the confidential client; [Scopes] and the first
// resource's scopes, with prompt=consent so that offline_access yields a
// refresh token; the first resource as the RFC 8707 resource, and every
// resource's URL as an audience (so an opaque token for one is checked by
// introspection); RS256 and ES256; groups from realm_access.roles; scheme and
// host from edgeOrigin; the demo rules (dex.DemoRules); the JWKS fetched at
// start; and keys: the given pairs, or one fresh pair. Bearer tokens must be
// access tokens (typ at+jwt): the default. The result passes config.Parse.
// It holds the client secret and cookie keys: write it with mode 0600 and
// never log it.
func (s *Server) SuiteConfig(edgeOrigin string, keys ...config.KeyPair) ([]byte, error) {
	u, err := url.Parse(edgeOrigin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("oidcprovider: suite config: edge origin %q: want scheme://host[:port]", edgeOrigin)
	}
	if len(keys) == 0 {
		keys = []config.KeyPair{dex.NewKeyPair()}
	}
	if len(s.Resources) == 0 {
		return nil, fmt.Errorf("oidcprovider: suite config: the provider has no resource")
	}
	m := s.meta
	scopes := append(Scopes(), s.Resources[0].Scopes...)
	var audiences []string
	for _, r := range s.Resources {
		audiences = append(audiences, r.URL)
	}
	c := config.Config{
		OIDC: &config.OIDC{
			IssuerURL:             s.Issuer,
			AuthorizationEndpoint: m.AuthorizationEndpoint,
			TokenEndpoint:         m.TokenEndpoint,
			RevocationEndpoint:    m.RevocationEndpoint,
			EndSessionEndpoint:    m.EndSessionEndpoint,
			IntrospectionEndpoint: m.IntrospectionEndpoint,
			UserinfoEndpoint:      m.UserinfoEndpoint,
			JWKSURI:               m.JWKSURI,
		},
		ClientID:        s.Confidential.ID,
		ClientSecret:    s.Confidential.Secret,
		Scopes:          scopes,
		AuthorizeParams: map[string]string{"prompt": "consent"},
		Resource:        s.Resources[0].URL,
		Audiences:       audiences,
		Algorithms:      []string{RS256, ES256},
		GroupsClaim:     "realm_access.roles",
		Hosts:           []string{u.Host},
		Scheme:          u.Scheme,
		Keys:            keys,
		JWKS:            json.RawMessage(s.jwks),
		Rules:           dex.DemoRules(),
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: suite config: %w", err)
	}
	if _, err := config.Parse(b); err != nil {
		return nil, fmt.Errorf("oidcprovider: suite config does not validate: %w", err)
	}
	return b, nil
}
