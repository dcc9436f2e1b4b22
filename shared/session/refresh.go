package session

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/edgeauth/edgeauth/shared/edge"
)

// Refresh is what the refresh cookie holds.
type Refresh struct {
	RefreshToken string
	// IDToken is optional: kept only when it fits, as sign-out's
	// id_token_hint for OIDC providers.
	IDToken string
}

type refreshWire struct {
	RefreshToken string `json:"r"`
	IDToken      string `json:"i,omitempty"`
	Exp          int64  `json:"x"`
}

// EncodeRefresh returns the refresh cookie, encrypted, twice under the same
// name: once with Path=RefreshPath and once with Path=SignOutPath. Browsers
// send a cookie only to paths under its Path, so the refresh token reaches
// /refreshauth (to renew the session) and /signout (to revoke it) and no
// other request, where it could only leak into logs or the origin. Both
// copies must be written and expired together.
//
// The IDToken is dropped when the cookie would not fit; a refresh token that
// does not fit alone fails with ErrTooLarge. Tokens come only from the IdP,
// so compressing them next to nothing attacker-chosen leaks nothing.
func (s *Store) EncodeRefresh(r Refresh) ([]*http.Cookie, error) {
	if r.RefreshToken == "" {
		return nil, errors.New("session: encode refresh: no refresh token")
	}
	lifetime := s.cfg.RefreshLifetime
	w := refreshWire{RefreshToken: r.RefreshToken, IDToken: r.IDToken, Exp: s.cfg.Now().Add(lifetime).Unix()}
	mk := func(path string) func(string) *http.Cookie {
		return func(v string) *http.Cookie { return s.cookie(s.refreshName, v, path, lifetime, s.sameSite) }
	}
	// The longer path makes the longer cookie; sizing with it covers both.
	longer := s.cfg.RefreshPath
	if len(s.cfg.SignOutPath) > len(longer) {
		longer = s.cfg.SignOutPath
	}
	c, err := s.encodeValue(s.encrypted, s.refreshName, w, true, mk(longer))
	if errors.Is(err, ErrTooLarge) && w.IDToken != "" {
		w.IDToken = ""
		c, err = s.encodeValue(s.encrypted, s.refreshName, w, true, mk(longer))
	}
	if err != nil {
		return nil, err
	}
	return []*http.Cookie{mk(s.cfg.RefreshPath)(c.Value), mk(s.cfg.SignOutPath)(c.Value)}, nil
}

// Refresh reads the refresh cookie (sent only to /refreshauth and /signout):
// ErrNoSession without one, ErrInvalid when it fails to decrypt or decode,
// ErrExpired after the refresh lifetime.
func (s *Store) Refresh(cs edge.Cookies) (Refresh, error) {
	w, err := decodeCookie(s, cs, s.encrypted, s.refreshName, checkRefresh)
	if err != nil {
		return Refresh{}, err
	}
	return Refresh{RefreshToken: w.RefreshToken, IDToken: w.IDToken}, nil
}

func checkRefresh(w *refreshWire, now time.Time) error {
	if w.RefreshToken == "" || w.Exp <= 0 {
		return fmt.Errorf("%w: refresh cookie lacks token or expiry", ErrInvalid)
	}
	if now.Unix() >= w.Exp {
		return ErrExpired
	}
	return nil
}

// ExpireRefresh returns the cookies that delete both copies of the refresh
// cookie.
func (s *Store) ExpireRefresh() []*http.Cookie {
	return []*http.Cookie{
		s.expired(s.refreshName, s.cfg.RefreshPath, s.sameSite),
		s.expired(s.refreshName, s.cfg.SignOutPath, s.sameSite),
	}
}
