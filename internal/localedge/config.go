package localedge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/shared/config"
)

// Event types a behavior's functions run at: Lambda@Edge functions at
// ViewerRequest or OriginRequest, CloudFront Functions at ViewerRequest and
// ViewerResponse.
const (
	ViewerRequest  = "viewer-request"
	OriginRequest  = "origin-request"
	ViewerResponse = "viewer-response"
)

// Defaults for fields a config leaves empty.
const (
	DefaultListen         = "localhost:8080"
	DefaultDistributionID = "ELOCALEDGE0EXAMPLE"
	// DefaultDomainName is AWS's sample distribution domain.
	DefaultDomainName = "d111111abcdef8.cloudfront.net"
)

// CloudFront's function time limits per event type, and its default
// error-caching minimum TTL.
const (
	viewerTimeout             = 5 * time.Second
	originTimeout             = 30 * time.Second
	defaultErrorCachingMinTTL = 10 * time.Second
)

// ErrInvalidConfig is wrapped by every configuration error.
var ErrInvalidConfig = errors.New("localedge: invalid config")

// Behavior is one cache behavior: requests whose path matches PathPattern
// run Function. Behaviors are tried in order, as CloudFront does, and the
// pattern "*" is the default behavior; it must come last.
type Behavior struct {
	PathPattern string `json:"pathPattern"`
	// Function names an entry of the functions map given to New. Empty means
	// the behavior has no function association: requests go straight to the
	// origin.
	Function string `json:"function,omitempty"`
	// EventType is ViewerRequest (the default) or OriginRequest. An
	// origin-request event also carries the origin object, only what the
	// policy fields below forward, and its read-only headers and limits are
	// the origin-request ones.
	EventType string `json:"eventType,omitempty"`

	// The fields below model the behavior's cache policy and origin request
	// policy together: what of the viewer's request reaches an
	// origin-request event (and so the origin). They apply to origin-request
	// behaviors only; setting one on a viewer-request behavior is a config
	// error. Left out, an origin-request event carries no viewer header and
	// no cookie, only what CloudFront always sends (see the package doc).

	// ForwardHeaders names the viewer headers forwarded, case-insensitively;
	// "*" forwards all of them except Host. Naming "host" forwards the
	// viewer's Host (URL origins only: S3 needs the bucket's own Host).
	// Cookie is governed by ForwardCookies, never by this list.
	ForwardHeaders []string `json:"forwardHeaders,omitempty"`
	// ForwardCookies is "all", "none" (the default) or a list of cookie
	// names, matched case-sensitively as CloudFront does.
	ForwardCookies CookieForwarding `json:"forwardCookies,omitzero"`
	// ForwardQuery forwards the viewer's query string; true when left out.
	// False gives the event, and the origin, an empty querystring.
	ForwardQuery *bool `json:"forwardQuery,omitempty"`

	// ViewerRequestFunction and ViewerResponseFunction name entries of the
	// config's cloudfrontFunctions: the CloudFront Functions associated
	// with this behavior, whose code the edge runs (package cfjs). A
	// viewer-request function runs before everything else, on every
	// request; what it returns is what the cache, the origin-request
	// function and the origin see. CloudFront does not combine a
	// CloudFront Function and Lambda@Edge at a viewer event, so a
	// viewer-request function and a viewer-request Function are a config
	// error.
	ViewerRequestFunction  string `json:"viewerRequestFunction,omitempty"`
	ViewerResponseFunction string `json:"viewerResponseFunction,omitempty"`

	// ResponseHeadersPolicy is the behavior's response headers policy,
	// applied to every response the behavior sends, after the cache.
	ResponseHeadersPolicy *ResponseHeadersPolicy `json:"responseHeadersPolicy,omitempty"`

	// Cache is the behavior's cache policy; left out, nothing is cached.
	// At an origin-request behavior the cache is looked up before the
	// function runs, so a hit never reaches it, and a generated response is
	// cached like the origin's by its Cache-Control; at a viewer-request
	// behavior the function runs first, and the key is computed from the
	// request it returns.
	Cache *CachePolicy `json:"cache,omitempty"`
}

// forwardsQuery reports whether the behavior forwards the query string.
func (b *Behavior) forwardsQuery() bool { return b.ForwardQuery == nil || *b.ForwardQuery }

// hasPolicy reports whether any policy field is set.
func (b *Behavior) hasPolicy() bool {
	return b.ForwardHeaders != nil || b.ForwardQuery != nil || !b.ForwardCookies.IsZero()
}

// forwardsHeader reports whether the policy forwards the viewer header
// lower (a lowercase name other than cookie).
func (b *Behavior) forwardsHeader(lower string) bool {
	for _, f := range b.ForwardHeaders {
		if (f == "*" && lower != "host") || strings.EqualFold(f, lower) {
			return true
		}
	}
	return false
}

// CookieForwarding is a policy's cookie setting. In JSON it is the string
// "all" or "none", or an array of cookie names.
type CookieForwarding struct {
	// All forwards every cookie; Names is then nil.
	All bool
	// Names lists the cookies forwarded when All is false. Nil means the
	// setting was left out; an empty, non-nil list is an explicit "none".
	Names []string
}

// IsZero reports whether the setting was left out (which forwards none).
func (c CookieForwarding) IsZero() bool { return !c.All && c.Names == nil }

// forwards reports whether the cookie name is forwarded.
func (c CookieForwarding) forwards(name string) bool {
	return c.All || slices.Contains(c.Names, name)
}

// MarshalJSON writes "all", "none" or the list of names.
func (c CookieForwarding) MarshalJSON() ([]byte, error) {
	switch {
	case c.All:
		return []byte(`"all"`), nil
	case len(c.Names) == 0:
		return []byte(`"none"`), nil
	}
	return json.Marshal(c.Names)
}

// UnmarshalJSON reads "all", "none" or an array of names.
func (c *CookieForwarding) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case "all":
			*c = CookieForwarding{All: true}
		case "none":
			*c = CookieForwarding{Names: []string{}}
		default:
			return fmt.Errorf(`forwardCookies: want "all", "none" or a list of names, got %q`, s)
		}
		return nil
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil || names == nil {
		return errors.New(`forwardCookies: want "all", "none" or a list of names`)
	}
	*c = CookieForwarding{Names: names}
	return nil
}

// Origin is where passed requests go; exactly one of Dir and URL is set.
type Origin struct {
	// Dir is a folder served like a private S3 bucket behind origin access
	// control whose policy grants s3:GetObject: GET and HEAD of objects
	// only, no index documents (S3's REST endpoint has none), and 403
	// AccessDenied for a key that does not exist. LoadConfig resolves a
	// relative Dir against the config file's folder.
	Dir string `json:"dir,omitempty"`
	// ListBucket models a bucket policy that also grants s3:ListBucket: S3
	// then answers 404 NoSuchKey for a missing key, and a request for the
	// bucket itself ("/", without a default root object or a rewrite)
	// lists its keys. Folder origins only.
	ListBucket bool `json:"listBucket,omitempty"`
	// URL is an upstream http(s) origin, reverse-proxied.
	URL string `json:"url,omitempty"`
}

// CloudFrontFunction is a CloudFront Function behaviors can associate:
// its code, run by the edge as CloudFront runs it.
type CloudFrontFunction struct {
	// Code is the path of the function's JavaScript, the very code the
	// template deploys. LoadConfig resolves a relative path against the
	// config file's folder.
	Code string `json:"code"`
	// Runtime is cloudfront-js-2.0 (the default), the only one modelled.
	Runtime string `json:"runtime,omitempty"`
	// KeyValueStore is the path of the key value store file associated
	// with the function, in CloudFront's import format
	// ({"data": [{"key": …, "value": …}]}); resolved like Code.
	KeyValueStore string `json:"keyValueStore,omitempty"`
}

// RuntimeJS2 is the CloudFront Functions runtime the edge models.
const RuntimeJS2 = "cloudfront-js-2.0"

// CustomErrorResponse is one of the distribution's custom error responses:
// when a response has status ErrorCode, CloudFront fetches
// ResponsePagePath through the behavior matching that path and answers
// with it and ResponseCode, and caches error responses for
// ErrorCachingMinTTL (10 s when left out).
type CustomErrorResponse struct {
	ErrorCode          int              `json:"errorCode"`
	ResponsePagePath   string           `json:"responsePagePath,omitempty"`
	ResponseCode       int              `json:"responseCode,omitempty"`
	ErrorCachingMinTTL *config.Duration `json:"errorCachingMinTTL,omitempty"`
}

// Config is the local edge's own configuration file.
type Config struct {
	// Listen is the address to serve on; DefaultListen when empty.
	Listen string `json:"listen,omitempty"`
	// DistributionID goes into each event's config; DefaultDistributionID
	// when empty.
	DistributionID string `json:"distributionId,omitempty"`
	// DomainName is the distribution's own domain, sent as every event's
	// config.distributionDomainName whatever Host the viewer used, as
	// CloudFront does; DefaultDomainName when empty.
	DomainName string `json:"domainName,omitempty"`
	// Behaviors in CloudFront's order: first match wins.
	Behaviors []Behavior `json:"behaviors"`
	Origin    Origin     `json:"origin"`
	// FunctionTimeout overrides CloudFront's limit (5 s for viewer triggers,
	// 30 s for origin triggers), for example to step through a function in a
	// debugger, and the CloudFront Functions compute budget (cfjs's
	// default). Zero keeps the defaults.
	FunctionTimeout config.Duration `json:"functionTimeout,omitempty"`
	// CloudFrontFunctions are the CloudFront Functions behaviors can name.
	CloudFrontFunctions map[string]CloudFrontFunction `json:"cloudfrontFunctions,omitempty"`
	// DefaultRootObject is the object a request for "/" gets, as the
	// distribution's DefaultRootObject; applied after viewer-request
	// functions.
	DefaultRootObject string `json:"defaultRootObject,omitempty"`
	// CustomErrorResponses are the distribution's custom error responses.
	CustomErrorResponses []CustomErrorResponse `json:"customErrorResponses,omitempty"`
}

// LoadConfig reads, defaults and validates the config file at path. Unknown
// fields are errors, and every error names the field.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := checkRetired(b); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: trailing data after the config object", ErrInvalidConfig, path)
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(path), p)
	}
	c.Origin.Dir = rel(c.Origin.Dir)
	for name, f := range c.CloudFrontFunctions {
		f.Code, f.KeyValueStore = rel(f.Code), rel(f.KeyValueStore)
		c.CloudFrontFunctions[name] = f
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DistributionID == "" {
		c.DistributionID = DefaultDistributionID
	}
	if c.DomainName == "" {
		c.DomainName = DefaultDomainName
	}
	for i := range c.Behaviors {
		if c.Behaviors[i].EventType == "" {
			c.Behaviors[i].EventType = ViewerRequest
		}
	}
	for name, f := range c.CloudFrontFunctions {
		if f.Runtime == "" {
			f.Runtime = RuntimeJS2
			c.CloudFrontFunctions[name] = f
		}
	}
}

// checkRetired refuses fields the edge no longer models, saying what
// replaced them, where DisallowUnknownFields would only name the field.
func checkRetired(b []byte) error {
	var raw struct {
		Behaviors []map[string]json.RawMessage `json:"behaviors"`
	}
	if json.Unmarshal(b, &raw) != nil {
		return nil // the strict decode reports it
	}
	for i, b := range raw.Behaviors {
		if _, ok := b["copyHostTo"]; ok {
			return fmt.Errorf("behaviors[%d].copyHostTo: the edge no longer models the viewer-request CloudFront Function: "+
				"it runs its code. Name deploy/functions/viewer-request.js in cloudfrontFunctions and set the behavior's "+
				"viewerRequestFunction (see testdata/demo/localedge.json)", i)
		}
	}
	return nil
}

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

// Validate checks a defaulted config. It does not check that functions
// exist; New does, against the functions it is given.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fieldErr("listen", "want host:port, got %q", c.Listen)
	}
	if c.DistributionID == "" {
		return fieldErr("distributionId", "must not be empty")
	}
	if !validDomain(c.DomainName) {
		return fieldErr("domainName", "want a bare domain name such as %s, got %q", DefaultDomainName, c.DomainName)
	}
	if c.FunctionTimeout < 0 {
		return fieldErr("functionTimeout", "must not be negative")
	}
	if len(c.Behaviors) == 0 {
		return fieldErr("behaviors", "list at least one behavior")
	}
	for i, b := range c.Behaviors {
		field := fmt.Sprintf("behaviors[%d]", i)
		if err := checkPattern(b.PathPattern); err != nil {
			return fieldErr(field+".pathPattern", "%v", err)
		}
		if b.PathPattern == "*" && i != len(c.Behaviors)-1 {
			return fieldErr(field+".pathPattern", `the default behavior "*" must be last`)
		}
		switch b.EventType {
		case ViewerRequest, OriginRequest:
		default:
			return fieldErr(field+".eventType", "want %q or %q, got %q", ViewerRequest, OriginRequest, b.EventType)
		}
		if err := c.checkPolicy(field, &b); err != nil {
			return err
		}
		if b.Cache != nil {
			if err := b.Cache.validate(field + ".cache"); err != nil {
				return err
			}
		}
		if err := c.checkFunctions(field, &b); err != nil {
			return err
		}
		if b.ResponseHeadersPolicy != nil {
			if err := b.ResponseHeadersPolicy.validate(field + ".responseHeadersPolicy"); err != nil {
				return err
			}
		}
	}
	for name, f := range c.CloudFrontFunctions {
		field := fmt.Sprintf("cloudfrontFunctions[%q]", name)
		if f.Code == "" {
			return fieldErr(field+".code", "name the function's JavaScript file")
		}
		if f.Runtime != RuntimeJS2 {
			return fieldErr(field+".runtime", "%q: only %s is modelled", f.Runtime, RuntimeJS2)
		}
	}
	if d := c.DefaultRootObject; d != "" && (strings.HasPrefix(d, "/") || !validValue(d) || strings.ContainsAny(d, " ?#")) {
		return fieldErr("defaultRootObject", "want an object name such as index.html, got %q", d)
	}
	if err := c.checkErrorResponses(); err != nil {
		return err
	}
	return c.Origin.validate()
}

// checkFunctions validates a behavior's CloudFront Function associations.
func (c *Config) checkFunctions(field string, b *Behavior) error {
	for _, a := range []struct{ name, field string }{
		{b.ViewerRequestFunction, field + ".viewerRequestFunction"},
		{b.ViewerResponseFunction, field + ".viewerResponseFunction"},
	} {
		if a.name == "" {
			continue
		}
		if _, ok := c.CloudFrontFunctions[a.name]; !ok {
			return fieldErr(a.field, "no CloudFront Function %q in cloudfrontFunctions", a.name)
		}
	}
	// "You can't combine CloudFront Functions and Lambda@Edge in viewer
	// events (viewer request and viewer response)": either kind at either
	// viewer event rules out the other kind at both. (Lambda@Edge runs here
	// at viewer-request or origin-request only.)
	cfViewer := b.ViewerRequestFunction != "" || b.ViewerResponseFunction != ""
	if cfViewer && b.Function != "" && b.EventType == ViewerRequest {
		return fieldErr(field, "CloudFront does not combine CloudFront Functions and Lambda@Edge in viewer events "+
			"(\"Restrictions on all edge functions\"): move function %q to origin-request", b.Function)
	}
	return nil
}

// errorCodes are the statuses CloudFront can give a custom error response,
// and the codes it can answer with besides 200.
func errorCodes() []int { return []int{400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504} }

// checkErrorResponses validates the custom error responses.
func (c *Config) checkErrorResponses() error {
	seen := map[int]bool{}
	for i, e := range c.CustomErrorResponses {
		field := fmt.Sprintf("customErrorResponses[%d]", i)
		if !slices.Contains(errorCodes(), e.ErrorCode) {
			return fieldErr(field+".errorCode", "%d: CloudFront has custom error responses for %v only", e.ErrorCode, errorCodes())
		}
		if seen[e.ErrorCode] {
			return fieldErr(field+".errorCode", "%d appears twice", e.ErrorCode)
		}
		seen[e.ErrorCode] = true
		if (e.ResponsePagePath == "") != (e.ResponseCode == 0) {
			return fieldErr(field, "set responsePagePath and responseCode together, or neither")
		}
		if e.ResponseCode != 0 && e.ResponseCode != 200 && !slices.Contains(errorCodes(), e.ResponseCode) {
			return fieldErr(field+".responseCode", "%d: want 200 or one of %v", e.ResponseCode, errorCodes())
		}
		if p := e.ResponsePagePath; p != "" && (!strings.HasPrefix(p, "/") || !validValue(p) || strings.ContainsAny(p, " ?#")) {
			return fieldErr(field+".responsePagePath", "want a path such as /404.html, got %q", p)
		}
		if e.ErrorCachingMinTTL != nil && *e.ErrorCachingMinTTL < 0 {
			return fieldErr(field+".errorCachingMinTTL", "must not be negative")
		}
	}
	return nil
}

// customError returns the custom error response for a status, if any.
func (c *Config) customError(status int) *CustomErrorResponse {
	for i := range c.CustomErrorResponses {
		if c.CustomErrorResponses[i].ErrorCode == status {
			return &c.CustomErrorResponses[i]
		}
	}
	return nil
}

// checkPolicy validates a behavior's forwarding fields.
func (c *Config) checkPolicy(field string, b *Behavior) error {
	if b.EventType != OriginRequest {
		if b.hasPolicy() {
			return fieldErr(field, "forwardHeaders, forwardCookies and forwardQuery apply to %s behaviors only", OriginRequest)
		}
		return nil
	}
	for j, h := range b.ForwardHeaders {
		hf := fmt.Sprintf("%s.forwardHeaders[%d]", field, j)
		lower := strings.ToLower(h)
		switch {
		case h == "*":
		case !validToken(h):
			return fieldErr(hf, "%q is not a header name", h)
		case lower == "cookie":
			return fieldErr(hf, "cookies are forwarded by forwardCookies, not as a header")
		case isDisallowed(lower):
			return fieldErr(hf, "CloudFront never forwards %q", h)
		case lower == "host" && c.Origin.Dir != "":
			return fieldErr(hf, "a folder (S3) origin needs the bucket's own Host; forward the viewer's Host to a url origin only")
		}
	}
	if b.ForwardCookies.All && b.ForwardCookies.Names != nil {
		return fieldErr(field+".forwardCookies", "set all or names, not both")
	}
	for j, name := range b.ForwardCookies.Names {
		if !validToken(name) {
			return fieldErr(fmt.Sprintf("%s.forwardCookies[%d]", field, j), "%q is not a cookie name", name)
		}
	}
	return nil
}

// validDomain accepts a bare DNS name: letters, digits, hyphens and dots,
// no port, scheme or path.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func checkPattern(p string) error {
	if p == "" {
		return errors.New("must not be empty")
	}
	if len(p) > 255 {
		return errors.New("longer than CloudFront's 255 characters")
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			return fmt.Errorf("character %q not allowed", p[i])
		}
	}
	return nil
}

func (o Origin) validate() error {
	switch {
	case o.Dir != "" && o.URL != "":
		return fieldErr("origin", "set exactly one of dir and url, not both")
	case o.ListBucket && o.Dir == "":
		return fieldErr("origin.listBucket", "applies to a dir (S3) origin only")
	case o.Dir != "":
		fi, err := os.Stat(o.Dir)
		if err != nil {
			return fieldErr("origin.dir", "%v", err)
		}
		if !fi.IsDir() {
			return fieldErr("origin.dir", "%s is not a folder", o.Dir)
		}
	case o.URL != "":
		u, err := url.Parse(o.URL)
		if err != nil {
			return fieldErr("origin.url", "%v", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fieldErr("origin.url", "want an absolute http or https URL, got %q", o.URL)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fieldErr("origin.url", "must not carry a query, fragment or user info")
		}
	default:
		return fieldErr("origin", "set one of dir and url")
	}
	return nil
}

// timeout is the function time limit for a behavior.
func (c *Config) timeout(b *Behavior) time.Duration {
	if c.FunctionTimeout > 0 {
		return c.FunctionTimeout.Std()
	}
	if b.EventType == OriginRequest {
		return originTimeout
	}
	return viewerTimeout
}

// normalizePattern adds the leading slash CloudFront treats as optional.
func normalizePattern(p string) string {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "*") {
		return p
	}
	return "/" + p
}
