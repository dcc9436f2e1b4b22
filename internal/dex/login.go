package dex

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
)

// ErrLoginRejected means Dex showed its password form again after the
// credentials were posted: wrong email or password.
var ErrLoginRejected = errors.New("dex: login rejected")

// maxLoginSteps bounds the redirects and forms one login may go through.
const maxLoginSteps = 10

// Endpoint returns Dex's endpoints for golang.org/x/oauth2.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{
		AuthURL:   s.disc.AuthorizationEndpoint,
		TokenURL:  s.disc.TokenEndpoint,
		AuthStyle: oauth2.AuthStyleInHeader,
	}
}

// OAuth2Config returns a client config for Dex's static client with the
// scopes the suite asks for (groups for the groups claim, offline_access for
// a refresh token).
func (s *Server) OAuth2Config(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		Endpoint:     s.Endpoint(),
		RedirectURL:  redirectURL,
		Scopes:       Scopes(),
	}
}

// Scopes are the scopes the suite requests from Dex.
func Scopes() []string {
	return []string{"openid", "email", "profile", "groups", "offline_access"}
}

// Login signs u in the way a browser without JavaScript would: it follows
// authorizeURL's redirects inside Dex, posts u's credentials to the password
// form, and returns the first redirect that leaves Dex (the client's redirect
// URI with code and state, or with an error) without following it. client
// should carry a cookie jar when the flow starts at the suite rather than at
// Dex; its redirect policy is not used.
func (s *Server) Login(ctx context.Context, client *http.Client, authorizeURL string, u User) (*url.URL, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	issuer, err := url.Parse(s.Issuer)
	if err != nil {
		return nil, fmt.Errorf("dex: login: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return nil, fmt.Errorf("dex: login: %w", err)
	}
	posted := false
	for range maxLoginSteps {
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("dex: login: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("dex: login: read %s: %w", req.URL.Path, err)
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			next, err := resp.Location()
			if err != nil {
				return nil, fmt.Errorf("dex: login: redirect from %s: %w", req.URL.Path, err)
			}
			if !within(issuer, next) {
				return next, nil
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil); err != nil {
				return nil, fmt.Errorf("dex: login: %w", err)
			}
		// Dex answers a wrong password with 401 and the form again.
		case resp.StatusCode == http.StatusOK || (posted && resp.StatusCode == http.StatusUnauthorized):
			action, ok := parseLoginForm(string(body))
			if posted {
				return nil, fmt.Errorf("%w for %s", ErrLoginRejected, u.Email)
			}
			if !ok {
				return nil, fmt.Errorf("dex: login: %s has no password form", req.URL.Path)
			}
			target, err := req.URL.Parse(action)
			if err != nil || !within(issuer, target) {
				// The action's query carries Dex's request id: leave it out.
				return nil, fmt.Errorf("dex: login: the form on %s posts outside Dex", req.URL.Path)
			}
			form := url.Values{"login": {u.Email}, "password": {u.Password}}
			if req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode())); err != nil {
				return nil, fmt.Errorf("dex: login: %w", err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			posted = true
		default:
			return nil, fmt.Errorf("dex: login: %s %s: %s", req.Method, req.URL.Path, resp.Status)
		}
	}
	return nil, fmt.Errorf("dex: login: more than %d steps", maxLoginSteps)
}

// within reports whether u is on the issuer's origin and under its path.
func within(issuer, u *url.URL) bool {
	return u.Scheme == issuer.Scheme && u.Host == issuer.Host &&
		(u.Path == issuer.Path || strings.HasPrefix(u.Path, strings.TrimSuffix(issuer.Path, "/")+"/"))
}

var (
	formRE     = regexp.MustCompile(`(?is)<form\b[^>]*>`)
	actionRE   = regexp.MustCompile(`(?is)\baction\s*=\s*"([^"]*)"`)
	passwordRE = regexp.MustCompile(`(?is)<input\b[^>]*\bname\s*=\s*"password"`)
)

// parseLoginForm finds the action of Dex's password form: the first form,
// on a page that has a password input. The page comes from Dex, but it is
// parsed defensively (and fuzzed) all the same.
func parseLoginForm(page string) (action string, ok bool) {
	form := formRE.FindString(page)
	if form == "" || !passwordRE.MatchString(page) {
		return "", false
	}
	m := actionRE.FindStringSubmatch(form)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}
