// Package parsecallback is the parse-callback function. On the parse-auth
// path it finishes a login: it checks the state against the browser's
// login-state cookie, exchanges the code (PKCE), verifies the tokens and the
// nonce, sets the session and refresh cookies and sends the browser back to
// the page it asked for. On the refresh path it does the same with the
// refresh token instead of a code.
package parsecallback

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/page"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Handler is parse-callback, built once per cold start.
type Handler struct {
	cfg      *config.Config
	verify   *verifier.Verifier
	sessions *session.Store
	idp      *idp.Provider
	pages    *page.Renderer
	claims   []string // claims some rule needs; the session keeps only these
	groups   bool     // some rule needs groups
	now      func() time.Time
	log      *slog.Logger
}

// New builds parse-callback; every part validates now.
func New(d lambdafn.Deps) (*Handler, error) {
	d = d.WithDefaults()
	parts, err := lambdafn.NewParts(d)
	if err != nil {
		return nil, fmt.Errorf("parsecallback: %w", err)
	}
	c := d.Config
	return &Handler{
		cfg: c, verify: parts.Verifier, sessions: parts.Sessions, idp: parts.IdP, pages: parts.Pages,
		claims: parts.Rules.Claims(), groups: parts.Rules.UsesGroups(), now: d.Now, log: d.Logger,
	}, nil
}

// Handle serves the parse-auth and refresh paths.
func (h *Handler) Handle(ctx context.Context, ev edge.Event) (edge.Result, error) {
	req, dist, err := ev.Request()
	if err != nil {
		h.log.WarnContext(ctx, "decision", "decision", "reject", "reason", "no request in event")
		return edge.Respond(h.errorPage(http.StatusBadRequest, "", "Bad request", "This request could not be read.", "")), nil
	}
	rid := lambdafn.RequestID(ctx, dist)
	ctx, cancel := lambdafn.Budget(ctx)
	defer cancel()
	c := &call{h: h, req: req, jar: req.Cookies(), dist: dist, rid: rid, log: h.log.With("request_id", rid, "path", lambdafn.Excerpt(req.Path()))}
	path, err := authz.CanonicalPath(req.Path())
	switch {
	case err != nil:
		return c.fail(ctx, http.StatusBadRequest, "malformed path", "Bad request", "The address of this request is not valid."), nil
	case path == h.cfg.Paths.ParseAuth:
		return c.parseAuth(ctx), nil
	case path == h.cfg.Paths.RefreshAuth:
		return c.refreshAuth(ctx), nil
	}
	return c.fail(ctx, http.StatusNotFound, "not a callback path", "Not found", "There is nothing at this address."), nil
}

// call is one request in progress. Its log lines carry nothing the request
// or the IdP's answer chose beyond bounded excerpts: verifier and session
// failures are named by verifier.Reason and session.Reason, OAuth error
// codes pass idp.SafeErrorCode, and idp's own errors are log-safe.
type call struct {
	h    *Handler
	req  *edge.Request
	jar  edge.Cookies // the request's cookies, parsed once
	dist edge.Config
	rid  string
	log  *slog.Logger
}

func (c *call) logDecision(ctx context.Context, level slog.Level, decision, reason string, sub string) {
	attrs := []any{"decision", decision, "reason", reason}
	if sub != "" {
		attrs = append(attrs, "subject", sub)
	}
	c.log.Log(ctx, level, "decision", attrs...)
}

func (h *Handler) errorPage(code int, rid, title, msg, detail string) *edge.Response {
	return h.pages.Response(code, page.Page{
		Kind: page.Error, Title: title, Message: msg, Detail: detail, RequestID: rid,
		Link: "/", LinkText: "Start again",
	})
}

// fail answers with an error page; extra cookies (expirations) go with it.
func (c *call) fail(ctx context.Context, code int, reason, title, msg string, cookies ...*http.Cookie) edge.Result {
	level := slog.LevelInfo
	if code >= 500 {
		level = slog.LevelError
	}
	c.logDecision(ctx, level, "error", reason, "")
	return edge.Respond(c.h.errorPage(code, c.rid, title, msg, "").SetCookies(cookies...))
}

func (c *call) redirectURI() string {
	return c.h.cfg.PublicOrigin(c.dist.DistributionDomainName, c.req.ViewerHosts()...) + c.h.cfg.Paths.ParseAuth
}

// single returns the one value of a query parameter; a missing, empty or
// repeated parameter is refused (a duplicated code or state is an attack or
// a broken client, never something to guess about).
func single(q map[string][]string, name string) (string, bool) {
	v := q[name]
	if len(v) != 1 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

func (c *call) parseAuth(ctx context.Context) edge.Result {
	q := c.req.Query()
	if _, ok := q["error"]; ok {
		return c.idpError(ctx, q)
	}
	code, okCode := single(q, "code")
	state, okState := single(q, "state")
	if !okCode || !okState {
		return c.fail(ctx, http.StatusBadRequest, "missing or duplicated code/state", "Sign-in failed",
			"The sign-in response was incomplete. Please start again.")
	}
	ls, err := c.h.sessions.Login(c.jar, state)
	if err != nil {
		reason, msg := "login state "+session.Reason(err), "This sign-in attempt is unknown or has expired, perhaps because it was already used. Please start again."
		var cookies []*http.Cookie
		if !errors.Is(err, session.ErrNoSession) && !errors.Is(err, session.ErrInvalid) {
			cookies = append(cookies, c.endAttempt(state)...)
		}
		return c.fail(ctx, http.StatusBadRequest, reason, "Sign-in failed", msg, cookies...)
	}
	endAttempt := c.endAttempt(state)
	tokens, err := c.h.idp.Exchange(ctx, code, ls.Verifier, c.redirectURI())
	if err != nil {
		return c.idpFailure(ctx, "exchange", err, endAttempt...)
	}
	id, err := c.h.verify.Verify(ctx, tokens.IDToken, verifier.UseID)
	if err != nil {
		return c.fail(ctx, http.StatusBadGateway, "id token rejected: "+verifier.Reason(err), "Sign-in failed",
			"The identity provider's answer could not be verified.", endAttempt...)
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(ls.Nonce)) != 1 {
		return c.fail(ctx, http.StatusBadRequest, "nonce mismatch", "Sign-in failed",
			"The sign-in response does not belong to this attempt. Please start again.", endAttempt...)
	}
	used, err := c.useAccessToken(ctx, tokens.AccessToken, id)
	if err != nil {
		return c.fail(ctx, http.StatusBadGateway, "access token rejected: "+rejection(err), "Sign-in failed",
			"The identity provider's answer could not be verified.", endAttempt...)
	}
	if err := c.fillFromUserinfo(ctx, tokens.AccessToken, id); err != nil {
		if errors.Is(err, errOtherSubject) {
			return c.fail(ctx, http.StatusBadGateway, "userinfo rejected: "+errOtherSubject.Error(), "Sign-in failed",
				"The identity provider's answer could not be verified.", endAttempt...)
		}
		return c.idpFailure(ctx, "userinfo", err, endAttempt...)
	}
	cookies, note, err := c.newSession(id, tokens.RefreshToken, tokens.IDToken, true)
	if err != nil {
		return c.fail(ctx, http.StatusBadGateway, "session cookie: "+err.Error(), "Sign-in failed",
			"Your account's sign-in data is too large to keep in this browser. Please contact the site's operator.", endAttempt...)
	}
	// Login checked ls.ReturnTo (CleanReturnPath): it is sent as it is.
	resp := edge.Redirect(ls.ReturnTo, c.h.cfg.Secure()).SetCookies(endAttempt...).SetCookies(cookies...)
	c.logDecision(ctx, slog.LevelInfo, "signed-in", "code exchanged"+used+note, id.Subject)
	return edge.Respond(resp)
}

// endAttempt expires the attempt's login cookie and takes it off the
// attempts index: what every answer to an attempt's callback sends.
func (c *call) endAttempt(state string) []*http.Cookie {
	return []*http.Cookie{c.h.sessions.ExpireLogin(state), c.h.sessions.FinishLogin(c.jar, state)}
}

// errOtherSubject: the access token speaks for someone else.
var errOtherSubject = errors.New("subject differs from the id token's")

// rejection names why a token was refused, for the log: never the
// verifier's own text, which quotes parts of the token.
func rejection(err error) string {
	if errors.Is(err, errOtherSubject) {
		return errOtherSubject.Error()
	}
	return verifier.Reason(err)
}

// useAccessToken takes from the access token of a code exchange or a
// refresh what the suite uses of it, the scopes (and the groups when the ID
// token has none), and only when it verifies as an access token for the
// configured audiences: the ID token proves the login, so an access token
// that is opaque, addressed to an API the suite does not serve (aud = the
// API's URL, or aud: []), or not told apart from an ID token is not used,
// and the login goes on. The note says so for the log line. A verified
// access token for another subject is refused (errOtherSubject): the
// provider's answer does not hang together.
func (c *call) useAccessToken(ctx context.Context, raw string, id *verifier.Identity) (note string, err error) {
	if raw == "" {
		return "", nil
	}
	if strings.Count(raw, ".") != 2 {
		return "; access token opaque, not used", nil
	}
	at, err := c.h.verify.Verify(ctx, raw, verifier.UseAccess)
	if err != nil {
		return "; access token not used: " + verifier.Reason(err), nil
	}
	if at.Subject != id.Subject {
		return "", errOtherSubject
	}
	if len(id.Scopes) == 0 {
		id.Scopes = at.Scopes
	}
	if len(id.Groups) == 0 {
		id.Groups = at.Groups
	}
	return "", nil
}

// fillFromUserinfo reads, with config userinfo on, the claims the suite
// uses that the ID token lacks (groups when a rule names them, the claims
// of {claim} rule segments) from the userinfo endpoint, as spec-strict
// providers put them there (OpenID Connect Core §5.4). The answer must be
// for the ID token's subject (§5.3.2), else errOtherSubject. A failure to
// read it is the caller's to answer: a session without the groups its rules
// need would only be refused later, page after page.
func (c *call) fillFromUserinfo(ctx context.Context, accessToken string, id *verifier.Identity) error {
	if !c.h.cfg.Userinfo {
		return nil
	}
	var missing []string
	for _, name := range c.h.claims {
		if id.Claim(name) == "" {
			missing = append(missing, name)
		}
	}
	needGroups := c.h.groups && id.Groups == nil
	if !needGroups && len(missing) == 0 {
		return nil
	}
	claims, err := c.h.idp.Userinfo(ctx, accessToken)
	if err != nil {
		return err
	}
	u := c.h.verify.IdentityOf(claims)
	if subtle.ConstantTimeCompare([]byte(u.Subject), []byte(id.Subject)) != 1 {
		return errOtherSubject
	}
	if needGroups {
		id.Groups = u.Groups
	}
	for _, name := range missing {
		if v := u.Claim(name); v != "" {
			if id.Claims == nil {
				id.Claims = map[string]string{}
			}
			id.Claims[name] = v
		}
	}
	if id.Username == "" {
		id.Username = u.Username
	}
	if id.Email == "" {
		id.Email = u.Email
	}
	return nil
}

// newSession builds the session cookie (and, with a refresh token, the
// refresh cookies) for a verified ID token. The session ends as
// config.Config.SessionFor says: by default 15 minutes on with a refresh
// token, then renewed at the refresh path. A refresh token too large for a
// cookie (some IdPs issue multi-kilobyte ones) is not kept: the session then
// lasts until its expiry, any older refresh cookies are expired with it, and
// note says so for the log line. Losing silent refresh beats losing the login.
func (c *call) newSession(id *verifier.Identity, refreshToken, idToken string, writeRefresh bool) (cookies []*http.Cookie, note string, err error) {
	kept := verifier.Identity{Subject: id.Subject, Username: id.Username, Email: id.Email, Groups: id.Groups, Scopes: id.Scopes}
	for _, name := range c.h.claims {
		if v := id.Claim(name); v != "" {
			if kept.Claims == nil {
				kept.Claims = map[string]string{}
			}
			kept.Claims[name] = v
		}
	}
	if refreshToken != "" && writeRefresh {
		rc, err := c.h.sessions.EncodeRefresh(session.Refresh{RefreshToken: refreshToken, IDToken: idToken})
		switch {
		case errors.Is(err, session.ErrTooLarge):
			refreshToken, note = "", "; refresh token too large for a cookie, not kept"
			cookies = append(cookies, c.h.sessions.ExpireRefresh()...)
		case err != nil:
			return nil, "", err
		default:
			cookies = append(cookies, rc...)
		}
	}
	// Known only now: whether the refresh token was kept.
	expiry := c.h.cfg.SessionFor(c.h.now(), id.Expiry, refreshToken != "")
	sess, err := c.h.sessions.EncodeSession(session.Session{Identity: kept, Expiry: expiry, HasRefresh: refreshToken != ""})
	if err != nil {
		return nil, "", err
	}
	return append([]*http.Cookie{sess}, cookies...), note, nil
}

// idpError answers the IdP's error redirect and ends the attempt the state
// names. Anyone can craft this redirect to put words on the site's origin,
// so the page shows none of its text: a fixed explanation per standard code
// (explainIdPError), and the code itself only when it is one of those the
// standards define for this redirect. The code and description go to the
// log instead, bounded and escaped (lambdafn.Excerpt). access_denied is a
// 403: a 401 would need a WWW-Authenticate challenge (RFC 9110 §15.5.2),
// and there is none to give a browser.
func (c *call) idpError(ctx context.Context, q map[string][]string) edge.Result {
	code := first(q["error"])
	e, known := explainIdPError(code)
	attrs := []any{"decision", "error", "reason", "idp error: " + idp.SafeErrorCode(code), "idp_error", lambdafn.Excerpt(code)}
	if desc := first(q["error_description"]); desc != "" {
		attrs = append(attrs, "idp_error_description", lambdafn.Excerpt(desc))
	}
	c.log.Log(ctx, slog.LevelInfo, "decision", attrs...)
	var detail string
	if known {
		detail = "Error code: " + code
	}
	resp := c.h.errorPage(e.status, c.rid, e.title, e.message, detail)
	if state, ok := single(q, "state"); ok && session.ValidAttemptID(state) {
		resp.SetCookies(c.endAttempt(state)...)
	}
	return edge.Respond(resp)
}

// idpErrorPage is what the page says for one error code.
type idpErrorPage struct {
	status         int
	title, message string
}

// explainIdPError returns the page for an error code an authorization
// endpoint may redirect with (RFC 6749 §4.1.2.1, OpenID Connect Core
// §3.1.2.6), each with a fixed explanation, and known true: the only codes a
// page names. Any other code gets a generic page that does not name it.
func explainIdPError(code string) (p idpErrorPage, known bool) {
	switch code {
	case "access_denied":
		return idpErrorPage{http.StatusForbidden, "Sign-in was declined",
			"The sign-in was cancelled, or the identity provider did not allow this account to sign in to this site."}, true
	case "login_required":
		return notAsked("you to sign in"), true
	case "consent_required":
		return notAsked("your consent for this site"), true
	case "interaction_required":
		return notAsked("you to do something first (sign in again, or confirm)"), true
	case "account_selection_required":
		return notAsked("you to choose an account"), true
	case "invalid_scope":
		return misconfigured("This site asked the identity provider for access it does not grant."), true
	case "unauthorized_client":
		return misconfigured("The identity provider does not allow this site to sign users in this way."), true
	case "unsupported_response_type":
		return misconfigured("The identity provider does not support the way this site signs users in."), true
	case "invalid_request", "invalid_request_uri", "invalid_request_object", "request_not_supported",
		"request_uri_not_supported", "registration_not_supported":
		return misconfigured("The identity provider could not accept this site's sign-in request."), true
	case "server_error":
		return idpErrorPage{http.StatusBadGateway, "Sign-in failed",
			"The identity provider had a problem and could not complete the sign-in. Please try again in a moment."}, true
	case "temporarily_unavailable":
		return idpErrorPage{http.StatusServiceUnavailable, "Sign-in is unavailable",
			"The identity provider is busy or down for maintenance. Please try again in a few minutes."}, true
	}
	return idpErrorPage{http.StatusBadRequest, "Sign-in was not completed",
		"The identity provider reported a problem with this sign-in. Please start again."}, false
}

// notAsked is the page for a code saying the IdP needed the user (needs
// says for what) and the request did not let it ask: a 400, start again.
func notAsked(needs string) idpErrorPage {
	return idpErrorPage{http.StatusBadRequest, "Sign-in was not completed",
		"The identity provider needs " + needs + ", and this request did not let it ask you. Please start again."}
}

// misconfigured is the page for a code that blames the site's sign-in
// request (what says how): a 400 for the operator, not the user, to fix.
func misconfigured(what string) idpErrorPage {
	return idpErrorPage{http.StatusBadRequest, "Sign-in is misconfigured", what + " Please tell the site's operator."}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// idpFailure maps an IdP call's failure to a page: invalid_grant is the
// user's (an old or used code) and a 400; the rest is the IdP's and a 502.
// No session cookie is set. idp's errors are log-safe: they carry the OAuth
// error code and status, never a body or a token.
func (c *call) idpFailure(ctx context.Context, step string, err error, cookies ...*http.Cookie) edge.Result {
	reason := step + ": " + err.Error()
	switch {
	case errors.Is(err, idp.ErrInvalidGrant):
		return c.fail(ctx, http.StatusBadRequest, reason, "Sign-in failed",
			"This sign-in link has expired or was already used. Please start again.", cookies...)
	case errors.Is(err, idp.ErrRejected):
		return c.fail(ctx, http.StatusBadGateway, reason, "Sign-in failed",
			"The identity provider refused the sign-in. Please try again later.", cookies...)
	}
	return c.fail(ctx, http.StatusBadGateway, reason, "Sign-in failed",
		"The identity provider could not be reached. Please try again in a moment.", cookies...)
}

// refreshAuth renews an expired session with the refresh token. When the
// refresh token is missing or refused, both credential cookies are expired
// and the browser goes back to its page, where check-auth starts a login:
// with the session cookie gone, no loop can form.
func (c *call) refreshAuth(ctx context.Context) edge.Result {
	ret := "/"
	if raw, ok := single(c.req.Query(), "return"); ok {
		// VerifyReturn checks the path (CleanReturnPath): it is sent as it is.
		if p, err := c.h.sessions.VerifyReturn(raw); err == nil {
			ret = p
		}
	}
	old, serr := c.h.sessions.Session(c.jar)
	signOutCookies := func() []*http.Cookie {
		return append([]*http.Cookie{c.h.sessions.ExpireSession()}, c.h.sessions.ExpireRefresh()...)
	}
	restart := func(reason string) edge.Result {
		c.logDecision(ctx, slog.LevelInfo, "login", reason, "")
		return edge.Respond(edge.Redirect(ret, c.h.cfg.Secure()).SetCookies(signOutCookies()...))
	}
	rt, err := c.h.sessions.Refresh(c.jar)
	if err != nil {
		return restart("refresh cookie " + session.Reason(err))
	}
	tokens, err := c.h.idp.Refresh(ctx, rt.RefreshToken)
	switch {
	case errors.Is(err, idp.ErrInvalidGrant):
		return restart("refresh token refused (invalid_grant)")
	case errors.Is(err, idp.ErrRejected):
		// Not every IdP says invalid_grant for a dead refresh token (Dex says
		// invalid_request); any OAuth refusal means this token will not work,
		// and keeping it would only send the browser here again.
		return restart("refresh token refused: " + err.Error())
	case err != nil:
		// Keep the cookies: the IdP may be back in a moment.
		return c.idpFailure(ctx, "refresh", err)
	case tokens.IDToken == "":
		return restart("refresh returned no id token")
	}
	id, err := c.h.verify.Verify(ctx, tokens.IDToken, verifier.UseID)
	if err != nil {
		return restart("refreshed id token rejected: " + verifier.Reason(err))
	}
	if (serr == nil || errors.Is(serr, session.ErrExpired)) && old.Identity.Subject != "" && old.Identity.Subject != id.Subject {
		return restart("refreshed id token is for another subject")
	}
	used, err := c.useAccessToken(ctx, tokens.AccessToken, id)
	if err != nil {
		return restart("refreshed access token rejected: " + rejection(err))
	}
	if err := c.fillFromUserinfo(ctx, tokens.AccessToken, id); err != nil {
		if errors.Is(err, errOtherSubject) {
			return restart("refreshed userinfo rejected: " + errOtherSubject.Error())
		}
		// Keep the cookies: the IdP may be back in a moment.
		return c.idpFailure(ctx, "userinfo", err)
	}
	if !id.Expiry.After(c.h.now()) {
		return restart("refreshed session already expired")
	}
	refreshToken, rotated := rt.RefreshToken, tokens.RefreshToken != "" && tokens.RefreshToken != rt.RefreshToken
	if rotated {
		refreshToken = tokens.RefreshToken
	}
	cookies, note, err := c.newSession(id, refreshToken, tokens.IDToken, rotated)
	if err != nil {
		return c.fail(ctx, http.StatusBadGateway, "session cookie: "+err.Error(), "Sign-in failed",
			"Your account's sign-in data is too large to keep in this browser.", signOutCookies()...)
	}
	c.logDecision(ctx, slog.LevelInfo, "refreshed", fmt.Sprintf("rotated=%v", rotated)+used+note, id.Subject)
	return edge.Respond(edge.Redirect(ret, c.h.cfg.Secure()).SetCookies(cookies...))
}
