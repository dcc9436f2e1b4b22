// Package demo starts the suite end to end on loopback: the demo IdP (Dex,
// or panva's oidc-provider) unless a suite config is given, the three
// functions (in-process, or the built bootstrap binaries over a loopback
// Lambda Runtime API) and the local edge in front of the demo site. `make
// run` and the end-to-end tests both start it this way, so what the tests
// drive is what a developer runs.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/functions/parse-callback/parsecallback"
	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/internal/oidcprovider"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

// Invoke modes.
const (
	InProcess  = "in-process"
	RuntimeAPI = "runtime-api"
)

// Demo IdPs.
const (
	// Dex is the default demo IdP: ID-token-shaped access tokens, no
	// end-session endpoint (the harness adds revocation).
	Dex = "dex"
	// OIDCProvider is panva's oidc-provider: RFC 9068 JWT access tokens for
	// an API, opaque ones checked by introspection, revocation,
	// end-session, an ES256 key beside the RS256 one, nested roles.
	OIDCProvider = "oidc-provider"
)

// Options says what to start. Zero values give `make run`'s demo.
type Options struct {
	Root string // module root; found from the working directory when empty
	// EdgeConfig is the local edge config: a file, or a short name for
	// testdata/demo/localedge-<name>.json ("aws", "viewer");
	// testdata/demo/localedge.json when empty.
	EdgeConfig  string
	Listen      string        // overrides the edge config's listen address ("localhost:0" picks a port)
	SuiteConfig string        // a suite config.json; empty starts the demo IdP and generates one
	IDP         string        // the demo IdP: Dex (the default) or OIDCProvider
	Invoke      string        // InProcess (default) or RuntimeAPI
	BinDir      string        // where the built bootstrap (cmd/bootstrap) is, for RuntimeAPI; <root>/bin when empty
	IDTokenTTL  time.Duration // the demo IdP's ID token lifetime; its default when zero
	// Provider is what oidc-provider starts with (algorithms, resources,
	// lifetimes…); the redirect URIs, and the ID token lifetime when
	// IDTokenTTL is set, are the demo's.
	Provider oidcprovider.Options
	Logger   *slog.Logger
}

// Env is a running demo.
type Env struct {
	URL          string               // the edge, e.g. http://localhost:8080
	Dex          *dex.Server          // the demo IdP when it is Dex
	OIDCProvider *oidcprovider.Server // the demo IdP when it is oidc-provider
	Config       *config.Config
	ConfigPath   string
	// Warnings say what in the suite config cannot work on this edge's
	// address, and what to change ([Reachability]); each is also logged.
	Warnings []string
	srv      *http.Server
	closers  []func() error
	done     chan error
}

// Start starts everything and returns once the edge accepts connections. On
// error, whatever had started is stopped.
func Start(ctx context.Context, o Options) (_ *Env, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Root == "" {
		if o.Root, err = dex.ModuleRoot(); err != nil {
			return nil, err
		}
	}
	switch {
	case o.EdgeConfig == "":
		o.EdgeConfig = filepath.Join(o.Root, "testdata", "demo", "localedge.json")
	case !strings.ContainsAny(o.EdgeConfig, `/\.`):
		o.EdgeConfig = filepath.Join(o.Root, "testdata", "demo", "localedge-"+o.EdgeConfig+".json")
	}
	if o.Invoke == "" {
		o.Invoke = InProcess
	}
	if o.Invoke != InProcess && o.Invoke != RuntimeAPI {
		return nil, fmt.Errorf("demo: invoke %q: want %s or %s", o.Invoke, InProcess, RuntimeAPI)
	}
	if o.IDP == "" {
		o.IDP = Dex
	}
	if o.IDP != Dex && o.IDP != OIDCProvider {
		return nil, fmt.Errorf("demo: idp %q: want %s or %s", o.IDP, Dex, OIDCProvider)
	}
	edgeCfg, err := localedge.LoadConfig(o.EdgeConfig)
	if err != nil {
		return nil, err
	}
	if o.Listen != "" {
		edgeCfg.Listen = o.Listen
	}
	env := &Env{done: make(chan error, 1)}
	defer func() {
		if err != nil {
			_ = env.Close()
		}
	}()
	// Listen first: the IdP must know the edge's redirect URI, port included.
	ln, err := net.Listen("tcp", edgeCfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("demo: listen on %s: %w", edgeCfg.Listen, err)
	}
	env.closers = append(env.closers, func() error { _ = ln.Close(); return nil })
	host, port, _ := net.SplitHostPort(edgeCfg.Listen)
	_, realPort, _ := net.SplitHostPort(ln.Addr().String())
	if port == "0" || port == "" {
		port = realPort
	}
	if host == "" {
		host = "localhost"
	}
	env.URL = "http://" + net.JoinHostPort(host, port)

	env.ConfigPath = o.SuiteConfig
	if env.ConfigPath == "" {
		start := env.startDex
		if o.IDP == OIDCProvider {
			start = env.startOIDCProvider
		}
		if env.ConfigPath, err = start(ctx, o); err != nil {
			return nil, err
		}
	}
	if env.Config, err = config.Load(env.ConfigPath); err != nil {
		return nil, err
	}
	if err := env.generateViewerFunctions(edgeCfg); err != nil {
		return nil, err
	}
	env.Warnings = Reachability(env.Config, env.URL, edgeCfg.DomainName)
	for _, w := range env.Warnings {
		o.Logger.Warn("suite config does not fit this edge", "config", env.ConfigPath, "problem", w)
	}
	funcs, err := env.functions(ctx, o)
	if err != nil {
		return nil, err
	}
	edge, err := localedge.New(edgeCfg, funcs, o.Logger)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: edge, ReadHeaderTimeout: 10 * time.Second}
	env.srv = srv // Close clears the field, perhaps before the goroutine runs
	go func() { env.done <- srv.Serve(ln) }()
	return env, nil
}

// startDex starts the demo IdP for this edge and writes the suite config it
// implies into a private temporary folder.
func (env *Env) startDex(ctx context.Context, o Options) (string, error) {
	d, err := dex.Start(ctx, dex.Options{
		Binary:       dex.BinaryPath(o.Root),
		Addr:         "127.0.0.1:0",
		RedirectURIs: []string{env.URL + "/parseauth"},
		IDTokenTTL:   o.IDTokenTTL,
		Logger:       o.Logger.With("component", "dex"),
	})
	if err != nil {
		return "", err
	}
	env.Dex = d
	env.closers = append(env.closers, d.Close)
	b, err := d.SuiteConfig(env.URL)
	if err != nil {
		return "", err
	}
	return env.writeSuiteConfig(b)
}

// startOIDCProvider starts oidc-provider for this edge (installing it with
// npm ci on first use) and writes the suite config it implies.
func (env *Env) startOIDCProvider(ctx context.Context, o Options) (string, error) {
	po := o.Provider
	po.RedirectURIs = []string{env.URL + "/parseauth"}
	// Sign-out comes back to the sign-out path (afterSignOut's default),
	// which shows the signed-out page.
	po.PostLogoutRedirectURIs = []string{env.URL + "/signout"}
	if o.IDTokenTTL != 0 {
		po.IDTokenTTL = o.IDTokenTTL
	}
	if po.Logger == nil {
		po.Logger = o.Logger.With("component", "oidc-provider")
	}
	s, err := oidcprovider.Start(ctx, po)
	if err != nil {
		return "", err
	}
	env.OIDCProvider = s
	env.closers = append(env.closers, s.Close)
	b, err := s.SuiteConfig(env.URL)
	if err != nil {
		return "", err
	}
	return env.writeSuiteConfig(b)
}

// writeSuiteConfig writes a generated suite config (it holds the client
// secret and cookie keys) into a private temporary folder.
func (env *Env) writeSuiteConfig(b []byte) (string, error) {
	dir, err := os.MkdirTemp("", "edgeauth-demo-")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	env.closers = append(env.closers, func() error { return os.RemoveAll(dir) })
	path := filepath.Join(dir, config.FileName)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("demo: write suite config: %w", err)
	}
	return path, nil
}

// generateViewerFunctions makes the viewer-mode function for the suite
// config the demo runs with (see [GenerateViewerFunctions]) in a private
// temporary folder.
func (env *Env) generateViewerFunctions(edgeCfg *localedge.Config) error {
	if !NeedsViewerFunction(edgeCfg) {
		return nil
	}
	dir, err := os.MkdirTemp("", "edgeauth-viewer-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	env.closers = append(env.closers, func() error { return os.RemoveAll(dir) })
	return GenerateViewerFunctions(edgeCfg, env.Config, dir)
}

// NeedsViewerFunction reports whether the edge config runs the generated
// viewer-mode function: a CloudFront Function whose code is make package's
// viewer-function.js.
func NeedsViewerFunction(edgeCfg *localedge.Config) bool {
	for _, f := range edgeCfg.CloudFrontFunctions {
		if filepath.Base(f.Code) == deploy.ViewerFunctionName {
			return true
		}
	}
	return false
}

// GenerateViewerFunctions writes, into dir, the viewer-mode function that
// make package would generate from suite (viewerfn.Generate, keys from the
// KeyValueStore when the edge config names make package's viewer-kvs.json
// for it, in the code otherwise) and its KeyValueStore file, and points
// every CloudFront Function of edgeCfg whose code is viewer-function.js at
// them. The edge config names make package's output (dist/…); the demo's
// suite config is generated per run, so its function must be too.
func GenerateViewerFunctions(edgeCfg *localedge.Config, suite *config.Config, dir string) error {
	for name, f := range edgeCfg.CloudFrontFunctions {
		if filepath.Base(f.Code) != deploy.ViewerFunctionName {
			continue
		}
		inStore := f.KeyValueStore != ""
		if inStore && filepath.Base(f.KeyValueStore) != deploy.ViewerKVSName {
			return fmt.Errorf("demo: cloudfrontFunctions[%q].keyValueStore %s: want make package's %s", name, f.KeyValueStore, deploy.ViewerKVSName)
		}
		gen, err := viewerfn.Generate(suite, viewerfn.Options{InlineKeys: !inStore})
		if err != nil {
			return fmt.Errorf("demo: generate the viewer function: %w", err)
		}
		sub := filepath.Join(dir, name)
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		f.Code = filepath.Join(sub, deploy.ViewerFunctionName)
		// The code holds the keys when they are inline: private, like the
		// suite config.
		if err := os.WriteFile(f.Code, gen.Code, 0o600); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if inStore {
			b, err := kvsFile(gen.KeyValues)
			if err != nil {
				return err
			}
			f.KeyValueStore = filepath.Join(sub, deploy.ViewerKVSName)
			if err := os.WriteFile(f.KeyValueStore, b, 0o600); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
		edgeCfg.CloudFrontFunctions[name] = f
	}
	return nil
}

// kvsFile is a KeyValueStore's content in CloudFront's import format
// ({"data": [{"key", "value"}]}), which cfjs.OpenKeyValueStore reads.
func kvsFile(kv map[string]string) ([]byte, error) {
	type entry struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	var d struct {
		Data []entry `json:"data"`
	}
	d.Data = []entry{}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		d.Data = append(d.Data, entry{k, kv[k]})
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return append(b, '\n'), nil
}

// functions builds the three handlers in-process, or starts the built
// bootstrap three times, each running the function its
// AWS_LAMBDA_FUNCTION_NAME names and reading the suite config from
// EDGEAUTH_CONFIG.
func (env *Env) functions(ctx context.Context, o Options) (map[string]localedge.Function, error) {
	if o.Invoke == RuntimeAPI {
		bin := o.BinDir
		if bin == "" {
			bin = filepath.Join(o.Root, "bin")
		}
		p := filepath.Join(bin, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("demo: %s: %w (run make build)", p, err)
		}
		binaries := map[string]string{}
		for _, f := range []string{"check-auth", "parse-callback", "sign-out"} {
			binaries[f] = p
		}
		funcs, stop, err := localedge.StartFunctions(ctx, binaries, []string{config.EnvPath + "=" + env.ConfigPath}, o.Logger)
		if err != nil {
			return nil, err
		}
		env.closers = append(env.closers, stop)
		return funcs, nil
	}
	return InProcessFunctions(lambdafn.Deps{Config: env.Config, Logger: o.Logger})
}

// InProcessFunctions builds the three handlers from deps, by the names the
// edge configs give them: check-auth, parse-callback and sign-out.
func InProcessFunctions(deps lambdafn.Deps) (map[string]localedge.Function, error) {
	ca, err := checkauth.New(deps)
	if err != nil {
		return nil, err
	}
	pc, err := parsecallback.New(deps)
	if err != nil {
		return nil, err
	}
	so, err := signout.New(deps)
	if err != nil {
		return nil, err
	}
	return map[string]localedge.Function{"check-auth": ca.Handle, "parse-callback": pc.Handle, "sign-out": so.Handle}, nil
}

// Done reports the edge server's end.
func (env *Env) Done() <-chan error { return env.done }

// Close stops the edge, the functions and the demo IdP, in that order, and
// removes the generated config. Nothing is left running.
func (env *Env) Close() error {
	var errs []error
	if env.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := env.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
		env.srv = nil
	}
	for i := len(env.closers) - 1; i >= 0; i-- {
		if err := env.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	env.closers = nil
	return errors.Join(errs...)
}
