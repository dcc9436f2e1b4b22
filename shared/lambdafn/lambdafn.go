// Package lambdafn is what the three functions share around their handlers:
// the dependencies each is built from, the cold-start wiring of main, the
// per-request id and logger, and [NewParts], the one place where the config
// file is translated into the shared parts.
//
// It is the one shared package besides config that imports config: the
// parts (verifier, session, idp, authz, page) each take a small
// configuration of their own and check it, and NewParts fills those from the
// file and names the file's field when a part refuses its input. So the
// whole check of a config file is config.Parse followed by NewParts
// ([CheckConfig]), for every cold start and for make package alike.
package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/shared/authz"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/idp"
	"github.com/edgeauth/edgeauth/shared/introspect"
	"github.com/edgeauth/edgeauth/shared/page"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// Handler is a Lambda@Edge request-trigger handler. It returns a non-nil
// error only for a bug: every expected failure is a response.
type Handler func(ctx context.Context, ev edge.Event) (edge.Result, error)

// Deps are what a function is built from, once per cold start.
type Deps struct {
	Config     *config.Config
	Now        func() time.Time // default time.Now
	HTTPClient *http.Client     // for the IdP; default a client with a 5 s timeout
	Logger     *slog.Logger     // default discards
}

// WithDefaults fills the zero fields.
func (d Deps) WithDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return d
}

// Level maps the config's log level onto slog's.
func Level(name string) slog.Level {
	switch name {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Main is the whole of a function's main: load the config from beside the
// binary, build the handler and hand it to the Lambda runtime. A bad config
// fails the cold start with its one message.
func Main(name string, build func(Deps) (Handler, error)) {
	if err := run(name, build); err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "function", name, "err", err)
		os.Exit(1)
	}
}

func run(name string, build func(Deps) (Handler, error)) error {
	path, err := config.Path()
	if err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: Level(cfg.LogLevel)})).With("function", name)
	h, err := build(Deps{Config: cfg, Logger: log}.WithDefaults())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	lambda.StartHandlerFunc((func(context.Context, edge.Event) (edge.Result, error))(h))
	return nil
}

// MaxExcerpt bounds how much of a text the request chose goes into a log
// line, in bytes of the text.
const MaxExcerpt = 256

// Excerpt is how text the request chose (its path, say) goes into a log
// line: at most MaxExcerpt bytes of it, marked with "…" when cut, and, unless
// it is all printable ASCII, escaped as a Go string literal's body (control
// characters, quotes, backslashes and bytes beyond ASCII written as \n, \",
// \xff, \u00e9…). An ordinary path reads as sent, and is not copied.
func Excerpt(s string) string {
	cut := len(s) > MaxExcerpt
	if cut {
		n := MaxExcerpt // cut before a rune that would not fit, if any
		for i := n; i > n-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				n = i
				break
			}
		}
		s = s[:n]
	}
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] < 0x7f
	}
	if !plain {
		q := strconv.QuoteToASCII(s)
		s = q[1 : len(q)-1]
	}
	if cut {
		s += "…"
	}
	return s
}

// RequestID is the Lambda request id when running under Lambda, else
// CloudFront's request id from the event.
func RequestID(ctx context.Context, cfg edge.Config) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return cfg.RequestID
}

// Parts are the shared pieces the functions are built from. Every function
// builds all of them, so a bad config (a JWKS, a key, an endpoint, a rule)
// fails every function's cold start the same way, and make package's check
// with it.
type Parts struct {
	Verifier *verifier.Verifier
	Sessions *session.Store
	IdP      *idp.Provider
	Rules    *authz.Authorizer
	Pages    *page.Renderer
	// Introspect checks opaque Bearer tokens; nil without
	// oidc.introspectionEndpoint.
	Introspect *introspect.Checker
}

// NewParts builds the parts from d's config, clock and HTTP client. Each
// part's constructor checks its own input; a refusal comes back as a
// *config.FieldError naming the file's field ("config: rules[2].path: must
// start with "/", got …"), so errors.Is(err, config.ErrInvalid) holds for
// every problem of the file.
//
// It logs, through d.Logger, one line about the key set (the keys that
// verify tokens and those skipped, and why) and one warning per
// config.Warnings: what a function's cold start says about its config.
func NewParts(d Deps) (*Parts, error) {
	c := d.Config
	if c == nil {
		return nil, errors.New("no config")
	}
	names := fileNames(c)
	rules := make([]authz.Rule, len(c.Rules))
	for i, r := range c.Rules {
		rules[i] = authz.Rule{Path: r.Path, Public: r.Public, Groups: r.Groups, Scopes: r.Scopes}
	}
	a, err := authz.New(rules)
	if err != nil {
		return nil, inFile(err, names)
	}
	v, err := verifier.New(verifier.Config{
		Issuer:              c.Issuer,
		ClientID:            c.ClientID,
		Cognito:             c.Cognito != nil,
		Audiences:           c.AccessAudiences(),
		UntypedAccessTokens: c.UntypedAccessTokens,
		Algorithms:          c.Algorithms,
		GroupsClaim:         c.GroupsClaim,
		ClaimPaths:          a.Claims(),
		JWKS:                c.JWKS,
		ClockSkew:           c.ClockSkew.Std(),
		Now:                 d.Now,
	})
	if err != nil {
		return nil, inFile(err, names)
	}
	keys := make([]session.KeyPair, len(c.Keys))
	for i, k := range c.Keys {
		keys[i] = session.KeyPair{Hash: k.Hash, Block: k.Block}
	}
	s, err := session.New(session.Config{
		Prefix:          c.Cookies.Prefix,
		Domain:          c.Cookies.Domain,
		SameSite:        c.Cookies.SameSite,
		Secure:          c.Secure(),
		Keys:            keys,
		RefreshPath:     c.Paths.RefreshAuth,
		SignOutPath:     c.Paths.SignOut,
		ParseAuthPath:   c.Paths.ParseAuth,
		RefreshLifetime: c.RefreshLifetime.Std(),
		Now:             d.Now,
	})
	if err != nil {
		return nil, inFile(err, names)
	}
	// The one path no part takes: sign-out sends the browser there, and
	// must recognise it when the browser arrives.
	if err := session.CheckPath(c.Paths.AfterSignOut); err != nil {
		return nil, &config.FieldError{Field: "paths.afterSignOut", Problem: err.Error()}
	}
	p, err := idp.New(idp.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoints: idp.Endpoints{
			Authorize:     c.Endpoints.Authorize,
			Token:         c.Endpoints.Token,
			Revoke:        c.Endpoints.Revoke,
			Logout:        c.Endpoints.Logout,
			CognitoLogout: c.Endpoints.CognitoLogout,
			Introspection: c.Endpoints.Introspection,
			Userinfo:      c.Endpoints.Userinfo,
		},
		Scopes:      c.Scopes,
		ExtraParams: c.AuthorizeParams,
		Resource:    c.Resource,
		HTTPClient:  d.HTTPClient,
		Now:         d.Now,
	})
	if err != nil {
		return nil, inFile(err, names)
	}
	var in *introspect.Checker
	if c.Endpoints.Introspection != "" {
		in, err = introspect.New(introspect.Config{
			Provider:    p,
			Issuer:      c.Issuer,
			Audiences:   v.Audiences(),
			Read:        v.IdentityOf,
			CacheTTL:    c.IntrospectionCacheTTL.Std(),
			InactiveTTL: c.IntrospectionInactiveTTL.Std(),
			ClockSkew:   c.ClockSkew.Std(),
			Now:         d.Now,
		})
		if err != nil {
			return nil, inFile(err, names)
		}
	}
	pages, err := page.New(c.Secure(), page.Branding{SiteName: c.Pages.SiteName, AccentColor: c.Pages.AccentColor, SupportURL: c.Pages.SupportURL})
	if err != nil {
		return nil, inFile(err, names)
	}
	logColdStart(d.Logger, c, v.KeySet())
	return &Parts{Verifier: v, Sessions: s, IdP: p, Rules: a, Pages: pages, Introspect: in}, nil
}

// logColdStart says what the config amounts to that the operator may not
// see from the file: which keys verify tokens, and its warnings.
func logColdStart(log *slog.Logger, c *config.Config, keys verifier.KeyReport) {
	if log == nil {
		return
	}
	log.Info("key set", "loaded", len(keys.Loaded), "skipped", len(keys.Skipped), "keys", keys.String())
	for _, w := range c.Warnings() {
		log.Warn("config", "warning", w)
	}
}

// CheckConfig is the whole check of a config file, the one a cold start
// makes: config.Parse, then NewParts. make package runs it, so that a file
// it accepts starts every function.
func CheckConfig(b []byte) (*config.Config, error) {
	c, err := config.Parse(b)
	if err != nil {
		return nil, err
	}
	if _, err := NewParts(Deps{Config: c}.WithDefaults()); err != nil {
		return nil, err
	}
	return c, nil
}

// fieldName is a file field for a part's field, with a hint to add when the
// part found the value missing.
type fieldName struct{ file, hint string }

// fileNames maps the parts' field names (the whole path, or its first
// element) onto the file's. The parts name their fields in lower camel case
// as the file does, so most map by a prefix.
func fileNames(c *config.Config) map[string]fieldName {
	endpoint := func(oidc string) fieldName {
		if c.Cognito != nil {
			return fieldName{file: "cognito.domain"} // all four are derived from it
		}
		return fieldName{file: oidc}
	}
	issuer := fieldName{file: "oidc.issuerUrl"}
	if c.Cognito != nil {
		issuer.file = "cognito"
	}
	names := map[string]fieldName{
		// verifier.Config
		"issuer":              issuer,
		"clientId":            {file: "clientId"},
		"jwks":                {file: "jwks"},
		"clockSkew":           {file: "clockSkew"},
		"audiences":           {file: "audiences"},
		"untypedAccessTokens": {file: "untypedAccessTokens"},
		"algorithms":          {file: "algorithms"},
		"groupsClaim":         {file: "groupsClaim"},
		"claimPaths":          {file: "rules"}, // the rules' {claim} segments
		// session.Config
		"prefix":          {file: "cookies.prefix"},
		"domain":          {file: "cookies.domain"},
		"sameSite":        {file: "cookies.sameSite"},
		"keys":            {file: "keys"},
		"refreshPath":     {file: "paths.refreshAuth"},
		"signOutPath":     {file: "paths.signOut"},
		"parseAuthPath":   {file: "paths.parseAuth"},
		"refreshLifetime": {file: "refreshLifetime"},
		// idp.Config
		"clientSecret":            {file: "clientSecret"},
		"endpoints.authorize":     endpoint("oidc.authorizationEndpoint"),
		"endpoints.token":         endpoint("oidc.tokenEndpoint"),
		"endpoints.revoke":        endpoint("oidc.revocationEndpoint"),
		"endpoints.logout":        endpoint("oidc.endSessionEndpoint"),
		"endpoints.introspection": {file: "oidc.introspectionEndpoint"},
		"endpoints.userinfo":      endpoint("oidc.userinfoEndpoint"),
		"scopes":                  {file: "scopes"},
		"extraParams":             {file: "authorizeParams"},
		"resource":                {file: "resource"},
		// introspect.Config
		"cacheTtl":    {file: "introspectionCacheTtl"},
		"inactiveTtl": {file: "introspectionInactiveTtl"},
		// authz.New's rules are the file's, in order.
		"rules": {file: "rules"},
		// page.Branding
		"siteName":    {file: "pages.siteName"},
		"accentColor": {file: "pages.accentColor"},
		"supportUrl":  {file: "pages.supportUrl"},
	}
	if len(c.Keys) == 0 {
		names["keys"] = fieldName{file: "keys", hint: "make package generates one"}
	}
	if len(c.JWKS) == 0 || string(c.JWKS) == "null" {
		names["jwks"] = fieldName{file: "jwks", hint: "make package fetches it from the issuer"}
	}
	return names
}

// inFile turns a part's *ConfigError into a *config.FieldError for the
// file's field; any other error is returned as it is.
func inFile(err error, names map[string]fieldName) error {
	field, problem, ok := partField(err)
	if !ok {
		return err
	}
	head, rest := field, ""
	if n, ok := names[field]; ok {
		head = n.file
		if n.hint != "" {
			problem += " (" + n.hint + ")"
		}
	} else {
		if i := strings.IndexAny(field, ".["); i >= 0 {
			head, rest = field[:i], field[i:]
		}
		if n, ok := names[head]; ok {
			head = n.file
		}
	}
	return &config.FieldError{Field: head + rest, Problem: problem}
}

// partField reads the field and problem of any part's *ConfigError.
func partField(err error) (field, problem string, ok bool) {
	if e, ok := errors.AsType[*verifier.ConfigError](err); ok {
		return e.Field, e.Problem, true
	}
	if e, ok := errors.AsType[*session.ConfigError](err); ok {
		return e.Field, e.Problem, true
	}
	if e, ok := errors.AsType[*idp.ConfigError](err); ok {
		return e.Field, e.Problem, true
	}
	if e, ok := errors.AsType[*authz.ConfigError](err); ok {
		return e.Field, e.Problem, true
	}
	if e, ok := errors.AsType[*page.ConfigError](err); ok {
		return e.Field, e.Problem, true
	}
	if e, ok := errors.AsType[*introspect.ConfigError](err); ok {
		return e.Field, e.Problem, true
	}
	return "", "", false
}

// DeadlineMargin is the time kept back from Lambda's deadline for the
// function to answer after an IdP call gives up.
const DeadlineMargin = 500 * time.Millisecond

// Budget bounds ctx to end DeadlineMargin before its own deadline, so an IdP
// that hangs costs the user the function's own 502 page, not CloudFront's
// 503 for a function that ran out of time.
func Budget(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-DeadlineMargin))
	}
	return context.WithCancel(ctx)
}
