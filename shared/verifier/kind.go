package verifier

import (
	"fmt"
	"slices"
	"strings"
)

// kind decides whether the token is an ID or an access token, checks that it
// is the kind asked for and checks its audience; see the package doc.
func (v *Verifier) kind(typ string, priv map[string]any, aud []string, use TokenUse) (TokenUse, error) {
	tokenUse, hasTokenUse := priv["token_use"].(string)
	if _, present := priv["token_use"]; present && !hasTokenUse {
		return "", fmt.Errorf("%w: token_use is not a string", ErrTokenUse)
	}
	if hasTokenUse && tokenUse != "id" && tokenUse != "access" {
		return "", fmt.Errorf("%w: token_use %q", ErrTokenUse, short(tokenUse))
	}
	if v.cognito {
		return v.cognitoKind(tokenUse, hasTokenUse, priv, aud, use)
	}
	switch use {
	case UseAccess:
		return UseAccess, v.checkAccess(typ, tokenUse, priv, aud)
	case UseID:
		return UseID, v.checkID(typ, tokenUse, aud)
	}
	// UseAny: an access token if it is one, else an ID token for the client.
	accessErr := v.checkAccess(typ, tokenUse, priv, aud)
	if accessErr == nil {
		return UseAccess, nil
	}
	if v.checkID(typ, tokenUse, aud) == nil {
		return UseID, nil
	}
	return "", accessErr
}

// cognitoKind applies Cognito's rules: token_use decides.
func (v *Verifier) cognitoKind(tokenUse string, hasTokenUse bool, priv map[string]any, aud []string, use TokenUse) (TokenUse, error) {
	if !hasTokenUse {
		return "", fmt.Errorf("%w: no token_use claim", ErrTokenUse)
	}
	kind := TokenUse(tokenUse)
	if use != UseAny && use != kind {
		if kind == UseID {
			return "", fmt.Errorf("%w: %w: token_use id", ErrIDToken, ErrTokenUse)
		}
		return "", fmt.Errorf("%w: got an %s token, want %s", ErrTokenUse, kind, use)
	}
	if kind == UseAccess {
		// Cognito access tokens have no aud; client_id names the app client.
		if cid, _ := priv["client_id"].(string); !slices.Contains(v.audiences, cid) {
			return "", fmt.Errorf("%w: client_id %q is not an audience", ErrAudience, short(cid))
		}
		return kind, nil
	}
	if !slices.Contains(aud, v.clientID) {
		return "", fmt.Errorf("%w: aud does not contain %q", ErrAudience, v.clientID)
	}
	return kind, nil
}

// isAccessTyp reports RFC 9068's media type, with or without "application/"
// (RFC 7515 §4.1.9: compared without regard to case).
func isAccessTyp(typ string) bool {
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}

// isUntyped reports a typ that says nothing of the token's kind: none, or
// the generic "JWT" (RFC 7519 §5.1).
func isUntyped(typ string) bool { return typ == "" || strings.EqualFold(typ, "JWT") }

// checkAccess is the access-token rule for an OpenID Connect issuer.
func (v *Verifier) checkAccess(typ, tokenUse string, priv map[string]any, aud []string) error {
	if tokenUse == "id" {
		return fmt.Errorf("%w: %w: token_use id", ErrIDToken, ErrTokenUse)
	}
	switch {
	case isAccessTyp(typ):
		if !v.namesAudience(aud, true) {
			return fmt.Errorf("%w: aud names none of the audiences", ErrAudience)
		}
		return nil
	case !isUntyped(typ):
		return fmt.Errorf("%w: typ %q is not an access token's", ErrTokenUse, short(typ))
	}
	// Claims OpenID Connect Core defines for ID tokens only (§2, §3.1.3.6,
	// §3.3.2.11; s_hash from FAPI): a token carrying one is an ID token,
	// whatever else it says. Their absence proves nothing (Entra ID leaves
	// at_hash out of ID tokens from its token endpoint), so typing does not
	// rest on them alone.
	for _, m := range [...]string{"nonce", "at_hash", "c_hash", "s_hash"} {
		if _, ok := priv[m]; ok {
			return fmt.Errorf("%w: %w: untyped, with %s", ErrIDToken, ErrTokenUse, m)
		}
	}
	if !v.untyped {
		return fmt.Errorf("%w: %w: no typ at+jwt", ErrUntyped, ErrTokenUse)
	}
	if v.namesAudience(aud, false) {
		return nil
	}
	if slices.Contains(aud, v.clientID) {
		return fmt.Errorf("%w: %w: untyped, and no audience but the client id", ErrIDToken, ErrTokenUse)
	}
	return fmt.Errorf("%w: aud names none of the audiences", ErrAudience)
}

// checkID is the ID-token rule for an OpenID Connect issuer.
func (v *Verifier) checkID(typ, tokenUse string, aud []string) error {
	switch {
	case tokenUse == "access", isAccessTyp(typ):
		return fmt.Errorf("%w: an access token, want an id token", ErrTokenUse)
	case !isUntyped(typ):
		return fmt.Errorf("%w: typ %q is not an id token's", ErrTokenUse, short(typ))
	case !slices.Contains(aud, v.clientID):
		return fmt.Errorf("%w: aud does not contain %q", ErrAudience, v.clientID)
	}
	return nil
}

// namesAudience reports whether aud holds one of the audiences; with
// clientOK false the client id does not count (untyped tokens).
func (v *Verifier) namesAudience(aud []string, clientOK bool) bool {
	for _, a := range aud {
		if (clientOK || a != v.clientID) && slices.Contains(v.audiences, a) {
			return true
		}
	}
	return false
}
