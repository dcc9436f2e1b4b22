package session

import (
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
// The returned cookies also keep the attempts cap: the attempts index
// (see [Store.Attempts]) gains the new attempt, and when it then lists more
// than MaxAttempts, the oldest attempts' cookies are expired by name. The
// login cookies themselves never reach check-auth (their Path is
// ParseAuthPath); the index, at Path=/, does. A zero Created is set to now.
// The login state is never compressed: ReturnTo is chosen by whoever links
// to the site, and mixing it with the secrets under compression could leak
// them through the cookie's length.
func (s *Store) NewLogin(cs edge.Cookies, ls LoginState) (string, []*http.Cookie, error) {
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
		return s.cookie(name, v, s.cfg.ParseAuthPath, s.cfg.LoginStateTTL, s.sameSite)
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
	pending := append(s.Attempts(cs), Attempt{ID: id, Created: time.Unix(w.Created, 0).UTC()})
	out := []*http.Cookie{c}
	if extra := len(pending) - s.cfg.MaxAttempts; extra > 0 {
		for _, a := range pending[:extra] {
			out = append(out, s.ExpireLogin(a.ID))
		}
		pending = pending[extra:]
	}
	idx, err := s.attemptsCookie(pending)
	if err != nil {
		return "", nil, err
	}
	return id, append(out, idx), nil
}

// Attempt is one pending login attempt in the attempts index.
type Attempt struct {
	ID      string
	Created time.Time
}

// attemptsWire is the index: [id, created unix] pairs, oldest first.
type attemptsWire [][2]any

// Attempts returns the pending login attempts the request's attempts index
// lists, oldest first, without those past LoginStateTTL. The index is a
// signed cookie at Path=/ (<prefix>-attempts) that only bounds how many
// login cookies a browser keeps; a missing, tampered or malformed one reads
// as empty and never blocks a login.
func (s *Store) Attempts(cs edge.Cookies) []Attempt {
	ttl := s.cfg.LoginStateTTL
	w, err := decodeCookie(s, cs, s.signed, s.attemptsName, func(*attemptsWire, time.Time) error { return nil })
	if err != nil {
		return nil
	}
	now := s.cfg.Now()
	var out []Attempt
	seen := map[string]bool{}
	for _, pair := range w {
		id, _ := pair[0].(string)
		created, _ := pair[1].(float64)
		if validAttemptID(id) != nil || seen[id] || created <= 0 || created > 1<<40 {
			continue
		}
		t := time.Unix(int64(created), 0).UTC()
		if !now.Before(t.Add(ttl)) {
			continue
		}
		seen[id] = true
		out = append(out, Attempt{ID: id, Created: t})
	}
	slices.SortStableFunc(out, func(a, b Attempt) int { return a.Created.Compare(b.Created) })
	return out
}

// FinishLogin returns the attempts index without attemptID: what a callback
// sends once the attempt is over, whatever its outcome. An index left empty
// is expired.
func (s *Store) FinishLogin(cs edge.Cookies, attemptID string) *http.Cookie {
	pending := slices.DeleteFunc(s.Attempts(cs), func(a Attempt) bool { return a.ID == attemptID })
	c, err := s.attemptsCookie(pending)
	if err != nil {
		return s.expired(s.attemptsName, "/", s.sameSite)
	}
	return c
}

// attemptsCookie encodes the index, or expires it when pending is empty.
// It lives as long as its newest attempt.
func (s *Store) attemptsCookie(pending []Attempt) (*http.Cookie, error) {
	if len(pending) == 0 {
		return s.expired(s.attemptsName, "/", s.sameSite), nil
	}
	w := make(attemptsWire, len(pending))
	newest := pending[0].Created
	for i, a := range pending {
		w[i] = [2]any{a.ID, a.Created.Unix()}
		if a.Created.After(newest) {
			newest = a.Created
		}
	}
	ttl := newest.Add(s.cfg.LoginStateTTL).Sub(s.cfg.Now())
	return s.encodeValue(s.signed, s.attemptsName, w, false, func(v string) *http.Cookie {
		return s.cookie(s.attemptsName, v, "/", ttl, s.sameSite)
	})
}

// Login reads the cookie of the attempt named by attemptID (the state the
// IdP sent back). attemptID is checked first: ErrInvalid when it is not an
// id NewLogin could have made. Then ErrNoSession when the browser has no
// cookie for it (unknown or already finished attempt), ErrInvalid when the
// cookie fails to decrypt or decode, ErrExpired after LoginStateTTL.
// Login does not compare the nonce; the caller does, with the ID token's.
func (s *Store) Login(cs edge.Cookies, attemptID string) (LoginState, error) {
	if err := validAttemptID(attemptID); err != nil {
		return LoginState{}, err
	}
	ttl := s.cfg.LoginStateTTL
	w, err := decodeCookie(s, cs, s.encrypted, s.LoginName(attemptID), func(w *loginWire, now time.Time) error {
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
	return s.expired(s.LoginName(attemptID), s.cfg.ParseAuthPath, s.sameSite)
}

// ExpireAll returns cookies that delete the session cookie, both refresh
// cookies, the attempts index, and every login-state cookie that cs
// carries or the index lists (sign-out sees no login cookie itself: they
// live under ParseAuthPath): what sign-out sends.
func (s *Store) ExpireAll(cs edge.Cookies) []*http.Cookie {
	out := append([]*http.Cookie{s.ExpireSession()}, s.ExpireRefresh()...)
	out = append(out, s.expired(s.attemptsName, "/", s.sameSite))
	seen := map[string]bool{}
	expire := func(id string) {
		if !seen[id] && validAttemptID(id) == nil {
			seen[id] = true
			out = append(out, s.ExpireLogin(id))
		}
	}
	for _, c := range cs {
		if id, ok := strings.CutPrefix(c.Name, s.loginPrefix); ok {
			expire(id)
		}
	}
	for _, a := range s.Attempts(cs) {
		expire(a.ID)
	}
	return out
}

func pathOnly(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}
