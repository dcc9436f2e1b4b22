package verifier

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by ParseBearer. ErrNoBearer means "no Bearer credential
// here" (answer as to an anonymous client: RFC 6750 401 without an error
// code); ErrBadBearer means a Bearer credential that is malformed (401
// error="invalid_request" or "invalid_token").
var (
	ErrNoBearer  = errors.New("verifier: not a Bearer authorization")
	ErrBadBearer = errors.New("verifier: malformed Bearer authorization")
)

// ParseBearer returns the token of an Authorization header value of the
// form "Bearer <token>" (RFC 6750 section 2.1: the scheme is matched without
// regard to case, then one or more spaces, then a b64token). Surrounding
// spaces and tabs are ignored. A value with another scheme, or none, gives
// ErrNoBearer; a Bearer value that is empty, has spaces inside or characters
// outside b64token, or is longer than MaxTokenSize gives ErrBadBearer.
// ParseBearer does not check that the token is a JWT; Verify does.
func ParseBearer(header string) (token string, err error) {
	h := strings.Trim(header, " \t")
	const scheme = "bearer"
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", ErrNoBearer
	}
	rest := h[len(scheme):]
	if rest == "" {
		return "", fmt.Errorf("%w: no token", ErrBadBearer)
	}
	if rest[0] != ' ' {
		if isB64TokenChar(rest[0]) || rest[0] == '=' {
			return "", ErrNoBearer // another scheme, such as "Bearerish"
		}
		return "", fmt.Errorf("%w: want a space after the scheme", ErrBadBearer)
	}
	tok := strings.TrimLeft(rest, " ")
	if len(tok) > MaxTokenSize {
		return "", fmt.Errorf("%w: token of %d bytes, more than %d", ErrBadBearer, len(tok), MaxTokenSize)
	}
	// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
	i := 0
	for i < len(tok) && isB64TokenChar(tok[i]) {
		i++
	}
	if i == 0 {
		return "", fmt.Errorf("%w: empty token", ErrBadBearer)
	}
	for j := i; j < len(tok); j++ {
		if tok[j] != '=' {
			return "", fmt.Errorf("%w: character at offset %d is not allowed in a token", ErrBadBearer, j)
		}
	}
	return tok, nil
}

// b64TokenChars is 1 at each b64token character (RFC 6750 §2.1: ALPHA,
// DIGIT, "-", ".", "_", "~", "+", "/"), 0 elsewhere: one load per byte of a
// token of a kilobyte or two, scanned on every Bearer request.
const b64TokenChars = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00" +
	"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x01" +
	"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x01\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func isB64TokenChar(c byte) bool { return b64TokenChars[c] == 1 }
