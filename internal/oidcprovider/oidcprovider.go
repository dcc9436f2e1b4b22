// Package oidcprovider runs panva's oidc-provider (npm "oidc-provider",
// OpenID Certified), pinned at [Version], on loopback for the suite's tests
// and demo: the counterpart of internal/dex for what Dex cannot show.
//
// As configured here it has a confidential client (client_secret_basic) and
// a public client (PKCE, no secret); PKCE with S256 required of both;
// refresh tokens (offline_access, which oidc-provider grants only with
// prompt=consent, per OIDC Core 11) rotated on every use; RFC 7009
// revocation; RFC 7662 introspection; RP-initiated logout; RFC 8707
// resource indicators, which yield JWT access tokens (typ at+jwt, aud = the
// resource) while a token without a resource is opaque; an RS256 and an
// ES256 key in the JWKS, either chosen per test for ID and access tokens;
// and the users' groups as a nested claim, realm_access.roles, as Keycloak
// puts them.
//
// Node.js runs js/server.mjs (embedded) with a JSON config the harness
// writes. oidc-provider itself is installed once per lockfile by `npm ci`
// into a git-ignored cache folder (see [Install]).
package oidcprovider

import (
	"bytes"
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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/idpproc"
)

// ErrExited means node stopped before the provider was ready.
var ErrExited = errors.New("oidcprovider: process exited")

// Signing algorithms for [Options.IDTokenAlg] and [Options.AccessTokenAlg]:
// the JWKS holds one key of each.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// DefaultResource is the API the default [Options.Resources] names.
const DefaultResource = "https://api.example.test"

// Resource is an API (an RFC 8707 resource indicator) tokens can be asked for.
type Resource struct {
	// URL is the resource indicator, and the access tokens' aud.
	URL string
	// Scopes are the API's own scopes, e.g. "api:read". An access token for
	// the resource carries only those of them the client asked for.
	Scopes []string
	// Opaque issues opaque access tokens for the resource (checked by
	// introspection, which then reports aud) instead of JWTs.
	Opaque bool
}

// Client is one OAuth client registered at the provider.
type Client struct {
	ID string
	// Secret is empty for the public client, which authenticates with
	// client_id alone (token_endpoint_auth_method none).
	Secret                 string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
}

// IsPublic reports whether c has no secret.
func (c Client) IsPublic() bool { return c.Secret == "" }

// Options configure [Start]. The zero value of every field has a default,
// except RedirectURIs.
type Options struct {
	// Node is the node executable; default: node from PATH.
	Node string
	// NPM is the npm executable, used only to install; default: npm from PATH.
	NPM string
	// CacheDir holds the installs; default: [DefaultCacheDir] of the module root.
	CacheDir string
	// Addr is where the provider listens; "127.0.0.1:0" (the default) lets
	// node pick a free port. Only loopback addresses are accepted.
	Addr string

	// ClientID and ClientSecret are the confidential client's; defaults
	// "edgeauth" and a fresh random secret.
	ClientID, ClientSecret string
	// PublicClientID is the public client's id; default "edgeauth-public".
	PublicClientID string
	// RedirectURIs are both clients' redirect URIs, e.g.
	// http://localhost:8080/parseauth. At least one is required.
	RedirectURIs []string
	// PostLogoutRedirectURIs are both clients' post_logout_redirect_uris;
	// default: the origin of each redirect URI with path "/".
	PostLogoutRedirectURIs []string

	// Users default to [DemoUsers].
	Users []User
	// Resources default to [DefaultResource] with scope "api:read".
	Resources []Resource

	// IDTokenAlg signs ID tokens, AccessTokenAlg JWT access tokens:
	// [RS256] (the default) or [ES256].
	IDTokenAlg, AccessTokenAlg string
	// Lifetimes: ID token and access token default to 1h, refresh token
	// (and the provider's session and grant) to 24h.
	IDTokenTTL, AccessTokenTTL, RefreshTokenTTL time.Duration

	// ClaimsOnlyAtUserinfo keeps oidc-provider's spec-strict default
	// (conformIdTokenClaims): when the access token is good for userinfo
	// (no resource requested), the ID token carries sub but not the claims
	// of email, profile or groups, which then come only from userinfo. By
	// default the ID token carries them.
	ClaimsOnlyAtUserinfo bool
	// UseGrantedResource lets a token request without a resource parameter
	// get the access token for the resource granted at authorization. By
	// default, as oidc-provider ships, such a request (a code exchange or a
	// refresh) gets an opaque userinfo token, and a client wanting the JWT
	// must send resource at the token endpoint too (RFC 8707 §2.2).
	UseGrantedResource bool

	// HTTPClient fetches discovery and JWKS and calls the admin and
	// introspection endpoints; default: 10s timeout.
	HTTPClient *http.Client
	// Logger receives node's output, one record per line at debug level.
	// Default: discard.
	Logger *slog.Logger
}

// Discovery is the part of the provider's OpenID configuration the suite uses.
type Discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// AuthorizationResponseISSParameterSupported: the redirect to the
	// client carries iss beside code and state (RFC 9207).
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// Server is a running oidc-provider. Close it.
type Server struct {
	// Issuer is http://127.0.0.1:PORT.
	Issuer string
	// Confidential authenticates with client_secret_basic; Public with
	// client_id and PKCE only.
	Confidential, Public Client
	Users                []User
	Resources            []Resource
	// IDTokenAlg and AccessTokenAlg are the algorithms in use.
	IDTokenAlg, AccessTokenAlg string

	meta       Discovery
	jwks       []byte
	client     *http.Client
	log        *slog.Logger
	adminToken string

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	dir     string
	exited  chan struct{} // closed once cmd.Wait returns
	waitErr error         // valid after exited is closed
	stderr  *idpproc.LineLogger

	closeOnce sync.Once
	closeErr  error
}

// Start installs oidc-provider if needed (see [Install]), starts it with o
// and waits until its discovery document and JWKS are served. ctx bounds
// the start only (1 minute when it has no deadline, which covers a first
// install); the provider runs until Close.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	node, _, err := Node(ctx, o.Node)
	if err != nil {
		return nil, err
	}
	if o.CacheDir == "" {
		root, err := dex.ModuleRoot()
		if err != nil {
			return nil, fmt.Errorf("oidcprovider: cache dir: %w", err)
		}
		o.CacheDir = DefaultCacheDir(root)
	}
	modules, err := Install(ctx, o.NPM, o.CacheDir)
	if err != nil {
		return nil, err
	}
	return start(ctx, o, node, modules)
}

func (o *Options) defaults() error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if err := idpproc.CheckAddr(o.Addr); err != nil {
		return fmt.Errorf("oidcprovider: addr %q: %w", o.Addr, err)
	}
	if o.ClientID == "" {
		o.ClientID = "edgeauth"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = idpproc.RandomString(24)
	}
	if o.PublicClientID == "" {
		o.PublicClientID = "edgeauth-public"
	}
	if o.PublicClientID == o.ClientID {
		return fmt.Errorf("oidcprovider: public client id %q: the confidential client has it", o.PublicClientID)
	}
	if len(o.RedirectURIs) == 0 {
		return errors.New("oidcprovider: at least one redirect URI is required")
	}
	for _, r := range o.RedirectURIs {
		if _, err := absoluteURL(r); err != nil {
			return fmt.Errorf("oidcprovider: redirect URI %q: %w", r, err)
		}
	}
	if o.PostLogoutRedirectURIs == nil {
		for _, r := range o.RedirectURIs {
			u, _ := absoluteURL(r) // checked above
			o.PostLogoutRedirectURIs = append(o.PostLogoutRedirectURIs, u.Scheme+"://"+u.Host+"/")
		}
	}
	for _, r := range o.PostLogoutRedirectURIs {
		if _, err := absoluteURL(r); err != nil {
			return fmt.Errorf("oidcprovider: post-logout redirect URI %q: %w", r, err)
		}
	}
	if o.Users == nil {
		o.Users = DemoUsers()
	}
	subs, emails := map[string]bool{}, map[string]bool{}
	for i, u := range o.Users {
		if u.Subject == "" || u.Email == "" || u.Password == "" {
			return fmt.Errorf("oidcprovider: users[%d]: subject, email and password are required", i)
		}
		if subs[u.Subject] || emails[strings.ToLower(u.Email)] {
			return fmt.Errorf("oidcprovider: users[%d]: duplicate subject or email", i)
		}
		subs[u.Subject], emails[strings.ToLower(u.Email)] = true, true
	}
	if o.Resources == nil {
		o.Resources = []Resource{{URL: DefaultResource, Scopes: []string{"api:read"}}}
	}
	for i, r := range o.Resources {
		// RFC 8707 §2: an absolute URI without a fragment.
		if u, err := url.Parse(r.URL); err != nil || !u.IsAbs() || u.Fragment != "" {
			return fmt.Errorf("oidcprovider: resources[%d]: %q must be an absolute URI without a fragment", i, r.URL)
		}
	}
	for _, alg := range []*string{&o.IDTokenAlg, &o.AccessTokenAlg} {
		if *alg == "" {
			*alg = RS256
		}
		if *alg != RS256 && *alg != ES256 {
			return fmt.Errorf("oidcprovider: signing algorithm %q: want %s or %s", *alg, RS256, ES256)
		}
	}
	for _, ttl := range []struct {
		d    *time.Duration
		def  time.Duration
		name string
	}{{&o.IDTokenTTL, time.Hour, "id token"}, {&o.AccessTokenTTL, time.Hour, "access token"}, {&o.RefreshTokenTTL, 24 * time.Hour, "refresh token"}} {
		if *ttl.d == 0 {
			*ttl.d = ttl.def
		}
		if *ttl.d < time.Second {
			return fmt.Errorf("oidcprovider: %s ttl %s: must be at least 1s", ttl.name, *ttl.d)
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func absoluteURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, errors.New("must be an absolute http(s) URL without a fragment")
	}
	return u, nil
}

// nodeConfig is what js/server.mjs reads.
type nodeConfig struct {
	Host                 string           `json:"host"`
	Port                 int              `json:"port"`
	ModulesDir           string           `json:"modulesDir"`
	AdminToken           string           `json:"adminToken"`
	CookieKeys           []string         `json:"cookieKeys"`
	Clients              []clientMetadata `json:"clients"`
	Users                []nodeUser       `json:"users"`
	Resources            []nodeResource   `json:"resources"`
	AccessTokenAlg       string           `json:"accessTokenAlg"`
	IDTokenTTL           int64            `json:"idTokenTTL"`
	AccessTokenTTL       int64            `json:"accessTokenTTL"`
	RefreshTokenTTL      int64            `json:"refreshTokenTTL"`
	ConformIDTokenClaims bool             `json:"conformIdTokenClaims"`
	UseGrantedResource   bool             `json:"useGrantedResource"`
}

// clientMetadata is an OAuth client in RFC 7591 metadata, as oidc-provider
// takes its static clients.
type clientMetadata struct {
	ClientID                 string   `json:"client_id"`
	ClientSecret             string   `json:"client_secret,omitempty"`
	TokenEndpointAuthMethod  string   `json:"token_endpoint_auth_method"`
	GrantTypes               []string `json:"grant_types"`
	ResponseTypes            []string `json:"response_types"`
	RedirectURIs             []string `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg"`
}

type nodeUser struct {
	Sub      string   `json:"sub"`
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Groups   []string `json:"groups"`
}

type nodeResource struct {
	URL    string   `json:"url"`
	Scopes []string `json:"scopes"`
	Opaque bool     `json:"opaque"`
}

func (o Options) nodeConfig(modules, adminToken string) nodeConfig {
	host, port, _ := net.SplitHostPort(o.Addr) // checked by defaults
	p, _ := strconv.Atoi(port)
	metadata := func(c Client, authMethod string) clientMetadata {
		return clientMetadata{
			ClientID: c.ID, ClientSecret: c.Secret, TokenEndpointAuthMethod: authMethod,
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
			RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			IDTokenSignedResponseAlg: o.IDTokenAlg,
		}
	}
	confidential, public := o.clients()
	c := nodeConfig{
		Host: host, Port: p, ModulesDir: modules, AdminToken: adminToken,
		CookieKeys:           []string{idpproc.RandomString(32), idpproc.RandomString(32)},
		Clients:              []clientMetadata{metadata(confidential, "client_secret_basic"), metadata(public, "none")},
		AccessTokenAlg:       o.AccessTokenAlg,
		IDTokenTTL:           int64(o.IDTokenTTL / time.Second),
		AccessTokenTTL:       int64(o.AccessTokenTTL / time.Second),
		RefreshTokenTTL:      int64(o.RefreshTokenTTL / time.Second),
		ConformIDTokenClaims: o.ClaimsOnlyAtUserinfo,
		UseGrantedResource:   o.UseGrantedResource,
	}
	for _, u := range o.Users {
		groups := u.Groups
		if groups == nil {
			groups = []string{}
		}
		c.Users = append(c.Users, nodeUser{Sub: u.Subject, Email: u.Email, Password: u.Password, Username: u.Username, Name: u.Name, Groups: groups})
	}
	for _, r := range o.Resources {
		scopes := r.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		c.Resources = append(c.Resources, nodeResource{URL: r.URL, Scopes: scopes, Opaque: r.Opaque})
	}
	return c
}

func (o Options) clients() (confidential, public Client) {
	confidential = Client{ID: o.ClientID, Secret: o.ClientSecret, RedirectURIs: o.RedirectURIs, PostLogoutRedirectURIs: o.PostLogoutRedirectURIs}
	public = Client{ID: o.PublicClientID, RedirectURIs: o.RedirectURIs, PostLogoutRedirectURIs: o.PostLogoutRedirectURIs}
	return confidential, public
}

func start(ctx context.Context, o Options, node, modules string) (*Server, error) {
	s := &Server{
		Users: o.Users, Resources: o.Resources,
		IDTokenAlg: o.IDTokenAlg, AccessTokenAlg: o.AccessTokenAlg,
		client: o.HTTPClient, log: o.Logger, adminToken: idpproc.RandomString(24),
		exited: make(chan struct{}),
	}
	s.Confidential, s.Public = o.clients()
	var err error
	if s.dir, err = os.MkdirTemp("", "edgeauth-oidc-provider-*"); err != nil {
		return nil, fmt.Errorf("oidcprovider: %w", err)
	}
	if err := s.writeFiles(o.nodeConfig(modules, s.adminToken)); err != nil {
		_ = os.RemoveAll(s.dir)
		return nil, err
	}
	ready := &readyWriter{log: o.Logger, ready: make(chan string, 1)}
	s.stderr = &idpproc.LineLogger{Log: o.Logger, Source: "oidc-provider", Keep: 6}
	s.cmd = exec.Command(node, filepath.Join(s.dir, "server.mjs"), filepath.Join(s.dir, "config.json"))
	s.cmd.Dir = s.dir
	s.cmd.Stdout = ready
	s.cmd.Stderr = s.stderr
	s.cmd.SysProcAttr = idpproc.ProcAttr()
	// node exits when this pipe closes: on Close, or when this process dies.
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		_ = os.RemoveAll(s.dir)
		return nil, fmt.Errorf("oidcprovider: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(s.dir)
		return nil, fmt.Errorf("oidcprovider: start %s: %w", node, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.Issuer = <-ready.ready:
	case <-s.exited:
		_ = s.Close()
		return nil, fmt.Errorf("%w before it was ready (%v): %s", ErrExited, s.waitErr, s.stderr.Last())
	case <-ctx.Done():
		_ = s.Close()
		return nil, fmt.Errorf("oidcprovider: not ready: %w", ctx.Err())
	}
	if err := s.load(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.log.Debug("oidc-provider ready", "issuer", s.Issuer, "version", Version)
	return s, nil
}

// writeFiles writes the script and its config (which holds the client
// secret and the users' passwords: mode 0600) into s.dir.
func (s *Server) writeFiles(cfg nodeConfig) error {
	script, err := jsFiles.ReadFile("js/server.mjs")
	if err != nil {
		return fmt.Errorf("oidcprovider: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("oidcprovider: config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "server.mjs"), script, 0o644); err != nil {
		return fmt.Errorf("oidcprovider: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "config.json"), b, 0o600); err != nil {
		return fmt.Errorf("oidcprovider: %w", err)
	}
	return nil
}

// load fetches discovery and the JWKS once and checks that they are what
// the config asked for.
func (s *Server) load(ctx context.Context) error {
	d, err := s.Discovery(ctx)
	if err != nil {
		return err
	}
	jwks, err := s.JWKS(ctx)
	if err != nil {
		return err
	}
	s.meta, s.jwks = *d, jwks
	return nil
}

// Metadata returns the discovery document fetched at start.
func (s *Server) Metadata() Discovery { return s.meta }

// Discovery fetches the OpenID configuration.
func (s *Server) Discovery(ctx context.Context) (*Discovery, error) {
	b, err := s.get(ctx, s.Issuer+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	var d Discovery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("oidcprovider: discovery: %w", err)
	}
	if d.Issuer != s.Issuer || d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" || d.JWKSURI == "" {
		return nil, fmt.Errorf("oidcprovider: discovery: issuer %q or an endpoint is not what the provider should serve", d.Issuer)
	}
	return &d, nil
}

// JWKS fetches the provider's public key set; it fails while the set is empty.
func (s *Server) JWKS(ctx context.Context) ([]byte, error) {
	jwksURI := s.meta.JWKSURI
	if jwksURI == "" {
		jwksURI = s.Issuer + "/jwks"
	}
	b, err := s.get(ctx, jwksURI)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("oidcprovider: jwks: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("oidcprovider: jwks: no keys")
	}
	return b, nil
}

func (s *Server) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: %w", err)
	}
	return s.do(req)
}

// do sends req and returns the body of a 200 answer.
func (s *Server) do(req *http.Request) ([]byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("oidcprovider: read %s: %w", req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		// The body may echo what was sent: leave it out.
		return nil, fmt.Errorf("oidcprovider: %s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	return b, nil
}

// Close stops node (closing its stdin, SIGTERM, then SIGKILL after 5s),
// waits for it to exit and removes its files. It is safe to call more than
// once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		_ = s.stdin.Close()
		idpproc.Stop(s.cmd.Process, s.exited, 5*time.Second)
		s.closeErr = os.RemoveAll(s.dir)
	})
	return s.closeErr
}

// readyWriter takes node's stdout: the first {"event":"ready"} line gives
// the issuer; other lines are logged.
type readyWriter struct {
	log   *slog.Logger
	ready chan string // buffered, one value

	mu   sync.Mutex
	buf  []byte
	sent bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := bytes.TrimSpace(w.buf[:i])
		w.buf = w.buf[i+1:]
		var msg struct{ Event, Issuer string }
		if !w.sent && json.Unmarshal(line, &msg) == nil && msg.Event == "ready" && msg.Issuer != "" {
			w.sent = true
			w.ready <- msg.Issuer
			continue
		}
		if len(line) > 0 {
			w.log.Debug("oidc-provider", "line", string(line))
		}
	}
}
