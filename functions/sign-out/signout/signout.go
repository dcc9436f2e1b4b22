// Package signout is the sign-out function: it expires every cookie the
// suite sets, tells the browser to drop what it cached of the site,
// revokes the refresh token at the IdP, and sends the browser through the
// IdP's logout endpoint to the signed-out page.
//
// The signed-out page is served here, at paths.afterSignOut, which defaults
// to the sign-out path itself: a browser arriving without credentials (back
// from the IdP's logout, or a second visit) gets the page, and one arriving
// with them is signed out, so the page needs no session and cannot loop.
//
// Sign-out is a deliberate act: a request another site started (a link or a
// form on another site) does not sign anyone out, it gets a page asking to
// confirm, whose button is a plain link back to the sign-out path. That
// request comes from this site's own page and so signs out; a cross-site
// request for it is judged again and gets the same question. No token is
// needed, so nothing can be stolen to forge the button: the browser's own
// Sec-Fetch-Site, which pages cannot set, decides (see crossSite).
package signout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/page"
	"github.com/edgeauth/edgeauth/shared/session"
)

// ClearSiteData is the Clear-Site-Data value of every answer that signs
// out: the browser drops its HTTP cache for the site, so the pages the user
// saw cannot be read back from it by the next person at the same browser.
// Cookies are expired by name instead ("cookies" would also take the
// site's own cookies, which are not the suite's to delete).
const ClearSiteData = `"cache"`

// Handler is sign-out, built once per cold start.
type Handler struct {
	cfg      *config.Config
	sessions *session.Store
	idp      *idp.Provider
	pages    *page.Renderer
	log      *slog.Logger
}

// New builds sign-out; every part validates now.
func New(d lambdafn.Deps) (*Handler, error) {
	d = d.WithDefaults()
	parts, err := lambdafn.NewParts(d)
	if err != nil {
		return nil, fmt.Errorf("signout: %w", err)
	}
	c := d.Config
	return &Handler{cfg: c, sessions: parts.Sessions, idp: parts.IdP, pages: parts.Pages, log: d.Logger}, nil
}

// Handle signs the browser out.
func (h *Handler) Handle(ctx context.Context, ev edge.Event) (edge.Result, error) {
	req, dist, err := ev.Request()
	if err != nil {
		h.log.WarnContext(ctx, "decision", "decision", "reject", "reason", "no request in event")
		return edge.Respond(h.pages.Response(http.StatusBadRequest, page.Page{Kind: page.Error, Title: "Bad request",
			Message: "This request could not be read.", Link: "/", LinkText: "Go to the home page"})), nil
	}
	rid := lambdafn.RequestID(ctx, dist)
	log := h.log.With("request_id", rid, "path", lambdafn.Excerpt(req.Path()))
	path, _ := authz.CanonicalPath(req.Path())
	origin := h.cfg.PublicOrigin(dist.DistributionDomainName, req.ViewerHosts()...)
	cross := h.crossSite(req, origin)
	// The page is here when afterSignOut is this path, or the path the
	// browser asked for: redirecting there would come back here.
	pageHere := h.cfg.Paths.AfterSignOut == h.cfg.Paths.SignOut || path == h.cfg.Paths.AfterSignOut

	jar := req.Cookies()
	_, serr := h.sessions.Session(jar)
	refresh, rerr := h.sessions.Refresh(jar)
	signedIn := serr == nil || errors.Is(serr, session.ErrExpired) || rerr == nil

	switch {
	case !signedIn && cross:
		// Nothing to sign out, and another site asked: change nothing.
		// This is also the IdP sending the browser back after its logout.
		log.InfoContext(ctx, "decision", "decision", "signed-out-page", "reason", "not signed in (cross-site)")
		return edge.Respond(h.end(pageHere, rid, origin)), nil
	case !signedIn:
		// Leftovers (an index, an unreadable cookie) go, and so does the
		// cache: the session may have ended without a sign-out.
		if pageHere {
			log.InfoContext(ctx, "decision", "decision", "signed-out-page", "reason", "not signed in")
		} else {
			log.InfoContext(ctx, "decision", "decision", "signed-out", "reason", "already signed out")
		}
		return edge.Respond(clearSite(h.end(pageHere, rid, origin).SetCookies(h.sessions.ExpireAll(jar)...))), nil
	case cross:
		log.InfoContext(ctx, "decision", "decision", "confirm", "reason", "cross-site request")
		return edge.Respond(h.confirmPage(rid, origin)), nil
	}

	expire := h.sessions.ExpireAll(jar)
	revoked := "no refresh token"
	if rerr == nil {
		revoked = h.revoke(ctx, log, refresh.RefreshToken)
	}
	log.InfoContext(ctx, "decision", "decision", "signed-out", "reason", "cookies expired", "revocation", revoked)
	if to := h.idp.LogoutURL(origin+h.cfg.Paths.AfterSignOut, refresh.IDToken); to != "" {
		return edge.Respond(clearSite(edge.Redirect(to, h.cfg.Secure()).SetCookies(expire...))), nil
	}
	// No IdP logout: the page at once when it is here, one round trip fewer.
	return edge.Respond(clearSite(h.end(pageHere, rid, origin).SetCookies(expire...))), nil
}

// end is where sign-out leaves the browser: the signed-out page when it is
// served here (pageHere), else a redirect to paths.afterSignOut.
func (h *Handler) end(pageHere bool, rid, origin string) *edge.Response {
	if pageHere {
		return h.signedOutPage(rid, origin)
	}
	return edge.Redirect(h.cfg.Paths.AfterSignOut, h.cfg.Secure())
}

func clearSite(r *edge.Response) *edge.Response {
	r.Headers.Set("Clear-Site-Data", ClearSiteData)
	return r
}

// siteName is how the pages name the site: the configured name, else the
// host the browser is on.
func (h *Handler) siteName(origin string) string {
	if h.cfg.Pages.SiteName != "" {
		return h.cfg.Pages.SiteName
	}
	_, host, _ := strings.Cut(origin, "://")
	return host
}

func (h *Handler) signedOutPage(rid, origin string) *edge.Response {
	return h.pages.Response(http.StatusOK, page.Page{
		Kind: page.SignedOut, Title: "You are signed out",
		Message: "You are signed out of " + h.siteName(origin) + ".", RequestID: rid,
		Link: "/", LinkText: "Sign in again",
	})
}

// confirmPage asks before signing out. Its button is a plain link to the
// sign-out path: from this page it is a same-origin request, which signs
// out; another site's request for it gets this page again.
func (h *Handler) confirmPage(rid, origin string) *edge.Response {
	site := h.siteName(origin)
	return h.pages.Response(http.StatusOK, page.Page{
		Kind: page.SignedOut, Title: "Sign out of " + site + "?",
		Message:   "Another site sent you here to sign you out of " + site + ". Nothing has changed yet: sign out only if you meant to.",
		RequestID: rid,
		Link:      h.cfg.Paths.SignOut, LinkText: "Sign out",
		AltLink: "/", AltLinkText: "Stay signed in",
	})
}

// crossSite reports whether another site started the request, from what
// the browser says and a page cannot forge. Sec-Fetch-Site, which every
// current browser sends, decides when present: "cross-site" is another
// site; "same-origin", "same-site" (another host of the same site) and
// "none" (typed, bookmarked, opened from outside a page) are not. Without
// it (older browsers) an Origin, then a Referer, that is not one of this
// distribution's origins is another site. With none of them it is a
// direct navigation, as before: a browser that sends no Sec-Fetch-Site
// and a page that suppresses its Referer cannot be told apart from a typed
// address, and signing out is what a typed address asks for.
func (h *Handler) crossSite(req *edge.Request, origin string) bool {
	switch req.Headers.Get("sec-fetch-site") {
	case "cross-site":
		return true
	case "same-origin", "same-site", "none":
		return false
	}
	if o := req.Headers.Get("origin"); o != "" {
		return !h.ours(o, origin)
	}
	if ref := req.Headers.Get("referer"); ref != "" {
		return !h.ours(ref, origin)
	}
	return false
}

// ours reports whether raw (an Origin or Referer) is on one of this
// distribution's origins: the one the browser is on, or any configured
// host, with the configured scheme. "null" and anything unparsable are not.
func (h *Handler) ours(raw, origin string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	got := strings.ToLower(u.Scheme + "://" + u.Host)
	if got == strings.ToLower(origin) {
		return true
	}
	for _, host := range h.cfg.Hosts {
		if got == strings.ToLower(h.cfg.Scheme+"://"+host) {
			return true
		}
	}
	return false
}

// revoke asks the IdP to revoke the refresh token. A failure is logged and
// does not block sign-out: the cookies go either way.
func (h *Handler) revoke(ctx context.Context, log *slog.Logger, token string) string {
	ctx, cancel := lambdafn.Budget(ctx)
	defer cancel()
	start := time.Now()
	err := h.idp.Revoke(ctx, token)
	switch {
	case err == nil:
		return "revoked"
	case errors.Is(err, idp.ErrNoRevocation):
		return "provider has no revocation endpoint"
	}
	log.WarnContext(ctx, "revoke refresh token failed", "err", err, "duration_ms", time.Since(start).Milliseconds())
	return "failed"
}
