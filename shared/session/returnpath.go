package session

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// MaxReturnPath is the longest return path accepted, in bytes.
const MaxReturnPath = 2048

// CleanReturnPath accepts only a same-origin relative path (with optional
// query) to send a browser back to, and returns it unchanged; anything else
// is ErrBadReturn. The path must start with exactly one "/" (not "//" or
// "/\", which browsers treat as another host), hold only printable ASCII
// without spaces or backslashes (browsers percent-encode everything else, so
// a raw byte outside that set never comes from a real navigation), hold no
// percent-encoded control character or backslash and no encoded "/" or "\"
// right after the first slash, and be at most MaxReturnPath bytes.
func CleanReturnPath(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("%w: empty", ErrBadReturn)
	case len(p) > MaxReturnPath:
		return "", fmt.Errorf("%w: longer than %d bytes", ErrBadReturn, MaxReturnPath)
	case p[0] != '/':
		return "", fmt.Errorf("%w: not a path starting with /", ErrBadReturn)
	case len(p) > 1 && (p[1] == '/' || p[1] == '\\'):
		return "", fmt.Errorf("%w: starts with // or /\\", ErrBadReturn)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || c == '\\' {
			return "", fmt.Errorf("%w: byte 0x%02x at %d", ErrBadReturn, c, i)
		}
		if c != '%' {
			continue
		}
		if i+2 >= len(p) || unhex(p[i+1]) < 0 || unhex(p[i+2]) < 0 {
			return "", fmt.Errorf("%w: bad percent escape at %d", ErrBadReturn, i)
		}
		d := byte(unhex(p[i+1])<<4 | unhex(p[i+2]))
		if d < ' ' || d == 0x7f || d == '\\' || (i == 1 && d == '/') {
			return "", fmt.Errorf("%w: encoded 0x%02x at %d", ErrBadReturn, d, i)
		}
	}
	// The byte rules above already imply this; it guards them.
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", fmt.Errorf("%w: not a relative path", ErrBadReturn)
	}
	return p, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

type returnWire struct {
	Path string `json:"p"`
	Exp  int64  `json:"x"`
}

// SignReturn returns a signed token, valid for ReturnTTL, that carries a
// return path through /refreshauth?return=…, so that endpoint redirects
// only where the suite itself sent the browser. The path must pass
// CleanReturnPath. The token is base64url and may end in "=": query-escape
// it. It is signed, not encrypted; the path is the browser's own.
func (s *Store) SignReturn(pathAndQuery string) (string, error) {
	p, err := CleanReturnPath(pathAndQuery)
	if err != nil {
		return "", err
	}
	w := returnWire{Path: p, Exp: s.cfg.Now().Add(ReturnTTL).Unix()}
	// The token travels in a URL, not a cookie; the cookie budget is a
	// fine bound for it too.
	c, err := s.encodeValue(s.signed, s.returnName, w, false, func(v string) *http.Cookie { return &http.Cookie{Name: s.returnName, Value: v} })
	if err != nil {
		return "", err
	}
	return c.Value, nil
}

// VerifyReturn checks a SignReturn token and returns its path: ErrInvalid
// for a forged or garbled token, ErrExpired after ReturnTTL, ErrBadReturn if
// the path (checked again) is not clean.
func (s *Store) VerifyReturn(token string) (string, error) {
	if token == "" {
		return "", fmt.Errorf("%w: empty return token", ErrInvalid)
	}
	w, err := decodeCookie(s, edge.Cookies{{Name: s.returnName, Value: token}}, s.signed, s.returnName, func(w *returnWire, now time.Time) error {
		if w.Exp <= 0 {
			return fmt.Errorf("%w: return token lacks expiry", ErrInvalid)
		}
		if now.Unix() >= w.Exp {
			return ErrExpired
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return CleanReturnPath(w.Path)
}
