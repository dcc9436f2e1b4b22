package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrInvalid classifies every failure of a config file, whether config
// found it or a part's constructor did (lambdafn.NewParts turns those into
// FieldErrors too); the message names the field.
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
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	poolRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$`)
	hostRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$`)
)

// validate checks what only the file knows: which issuer it names and what
// the suite derives from it, the fields that no part of the suite takes as
// a whole (hosts, CORS origins, scheme, bearer token, log level, session
// lifetime) and the rules across fields (the suite's paths are distinct).
// Everything a part is built from is checked by the part's constructor, once
// (see lambdafn.NewParts, which names the file's field in its errors).
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
	if err := c.distinctPaths(); err != nil {
		return err
	}
	if c.SessionLifetime < 0 {
		return bad("sessionLifetime", "must not be negative")
	}
	switch c.BearerToken {
	case BearerAccess, BearerInsecureIDToken:
	case "id", "any":
		return bad("bearerToken", `%q is no longer accepted: an ID token is not an access token (RFC 9068). Use "access" (with untypedAccessTokens for providers whose access tokens carry no typ at+jwt), or "insecureIdToken" for a provider whose access tokens cannot be told from ID tokens (Dex)`, c.BearerToken)
	default:
		return bad("bearerToken", `must be "access" or "insecureIdToken", got %q`, c.BearerToken)
	}
	if c.Userinfo && c.OIDC != nil && c.OIDC.UserinfoEndpoint == "" {
		return bad("userinfo", "needs oidc.userinfoEndpoint")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("logLevel", `must be debug, info, warn or error, got %q`, c.LogLevel)
	}
	return nil
}

// distinctPaths keeps each suite path its own: each is a CloudFront
// behavior and a route of its own function. What each path may look like
// is checked where it is used (the session store's cookie paths; the
// after-sign-out path by lambdafn.NewParts).
func (c *Config) distinctPaths() error {
	seen := map[string]string{}
	for _, p := range []struct{ field, v string }{
		{"paths.parseAuth", c.Paths.ParseAuth},
		{"paths.refreshAuth", c.Paths.RefreshAuth},
		{"paths.signOut", c.Paths.SignOut},
	} {
		if other, dup := seen[p.v]; dup {
			return bad(p.field, "is the same as %s", other)
		}
		seen[p.v] = p.field
	}
	return nil
}
