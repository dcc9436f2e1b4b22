package session

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Session is what the session cookie holds.
type Session struct {
	// Identity is who signed in. Keep only the claims some rule needs
	// ([authz.Authorizer.Claims]): every byte counts against the budget.
	// Expiry and TokenUse are not stored; Session sets Identity.Expiry.
	Identity verifier.Identity
	// Expiry is when the session ends: the ID token's exp, or earlier.
	Expiry time.Time
	// HasRefresh says a refresh cookie was set with this session, so an
	// expired session can be renewed at /refreshauth without a login.
	HasRefresh bool
}

// sessionWire is the session cookie's JSON, with short names to keep it
// compact: {"sub","u","e","g","sc","c","x","r"}, in this order. Live
// sessions hold these bytes: a change here signs every browser out
// (TestSessionCookieGolden).
type sessionWire struct {
	Subject    string            `json:"sub"`
	Username   string            `json:"u,omitempty"`
	Email      string            `json:"e,omitempty"`
	Groups     []string          `json:"g,omitempty"`
	Scopes     []string          `json:"sc,omitempty"`
	Claims     map[string]string `json:"c,omitempty"`
	Exp        int64             `json:"x"`
	HasRefresh bool              `json:"r,omitempty"`
}

// EncodeSession returns the session cookie: signed but not encrypted, so a
// request costs one HMAC (an identity is not a secret from its own browser).
// Path is "/". The browser keeps it until Expiry, or for the refresh lifetime
// when HasRefresh, so that check-auth still sees an expired session and can
// send the browser to /refreshauth instead of a new login.
//
// A session whose JSON does not fit is DEFLATE-compressed (small ones are
// not, so the hot path never inflates); one that does not fit even then
// fails with ErrTooLarge. Measured (TestSessionSizeLimit): 100 groups of 40
// characters with shared prefixes, as IdP group names have, make an 850
// byte cookie; with 40 random characters each, 64 groups is the limit.
// Decoding costs about 4 µs (BenchmarkSessionDecode).
func (s *Store) EncodeSession(sess Session) (*http.Cookie, error) {
	if sess.Identity.Subject == "" {
		return nil, errors.New("session: encode session: identity has no subject")
	}
	now := s.cfg.Now()
	if !sess.Expiry.After(now) {
		return nil, errors.New("session: encode session: expiry is not in the future")
	}
	id := &sess.Identity
	w := sessionWire{
		Subject: id.Subject, Username: id.Username, Email: id.Email, Groups: id.Groups, Scopes: id.Scopes, Claims: id.Claims,
		Exp: sess.Expiry.Unix(), HasRefresh: sess.HasRefresh,
	}
	keep := sess.Expiry.Sub(now)
	if sess.HasRefresh && s.cfg.RefreshLifetime > keep {
		keep = s.cfg.RefreshLifetime
	}
	return s.encodeValue(s.signed, s.sessionName, w, true, func(v string) *http.Cookie {
		return s.cookie(s.sessionName, v, "/", keep, s.sameSite)
	})
}

// Session reads the session cookie. It returns ErrNoSession without one,
// ErrInvalid for a value that fails the MAC or does not decode, and
// ErrExpired, together with the decoded Session, once Expiry has passed.
// It does not check the identity against any rule.
//
// A value that decoded is kept in a bounded cache (Config.SessionCacheSize)
// until its expiry, so the browser's next request costs a lookup; the
// returned Session is the caller's either way.
func (s *Store) Session(cs edge.Cookies) (Session, error) {
	w, err := decodeCached(s, cs, s.signed, s.sessionName, checkSession, s.sessions, sessionEnd)
	if err != nil && !errors.Is(err, ErrExpired) {
		return Session{}, err
	}
	expiry := time.Unix(w.Exp, 0).UTC()
	return Session{
		Identity: verifier.Identity{
			// Copies: the cache keeps w's.
			Subject: w.Subject, Username: w.Username, Email: w.Email, Groups: slices.Clone(w.Groups), Scopes: slices.Clone(w.Scopes), Claims: maps.Clone(w.Claims),
			Expiry: expiry,
		},
		Expiry:     expiry,
		HasRefresh: w.HasRefresh,
	}, err
}

// sessionEnd is when checkSession starts to refuse w: the cache keeps it
// until then.
func sessionEnd(w *sessionWire) time.Time { return time.Unix(w.Exp, 0) }

func checkSession(w *sessionWire, now time.Time) error {
	if w.Subject == "" || w.Exp <= 0 {
		return fmt.Errorf("%w: session lacks subject or expiry", ErrInvalid)
	}
	if now.Unix() >= w.Exp {
		return ErrExpired
	}
	return nil
}

// ExpireSession returns a cookie that deletes the session cookie.
func (s *Store) ExpireSession() *http.Cookie {
	return s.expired(s.sessionName, "/", s.sameSite)
}
