package idp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxErrorBody bounds how much of a revocation error response is read.
const maxErrorBody = 64 << 10

// Revoke revokes a refresh token at the IdP (RFC 7009): a POST of
// token=…&token_type_hint=refresh_token, authenticated as at the token
// endpoint (HTTP Basic with a secret, client_id in the body without). It
// waits at most min(Timeout, 2s). It returns ErrNoRevocation when the
// provider has no revocation endpoint, and otherwise classifies failures as
// Exchange does. At Cognito this also revokes the access tokens issued from
// it, but not the JWTs the suite verifies locally: those live until exp.
func (p *Provider) Revoke(ctx context.Context, refreshToken string) error {
	if p.endpoints.Revoke == "" {
		return ErrNoRevocation
	}
	if refreshToken == "" {
		return errors.New("idp: revoke: empty refresh token")
	}
	ctx, cancel := context.WithTimeout(ctx, p.revokeWait)
	defer cancel()

	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}}
	if p.secret == "" {
		form.Set("client_id", p.clientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoints.Revoke, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("idp: revoke: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if p.secret != "" {
		// RFC 6749 §2.3.1: form-encode id and secret before Basic, as
		// x/oauth2 does for the token endpoint.
		req.SetBasicAuth(url.QueryEscape(p.clientID), url.QueryEscape(p.secret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return transportError("revoke", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return transportError("revoke", err)
	}
	// RFC 7009 §2.2: 200 also for a token that was already invalid.
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return statusError("revoke", resp.StatusCode, errorCode(body))
}
