package idp

import (
	"context"
	"errors"
	"net/url"
)

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

	status, _, body, err := p.post(ctx, "revoke", p.endpoints.Revoke, url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}})
	if err != nil {
		return err
	}
	// RFC 7009 §2.2: 200 also for a token that was already invalid.
	if status >= 200 && status < 300 {
		return nil
	}
	return statusError("revoke", status, errorCode(body))
}
