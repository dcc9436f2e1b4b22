// Package idp talks to the identity provider (the Cognito hosted UI or any
// OpenID Connect provider): through golang.org/x/oauth2 it builds the
// authorize URL with PKCE (S256) and a nonce and exchanges a code; with
// requests of its own it refreshes (x/oauth2's TokenSource cannot send the
// RFC 8707 resource parameter on a refresh), revokes a refresh token (RFC
// 7009), introspects an access token (RFC 7662) and reads userinfo; and it
// builds the logout URL.
//
// It verifies nothing: the tokens it returns are raw strings for the verifier
// package, and the caller compares the ID token's nonce. Errors are classified
// by the sentinels below and carry the OAuth error code and HTTP status, never
// a token, code, verifier, secret or response body, so they are safe to log.
//
// New is the one check of a Config (client id, endpoints, scopes, extra
// authorize parameters): a bad one is a *ConfigError naming the field. The
// package takes its own Endpoints and knows nothing of the suite's config
// file.
package idp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// Sentinel errors; classify with errors.Is.
var (
	// ErrInvalidGrant means the IdP answered invalid_grant: the code was
	// used or expired, or the refresh token was revoked or expired. The
	// browser should log in again.
	ErrInvalidGrant = errors.New("idp: invalid grant")
	// ErrRejected means the IdP refused the request with any other OAuth
	// error (invalid_client, unauthorized_client, invalid_request…) or a
	// 4xx: a configuration problem more often than a user one.
	ErrRejected = errors.New("idp: request rejected")
	// ErrUnavailable means the IdP could not be reached or answered
	// nonsense: connection refused, timeout, 5xx or 429, a malformed body,
	// or an Exchange response without an id_token. Retrying may help.
	ErrUnavailable = errors.New("idp: unavailable")
	// ErrNoRevocation means the provider has no revocation endpoint, so
	// there is nothing to revoke; callers usually ignore it.
	ErrNoRevocation = errors.New("idp: provider has no revocation endpoint")
)

const (
	// DefaultTimeout bounds each token endpoint call when Config.Timeout is 0.
	DefaultTimeout = 5 * time.Second
	// maxRevokeTimeout caps revocation: sign-out must not hang on it, and a
	// failed revoke only leaves a refresh token the browser no longer holds.
	maxRevokeTimeout = 2 * time.Second
)

// ConfigError is the error New returns for a Config it refuses. Field names
// the Config field at fault in lower camel case, with the element when one
// is at fault ("endpoints.token", "scopes[2]", "extraParams.state"); Problem
// says what is wrong. A caller that fills Config from a file maps Field onto
// the file's own names.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "idp: " + e.Field + ": " + e.Problem }

func bad(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Endpoints are the IdP's URLs: absolute http(s) URLs without a fragment.
// A query is kept (some IdPs name a tenant there); the suite's parameters
// are added to it.
type Endpoints struct {
	Authorize string // required
	Token     string // required
	Revoke    string // RFC 7009 revocation; "" when the provider has none
	Logout    string // RP-initiated logout; "" when the provider has none
	// Introspection is RFC 7662 token introspection; "" when unused.
	Introspection string
	// Userinfo is OpenID Connect's userinfo endpoint; "" when unused.
	Userinfo string
	// CognitoLogout is true for Cognito's non-standard /logout
	// (client_id + logout_uri instead of id_token_hint).
	CognitoLogout bool
}

// Config describes one IdP client.
type Config struct {
	// ClientID is the app client id. Required.
	ClientID string
	// ClientSecret is optional. Without it the client is public and sends
	// client_id in the request body; with it the client authenticates with
	// HTTP Basic (client_secret_basic), which Cognito and every OIDC
	// provider accept.
	ClientSecret string
	// Endpoints are the IdP's URLs; Authorize and Token are required.
	Endpoints Endpoints
	// Scopes requested at login: RFC 6749 scope tokens, "openid" among
	// them, since Exchange requires an ID token.
	Scopes []string
	// ExtraParams are added to the authorize URL (identity_provider,
	// prompt, login_hint…). They cannot name the suite's own parameters
	// (response_type, client_id, redirect_uri, scope, state, nonce, the
	// PKCE challenge, and resource).
	ExtraParams map[string]string
	// Resource is an RFC 8707 resource indicator (an absolute URI without a
	// fragment) sent to the authorize endpoint and with every code exchange
	// and refresh, so that the access token is issued for that API.
	Resource string
	// HTTPClient makes every IdP call. Nil means a client with Go's default
	// transport.
	HTTPClient *http.Client
	// Timeout bounds each exchange or refresh; 0 means DefaultTimeout.
	// Revoke uses min(Timeout, 2s).
	Timeout time.Duration
	// Now is the clock for Tokens.Expiry. Defaults to time.Now.
	Now func() time.Time
}

// Provider is an OAuth 2.0 / OIDC client of one IdP. It is safe for
// concurrent use and meant to be built once per cold start.
type Provider struct {
	oauth      *oauth2.Config
	clientID   string
	secret     string
	endpoints  Endpoints
	scope      string
	extra      map[string]string
	resource   string
	client     *http.Client
	timeout    time.Duration
	revokeWait time.Duration
	checkWait  time.Duration // introspection and userinfo
	now        func() time.Time
}

// Tokens is what the token endpoint returned.
type Tokens struct {
	// IDToken is the raw OIDC ID token; always set by Exchange, "" after a
	// Refresh whose response carried none (see Provider.Refresh).
	IDToken string
	// AccessToken is the raw access token.
	AccessToken string
	// RefreshToken is the refresh token; after Refresh it is "" unless the
	// IdP rotated it.
	RefreshToken string
	// Expiry is when the access token expires by the response's expires_in,
	// measured on the Provider's clock; zero when the IdP did not say. The
	// ID token's own exp, checked by the verifier, is what bounds a session.
	Expiry time.Time
}

// New validates cfg and builds a Provider. It checks everything it is
// given, once, and reports a problem as a *ConfigError naming the field, so
// a bad config fails the cold start rather than the first login.
func New(cfg Config) (*Provider, error) {
	switch {
	case cfg.ClientID == "":
		return nil, bad("clientId", "is required")
	case strings.ContainsFunc(cfg.ClientID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return nil, bad("clientId", "must not contain white space")
	}
	for _, e := range []struct {
		field, url string
		required   bool
	}{
		{"endpoints.authorize", cfg.Endpoints.Authorize, true},
		{"endpoints.token", cfg.Endpoints.Token, true},
		{"endpoints.revoke", cfg.Endpoints.Revoke, false},
		{"endpoints.logout", cfg.Endpoints.Logout, false},
		{"endpoints.introspection", cfg.Endpoints.Introspection, false},
		{"endpoints.userinfo", cfg.Endpoints.Userinfo, false},
	} {
		if err := checkURL(e.field, e.url, e.required); err != nil {
			return nil, err
		}
	}
	if !slices.Contains(cfg.Scopes, "openid") {
		return nil, bad("scopes", `must include "openid"`)
	}
	for i, s := range cfg.Scopes {
		if !scopeToken(s) {
			return nil, bad(fmt.Sprintf("scopes[%d]", i), "must be one word (an RFC 6749 scope token: no spaces, quotes or backslashes), got %q", s)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.ExtraParams)) {
		switch {
		case k == "":
			return nil, bad("extraParams", "an extra authorize parameter needs a name")
		case reserved(k):
			return nil, bad("extraParams."+k, "%q is set by the suite and cannot be overridden", k)
		}
	}
	if cfg.Resource != "" {
		// RFC 8707 §2: an absolute URI without a fragment.
		if u, err := url.Parse(cfg.Resource); err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(cfg.Resource, "#") {
			return nil, bad("resource", "must be an absolute URI without a fragment (RFC 8707), got %q", cfg.Resource)
		}
	}
	if cfg.Timeout < 0 {
		return nil, bad("timeout", "must not be negative, got %v", cfg.Timeout)
	}

	p := &Provider{
		clientID:  cfg.ClientID,
		secret:    cfg.ClientSecret,
		endpoints: cfg.Endpoints,
		scope:     strings.Join(cfg.Scopes, " "),
		extra:     maps.Clone(cfg.ExtraParams),
		resource:  cfg.Resource,
		client:    cfg.HTTPClient,
		timeout:   cfg.Timeout,
		now:       cfg.Now,
	}
	if p.client == nil {
		p.client = &http.Client{}
	}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	p.revokeWait = min(p.timeout, maxRevokeTimeout)
	p.checkWait = min(p.timeout, maxCheckTimeout)
	if p.now == nil {
		p.now = time.Now
	}
	// The auth style is explicit: x/oauth2's auto-detection would retry a
	// failed request the other way (sending a single-use code twice) and
	// cache the result process-wide.
	style := oauth2.AuthStyleInParams
	if cfg.ClientSecret != "" {
		style = oauth2.AuthStyleInHeader
	}
	p.oauth = &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   cfg.Endpoints.Authorize,
			TokenURL:  cfg.Endpoints.Token,
			AuthStyle: style,
		},
		Scopes: slices.Clone(cfg.Scopes),
	}
	return p, nil
}

// checkURL is the one rule for an endpoint: an absolute http(s) URL with a
// host, no user info and no fragment. A query is allowed: some IdPs name a
// tenant there, and the suite adds its parameters to it.
func checkURL(field, raw string, required bool) error {
	if raw == "" {
		if required {
			return bad(field, "is required")
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return bad(field, "must be an absolute http(s) URL without a fragment, got %q", raw)
	}
	return nil
}

// reserved reports an authorize parameter the suite sets itself.
func reserved(name string) bool {
	switch name {
	case "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method", "resource":
		return true
	}
	return false
}

// scopeToken reports an RFC 6749 §3.3 scope-token: one or more of %x21,
// %x23-5B, %x5D-7E.
func scopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// NewVerifier returns a fresh PKCE code verifier: 32 random bytes in
// base64url, 43 characters (RFC 7636 §4.1).
func NewVerifier() string { return oauth2.GenerateVerifier() }

// NewNonce returns a fresh OIDC nonce: 32 random bytes in base64url.
func NewNonce() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthorizeURL returns the IdP's authorize URL for one login attempt:
// response_type=code, client_id, redirect_uri, scope, state, nonce and the
// S256 code_challenge derived from verifier, resource when configured, plus
// the configured extra parameters. The caller keeps state, nonce and verifier (in the login-state
// cookie); none is checked here beyond being passed along.
func (p *Provider) AuthorizeURL(redirectURI, state, nonce, verifier string) string {
	opts := make([]oauth2.AuthCodeOption, 0, len(p.extra)+7)
	for k, v := range p.extra {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	// New refuses extra parameters named like the suite's; these go last
	// all the same, so nothing above could replace them.
	opts = append(opts,
		oauth2.SetAuthURLParam("response_type", "code"),
		oauth2.SetAuthURLParam("client_id", p.clientID),
		oauth2.SetAuthURLParam("redirect_uri", redirectURI),
		oauth2.SetAuthURLParam("scope", p.scope),
		oauth2.SetAuthURLParam("state", state),
		oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.S256ChallengeOption(verifier),
	)
	if p.resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", p.resource))
	}
	return p.oauth.AuthCodeURL(state, opts...)
}

// Exchange trades an authorization code for tokens (grant_type
// authorization_code, with the PKCE code_verifier, the redirect_uri used
// in the authorize request, and resource when configured). The response must carry an id_token, or the
// error is ErrUnavailable. The tokens are not verified here, and the ID
// token's nonce is the caller's to check.
func (p *Provider) Exchange(ctx context.Context, code, verifier, redirectURI string) (*Tokens, error) {
	if code == "" {
		// An absent code is never a valid grant; spare the IdP the call.
		return nil, fmt.Errorf("exchange code: empty code: %w", ErrInvalidGrant)
	}
	if !validVerifier(verifier) {
		return nil, errors.New("idp: exchange code: malformed pkce verifier")
	}
	ctx, cancel := context.WithTimeout(p.clientContext(ctx), p.timeout)
	defer cancel()
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("redirect_uri", redirectURI)}
	if p.resource != "" {
		// RFC 8707 §2.2: without it oidc-provider issues the access token
		// for userinfo, not for the API.
		opts = append(opts, oauth2.SetAuthURLParam("resource", p.resource))
	}
	tok, err := p.oauth.Exchange(ctx, code, opts...)
	if err != nil {
		return nil, classify("exchange code", err)
	}
	t := p.tokens(tok)
	if t.IDToken == "" {
		return nil, fmt.Errorf("exchange code: response has no id_token: %w", ErrUnavailable)
	}
	return t, nil
}

// Refresh trades a refresh token for fresh tokens (grant_type
// refresh_token, and resource when configured). Tokens.RefreshToken is ""
// unless the IdP rotated the refresh token, in which case the caller must
// store the new one. It authenticates as Exchange does and classifies
// failures the same way.
//
// An OIDC provider may answer a refresh without an id_token (OIDC Core
// §12.2; Cognito always sends one). Then Tokens.IDToken is "" and the caller
// decides: keep the session's existing identity, or send the browser to log
// in again. Refresh does not treat it as an error.
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, fmt.Errorf("refresh: empty refresh token: %w", ErrInvalidGrant)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if p.resource != "" {
		form.Set("resource", p.resource)
	}
	t, err := p.tokenRequest(ctx, "refresh", form)
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == refreshToken {
		t.RefreshToken = ""
	}
	return t, nil
}

// LogoutURL returns where to send the browser to end the IdP session, then
// come back to returnTo. For Cognito that is <logout>?client_id=…&logout_uri=…
// (returnTo must be an allowed sign-out URL of the app client). For an OIDC
// end_session_endpoint it is ?client_id=…&post_logout_redirect_uri=…, plus
// id_token_hint when idToken is not "" (the spec puts the ID token in the
// URL; it goes only to the IdP). Empty values are left out. LogoutURL returns
// "" when the provider has no logout endpoint.
func (p *Provider) LogoutURL(returnTo, idToken string) string {
	if p.endpoints.Logout == "" {
		return ""
	}
	v := url.Values{"client_id": {p.clientID}}
	if p.endpoints.CognitoLogout {
		if returnTo != "" {
			v.Set("logout_uri", returnTo)
		}
	} else {
		if returnTo != "" {
			v.Set("post_logout_redirect_uri", returnTo)
		}
		if idToken != "" {
			v.Set("id_token_hint", idToken)
		}
	}
	sep := "?"
	if strings.Contains(p.endpoints.Logout, "?") {
		sep = "&"
	}
	return p.endpoints.Logout + sep + v.Encode()
}

func (p *Provider) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, p.client)
}

func (p *Provider) tokens(tok *oauth2.Token) *Tokens {
	t := &Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	if s, ok := tok.Extra("id_token").(string); ok {
		t.IDToken = s
	}
	if secs := expiresIn(tok); secs > 0 {
		t.Expiry = p.now().Add(time.Duration(secs) * time.Second)
	}
	return t
}

// expiresIn reads expires_in from a JSON or a form-encoded response; x/oauth2
// fills ExpiresIn for JSON only and measures Expiry on its own clock.
func expiresIn(tok *oauth2.Token) int64 {
	if tok.ExpiresIn > 0 {
		return tok.ExpiresIn
	}
	switch v := tok.Extra("expires_in").(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// validVerifier reports whether v is an RFC 7636 code verifier: 43–128
// characters from [A-Za-z0-9-._~].
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
