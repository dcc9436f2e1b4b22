package dex

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/edgeauth/edgeauth/shared/config"
)

// DemoRules are the demo site's path rules, first match wins: the style
// sheet, favicon and /public/ are public, /admin/ needs group admins,
// /users/{sub}/ is only for its own subject, and everything else needs a
// sign-in (the default when no rule matches). testdata/demo/rules.json holds
// the same list for readers; a test keeps the two equal.
func DemoRules() []config.Rule {
	return []config.Rule{
		{Path: "/style.css", Public: true},
		{Path: "/favicon.ico", Public: true},
		{Path: "/public/*", Public: true},
		{Path: "/admin/*", Groups: []string{"admins"}},
		{Path: "/users/{sub}/*"},
	}
}

// NewKeyPair returns a fresh random cookie key pair (32-byte HMAC key,
// 32-byte AES key).
func NewKeyPair() config.KeyPair {
	k := config.KeyPair{Hash: make([]byte, 32), Block: make([]byte, 32)}
	_, _ = rand.Read(k.Hash) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(k.Block)
	return k
}

// SuiteConfig returns an edgeauth config.json for this Dex and an edge at
// edgeOrigin (e.g. http://localhost:8080): the OIDC issuer and endpoints
// (the revocation endpoint is the harness's own, [Server.RevocationEndpoint],
// as Dex has none; there is no end-session endpoint), the client's id and
// secret, the scopes of [Scopes], scheme and host from edgeOrigin,
// [DemoRules], bearerToken "insecureIdToken" (Dex's access tokens are ID
// tokens, nonce included, so no rule can tell them apart; the opt-in is
// explicit and logged at cold start), the JWKS fetched at start, and keys: the given pairs, or one fresh pair. The
// result passes config.Parse. It holds the client secret and cookie keys:
// write it with mode 0600 and never log it.
func (s *Server) SuiteConfig(edgeOrigin string, keys ...config.KeyPair) ([]byte, error) {
	u, err := url.Parse(edgeOrigin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("dex: suite config: edge origin %q: want scheme://host[:port]", edgeOrigin)
	}
	if len(keys) == 0 {
		keys = []config.KeyPair{NewKeyPair()}
	}
	c := config.Config{
		OIDC: &config.OIDC{
			IssuerURL:             s.Issuer,
			AuthorizationEndpoint: s.disc.AuthorizationEndpoint,
			TokenEndpoint:         s.disc.TokenEndpoint,
			RevocationEndpoint:    s.disc.RevocationEndpoint,
			EndSessionEndpoint:    s.disc.EndSessionEndpoint,
			JWKSURI:               s.disc.JWKSURI,
		},
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		Scopes:       Scopes(),
		Hosts:        []string{u.Host},
		Scheme:       u.Scheme,
		Keys:         keys,
		JWKS:         json.RawMessage(s.jwks),
		Rules:        DemoRules(),
		BearerToken:  config.BearerInsecureIDToken,
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dex: suite config: %w", err)
	}
	if _, err := config.Parse(b); err != nil {
		return nil, fmt.Errorf("dex: suite config does not validate: %w", err)
	}
	return b, nil
}
