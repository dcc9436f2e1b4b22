// Package dex runs a real Dex OpenID Connect provider on loopback for the
// suite's local runs and end-to-end tests: static demo users with groups, one
// confidential client, memory storage, no approval screen. It also knows
// Dex's quirks the suite must live with: the sub claim is an encoded
// (user id, connector id) pair, and discovery lists no revocation or
// end-session endpoint.
//
// Because Dex cannot revoke a refresh token over HTTP, the harness serves an
// RFC 7009 revocation endpoint of its own on loopback (see
// [Server.RevocationEndpoint]), implemented on Dex's introspection endpoint
// and its gRPC admin API, which Start enables on a loopback port without TLS
// or authentication. Both are for the demo and tests only.
package dex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dexidp/dex/api/v2"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"

	"github.com/edgeauth/edgeauth/internal/idpproc"
)

// ErrExited means Dex stopped before it became ready.
var ErrExited = errors.New("dex: process exited")

// Options configure [Start]. The zero value of every field has a default,
// except RedirectURIs.
type Options struct {
	// Binary is the dex executable. Default: <module root>/bin/dex, built
	// from tools/ when missing (see [Build]).
	Binary string
	// Addr is where Dex listens; "127.0.0.1:0" (the default) picks a free
	// port. Only loopback addresses are accepted.
	Addr string
	// ClientID defaults to "edgeauth"; ClientSecret to a fresh random value.
	ClientID, ClientSecret string
	// RedirectURIs are the client's allowed redirect URIs, e.g.
	// http://localhost:8080/parseauth. At least one is required.
	RedirectURIs []string
	// Users default to [DemoUsers].
	Users []User
	// IDTokenTTL is the ID (and access) token lifetime; default 1h.
	IDTokenTTL time.Duration
	// HTTPClient fetches discovery and the JWKS; default: 10s timeout.
	HTTPClient *http.Client
	// Logger receives Dex's output, one record per line at debug level.
	// Default: discard.
	Logger *slog.Logger
}

// Discovery is the part of Dex's OpenID configuration the suite uses.
type Discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	// Dex v2.45.1 publishes neither of these: [Server.Discovery] leaves
	// them empty. The copy Start keeps for [Server.SuiteConfig] carries the
	// harness's own revocation endpoint (see [Server.RevocationEndpoint]).
	RevocationEndpoint string `json:"revocation_endpoint,omitempty"`
	EndSessionEndpoint string `json:"end_session_endpoint,omitempty"`
	// IntrospectionEndpoint (RFC 7662) is what the harness's revocation
	// endpoint asks about a token's client and subject.
	IntrospectionEndpoint         string   `json:"introspection_endpoint,omitempty"`
	ScopesSupported               []string `json:"scopes_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
}

// Server is a running Dex. Close it.
type Server struct {
	// Issuer is http://127.0.0.1:PORT/dex.
	Issuer string
	// ClientID and ClientSecret are the one static client's credentials.
	ClientID, ClientSecret string
	RedirectURIs           []string
	// Users are the static users Dex was started with.
	Users []User

	disc   Discovery
	jwks   []byte
	client *http.Client
	log    *slog.Logger

	cmd     *exec.Cmd
	dir     string
	exited  chan struct{} // closed once cmd.Wait returns
	waitErr error         // valid after exited is closed
	out     *idpproc.LineLogger

	// Dex's gRPC admin API and the revocation endpoint built on it.
	grpcConn   *grpc.ClientConn
	api        api.DexClient
	revokeSrv  *http.Server
	revokeDone chan struct{} // closed once revokeSrv.Serve returns

	closeOnce sync.Once
	closeErr  error
}

// Start writes a Dex config for o, starts Dex and waits until its discovery
// document and a non-empty JWKS are served. ctx bounds the start only (30s
// when it has no deadline); the server runs until Close.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if _, hasDeadline := ctx.Deadline(); !hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	if o.Binary == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, err
		}
		if o.Binary, err = Build(ctx, root); err != nil {
			return nil, err
		}
	}
	passwords, err := staticPasswords(o.Users)
	if err != nil {
		return nil, err
	}
	// A free port can be taken between probing and Dex's bind; the gRPC
	// port is always picked, so retry a few times rather than fail a test
	// run.
	const attempts = 3
	for i := 1; ; i++ {
		s, err := start(ctx, o, passwords)
		if err == nil || i == attempts || !errors.Is(err, ErrExited) || ctx.Err() != nil {
			return s, err
		}
	}
}

func (o *Options) defaults() error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if err := idpproc.CheckAddr(o.Addr); err != nil {
		return fmt.Errorf("dex: addr %q: %w", o.Addr, err)
	}
	if o.ClientID == "" {
		o.ClientID = "edgeauth"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = idpproc.RandomString(24)
	}
	if len(o.RedirectURIs) == 0 {
		return errors.New("dex: at least one redirect URI is required")
	}
	for _, r := range o.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("dex: redirect URI %q: must be an absolute http(s) URL", r)
		}
	}
	if o.Users == nil {
		o.Users = DemoUsers()
	}
	seen := map[string]bool{}
	for i, u := range o.Users {
		if u.Email == "" || u.Password == "" || u.UserID == "" {
			return fmt.Errorf("dex: users[%d]: email, password and user id are required", i)
		}
		if seen[strings.ToLower(u.Email)] {
			return fmt.Errorf("dex: users[%d]: duplicate email %q", i, u.Email)
		}
		seen[strings.ToLower(u.Email)] = true
	}
	if o.IDTokenTTL == 0 {
		o.IDTokenTTL = time.Hour
	}
	if o.IDTokenTTL < time.Second {
		return fmt.Errorf("dex: id token ttl %s: must be at least 1s", o.IDTokenTTL)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// staticPassword is Dex's staticPasswords entry.
type staticPassword struct {
	Email         string   `json:"email"`
	Hash          string   `json:"hash"`
	Username      string   `json:"username"`
	UserID        string   `json:"userID"`
	EmailVerified bool     `json:"emailVerified"`
	Groups        []string `json:"groups,omitempty"`
}

func staticPasswords(users []User) ([]staticPassword, error) {
	out := make([]staticPassword, 0, len(users))
	for _, u := range users {
		// Dex refuses to log in users whose hash costs less than the default.
		h, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost)
		if err != nil {
			return nil, fmt.Errorf("dex: hash password of %s: %w", u.Email, err)
		}
		name := u.Username
		if name == "" {
			name = u.Email
		}
		out = append(out, staticPassword{
			Email: u.Email, Hash: string(h), Username: name, UserID: u.UserID,
			EmailVerified: true, Groups: u.Groups,
		})
	}
	return out, nil
}

func start(ctx context.Context, o Options, passwords []staticPassword) (*Server, error) {
	addr, err := resolveAddr(o.Addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr) // checked by defaults
	grpcAddr, err := resolveAddr(net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	s := &Server{
		Issuer:       "http://" + addr + "/dex",
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		RedirectURIs: o.RedirectURIs,
		Users:        o.Users,
		client:       o.HTTPClient,
		log:          o.Logger,
		exited:       make(chan struct{}),
	}
	s.dir, err = os.MkdirTemp("", "edgeauth-dex-*")
	if err != nil {
		return nil, fmt.Errorf("dex: %w", err)
	}
	cfgPath := filepath.Join(s.dir, "config.yaml")
	if err := os.WriteFile(cfgPath, dexConfig(s.Issuer, addr, grpcAddr, o, passwords), 0o600); err != nil {
		_ = os.RemoveAll(s.dir)
		return nil, fmt.Errorf("dex: write config: %w", err)
	}

	s.out = &idpproc.LineLogger{Log: o.Logger, Source: "dex", Keep: 1}
	s.cmd = exec.Command(o.Binary, "serve", cfgPath)
	s.cmd.Dir = s.dir
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.cmd.SysProcAttr = idpproc.ProcAttr()
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(s.dir)
		return nil, fmt.Errorf("dex: start %s: %w", o.Binary, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := s.startAdmin(grpcAddr); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.log.Debug("dex ready", "issuer", s.Issuer)
	return s, nil
}

// resolveAddr turns a ":0" port into a concrete free one, because the
// issuer URL written into the config must name the port.
func resolveAddr(addr string) (string, error) {
	if !strings.HasSuffix(addr, ":0") {
		return addr, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dex: pick a port: %w", err)
	}
	picked := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("dex: pick a port: %w", err)
	}
	return picked, nil
}

func dexConfig(issuer, addr, grpcAddr string, o Options, passwords []staticPassword) []byte {
	type obj = map[string]any
	cfg := obj{
		"issuer":  issuer,
		"storage": obj{"type": "memory"},
		"web":     obj{"http": addr},
		// The admin API, for the harness's revocation endpoint: loopback,
		// no TLS, no authentication. Demo and tests only.
		"grpc":   obj{"addr": grpcAddr},
		"logger": obj{"level": "info", "format": "text"},
		"oauth2": obj{
			"skipApprovalScreen": true,
			"responseTypes":      []string{"code"},
		},
		"expiry": obj{
			"idTokens":     o.IDTokenTTL.String(),
			"authRequests": "10m",
			"refreshTokens": obj{
				"validIfNotUsedFor": "24h",
				"absoluteLifetime":  "168h",
				"reuseInterval":     "3s",
			},
		},
		"signer": obj{"type": "local", "config": obj{"keysRotationPeriod": "6h"}},
		"staticClients": []obj{{
			"id":           o.ClientID,
			"secret":       o.ClientSecret,
			"name":         "edgeauth",
			"redirectURIs": o.RedirectURIs,
		}},
		"enablePasswordDB": true,
		"staticPasswords":  passwords,
	}
	// JSON is YAML: Dex reads it as is. Marshal cannot fail on these types.
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return b
}

// waitReady polls discovery and the JWKS until both answer, Dex exits, or
// ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		disc, err := s.Discovery(ctx)
		if err == nil {
			var jwks []byte
			if jwks, err = s.JWKS(ctx); err == nil {
				s.disc, s.jwks = *disc, jwks
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%w before it was ready (%v): %s", ErrExited, s.waitErr, s.out.Last())
		case <-ctx.Done():
			return fmt.Errorf("dex: not ready at %s: %w (last error: %w)", s.Issuer, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// Discovery fetches the OpenID configuration.
func (s *Server) Discovery(ctx context.Context) (*Discovery, error) {
	b, err := s.get(ctx, s.Issuer+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	var d Discovery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("dex: discovery: %w", err)
	}
	if d.Issuer != s.Issuer || d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" || d.JWKSURI == "" {
		return nil, fmt.Errorf("dex: discovery: issuer %q or an endpoint is not what Dex should serve", d.Issuer)
	}
	return &d, nil
}

// JWKS fetches Dex's public key set; it fails while the set is empty.
func (s *Server) JWKS(ctx context.Context) ([]byte, error) {
	b, err := s.get(ctx, s.Issuer+"/keys")
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("dex: jwks: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("dex: jwks: no keys yet")
	}
	return b, nil
}

func (s *Server) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("dex: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dex: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("dex: read %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("dex: GET %s: %s", u, resp.Status)
	}
	return b, nil
}

// Close stops the revocation endpoint, then Dex (SIGTERM, then SIGKILL
// after 5s), waits for it to exit and removes its config. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		adminErr := s.closeAdmin()
		idpproc.Stop(s.cmd.Process, s.exited, 5*time.Second)
		s.closeErr = errors.Join(adminErr, os.RemoveAll(s.dir))
	})
	return s.closeErr
}
