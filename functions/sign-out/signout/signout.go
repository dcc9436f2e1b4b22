// Package signout is the sign-out function: it expires every cookie the
// suite sets, revokes the refresh token at the IdP, and sends the browser
// through the IdP's logout endpoint.
package signout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/page"
	"github.com/edgeauth/edgeauth/shared/session"
)

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
	secure := h.cfg.Secure()
	path, _ := authz.CanonicalPath(req.Path())

	jar := req.Cookies()
	_, serr := h.sessions.Session(jar)
	refresh, rerr := h.sessions.Refresh(jar)
	signedIn := serr == nil || errors.Is(serr, session.ErrExpired) || rerr == nil
	expire := h.sessions.ExpireAll(jar)

	if !signedIn {
		if path == h.cfg.Paths.AfterSignOut || h.cfg.Paths.AfterSignOut == h.cfg.Paths.SignOut {
			// The after-sign-out page is served here: redirecting would loop.
			log.InfoContext(ctx, "decision", "decision", "signed-out-page", "reason", "not signed in")
			return edge.Respond(h.pages.Response(http.StatusOK, page.Page{
				Kind: page.SignedOut, Title: "You are signed out",
				Message: "You have been signed out of this site.", RequestID: rid, Link: "/", LinkText: "Sign in again",
			}).SetCookies(expire...)), nil
		}
		log.InfoContext(ctx, "decision", "decision", "signed-out", "reason", "already signed out")
		return edge.Respond(edge.Redirect(h.cfg.Paths.AfterSignOut, secure).SetCookies(expire...)), nil
	}

	revoked := "no refresh token"
	if rerr == nil {
		revoked = h.revoke(ctx, log, refresh.RefreshToken)
	}
	origin := h.cfg.PublicOrigin(dist.DistributionDomainName, req.ViewerHosts()...)
	to := h.idp.LogoutURL(origin+h.cfg.Paths.AfterSignOut, refresh.IDToken)
	if to == "" {
		to = h.cfg.Paths.AfterSignOut
	}
	log.InfoContext(ctx, "decision", "decision", "signed-out", "reason", "cookies expired", "revocation", revoked)
	return edge.Respond(edge.Redirect(to, secure).SetCookies(expire...)), nil
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
