package dex

// Dex has no RFC 7009 revocation endpoint. For the demo and the end-to-end
// tests the harness serves one itself, on loopback, built on two things Dex
// does have: its token introspection endpoint (RFC 7662), which tells a
// refresh token's client and subject, and its gRPC admin API, whose
// RevokeRefresh deletes the refresh token of a (subject, client) pair. This
// endpoint belongs to the harness, not to Dex, and is for the demo only: a
// production IdP must revoke tokens itself.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dexidp/dex/api/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	// maxRevokeBody bounds a revocation request's form.
	maxRevokeBody = 64 << 10
	// revokeTimeout bounds the introspection and gRPC calls of one request.
	revokeTimeout = 5 * time.Second
	// revocationPath is where the harness serves the endpoint.
	revocationPath = "/revoke"
)

// tokenInfo is the part of Dex's introspection answer the endpoint uses.
type tokenInfo struct {
	Active   bool   `json:"active"`
	ClientID string `json:"client_id"`
	Subject  string `json:"sub"`
	TokenUse string `json:"token_use"` // "refresh_token" or "access_token"
}

// revocationHandler is the RFC 7009 endpoint for one confidential client.
// introspect and revoke are Dex's; tests give fakes.
type revocationHandler struct {
	clientID, clientSecret string
	// introspect asks Dex about a token; an error means Dex did not answer.
	introspect func(ctx context.Context, token string) (tokenInfo, error)
	// revoke deletes the client's refresh token of subject sub.
	revoke func(ctx context.Context, sub string) error
	log    *slog.Logger
}

// oauthError is an error response of RFC 6749 §5.2 / RFC 7009 §2.2.1.
type oauthError struct {
	status         int
	code, desc     string
	retryAfter     bool // 503: the client should retry
	basicChallenge bool // 401: ask for HTTP Basic
}

func (h *revocationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	outcome, oerr := h.serve(r)
	if oerr != nil {
		h.log.Debug("revocation endpoint", "outcome", oerr.code, "status", oerr.status)
		writeOAuthError(w, oerr)
		return
	}
	h.log.Debug("revocation endpoint", "outcome", outcome, "status", http.StatusOK)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// serve checks the request, authenticates the client, and revokes. It
// returns what happened for the debug log, or the error response.
func (h *revocationHandler) serve(r *http.Request) (string, *oauthError) {
	if r.Method != http.MethodPost {
		return "", &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "use POST"}
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		return "", &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "the body must be application/x-www-form-urlencoded"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRevokeBody+1))
	if err != nil {
		return "", &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "the body could not be read"}
	}
	if len(body) > maxRevokeBody {
		return "", &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "the body is too large"}
	}
	// Parameters count only in the body (RFC 6749 §2.3.1, RFC 7009 §2.1).
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "the body is not a valid form"}
	}
	for _, k := range []string{"token", "token_type_hint", "client_id", "client_secret"} {
		if len(form[k]) > 1 { // RFC 6749 §3.1
			return "", &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "parameter " + k + " is repeated"}
		}
	}
	if oerr := h.authenticate(r, form); oerr != nil {
		return "", oerr
	}
	token := form.Get("token")
	if token == "" {
		return "", &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "token is required"}
	}
	// token_type_hint is optional and never changes the answer (RFC 7009
	// §2.1): Dex's introspection tells the token's type itself.

	ctx, cancel := context.WithTimeout(r.Context(), revokeTimeout)
	defer cancel()
	info, err := h.introspect(ctx, token)
	if err != nil {
		h.log.Warn("revocation endpoint: introspection at dex failed", "err", err)
		return "", &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", desc: "the provider did not answer", retryAfter: true}
	}
	switch {
	case !info.Active:
		// Unknown, expired or already revoked: nothing to do (RFC 7009 §2.2).
		return "inactive token", nil
	case info.TokenUse != "refresh_token":
		// Dex's access tokens are self-contained JWTs it cannot revoke.
		return "", &oauthError{status: http.StatusBadRequest, code: "unsupported_token_type", desc: "only refresh tokens can be revoked"}
	case info.ClientID != h.clientID:
		// RFC 7009 §2.1: a token issued to another client is refused.
		return "", &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: "the token was issued to another client"}
	}
	if err := h.revoke(ctx, info.Subject); err != nil {
		h.log.Warn("revocation endpoint: dex RevokeRefresh failed", "err", err)
		return "", &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", desc: "the provider did not revoke the token", retryAfter: true}
	}
	return "revoked", nil
}

// authenticate checks the client's credentials as at the token endpoint
// (RFC 6749 §2.3.1): HTTP Basic with the form-encoded id and secret, or
// client_id and client_secret in the body; never both.
func (h *revocationHandler) authenticate(r *http.Request, form url.Values) *oauthError {
	unauthorized := &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: "client authentication failed", basicChallenge: true}
	_, bodySecret := form["client_secret"]
	var id, secret string
	user, pass, basic := r.BasicAuth()
	switch {
	case basic:
		if bodySecret {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "more than one client authentication method"}
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return unauthorized
		}
		if bodyID := form.Get("client_id"); bodyID != "" && bodyID != id {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: "client_id differs from the authenticated client"}
		}
	case r.Header.Get("Authorization") != "":
		// Another scheme, or Basic that does not decode.
		return unauthorized
	default:
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" || secret == "" {
		return unauthorized
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(h.clientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(h.clientSecret)) == 1
	if !idOK || !secretOK {
		return unauthorized
	}
	return nil
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	if e.status == http.StatusMethodNotAllowed {
		hd.Set("Allow", http.MethodPost)
	}
	if e.basicChallenge {
		hd.Set("WWW-Authenticate", `Basic realm="edgeauth-dex"`)
	}
	if e.retryAfter {
		hd.Set("Retry-After", "1")
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.code, "error_description": e.desc})
}

// startAdmin connects to Dex's gRPC API at grpcAddr and starts the
// revocation endpoint on a free port of Dex's loopback address.
func (s *Server) startAdmin(grpcAddr string) error {
	conn, err := grpc.NewClient("passthrough:///"+grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dex: grpc client: %w", err)
	}
	s.grpcConn, s.api = conn, api.NewDexClient(conn)

	host, _, err := net.SplitHostPort(grpcAddr)
	if err != nil {
		return fmt.Errorf("dex: grpc addr: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return fmt.Errorf("dex: revocation endpoint: %w", err)
	}
	h := &revocationHandler{
		clientID:     s.ClientID,
		clientSecret: s.ClientSecret,
		introspect:   s.introspect,
		revoke:       s.revokeRefresh,
		log:          s.log.With("component", "dex-revocation"),
	}
	mux := http.NewServeMux()
	mux.Handle(revocationPath, h)
	s.revokeSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.revokeDone = make(chan struct{})
	go func() {
		defer close(s.revokeDone)
		_ = s.revokeSrv.Serve(ln) // ErrServerClosed after Close
	}()
	s.disc.RevocationEndpoint = "http://" + ln.Addr().String() + revocationPath
	return nil
}

// RevocationEndpoint is the harness's RFC 7009 endpoint for Dex's client,
// which [Server.SuiteConfig] writes as oidc.revocationEndpoint. It is served
// by this package on Dex's admin API, not by Dex; see the package comment.
func (s *Server) RevocationEndpoint() string { return s.disc.RevocationEndpoint }

// introspect asks Dex's RFC 7662 endpoint about token. Dex needs no client
// authentication there. Errors never carry the token.
func (s *Server) introspect(ctx context.Context, token string) (tokenInfo, error) {
	endpoint := s.disc.IntrospectionEndpoint
	if endpoint == "" {
		endpoint = s.Issuer + "/token/introspect"
	}
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenInfo{}, fmt.Errorf("dex: introspect: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return tokenInfo{}, fmt.Errorf("dex: introspect: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return tokenInfo{}, fmt.Errorf("dex: introspect: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return tokenInfo{}, fmt.Errorf("dex: introspect: %s", resp.Status)
	}
	var info tokenInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return tokenInfo{}, fmt.Errorf("dex: introspect: %w", err)
	}
	if info.Active && (info.Subject == "" || info.ClientID == "") {
		return tokenInfo{}, errors.New("dex: introspect: active token without sub or client_id")
	}
	return info, nil
}

// revokeRefresh deletes the client's refresh token of subject sub through
// Dex's gRPC API. A token already gone is not an error.
func (s *Server) revokeRefresh(ctx context.Context, sub string) error {
	if _, err := s.api.RevokeRefresh(ctx, &api.RevokeRefreshReq{UserId: sub, ClientId: s.ClientID}); err != nil {
		return fmt.Errorf("dex: grpc RevokeRefresh: %w", err)
	}
	return nil
}

// RefreshTokens counts the refresh tokens Dex holds for the client and the
// user with ID token subject sub (see [User.Subject]), through Dex's gRPC
// ListRefresh. Dex keeps at most one per user and client, so the answer is 0
// or 1. For tests.
func (s *Server) RefreshTokens(ctx context.Context, sub string) (int, error) {
	resp, err := s.api.ListRefresh(ctx, &api.ListRefreshReq{UserId: sub})
	if err != nil {
		return 0, fmt.Errorf("dex: grpc ListRefresh: %w", err)
	}
	n := 0
	for _, t := range resp.GetRefreshTokens() {
		if t.GetClientId() == s.ClientID {
			n++
		}
	}
	return n, nil
}

// closeAdmin stops the revocation endpoint and the gRPC connection.
func (s *Server) closeAdmin() error {
	var errs []error
	if s.revokeSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.revokeSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("dex: revocation endpoint: %w", err))
			_ = s.revokeSrv.Close()
		}
		cancel()
		<-s.revokeDone
	}
	if s.grpcConn != nil {
		if err := s.grpcConn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dex: grpc: %w", err))
		}
	}
	return errors.Join(errs...)
}
