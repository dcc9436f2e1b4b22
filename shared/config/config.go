// Package config reads the suite's one JSON config file: it decodes it
// (unknown fields and wrong types are errors), applies defaults, derives the
// issuer and its endpoints, and checks what only the file knows: which
// issuer it names, the fields no part of the suite takes as a whole, and the
// rules across fields.
//
// It does not check what the suite's parts are built from (keys, key set,
// rules, endpoints, scopes, cookie attributes, branding): each part's
// constructor is the one authority on its own input, and lambdafn.NewParts,
// which translates this file into the parts, turns their errors into
// FieldErrors naming the file's field. A file is fully checked once both
// have run: lambdafn.CheckConfig, what every cold start and make package do.
// Every failure, from either, is one message "config: <field>: <problem>"
// that errors.Is ErrInvalid.
package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BearerToken values.
const (
	// BearerAccess: an Authorization header must carry an access token.
	BearerAccess = "access"
	// BearerInsecureIDToken: an access token, or an ID token for the
	// client (insecure; for Dex).
	BearerInsecureIDToken = "insecureIdToken"
)

// FileName is the config file's name beside the function binary.
const FileName = "config.json"

// EnvPath overrides the config location for local use; Lambda@Edge has no
// environment variables, so nothing requires it.
const EnvPath = "EDGEAUTH_CONFIG"

// Config is the whole deployment config. JSON names are the field names in
// lower camel case; see README.md for the reference.
type Config struct {
	// Issuer names who signs the tokens: exactly one of Cognito or OIDC.
	Cognito *Cognito `json:"cognito,omitempty"`
	OIDC    *OIDC    `json:"oidc,omitempty"`

	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// Scopes requested at login. Default: openid email profile.
	Scopes []string `json:"scopes,omitempty"`

	// Hosts the distribution serves, first the default. The redirect URI uses
	// the viewer's host when listed here (the Host header, or at
	// origin-request the copy the template's CloudFront Function makes),
	// else the first. Empty: the event's distributionDomainName, else the
	// Host header.
	Hosts []string `json:"hosts,omitempty"`
	// CORSOrigins are the web origins (https://app.example.com) allowed to
	// read the 401 and 403 answers check-auth gives a cross-origin API call:
	// without Access-Control-Allow-Origin a browser hides them from the
	// calling script, which then sees only a network error.
	CORSOrigins []string `json:"corsOrigins,omitempty"`
	// Scheme of the public URLs: "https" (default) or "http" for local runs.
	// With "http" cookies lose Secure and responses lose HSTS.
	Scheme string `json:"scheme,omitempty"`

	Paths   Paths   `json:"paths"`
	Cookies Cookies `json:"cookies"`

	// Keys sign (the first) and verify (all) the suite's cookies.
	Keys []KeyPair `json:"keys"`
	// JWKS is the issuer's key set, embedded at packaging time.
	JWKS json.RawMessage `json:"jwks"`

	// Rules are tried in order, first match wins; no match means "signed in".
	Rules []Rule `json:"rules,omitempty"`

	// ClockSkew tolerated on exp/nbf/iat, e.g. "30s". Default 30s, at most 5m.
	ClockSkew Duration `json:"clockSkew,omitempty"`
	// SessionLifetime caps the session cookie; default: the ID token's exp.
	SessionLifetime Duration `json:"sessionLifetime,omitempty"`
	// RefreshLifetime is how long the refresh cookie lives. Default (0):
	// the session store's, 30 days.
	RefreshLifetime Duration `json:"refreshLifetime,omitempty"`

	// AuthorizeParams are added to the authorize URL (identity_provider,
	// idp_identifier, prompt, login_hint, lang…).
	AuthorizeParams map[string]string `json:"authorizeParams,omitempty"`

	// BearerToken is which token an Authorization header must carry:
	// "access" (default), or "insecureIdToken", which also takes an ID token
	// for the client: insecure (ID tokens are not meant for APIs and travel
	// in URLs and logs), for providers without access tokens a resource
	// server can tell apart (Dex). The values "id" and "any" are gone.
	BearerToken string `json:"bearerToken,omitempty"`

	// Audiences a Bearer access token must name, any one: its aud (RFC
	// 9068), or for Cognito its client_id. Default: Resource when set, else
	// ClientID.
	Audiences []string `json:"audiences,omitempty"`
	// Resource is the RFC 8707 resource indicator requested at login, at
	// the authorize and the token endpoint (code exchange and refresh).
	Resource string `json:"resource,omitempty"`
	// UntypedAccessTokens accepts access tokens without typ at+jwt (see
	// verifier.Config.UntypedAccessTokens).
	UntypedAccessTokens bool `json:"untypedAccessTokens,omitempty"`
	// Algorithms are the JWS algorithms allowed. Default: RS256.
	Algorithms []string `json:"algorithms,omitempty"`
	// GroupsClaim is the claim path groups are read from (package claims).
	// Default: cognito:groups (Cognito), groups (OIDC).
	GroupsClaim string `json:"groupsClaim,omitempty"`
	// Userinfo makes parse-callback fetch, at login and refresh, the
	// claims the suite reads (groups, rule claims) from the userinfo
	// endpoint when the ID token lacks them.
	Userinfo bool `json:"userinfo,omitempty"`
	// IntrospectionCacheTTL bounds how long an active introspection answer
	// is reused (never past the token's exp). Default 60s.
	IntrospectionCacheTTL Duration `json:"introspectionCacheTtl,omitempty"`
	// IntrospectionInactiveTTL is how long an inactive or refused answer is
	// reused. Default 5s.
	IntrospectionInactiveTTL Duration `json:"introspectionInactiveTtl,omitempty"`

	// LogLevel is debug, info (default), warn or error.
	LogLevel string `json:"logLevel,omitempty"`

	// Pages brands the suite's error, forbidden and signed-out pages.
	Pages Pages `json:"pages,omitzero"`

	// Derived by Load; not read from the file.
	Issuer    string    `json:"-"`
	Endpoints Endpoints `json:"-"`
}

// Pages brands the suite's pages; every field is optional, and the pages
// stay self-contained (no outside assets: their CSP allows none).
type Pages struct {
	// SiteName is shown above each page's heading and in its title.
	SiteName string `json:"siteName,omitempty"`
	// AccentColor colours the site name and the page's button: #rgb or
	// #rrggbb.
	AccentColor string `json:"accentColor,omitempty"`
	// SupportURL is linked from each page's footer: an https URL or a
	// mailto: address.
	SupportURL string `json:"supportUrl,omitempty"`
}

// Cognito names a user pool and its hosted-UI domain.
type Cognito struct {
	Region     string `json:"region"`
	UserPoolID string `json:"userPoolId"`
	// Domain is the hosted UI's host name: <prefix>.auth.<region>.amazoncognito.com
	// or a custom domain.
	Domain string `json:"domain"`
}

// OIDC names any OpenID Connect issuer and its endpoints.
type OIDC struct {
	IssuerURL             string `json:"issuerUrl"`
	AuthorizationEndpoint string `json:"authorizationEndpoint"`
	TokenEndpoint         string `json:"tokenEndpoint"`
	// Optional: without them sign-out skips revocation / IdP logout.
	RevocationEndpoint string `json:"revocationEndpoint,omitempty"`
	EndSessionEndpoint string `json:"endSessionEndpoint,omitempty"`
	// IntrospectionEndpoint (RFC 7662), optional: with it a Bearer token
	// that is not a JWT is checked there.
	IntrospectionEndpoint string `json:"introspectionEndpoint,omitempty"`
	// UserinfoEndpoint, optional: needed by Userinfo.
	UserinfoEndpoint string `json:"userinfoEndpoint,omitempty"`
	// JWKSURI is where packaging fetches the key set from.
	JWKSURI string `json:"jwksUri,omitempty"`
}

// Endpoints are the issuer's URLs, derived from Cognito or copied from OIDC.
type Endpoints struct {
	Authorize string
	Token     string
	Revoke    string // "" when the provider has none
	Logout    string // "" when the provider has none
	// CognitoLogout is true for Cognito's non-standard /logout
	// (client_id + logout_uri instead of id_token_hint).
	CognitoLogout bool
	JWKS          string
	Introspection string // "" when the provider has none
	Userinfo      string
}

// Paths are the suite's own paths.
type Paths struct {
	ParseAuth    string `json:"parseAuth,omitempty"`    // default /parseauth
	RefreshAuth  string `json:"refreshAuth,omitempty"`  // default /refreshauth
	SignOut      string `json:"signOut,omitempty"`      // default /signout
	AfterSignOut string `json:"afterSignOut,omitempty"` // default /
}

// Cookies are the attributes of every cookie the suite sets.
type Cookies struct {
	Prefix   string `json:"prefix,omitempty"`   // default "edgeauth"
	Domain   string `json:"domain,omitempty"`   // default: host-only
	SameSite string `json:"sameSite,omitempty"` // Lax (the default when empty) or None
}

// KeyPair is one securecookie key pair, base64 (standard or URL alphabet).
// The session store checks the lengths (session.KeyPair).
type KeyPair struct {
	// Hash authenticates: 32 or 64 bytes.
	Hash Bytes `json:"hash"`
	// Block encrypts (AES): 16, 24 or 32 bytes.
	Block Bytes `json:"block"`
}

// Rule is one ordered path rule, as authz.Rule (which checks it).
type Rule struct {
	// Path is a pattern: a literal path, or a prefix ending in "/*" (which
	// also matches the bare prefix directory), with "{claim}" segments that
	// must equal the identity's claim (e.g. "/users/{sub}/*").
	Path string `json:"path"`
	// Public paths need no credential.
	Public bool `json:"public,omitempty"`
	// Groups: the identity must be in any of them.
	Groups []string `json:"groups,omitempty"`
	// Scopes: a Bearer token must carry any of them.
	Scopes []string `json:"scopes,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration time.Duration

// UnmarshalJSON reads "30s" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return errors.New(`want a duration such as "30s"`)
		}
		*d = Duration(time.Duration(n * float64(time.Second)))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"30s\", got %q", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Bytes is a key in base64.
type Bytes []byte

// UnmarshalJSON accepts standard or URL base64, padded or not.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("want a base64 string")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if v, err := enc.DecodeString(s); err == nil {
			*b = v
			return nil
		}
	}
	return errors.New("not valid base64")
}

// MarshalJSON writes standard base64.
func (b Bytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// Path returns where the config is read from: $EDGEAUTH_CONFIG when set,
// else config.json beside the running binary.
func Path() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("config: locate binary: %w", err)
	}
	return filepath.Join(filepath.Dir(exe), FileName), nil
}

// Load reads the file at path and parses it (Parse).
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(b)
}

// Parse decodes, defaults, checks and derives a config. Unknown fields are
// errors, so a misspelt option never silently does nothing. What the parts
// are built from is checked by them (lambdafn.CheckConfig runs both).
func Parse(b []byte) (*Config, error) {
	if err := preflight(b); err != nil {
		return nil, err
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", describeDecodeError(err))
	}
	if dec.More() {
		return nil, errors.New("config: trailing data after the JSON object")
	}
	c.applyDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	c.derive()
	return &c, nil
}

// preflight decodes the fields with their own decoders one by one, because
// encoding/json does not say which field a custom decoder failed on.
func preflight(b []byte) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return nil // the full decode reports it
	}
	for _, f := range []string{"clockSkew", "sessionLifetime", "refreshLifetime", "introspectionCacheTtl", "introspectionInactiveTtl"} {
		if raw, ok := top[f]; ok {
			var d Duration
			if err := d.UnmarshalJSON(raw); err != nil {
				return bad(f, "%v", err)
			}
		}
	}
	var keys []map[string]json.RawMessage
	if json.Unmarshal(top["keys"], &keys) == nil {
		for i, k := range keys {
			for _, f := range []string{"hash", "block"} {
				var v Bytes
				if raw, ok := k[f]; ok {
					if err := v.UnmarshalJSON(raw); err != nil {
						return bad(fmt.Sprintf("keys[%d].%s", i, f), "%v", err)
					}
				}
			}
		}
	}
	return nil
}

func describeDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: want %s", te.Field, te.Type)
	}
	return err
}

func (c *Config) applyDefaults() {
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	if c.Scheme == "" {
		c.Scheme = "https"
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.Paths.ParseAuth, "/parseauth")
	def(&c.Paths.RefreshAuth, "/refreshauth")
	def(&c.Paths.SignOut, "/signout")
	def(&c.Paths.AfterSignOut, "/")
	def(&c.Cookies.Prefix, "edgeauth")
	def(&c.BearerToken, BearerAccess)
	def(&c.LogLevel, "info")
	if c.ClockSkew == 0 {
		c.ClockSkew = Duration(30 * time.Second)
	}
}

func (c *Config) derive() {
	if c.Cognito != nil {
		c.Issuer = "https://cognito-idp." + c.Cognito.Region + ".amazonaws.com/" + c.Cognito.UserPoolID
		base := "https://" + c.Cognito.Domain
		c.Endpoints = Endpoints{
			Authorize:     base + "/oauth2/authorize",
			Token:         base + "/oauth2/token",
			Revoke:        base + "/oauth2/revoke",
			Logout:        base + "/logout",
			CognitoLogout: true,
			JWKS:          c.Issuer + "/.well-known/jwks.json",
			Userinfo:      base + "/oauth2/userInfo",
		}
		return
	}
	c.Issuer = c.OIDC.IssuerURL
	c.Endpoints = Endpoints{
		Authorize:     c.OIDC.AuthorizationEndpoint,
		Token:         c.OIDC.TokenEndpoint,
		Revoke:        c.OIDC.RevocationEndpoint,
		Logout:        c.OIDC.EndSessionEndpoint,
		JWKS:          c.OIDC.JWKSURI,
		Introspection: c.OIDC.IntrospectionEndpoint,
		Userinfo:      c.OIDC.UserinfoEndpoint,
	}
}

// AccessAudiences are the audiences a Bearer access token must name:
// Audiences, else Resource, else the client id.
func (c *Config) AccessAudiences() []string {
	switch {
	case len(c.Audiences) > 0:
		return c.Audiences
	case c.Resource != "":
		return []string{c.Resource}
	}
	return []string{c.ClientID}
}

// Warnings are what a cold start should log about a config that works but
// may not do what its author expects.
func (c *Config) Warnings() []string {
	var w []string
	if c.OIDC != nil && slices.Contains(c.Scopes, "offline_access") && !slices.Contains(strings.Fields(c.AuthorizeParams["prompt"]), "consent") {
		w = append(w, "scopes: offline_access is requested without authorizeParams.prompt \"consent\": a provider that follows OpenID Connect Core §11 strictly (oidc-provider) issues no refresh token then, and sessions end at the ID token's expiry")
	}
	if c.BearerToken == BearerInsecureIDToken {
		w = append(w, "bearerToken: insecureIdToken accepts ID tokens as Bearer credentials; they are not meant for APIs and travel in URLs (id_token_hint) and logs")
	}
	return w
}

// Secure reports whether cookies get Secure and responses HSTS.
func (c *Config) Secure() bool { return c.Scheme == "https" }

// PublicOrigin returns scheme://host for URLs the browser must come back to
// (the redirect URI, the logout return). distribution is the event's
// distributionDomainName; hosts are the request's candidates for the
// viewer's host, in order: its Host header, then the viewer's Host as the
// deploy template copies it for origin-request functions, which see the
// bucket's Host (edge.ViewerHostHeader). The first candidate listed in
// Hosts wins, else the first of Hosts: a host not listed is never echoed,
// so a forged header cannot steer a redirect. Without Hosts, the
// distribution domain is used, else the first non-empty candidate.
func (c *Config) PublicOrigin(distribution string, hosts ...string) string {
	if len(c.Hosts) > 0 {
		for _, h := range hosts {
			for _, allowed := range c.Hosts {
				if h != "" && strings.EqualFold(allowed, h) {
					return c.Scheme + "://" + allowed
				}
			}
		}
		return c.Scheme + "://" + c.Hosts[0]
	}
	if distribution != "" {
		return c.Scheme + "://" + distribution
	}
	for _, h := range hosts {
		if h != "" {
			return c.Scheme + "://" + h
		}
	}
	return c.Scheme + "://"
}
