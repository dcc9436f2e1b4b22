package oidcprovider

import (
	"context"
	"encoding/json"
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

// ErrLoginRejected means the sign-in form came back after the credentials
// were posted: wrong email or password.
var ErrLoginRejected = errors.New("oidcprovider: login rejected")

// maxSteps bounds the redirects and forms one login or logout goes through
// (login: authorize, interaction, post, resume, consent, resume, callback).
const maxSteps = 12

// Scopes are the scopes the suite requests: groups for realm_access,
// offline_access for a refresh token (granted only with prompt=consent).
func Scopes() []string {
	return []string{"openid", "email", "profile", "groups", "offline_access"}
}

// ConsentPrompt asks for prompt=consent, without which oidc-provider drops
// offline_access and issues no refresh token (OIDC Core §11). The consent
// step itself is automatic: the harness grants what the client asked for.
func ConsentPrompt() oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("prompt", "consent") }

// WithResource asks for an access token for the API at resourceURL (RFC
// 8707): a JWT with aud = resourceURL, unless the resource is Opaque. Give
// it to AuthCodeURL, and to Exchange too unless [Options.UseGrantedResource].
func WithResource(resourceURL string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("resource", resourceURL)
}

// Endpoint returns the provider's endpoints for golang.org/x/oauth2, with
// c's way of authenticating at the token endpoint: HTTP Basic for the
// confidential client, client_id in the body for the public one.
func (s *Server) Endpoint(c Client) oauth2.Endpoint {
	style := oauth2.AuthStyleInHeader
	if c.IsPublic() {
		style = oauth2.AuthStyleInParams
	}
	return oauth2.Endpoint{AuthURL: s.meta.AuthorizationEndpoint, TokenURL: s.meta.TokenEndpoint, AuthStyle: style}
}

// OAuth2Config returns a golang.org/x/oauth2 config for c with [Scopes].
func (s *Server) OAuth2Config(c Client, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ID,
		ClientSecret: c.Secret,
		Endpoint:     s.Endpoint(c),
		RedirectURL:  redirectURL,
		Scopes:       Scopes(),
	}
}

// EndSessionURL is the RP-initiated logout URL for an ID token, going on to
// postLogoutRedirectURI (one of the client's) with state. Empty arguments
// are left out.
func (s *Server) EndSessionURL(idTokenHint, postLogoutRedirectURI, state string) string {
	q := url.Values{}
	for k, v := range map[string]string{"id_token_hint": idTokenHint, "post_logout_redirect_uri": postLogoutRedirectURI, "state": state} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return s.meta.EndSessionEndpoint
	}
	return s.meta.EndSessionEndpoint + "?" + q.Encode()
}

// Login signs u in the way a browser without JavaScript would: it follows
// authorizeURL's redirects inside the provider, posts u's credentials to the
// sign-in form, passes the (automatic) consent step, and returns the first
// redirect that leaves the provider (the client's redirect URI with code,
// state and iss, or with an error) without following it. When the client's
// cookie jar already holds a provider session there is no form to fill.
// client's redirect policy is not used.
func (s *Server) Login(ctx context.Context, client *http.Client, authorizeURL string, u User) (*url.URL, error) {
	next, err := s.walk(ctx, client, authorizeURL, func(f form) (url.Values, error) {
		if !f.password {
			return nil, errors.New("the page has no sign-in form")
		}
		v := f.hidden
		v.Set("login", u.Email)
		v.Set("password", u.Password)
		return v, nil
	})
	if errors.Is(err, errPostedTwice) {
		return nil, fmt.Errorf("%w for %s", ErrLoginRejected, u.Email)
	}
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: login: %w", err)
	}
	return next, nil
}

// Logout follows an RP-initiated logout (see [Server.EndSessionURL]) the way
// a browser without JavaScript would: it posts the logout form the
// provider's page submits by itself, and returns the first redirect that
// leaves the provider (the post_logout_redirect_uri with state). Without a
// post_logout_redirect_uri the provider ends on its own page, whose URL is
// returned. client should carry the cookie jar of the login.
func (s *Server) Logout(ctx context.Context, client *http.Client, endSessionURL string) (*url.URL, error) {
	next, err := s.walk(ctx, client, endSessionURL, func(f form) (url.Values, error) {
		if f.hidden.Get("xsrf") == "" {
			return nil, errors.New("the page has no logout form")
		}
		return f.hidden, nil
	})
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: logout: %w", err)
	}
	return next, nil
}

var errPostedTwice = errors.New("the provider showed the same form again")

// walk follows redirects within the provider from start and posts the one
// form fill answers for. It returns the first URL outside the provider, or
// the URL of a page without a form after the post.
func (s *Server) walk(ctx context.Context, client *http.Client, start string, fill func(form) (url.Values, error)) (*url.URL, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	issuer, err := url.Parse(s.Issuer)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start, nil)
	if err != nil {
		return nil, err
	}
	posted := false
	for range maxSteps {
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", req.URL.Path, err)
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			next, err := resp.Location()
			if err != nil {
				return nil, fmt.Errorf("redirect from %s: %w", req.URL.Path, err)
			}
			if !sameOrigin(issuer, next) {
				return next, nil
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil); err != nil {
				return nil, err
			}
		// A wrong password gets 401 and the form again.
		case resp.StatusCode == http.StatusOK || (posted && resp.StatusCode == http.StatusUnauthorized):
			f, ok := parseForm(string(body))
			if posted && ok && f.password {
				return nil, errPostedTwice
			}
			if posted && !ok {
				return req.URL, nil
			}
			if !ok {
				return nil, fmt.Errorf("%s has no form", req.URL.Path)
			}
			target, err := req.URL.Parse(f.action)
			if err != nil || !sameOrigin(issuer, target) {
				return nil, fmt.Errorf("the form on %s posts outside the provider", req.URL.Path)
			}
			values, err := fill(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", req.URL.Path, err)
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(values.Encode())); err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			posted = true
		default:
			// The error page names oidc-provider's error code; nothing secret.
			return nil, fmt.Errorf("%s %s: %s %s", req.Method, req.URL.Path, resp.Status, errorCode(string(body)))
		}
	}
	return nil, fmt.Errorf("more than %d steps", maxSteps)
}

// sameOrigin reports whether u is on the issuer's scheme and host.
func sameOrigin(issuer, u *url.URL) bool {
	return u.Scheme == issuer.Scheme && u.Host == issuer.Host
}

// form is the first form of a provider page.
type form struct {
	action   string
	hidden   url.Values // its hidden inputs
	password bool       // it has a password input
}

var (
	formRE    = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)(?:</form\s*>|\z)`)
	inputRE   = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE    = regexp.MustCompile(`(?is)\b([a-z-]+)\s*=\s*"([^"]*)"`)
	errorIDRE = regexp.MustCompile(`(?is)<h1 id="error">([^<]{1,100})</h1>`)
)

// parseForm finds the first form on page that posts, with its action and
// inputs. The page comes from the provider, but it is parsed defensively
// (and fuzzed) all the same.
func parseForm(page string) (form, bool) {
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		attrs := attributes(m[1])
		if !strings.EqualFold(attrs["method"], "post") || attrs["action"] == "" {
			continue
		}
		f := form{action: attrs["action"], hidden: url.Values{}}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			a := attributes(in[1])
			switch strings.ToLower(a["type"]) {
			case "hidden":
				if a["name"] != "" {
					f.hidden.Add(a["name"], a["value"])
				}
			case "password":
				f.password = true
			}
		}
		return f, true
	}
	return form{}, false
}

func attributes(tag string) map[string]string {
	out := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		name := strings.ToLower(a[1])
		if _, dup := out[name]; !dup {
			out[name] = html.UnescapeString(a[2])
		}
	}
	return out
}

// errorCode is the OAuth error code of a provider error answer, an HTML
// page (to browsers) or JSON (to other clients), or "". The description is
// left out: it may quote the request.
func errorCode(body string) string {
	var j struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &j) == nil && j.Error != "" && len(j.Error) <= 100 {
		return "(" + j.Error + ")"
	}
	if m := errorIDRE.FindStringSubmatch(body); m != nil {
		return "(" + html.UnescapeString(m[1]) + ")"
	}
	return ""
}
