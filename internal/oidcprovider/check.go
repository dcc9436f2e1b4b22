package oidcprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Introspection is an RFC 7662 answer from the provider. oidc-provider
// reports token_type "Bearer" for access tokens and none for refresh tokens;
// for an access token it adds the claims its extraTokenClaims gives
// (realm_access, preferred_username, email), kept in Raw.
type Introspection struct {
	Active    bool   `json:"active"`
	ClientID  string `json:"client_id"`
	Subject   string `json:"sub"`
	Scope     string `json:"scope"`
	TokenType string `json:"token_type"`
	Issuer    string `json:"iss"`
	Expiry    int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	// Audience is aud as sent: absent for a userinfo token, the resource
	// URL for a resource's opaque token.
	Audience json.RawMessage `json:"aud"`
	// Raw is the whole answer.
	Raw map[string]any `json:"-"`
}

// Introspect asks the provider about token (RFC 7662), authenticated as the
// confidential client. tokenTypeHint may be "", "access_token" or
// "refresh_token". An unknown, expired, consumed or revoked token is not an
// error: it comes back with Active false.
func (s *Server) Introspect(ctx context.Context, token, tokenTypeHint string) (*Introspection, error) {
	form := url.Values{"token": {token}}
	if tokenTypeHint != "" {
		form.Set("token_type_hint", tokenTypeHint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.meta.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: introspect: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(s.Confidential.ID), url.QueryEscape(s.Confidential.Secret)) // RFC 6749 §2.3.1
	b, err := s.do(req)
	if err != nil {
		return nil, err
	}
	var in Introspection
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("oidcprovider: introspect: %w", err)
	}
	if err := json.Unmarshal(b, &in.Raw); err != nil {
		return nil, fmt.Errorf("oidcprovider: introspect: %w", err)
	}
	return &in, nil
}

// RefreshTokenActive reports whether the provider would still accept
// refreshToken: false once it is revoked, rotated away or expired.
func (s *Server) RefreshTokenActive(ctx context.Context, refreshToken string) (bool, error) {
	in, err := s.Introspect(ctx, refreshToken, "refresh_token")
	if err != nil {
		return false, err
	}
	return in.Active && in.TokenType == "", nil
}

// LiveRefreshTokens counts the refresh tokens of subject issued to clientID
// that the provider would still accept (not expired, not rotated away, not
// revoked), straight from its storage. It lets a browser test, which never
// sees the tokens, check that a sign-out revoked them at the provider. The
// route behind it (/admin/) belongs to the harness, not to oidc-provider,
// and needs a token only the harness knows.
func (s *Server) LiveRefreshTokens(ctx context.Context, subject, clientID string) (int, error) {
	q := url.Values{"sub": {subject}, "client_id": {clientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Issuer+"/admin/refresh-tokens?"+q.Encode(), nil)
	if err != nil {
		return 0, fmt.Errorf("oidcprovider: live refresh tokens: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.adminToken)
	b, err := s.do(req)
	if err != nil {
		return 0, err
	}
	var out struct {
		Live *int `json:"live"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Live == nil {
		return 0, fmt.Errorf("oidcprovider: live refresh tokens: unexpected answer (%v)", err)
	}
	return *out.Live, nil
}
