package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ErrInvalid classifies every validation failure; the message names the field.
var ErrInvalid = errors.New("config: invalid")

// FieldError names the field at fault and what is wrong with it.
type FieldError struct {
	Field   string // e.g. rules[2].path
	Problem string
}

func (e *FieldError) Error() string { return "config: " + e.Field + ": " + e.Problem }

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

var (
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	poolRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$`)
	hostRE     = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$`)
	domainRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`) // a cookie Domain has no port
	segmentRE  = regexp.MustCompile(`^\{[A-Za-z0-9_:.\-]+\}$`)
	cookieName = regexp.MustCompile(`^[A-Za-z0-9_\-]+$`)
	// pathRE: what a cookie Path and a CloudFront path pattern both take.
	pathRE = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()+,=:@/-]*$`)
)

func (c *Config) validate() error {
	switch {
	case c.Cognito == nil && c.OIDC == nil:
		return bad("cognito", "set either cognito or oidc")
	case c.Cognito != nil && c.OIDC != nil:
		return bad("oidc", "set only one of cognito and oidc")
	case c.Cognito != nil:
		if !regionRE.MatchString(c.Cognito.Region) {
			return bad("cognito.region", "must be an AWS region such as us-east-1, got %q", c.Cognito.Region)
		}
		if !poolRE.MatchString(c.Cognito.UserPoolID) {
			return bad("cognito.userPoolId", "must look like us-east-1_AbCdEf123, got %q", c.Cognito.UserPoolID)
		}
		if !strings.HasPrefix(c.Cognito.UserPoolID, c.Cognito.Region+"_") {
			return bad("cognito.userPoolId", "pool %q is not in region %q", c.Cognito.UserPoolID, c.Cognito.Region)
		}
		if !hostRE.MatchString(c.Cognito.Domain) {
			return bad("cognito.domain", "must be a host name such as example.auth.us-east-1.amazoncognito.com, got %q", c.Cognito.Domain)
		}
	default:
		o := c.OIDC
		if err := checkURL("oidc.issuerUrl", o.IssuerURL, true); err != nil {
			return err
		}
		if err := checkURL("oidc.authorizationEndpoint", o.AuthorizationEndpoint, true); err != nil {
			return err
		}
		if err := checkURL("oidc.tokenEndpoint", o.TokenEndpoint, true); err != nil {
			return err
		}
		for f, v := range map[string]string{"oidc.revocationEndpoint": o.RevocationEndpoint, "oidc.endSessionEndpoint": o.EndSessionEndpoint, "oidc.jwksUri": o.JWKSURI} {
			if err := checkURL(f, v, false); err != nil {
				return err
			}
		}
	}
	if c.ClientID == "" {
		return bad("clientId", "is required")
	}
	if strings.ContainsAny(c.ClientID, " \t\r\n") {
		return bad("clientId", "must not contain white space")
	}
	if !slices.Contains(c.Scopes, "openid") {
		return bad("scopes", `must include "openid"`)
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"") {
			return bad(fmt.Sprintf("scopes[%d]", i), "must be one scope without spaces or quotes, got %q", s)
		}
	}
	for i, h := range c.Hosts {
		if !hostRE.MatchString(h) {
			return bad(fmt.Sprintf("hosts[%d]", i), "must be a host name (optionally :port), got %q", h)
		}
	}
	for i, o := range c.CORSOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !hostRE.MatchString(u.Host) ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || o != strings.ToLower(o) {
			return bad(fmt.Sprintf("corsOrigins[%d]", i), "must be an origin such as https://app.example.com (lower case, no path), got %q", o)
		}
	}
	if c.Scheme != "https" && c.Scheme != "http" {
		return bad("scheme", `must be "https" or "http", got %q`, c.Scheme)
	}
	if err := c.validatePaths(); err != nil {
		return err
	}
	if err := c.validateCookies(); err != nil {
		return err
	}
	if len(c.Keys) == 0 {
		return bad("keys", "at least one key pair is required (make package generates one)")
	}
	for i, k := range c.Keys {
		if len(k.Hash) != 32 && len(k.Hash) != 64 {
			return bad(fmt.Sprintf("keys[%d].hash", i), "must be 32 or 64 bytes, got %d", len(k.Hash))
		}
		if len(k.Block) != 16 && len(k.Block) != 24 && len(k.Block) != 32 {
			return bad(fmt.Sprintf("keys[%d].block", i), "must be 16, 24 or 32 bytes, got %d", len(k.Block))
		}
	}
	if err := validateJWKS(c.JWKS); err != nil {
		return err
	}
	for i, r := range c.Rules {
		if err := validateRule(fmt.Sprintf("rules[%d]", i), r); err != nil {
			return err
		}
	}
	if c.ClockSkew < 0 || c.ClockSkew.Std() > 5*time.Minute {
		return bad("clockSkew", "must be between 0s and 5m, got %s", c.ClockSkew.Std())
	}
	if c.SessionLifetime < 0 {
		return bad("sessionLifetime", "must not be negative")
	}
	if c.RefreshLifetime < 0 {
		return bad("refreshLifetime", "must not be negative")
	}
	for k := range c.AuthorizeParams {
		if ReservedAuthorizeParam(k) {
			return bad("authorizeParams."+k, "is set by the suite and cannot be overridden")
		}
	}
	switch c.BearerToken {
	case "access", "id", "any":
	default:
		return bad("bearerToken", `must be "access", "id" or "any", got %q`, c.BearerToken)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("logLevel", `must be debug, info, warn or error, got %q`, c.LogLevel)
	}
	return c.Pages.validate()
}

var colorRE = regexp.MustCompile(`^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$`)

func (p *Pages) validate() error {
	if len(p.SiteName) > 80 || strings.ContainsFunc(p.SiteName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return bad("pages.siteName", "must be at most 80 characters without control characters")
	}
	if p.AccentColor != "" && !colorRE.MatchString(p.AccentColor) {
		return bad("pages.accentColor", "must be a colour such as #0b5fff, got %q", p.AccentColor)
	}
	if p.SupportURL != "" {
		u, err := url.Parse(p.SupportURL)
		switch {
		case err != nil || len(p.SupportURL) > 300:
			return bad("pages.supportUrl", "must be an https URL or a mailto: address of at most 300 characters")
		case u.Scheme == "https" && u.Host != "" && u.User == nil:
		case u.Scheme == "mailto" && u.Opaque != "" && strings.Contains(u.Opaque, "@"):
		default:
			return bad("pages.supportUrl", "must be an https URL or a mailto: address, got %q", p.SupportURL)
		}
	}
	return nil
}

// ReservedAuthorizeParam reports an authorize parameter the suite sets
// itself, which authorizeParams may not name.
func ReservedAuthorizeParam(name string) bool {
	switch name {
	case "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method":
		return true
	}
	return false
}

func checkURL(field, v string, required bool) error {
	if v == "" {
		if required {
			return bad(field, "is required")
		}
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return bad(field, "must be an absolute http(s) URL, got %q", v)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad(field, "must not carry a query or fragment")
	}
	return nil
}

func (c *Config) validatePaths() error {
	seen := map[string]string{}
	for _, p := range []struct{ field, v string }{
		{"paths.parseAuth", c.Paths.ParseAuth},
		{"paths.refreshAuth", c.Paths.RefreshAuth},
		{"paths.signOut", c.Paths.SignOut},
		{"paths.afterSignOut", c.Paths.AfterSignOut},
	} {
		if !strings.HasPrefix(p.v, "/") || strings.HasPrefix(p.v, "//") || !pathRE.MatchString(p.v) {
			return bad(p.field, `must be a path starting with "/" without query, got %q`, p.v)
		}
		// The functions refuse requests with empty or dot segments, and
		// browsers rewrite dot segments: such a path could never be reached.
		segs := strings.Split(p.v[1:], "/")
		for i, seg := range segs {
			if seg == "." || seg == ".." || (seg == "" && i != len(segs)-1) {
				return bad(p.field, "must not hold empty or dot segments, got %q", p.v)
			}
		}
		if p.field == "paths.afterSignOut" {
			continue
		}
		if other, dup := seen[p.v]; dup {
			return bad(p.field, "is the same as %s", other)
		}
		seen[p.v] = p.field
	}
	return nil
}

func (c *Config) validateCookies() error {
	if !cookieName.MatchString(c.Cookies.Prefix) {
		return bad("cookies.prefix", "must be letters, digits, '-' or '_', got %q", c.Cookies.Prefix)
	}
	if d := c.Cookies.Domain; d != "" && !domainRE.MatchString(strings.TrimPrefix(d, ".")) {
		return bad("cookies.domain", "must be a domain name without a port, got %q", d)
	}
	if len(c.Cookies.Prefix) > 32 {
		return bad("cookies.prefix", "must be at most 32 characters, got %d", len(c.Cookies.Prefix))
	}
	if p := strings.ToLower(c.Cookies.Prefix); strings.HasPrefix(p, "__host") || strings.HasPrefix(p, "__secure") {
		// Browsers hold such names to rules (Path=/, no Domain) that the
		// login and refresh cookies cannot keep.
		return bad("cookies.prefix", "must not start with __Host or __Secure")
	}
	switch c.Cookies.SameSite {
	case "Lax":
	case "Strict":
		// The IdP's redirect back is a cross-site navigation: a Strict
		// session cookie is not sent on it, nor on any arrival from another
		// site, and check-auth would start a login again, in a loop.
		return bad("cookies.sameSite", `"Strict" would loop: the session cookie is not sent when the IdP redirects back; use "Lax"`)
	case "None":
		if c.Scheme != "https" {
			return bad("cookies.sameSite", `"None" needs scheme "https"`)
		}
	default:
		return bad("cookies.sameSite", `must be "Lax" or "None", got %q`, c.Cookies.SameSite)
	}
	return nil
}

func validateJWKS(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return bad("jwks", "is required (make package fetches it from the issuer)")
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return bad("jwks", "must be a JSON Web Key Set object: %v", err)
	}
	if len(set.Keys) == 0 {
		return bad("jwks.keys", "must hold at least one key")
	}
	kids := map[string]bool{}
	signing := 0
	for i, k := range set.Keys {
		kid, _ := k["kid"].(string)
		if kids[kid] && kid != "" {
			return bad(fmt.Sprintf("jwks.keys[%d].kid", i), "%q appears twice: keys are chosen by kid", kid)
		}
		kids[kid] = true
		if use, _ := k["use"].(string); use != "enc" {
			signing++
		}
		if kty, _ := k["kty"].(string); kty != "RSA" {
			return bad(fmt.Sprintf("jwks.keys[%d].kty", i), `must be "RSA" (tokens are RS256), got %v`, k["kty"])
		}
		if kid, _ := k["kid"].(string); kid == "" {
			return bad(fmt.Sprintf("jwks.keys[%d].kid", i), "is required: keys are chosen by kid")
		}
		if _, private := k["d"]; private {
			return bad(fmt.Sprintf("jwks.keys[%d]", i), "is a private key; embed only public keys")
		}
	}
	if signing == 0 {
		return bad("jwks.keys", `has no signing key (every key is "use": "enc")`)
	}
	return nil
}

func validateRule(field string, r Rule) error {
	p := r.Path
	if !strings.HasPrefix(p, "/") {
		return bad(field+".path", `must start with "/", got %q`, p)
	}
	if strings.ContainsAny(p, "?#\\ \t\r\n") {
		return bad(field+".path", "must be a plain path pattern, got %q", p)
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		switch {
		case s == "*" && i != len(segs)-1:
			return bad(field+".path", `"*" may only end the pattern, got %q`, p)
		case strings.Contains(s, "*") && s != "*":
			return bad(field+".path", `"*" must be a whole last segment, got %q`, p)
		case strings.ContainsAny(s, "{}") && !segmentRE.MatchString(s):
			return bad(field+".path", "a claim segment must be a whole segment such as {sub}, got %q", s)
		case s == "." || s == "..":
			return bad(field+".path", "must not contain dot segments, got %q", p)
		}
	}
	if r.Public && (len(r.Groups) > 0 || len(r.Scopes) > 0 || strings.Contains(p, "{")) {
		return bad(field+".public", "a public rule cannot also require groups, scopes or claims")
	}
	for i, g := range r.Groups {
		if g == "" {
			return bad(fmt.Sprintf("%s.groups[%d]", field, i), "must not be empty")
		}
	}
	for i, s := range r.Scopes {
		if s == "" {
			return bad(fmt.Sprintf("%s.scopes[%d]", field, i), "must not be empty")
		}
	}
	return nil
}
