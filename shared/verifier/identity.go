package verifier

import (
	"maps"
	"slices"
	"time"
)

// TokenUse says which token a caller expects.
type TokenUse string

// Token uses. Cognito marks them with the token_use claim; for other OIDC
// issuers access tokens are typed (see the package doc).
const (
	// UseID asks for an ID token: at login, straight from the token
	// endpoint, with its nonce compared by the caller.
	UseID TokenUse = "id"
	// UseAccess asks for an access token for one of the audiences: what a
	// Bearer credential must be.
	UseAccess TokenUse = "access"
	// UseAny accepts an access token, or else an ID token for the client.
	// As a Bearer credential that is insecure: ID tokens are not meant for
	// APIs and travel in URLs (id_token_hint) and logs. It exists for
	// providers whose tokens cannot be told apart (Dex issues ID-token
	// shaped access tokens).
	UseAny TokenUse = "any"
)

// Identity is who a verified credential speaks for. It is what the path
// rules see, whether it came from a Bearer token or the session cookie. It
// has no wire format of its own: the session package writes the cookie's.
type Identity struct {
	Subject  string
	Username string
	Email    string
	Groups   []string
	Scopes   []string
	// Expiry is the token's exp, or the session's end.
	Expiry time.Time
	// TokenUse is the kind of token verified ("id" or "access"); empty for a
	// session cookie.
	TokenUse TokenUse
	// Claims holds the token's top-level string claims (sub, email,
	// custom:* …) and the strings at the verifier's claim paths, keyed by
	// the path as written, for claim-bound rules such as /users/{sub}/*.
	Claims map[string]string
	// Nonce is the ID token's nonce claim, for the caller to compare; Verify
	// does not check it.
	Nonce string
}

// Claim returns a claim by name; "sub", "username" and "email" fall back to
// the typed fields.
func (id *Identity) Claim(name string) string {
	if v, ok := id.Claims[name]; ok {
		return v
	}
	switch name {
	case "sub":
		return id.Subject
	case "username", "cognito:username":
		return id.Username
	case "email":
		return id.Email
	}
	return ""
}

// InGroup reports whether the identity is in any of groups.
func (id *Identity) InGroup(groups ...string) bool {
	for _, want := range groups {
		for _, g := range id.Groups {
			if g == want {
				return true
			}
		}
	}
	return false
}

// Clone returns a deep copy, so a cached or shared Identity cannot be
// changed through the copy.
func (id *Identity) Clone() *Identity {
	if id == nil {
		return nil
	}
	c := *id
	c.Groups = slices.Clone(id.Groups)
	c.Scopes = slices.Clone(id.Scopes)
	c.Claims = maps.Clone(id.Claims)
	return &c
}
