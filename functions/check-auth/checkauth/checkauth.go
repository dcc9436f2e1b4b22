// Package checkauth is the check-auth function: it lets a request through
// when it carries a valid credential that the path's rule allows, and
// otherwise answers — a 302 to the IdP for a browser, a 401/403 for an API
// client, a 403 page for a signed-in user the rule refuses.
package checkauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/introspect"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/page"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Handler is check-auth, built once per cold start.
type Handler struct {
	cfg      *config.Config
	verify   *verifier.Verifier
	rules    *authz.Authorizer
	sessions *session.Store
	idp      *idp.Provider
	pages    *page.Renderer
	opaque   *introspect.Checker // nil without an introspection endpoint
	use      verifier.TokenUse
	now      func() time.Time
	log      *slog.Logger
}

// New builds check-auth from its dependencies; every part validates now, so a
// bad config fails the cold start.
func New(d lambdafn.Deps) (*Handler, error) {
	d = d.WithDefaults()
	parts, err := lambdafn.NewParts(d)
	if err != nil {
		return nil, fmt.Errorf("checkauth: %w", err)
	}
	c := d.Config
	use := verifier.UseAccess
	if c.BearerToken == config.BearerInsecureIDToken {
		use = verifier.UseAny
	}
	return &Handler{
		cfg: c, verify: parts.Verifier, rules: parts.Rules, sessions: parts.Sessions, idp: parts.IdP, pages: parts.Pages,
		opaque: parts.Introspect, use: use, now: d.Now, log: d.Logger,
	}, nil
}

// Handle decides one request.
func (h *Handler) Handle(ctx context.Context, ev edge.Event) (edge.Result, error) {
	req, dist, err := ev.Request()
	if err != nil {
		h.log.WarnContext(ctx, "decision", "decision", "reject", "reason", "no request in event")
		return edge.Respond(h.pages.Response(http.StatusBadRequest, badRequest(""))), nil
	}
	r := &request{h: h, req: req, dist: dist, rid: lambdafn.RequestID(ctx, dist)}
	if r.paths, err = authz.Read(req.Path()); err != nil {
		r.logDecision(ctx, "reject", "malformed path", nil)
		return edge.Respond(h.pages.Response(http.StatusBadRequest, badRequest(r.rid))), nil
	}
	// The anonymous decision says whether the path needs a credential at
	// all, and refuses a ";params" segment that could hide a rule's.
	anon := h.rules.Decide(r.paths, nil)
	if anon.BadPath {
		r.logDecision(ctx, "reject", anon.Reason, nil)
		return edge.Respond(h.pages.Response(http.StatusBadRequest, badRequest(r.rid))), nil
	}
	r.public = anon.Public
	if _, ok := req.Headers["authorization"]; ok {
		return r.bearer(ctx), nil
	}
	return r.browser(ctx), nil
}

// request is one decision in progress.
type request struct {
	h     *Handler
	req   *edge.Request
	dist  edge.Config
	rid   string
	paths authz.Readings
	// public: the path's first matching rule is public (Decide with no
	// identity), so no credential is needed.
	public bool
}

// logDecision writes the decision's log line. The request's attributes go
// into the one call rather than into a logger built per request
// (slog.With copies the handler and encodes them on every request); logAt
// encodes nothing when the level is off.
func (r *request) logDecision(ctx context.Context, decision, reason string, id *verifier.Identity) {
	if id != nil && id.Subject != "" {
		r.logAt(ctx, slog.LevelInfo, "decision", slog.String("decision", decision), slog.String("reason", reason), slog.String("subject", id.Subject))
		return
	}
	r.logAt(ctx, slog.LevelInfo, "decision", slog.String("decision", decision), slog.String("reason", reason))
}

// logAt logs msg with the request id and path first, then attrs. It hands
// the record to the logger's handler itself: Logger.LogAttrs would also
// walk the stack for the caller's pc (runtime.Callers), which only a
// handler with AddSource reads, and the functions' handlers have none.
func (r *request) logAt(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	h := r.h.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	// Up to five attributes fit in a slog.Record without allocating.
	rec := slog.NewRecord(time.Now(), level, msg, 0)
	rec.AddAttrs(slog.String("request_id", r.rid), slog.String("path", lambdafn.Excerpt(r.req.Path())))
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec) // a log write that fails has nowhere better to go
}

// pass sends the request on without the Authorization header and the suite's
// cookies: the origin never sees credentials (S3 would also reject a foreign
// Authorization header and caps header sections at 8 KB). The Cookie header
// is rewritten, not read: every pair but the suite's stays as sent.
func (r *request) pass(ctx context.Context, reason string, id *verifier.Identity) edge.Result {
	r.req.Headers.Del("authorization")
	r.req.DropCookies(r.h.sessions.IsSuiteCookie)
	r.logDecision(ctx, "allow", reason, id)
	return edge.Continue(r.req)
}

// bearer handles a request with an Authorization header: it is an API call,
// so it is never redirected.
func (r *request) bearer(ctx context.Context) edge.Result {
	public := r.public
	values := r.req.Headers.Values("authorization")
	if len(values) != 1 {
		if public {
			return r.pass(ctx, "public", nil)
		}
		r.logDecision(ctx, "reject", "several authorization headers", nil)
		return edge.Respond(r.challenge(http.StatusBadRequest, "invalid_request", "one Authorization header is allowed"))
	}
	raw, err := verifier.ParseBearer(values[0])
	switch {
	case public:
		// A public path needs no credential; a bad one does not make it private.
		return r.pass(ctx, "public", nil)
	case errors.Is(err, verifier.ErrNoBearer):
		r.logDecision(ctx, "reject", "authorization is not a bearer token", nil)
		return edge.Respond(r.challenge(http.StatusUnauthorized, "", ""))
	case err != nil:
		r.logDecision(ctx, "reject", "malformed bearer header", nil)
		return edge.Respond(r.challenge(http.StatusBadRequest, "invalid_request", "malformed Authorization header"))
	}
	id, how, err := r.token(ctx, raw)
	switch {
	case errors.Is(err, introspect.ErrUnavailable):
		// Never a pass: the client may try again in a moment.
		r.logAt(ctx, slog.LevelWarn, "decision", slog.String("decision", "unavailable"), slog.String("reason", introspect.Reason(err)), slog.Any("err", err))
		return edge.Respond(r.unavailable())
	case err != nil:
		r.logDecision(ctx, "reject", "invalid token: "+introspect.Reason(err), nil)
		return edge.Respond(r.challenge(http.StatusUnauthorized, "invalid_token", tokenErrorText(err)))
	}
	d := r.h.rules.Decide(r.paths, id)
	if !d.Allow {
		r.logDecision(ctx, "deny", d.Reason, id)
		return edge.Respond(r.challenge(http.StatusForbidden, "insufficient_scope", "the token does not grant access to this path"))
	}
	return r.pass(ctx, how+d.Reason, id)
}

// token checks a Bearer token: a JWT (three dot-separated parts) against
// the pinned key set, anything else at the introspection endpoint when one
// is configured (within the Lambda deadline, less a margin). A JWT is never
// introspected: providers answer inactive for their JWTs (oidc-provider) or
// would only repeat what the signature says. how names the path taken for
// the log line.
func (r *request) token(ctx context.Context, raw string) (id *verifier.Identity, how string, err error) {
	if strings.Count(raw, ".") == 2 || r.h.opaque == nil {
		id, err = r.h.verify.Verify(ctx, raw, r.h.use)
		return id, "bearer: ", err
	}
	ctx, cancel := lambdafn.Budget(ctx)
	defer cancel()
	id, err = r.h.opaque.Check(ctx, raw)
	return id, "bearer (introspected): ", err
}

// RetryAfter is what a 503 for an IdP that could not check a token tells
// the client to wait, in seconds.
const RetryAfter = "5"

// unavailable is the answer when the IdP cannot check a token now: 503 with
// Retry-After (RFC 9110 §10.2.3), no challenge (the token may be fine).
func (r *request) unavailable() *edge.Response {
	resp := edge.NewResponse(http.StatusServiceUnavailable, r.h.cfg.Secure())
	resp.Headers.Set("Retry-After", RetryAfter)
	r.allowCORS(resp)
	if resp.Headers.Get("access-control-allow-origin") != "" {
		resp.Headers.Set("Access-Control-Expose-Headers", "Retry-After")
	}
	return resp.Text("Service Unavailable: the access token could not be checked now; try again shortly\n")
}

// challenge is an RFC 6750 answer: WWW-Authenticate with an error code when a
// token was sent and found wanting, a plain challenge when none was.
func (r *request) challenge(code int, errCode, desc string) *edge.Response {
	v := fmt.Sprintf("Bearer realm=%q", r.realm())
	if errCode != "" {
		v += fmt.Sprintf(", error=%q", errCode)
		if desc != "" {
			v += fmt.Sprintf(", error_description=%q", desc)
		}
	}
	resp := edge.NewResponse(code, r.h.cfg.Secure())
	resp.Headers.Set("WWW-Authenticate", v)
	r.allowCORS(resp)
	body := http.StatusText(code)
	if desc != "" {
		body += ": " + desc
	}
	return resp.Text(body + "\n")
}

// allowCORS lets a script on a configured origin read the answer: the
// Origin is echoed (never "*", as the call may carry cookies) and the
// challenge header exposed. Vary: Origin keeps caches from serving the
// answer for one origin to another.
func (r *request) allowCORS(resp *edge.Response) {
	origin := r.req.Headers.Get("origin")
	if origin == "" || !slices.Contains(r.h.cfg.CORSOrigins, origin) {
		return
	}
	resp.Headers.Set("Access-Control-Allow-Origin", origin)
	resp.Headers.Set("Access-Control-Allow-Credentials", "true")
	resp.Headers.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	resp.Headers.Add("Vary", "Origin")
}

func (r *request) realm() string {
	o := r.h.cfg.PublicOrigin(r.dist.DistributionDomainName, r.req.ViewerHosts()...)
	return strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
}

// browser handles a request without an Authorization header: the session
// cookie, or a login. The Cookie header is parsed once, here, for every
// cookie the decision reads.
func (r *request) browser(ctx context.Context) edge.Result {
	switch {
	case r.public:
		return r.pass(ctx, "public", nil)
	case r.isPreflight():
		return r.pass(ctx, "cors preflight", nil)
	}
	jar := r.req.Cookies()
	sess, err := r.h.sessions.Session(jar)
	switch {
	case err == nil:
		d := r.h.rules.Decide(r.paths, &sess.Identity)
		if d.Allow {
			return r.pass(ctx, "session: "+d.Reason, &sess.Identity)
		}
		r.logDecision(ctx, "deny", d.Reason, &sess.Identity)
		if r.looksLikeAPI() {
			return edge.Respond(r.challenge(http.StatusForbidden, "insufficient_scope", "not allowed for this identity"))
		}
		return edge.Respond(r.h.pages.Response(http.StatusForbidden, page.Page{
			Kind:        page.Forbidden,
			Title:       "Access denied",
			Message:     "You are signed in, but your account is not allowed to open this page.",
			Account:     accountName(&sess.Identity),
			RequestID:   r.rid,
			Link:        r.h.cfg.Paths.SignOut,
			LinkText:    "Sign out and use another account",
			AltLink:     "/",
			AltLinkText: "Go to the home page",
		}))
	case errors.Is(err, session.ErrExpired) && sess.HasRefresh:
		// Renewing needs no person, so subresources and same-site fetches
		// follow the refresh too; only scripted cross-site or JSON calls
		// get the 401.
		if r.isScriptedCall() {
			r.logDecision(ctx, "reject", "session expired (api)", &sess.Identity)
			return edge.Respond(r.challenge(http.StatusUnauthorized, "", ""))
		}
		return r.refresh(ctx, jar, &sess.Identity)
	}
	reason := "no session"
	if !errors.Is(err, session.ErrNoSession) {
		reason = "session " + session.Reason(err)
	}
	if r.looksLikeAPI() {
		r.logDecision(ctx, "reject", reason+" (api)", nil)
		return edge.Respond(r.challenge(http.StatusUnauthorized, "", ""))
	}
	return r.login(ctx, jar, reason, !errors.Is(err, session.ErrNoSession))
}

// looksLikeAPI reports a request that must get a 401 rather than a
// redirect to an HTML login page: anything but a top-level navigation.
// Fetch, XHR, images and scripts could not follow the redirect (CORS), and
// each login redirect leaves a login-state cookie: only navigations, which a
// person makes one at a time, may start one.
func (r *request) looksLikeAPI() bool {
	if r.req.Method == http.MethodOptions && r.req.Headers.Get("access-control-request-method") != "" {
		return true // a preflight never navigates
	}
	if mode := r.req.Headers.Get("sec-fetch-mode"); mode != "" {
		return mode != "navigate"
	}
	if r.isScriptedCall() {
		return true
	}
	accept := strings.ToLower(strings.Join(r.req.Headers.Values("accept"), ","))
	// No Accept at all (a behavior that does not forward it): a redirect,
	// as for a browser.
	return accept != "" && !strings.Contains(accept, "text/html")
}

// isScriptedCall reports a call a script makes and must handle itself: XHR,
// one that accepts JSON but not HTML, or a cross-site fetch.
func (r *request) isScriptedCall() bool {
	if strings.EqualFold(r.req.Headers.Get("x-requested-with"), "XMLHttpRequest") ||
		r.req.Headers.Get("sec-fetch-site") == "cross-site" && r.req.Headers.Get("sec-fetch-mode") != "navigate" {
		return true
	}
	accept := strings.ToLower(strings.Join(r.req.Headers.Values("accept"), ","))
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// isPreflight reports a CORS preflight bound for an S3 origin. A preflight
// never carries credentials (the Fetch standard forbids them), and S3
// answers it from the bucket's CORS rules without content, so it may pass.
// Other origins may run their handlers on OPTIONS, so there it is an API
// call like any other.
func (r *request) isPreflight() bool {
	return r.req.Method == http.MethodOptions && r.req.Headers.Get("access-control-request-method") != "" &&
		r.req.Origin != nil && r.req.Origin.S3 != nil
}

// refresh sends the browser through the refresh path with the full requested
// URI, signed so the refresh endpoint is no open redirector. SignReturn is
// the one check of the return path; one it refuses becomes "/".
func (r *request) refresh(ctx context.Context, jar edge.Cookies, id *verifier.Identity) edge.Result {
	ret, err := r.h.sessions.SignReturn(r.req.PathAndQuery())
	if errors.Is(err, session.ErrBadReturn) {
		ret, err = r.h.sessions.SignReturn("/")
	}
	if err != nil {
		r.logAt(ctx, slog.LevelError, "sign return path", slog.Any("err", err))
		return r.login(ctx, jar, "session expired; return path unsignable", true)
	}
	r.logDecision(ctx, "refresh", "session expired", id)
	return edge.Respond(edge.Redirect(r.h.cfg.Paths.RefreshAuth+"?return="+url.QueryEscape(ret), r.h.cfg.Secure()))
}

// login starts a sign-in attempt: PKCE verifier, nonce and return path go
// into a login-state cookie named after the attempt, whose id is the state.
// NewLogin is the one check of the return path (the requested path and
// query); one it refuses becomes "/".
func (r *request) login(ctx context.Context, jar edge.Cookies, reason string, clearSession bool) edge.Result {
	ls := session.LoginState{Nonce: idp.NewNonce(), Verifier: idp.NewVerifier(), ReturnTo: r.req.PathAndQuery(), Created: r.h.now()}
	attempt, cookies, err := r.h.sessions.NewLogin(jar, ls)
	if errors.Is(err, session.ErrBadReturn) {
		ls.ReturnTo = "/"
		attempt, cookies, err = r.h.sessions.NewLogin(jar, ls)
	}
	if err != nil {
		r.logAt(ctx, slog.LevelError, "start login", slog.Any("err", err))
		return edge.Respond(r.h.pages.Response(http.StatusInternalServerError, page.Page{
			Kind: page.Error, Title: "Sign-in could not start",
			Message: "Something went wrong on our side. Please try again.", RequestID: r.rid, Link: "/", LinkText: "Try again",
		}))
	}
	origin := r.h.cfg.PublicOrigin(r.dist.DistributionDomainName, r.req.ViewerHosts()...)
	to := r.h.idp.AuthorizeURL(origin+r.h.cfg.Paths.ParseAuth, attempt, ls.Nonce, ls.Verifier)
	resp := edge.Redirect(to, r.h.cfg.Secure()).SetCookies(cookies...)
	if clearSession {
		resp.SetCookie(r.h.sessions.ExpireSession())
	}
	r.logDecision(ctx, "login", reason, nil)
	return edge.Respond(resp)
}

// accountName is how the 403 page names who is signed in: the email, else
// the username; the page escapes it.
func accountName(id *verifier.Identity) string {
	if id.Email != "" {
		return id.Email
	}
	return id.Username
}

func badRequest(rid string) page.Page {
	return page.Page{
		Kind: page.Error, Title: "Bad request",
		Message: "The address of this request is not valid.", RequestID: rid, Link: "/", LinkText: "Go to the home page",
	}
}

// tokenErrorText is the error_description sent to the client: a fixed phrase
// per class, so nothing of the token or the library's text leaks.
func tokenErrorText(err error) string {
	if errors.Is(err, verifier.ErrExpired) {
		return "the access token expired"
	}
	return "the access token is invalid"
}
