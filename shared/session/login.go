package session

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// LoginState is what one login attempt's cookie holds, from the redirect to
// the IdP until the callback.
type LoginState struct {
	Nonce    string // the OIDC nonce sent in the authorize request
	Verifier string // the PKCE code verifier
	ReturnTo string // where to go after login; a CleanReturnPath path
	Created  time.Time
}

type loginWire struct {
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"p"`
	Created  int64  `json:"c"`
}

// attemptIDLen is the length of 16 random bytes in unpadded base64url.
const attemptIDLen = 22

// NewLogin starts a login attempt. The attempt id (16 random bytes,
// base64url) is the OAuth state, and names the attempt's cookie, so several
// tabs can log in at once and a cookie cannot be replayed under another
// attempt's name (securecookie binds the value to the name). The cookie is
// encrypted, has Path=ParseAuthPath and lives LoginStateTTL.
//
// A ReturnTo too long to fit is cut to its path, then to "/".
//
// When req already holds MaxAttempts or more login cookies, the returned
// cookies also expire the oldest (and any that no longer decode), keeping
// MaxAttempts in all. Browsers send these cookies only on requests under
// ParseAuthPath, so elsewhere the cap is the TTL alone. A zero Created is
// set to now. The login state is never compressed: ReturnTo is chosen by
// whoever links to the site, and mixing it with the secrets under
// compression could leak them through the cookie's length.
func (s *Store) NewLogin(req *edge.Request, ls LoginState) (string, []*http.Cookie, error) {
	if ls.Nonce == "" || ls.Verifier == "" {
		return "", nil, errors.New("session: new login: nonce and verifier are required")
	}
	ret, err := CleanReturnPath(ls.ReturnTo)
	if err != nil {
		return "", nil, fmt.Errorf("session: new login: %w", err)
	}
	if ls.Created.IsZero() {
		ls.Created = s.cfg.Now()
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("session: new login: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	name := s.LoginName(id)
	w := loginWire{Nonce: ls.Nonce, Verifier: ls.Verifier, ReturnTo: ret, Created: ls.Created.Unix()}
	mk := func(v string) *http.Cookie {
		return s.cookie(name, v, s.cfg.ParseAuthPath, s.cfg.LoginStateTTL, s.loginSameSite)
	}
	c, err := s.encodeValue(s.encrypted, name, w, false, mk)
	// A return path near MaxReturnPath leaves no room for the secrets:
	// landing on the page without its query, or on the home page, beats
	// failing the login.
	for _, shorter := range []string{pathOnly(ret), "/"} {
		if !errors.Is(err, ErrTooLarge) || shorter == w.ReturnTo {
			continue
		}
		w.ReturnTo = shorter
		c, err = s.encodeValue(s.encrypted, name, w, false, mk)
	}
	if err != nil {
		return "", nil, err
	}
	return id, append([]*http.Cookie{c}, s.capLogins(req)...), nil
}

// capLogins returns cookies expiring the request's login cookies beyond
// MaxAttempts-1, oldest first, so that with a new one there are MaxAttempts.
func (s *Store) capLogins(req *edge.Request) []*http.Cookie {
	type attempt struct {
		id      string
		created int64 // 0: does not decode or expired, goes first
	}
	var attempts []attempt
	seen := map[string]bool{}
	for _, c := range req.Cookies() {
		id, ok := strings.CutPrefix(c.Name, s.loginPrefix)
		if !ok || seen[id] || validAttemptID(id) != nil {
			continue
		}
		seen[id] = true
		attempts = append(attempts, attempt{id: id})
	}
	if len(attempts) < s.cfg.MaxAttempts {
		return nil
	}
	for i := range attempts {
		if ls, err := s.Login(req, attempts[i].id); err == nil {
			attempts[i].created = ls.Created.Unix()
		}
	}
	slices.SortStableFunc(attempts, func(a, b attempt) int { return cmp.Compare(a.created, b.created) })
	var out []*http.Cookie
	for i, a := range attempts {
		if a.created != 0 && len(attempts)-i < s.cfg.MaxAttempts {
			break
		}
		out = append(out, s.ExpireLogin(a.id))
	}
	return out
}

// Login reads the cookie of the attempt named by attemptID (the state the
// IdP sent back). attemptID is checked first: ErrInvalid when it is not an
// id NewLogin could have made. Then ErrNoSession when the browser has no
// cookie for it (unknown or already finished attempt), ErrInvalid when the
// cookie fails to decrypt or decode, ErrExpired after LoginStateTTL.
// Login does not compare the nonce; the caller does, with the ID token's.
func (s *Store) Login(req *edge.Request, attemptID string) (LoginState, error) {
	if err := validAttemptID(attemptID); err != nil {
		return LoginState{}, err
	}
	ttl := s.cfg.LoginStateTTL
	w, err := decodeCookie(s, req, s.encrypted, s.LoginName(attemptID), func(w *loginWire, now time.Time) error {
		if w.Nonce == "" || w.Verifier == "" || w.Created <= 0 {
			return fmt.Errorf("%w: login state incomplete", ErrInvalid)
		}
		if _, err := CleanReturnPath(w.ReturnTo); err != nil {
			return fmt.Errorf("%w: login state: %w", ErrInvalid, err)
		}
		if !now.Before(time.Unix(w.Created, 0).Add(ttl)) {
			return ErrExpired
		}
		return nil
	})
	if err != nil {
		return LoginState{}, err
	}
	return LoginState{Nonce: w.Nonce, Verifier: w.Verifier, ReturnTo: w.ReturnTo, Created: time.Unix(w.Created, 0).UTC()}, nil
}

// ValidAttemptID reports whether id has the form of an attempt id (the
// OAuth state), so a callback can expire that attempt's cookie without
// echoing an arbitrary string into a cookie name.
func ValidAttemptID(id string) bool { return validAttemptID(id) == nil }

// validAttemptID accepts exactly what NewLogin makes: 22 base64url
// characters that decode, strictly, to 16 bytes.
func validAttemptID(id string) error {
	if len(id) != attemptIDLen {
		return fmt.Errorf("%w: malformed attempt id", ErrInvalid)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(id); err != nil {
		return fmt.Errorf("%w: malformed attempt id", ErrInvalid)
	}
	return nil
}

// ExpireLogin returns a cookie that deletes the login-state cookie of
// attemptID, which should be one Login accepted.
func (s *Store) ExpireLogin(attemptID string) *http.Cookie {
	return s.expired(s.LoginName(attemptID), s.cfg.ParseAuthPath, s.loginSameSite)
}

// ExpireAll returns cookies that delete the session cookie, both refresh
// cookies and every login-state cookie req carries: what sign-out sends.
func (s *Store) ExpireAll(req *edge.Request) []*http.Cookie {
	out := append([]*http.Cookie{s.ExpireSession()}, s.ExpireRefresh()...)
	seen := map[string]bool{}
	for _, c := range req.Cookies() {
		id, ok := strings.CutPrefix(c.Name, s.loginPrefix)
		if !ok || seen[id] || validAttemptID(id) != nil {
			continue
		}
		seen[id] = true
		out = append(out, s.ExpireLogin(id))
	}
	return out
}

func pathOnly(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}
