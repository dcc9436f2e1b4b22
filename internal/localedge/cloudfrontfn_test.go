package localedge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// jsFile writes CloudFront Function code to a file and returns its path.
func jsFile(t *testing.T, code string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fn.js")
	if err := os.WriteFile(p, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withViewerFunction is dirConfig(OriginRequest) with code at
// viewer-request, forwarding what the tests look at.
func withViewerFunction(t *testing.T, code string) *Config {
	cfg := dirConfig(OriginRequest)
	cfg.CloudFrontFunctions = map[string]CloudFrontFunction{"viewer": {Code: jsFile(t, code)}}
	cfg.Behaviors[0].ViewerRequestFunction = "viewer"
	cfg.Behaviors[0].ForwardHeaders = []string{"X-Seen"}
	cfg.Behaviors[0].ForwardCookies = CookieForwarding{All: true}
	return cfg
}

// TestViewerRequestFunctionRules runs CloudFront Function code at
// viewer-request and checks the answer CloudFront would give: what it
// generates, what it passes on, and, for what CloudFront refuses, 502
// FunctionValidationError or 503 FunctionExecutionError naming the rule.
func TestViewerRequestFunctionRules(t *testing.T) {
	big := strings.Repeat("x", 41*1024)
	tests := []struct {
		name       string
		code       string
		path       string
		wantCode   int
		wantRule   string
		wantXCache string
		wantBody   string
	}{
		{"a generated redirect", `function handler(e) { return {statusCode: 302, statusDescription: 'Found', headers: {location: {value: '/login'}}, cookies: {a: {value: '1', attributes: 'Path=/'}}}; }`,
			"/x", 302, "", "FunctionGeneratedResponse from cloudfront", ""},
		{"a generated page", `function handler(e) { return {statusCode: 403, headers: {'content-type': {value: 'text/plain'}}, body: 'no'}; }`,
			"/x", 403, "", "FunctionGeneratedResponse from cloudfront", "no"},
		{"a base64 body", `function handler(e) { return {statusCode: 200, body: {data: 'aGk=', encoding: 'base64'}}; }`,
			"/x", 200, "", "FunctionGeneratedResponse from cloudfront", "hi"},
		{"the uri rewritten", `function handler(e) { e.request.uri = '/docs/index.html'; return e.request; }`,
			"/docs/", 200, "", "Miss from cloudfront", "docs index"},
		{"the request passed on", `function handler(e) { return e.request; }`,
			"/index.html", 200, "", "Miss from cloudfront", "home page"},
		{"host changed", `function handler(e) { e.request.headers.host = {value: 'evil.example'}; return e.request; }`,
			"/", 502, RuleReadOnlyHeader, "FunctionValidationError from cloudfront", ""},
		{"host removed", `function handler(e) { delete e.request.headers.host; return e.request; }`,
			"/", 502, RuleReadOnlyHeader, "FunctionValidationError from cloudfront", ""},
		{"cdn-loop added", `function handler(e) { e.request.headers['cdn-loop'] = {value: 'x'}; return e.request; }`,
			"/", 502, RuleReadOnlyHeader, "FunctionValidationError from cloudfront", ""},
		{"via added", `function handler(e) { e.request.headers.via = {value: '1.1 me'}; return e.request; }`,
			"/", 502, RuleReadOnlyHeader, "FunctionValidationError from cloudfront", ""},
		{"a disallowed header added", `function handler(e) { e.request.headers['x-forwarded-proto'] = {value: 'https'}; return e.request; }`,
			"/", 502, RuleDisallowed, "FunctionValidationError from cloudfront", ""},
		{"an uppercase header name", `function handler(e) { e.request.headers['X-Thing'] = {value: 'v'}; return e.request; }`,
			"/", 502, RuleHeaderName, "FunctionValidationError from cloudfront", ""},
		{"a newline in a value", `function handler(e) { e.request.headers['x-thing'] = {value: 'a\r\nb'}; return e.request; }`,
			"/", 502, RuleHeaderValue, "FunctionValidationError from cloudfront", ""},
		{"method changed", `function handler(e) { e.request.method = 'POST'; return e.request; }`,
			"/", 502, RuleReadOnlyField, "FunctionValidationError from cloudfront", ""},
		{"uri without a slash", `function handler(e) { e.request.uri = 'index.html'; return e.request; }`,
			"/", 502, RuleURI, "FunctionValidationError from cloudfront", ""},
		{"a space in the query", `function handler(e) { e.request.querystring.q = {value: 'a b'}; return e.request; }`,
			"/", 502, RuleURI, "FunctionValidationError from cloudfront", ""},
		{"status out of range", `function handler(e) { return {statusCode: 700}; }`,
			"/", 502, RuleStatus, "FunctionValidationError from cloudfront", ""},
		{"status a string", `function handler(e) { return {statusCode: '200'}; }`,
			"/", 502, RuleInvalidResult, "FunctionValidationError from cloudfront", ""},
		{"204 with a body", `function handler(e) { return {statusCode: 204, body: 'x'}; }`,
			"/", 502, RuleStatus, "FunctionValidationError from cloudfront", ""},
		{"a body over 40 KB", `function handler(e) { return {statusCode: 200, body: '` + big + `'.slice(0)}; }`,
			"/", 502, RuleResponseSize, "FunctionValidationError from cloudfront", ""},
		{"a throw", `function handler(e) { throw new Error('boom'); }`,
			"/", 503, RuleFunctionError, "FunctionExecutionError from cloudfront", ""},
		{"a runaway loop", `function handler(e) { for (;;) {} }`,
			"/", 503, RuleComputeBudget, "FunctionExecutionError from cloudfront", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := withViewerFunction(t, tt.code)
			cfg.FunctionTimeout = config.Duration(50 * time.Millisecond)
			if strings.Contains(tt.code, big) {
				// The generated body is past the 10 KB code quota when
				// inlined: build it at run time instead.
				cfg.CloudFrontFunctions["viewer"] = CloudFrontFunction{Code: jsFile(t,
					`function handler(e) { return {statusCode: 200, body: 'x'.repeat(41 * 1024)}; }`)}
			}
			env := newEdge(t, cfg, map[string]Function{"f": passThrough})
			got := do(t, "GET", env.srv.URL+tt.path, nil)
			if got.code != tt.wantCode || got.header.Get("X-Cache") != tt.wantXCache || !strings.Contains(got.body, tt.wantBody) {
				t.Fatalf("got %d, X-Cache %q, body %q; want %d, %q, %q", got.code, got.header.Get("X-Cache"), got.body, tt.wantCode, tt.wantXCache, tt.wantBody)
			}
			line := env.logs.last(t)
			if tt.wantRule == "" {
				if line["decision"] == DecisionError {
					t.Errorf("log line = %v, want no breach", line)
				}
				return
			}
			if line["rule"] != tt.wantRule || line["decision"] != DecisionError {
				t.Errorf("log line = %v, want rule %s", line, tt.wantRule)
			}
			if !strings.Contains(got.body, tt.wantRule) || !strings.Contains(got.body, "CloudFront Function") {
				t.Errorf("error page %q does not name rule %s", got.body, tt.wantRule)
			}
		})
	}
}

// TestViewerRequestFunctionChanges: what the function changes reaches the
// origin-request function; what it leaves alone goes on byte for byte.
func TestViewerRequestFunctionChanges(t *testing.T) {
	got := make(chan *edge.Request, 1)
	cfg := withViewerFunction(t, `function handler(e) {
  var r = e.request;
  if (r.uri === '/change/') {
    r.querystring.added = {value: '1'};
    r.cookies.theme = {value: 'dark'};
    delete r.cookies.gone;
    r.headers['x-seen'] = {value: r.headers.accept.value};
  }
  return r;
}`)
	cfg.Behaviors[0].ForwardHeaders = []string{"X-Seen", "Accept"}
	env := newEdge(t, cfg, map[string]Function{"f": capture(got)})

	do(t, "GET", env.srv.URL+"/same?a=%2F&b&a=2", http.Header{"Cookie": {"gone=1; keep=2", "keep=3"}, "Accept": {"text/html"}})
	r := <-got
	if r.URI != "/same" || r.QueryString != "a=%2F&b&a=2" {
		t.Errorf("unchanged request: uri %q query %q, want them as sent", r.URI, r.QueryString)
	}
	if c := r.Headers.Values("cookie"); !slices.Equal(c, []string{"gone=1; keep=2", "keep=3"}) {
		t.Errorf("unchanged cookies = %q, want the viewer's lines", c)
	}

	do(t, "GET", env.srv.URL+"/change/?z=9&a=1", http.Header{"Cookie": {"gone=1; keep=2"}, "Accept": {"text/html"}})
	r = <-got
	if r.URI != "/change/" || r.QueryString != "z=9&a=1&added=1" {
		t.Errorf("changed request: uri %q query %q, want the function's order", r.URI, r.QueryString)
	}
	if c := r.Cookies(); len(c) != 2 || c[0] != (edge.Cookie{Name: "keep", Value: "2"}) || c[1] != (edge.Cookie{Name: "theme", Value: "dark"}) {
		t.Errorf("changed cookies = %v", c)
	}
	if r.Headers.Get("x-seen") != "text/html" {
		t.Errorf("x-seen = %q", r.Headers.Get("x-seen"))
	}
}

// TestViewerRequestEventRepeats: a repeated query parameter, header or
// cookie reaches the function as CloudFront shows it, the first in value
// and every one, in order, in multiValue.
func TestViewerRequestEventRepeats(t *testing.T) {
	got := make(chan *edge.Request, 1)
	cfg := withViewerFunction(t, `function handler(e) {
  var r = e.request;
  r.headers['x-seen'] = {value: JSON.stringify([r.querystring.a, r.querystring.b, r.headers.accept, r.cookies.keep])};
  return r;
}`)
	env := newEdge(t, cfg, map[string]Function{"f": capture(got)})
	do(t, "GET", env.srv.URL+"/x?a=%2F&b&a=2", http.Header{"Cookie": {"gone=1; keep=2", "keep=3"}, "Accept": {"text/html", "*/*"}})
	r := <-got
	want := `[{"value":"%2F","multiValue":[{"value":"%2F"},{"value":"2"}]},{"value":""},` +
		`{"value":"text/html","multiValue":[{"value":"text/html"},{"value":"*/*"}]},` +
		`{"value":"2","multiValue":[{"value":"2"},{"value":"3"}]}]`
	if s := r.Headers.Get("x-seen"); s != want {
		t.Errorf("the function saw\n%s\nwant\n%s", s, want)
	}
}

// TestCombinedViewerFunctionsRefused: CloudFront does not combine
// CloudFront Functions and Lambda@Edge in viewer events, whichever viewer
// event each is at ("Restrictions on all edge functions"); a Lambda@Edge
// function at origin-request beside them is allowed.
func TestCombinedViewerFunctionsRefused(t *testing.T) {
	for _, tt := range []struct {
		cf, lambda string
		refused    bool
	}{
		{ViewerRequest, ViewerRequest, true},
		{ViewerResponse, ViewerRequest, true},
		{ViewerRequest, OriginRequest, false},
		{ViewerResponse, OriginRequest, false},
	} {
		cfg := dirConfig(tt.lambda)
		cfg.CloudFrontFunctions = map[string]CloudFrontFunction{"viewer": {Code: viewerRequestJS}}
		if tt.cf == ViewerRequest {
			cfg.Behaviors[0].ViewerRequestFunction = "viewer"
		} else {
			cfg.Behaviors[0].ViewerResponseFunction = "viewer"
		}
		s, err := New(cfg, map[string]Function{"f": passThrough}, nil)
		if s != nil {
			_ = s.Close()
		}
		refused := errors.Is(err, ErrInvalidConfig) && strings.Contains(err.Error(), "does not combine")
		if refused != tt.refused {
			t.Errorf("CloudFront Function at %s, Lambda@Edge at %s: New = %v, want refused %v", tt.cf, tt.lambda, err, tt.refused)
		}
	}
}

func TestCloudFrontFunctionConfigErrors(t *testing.T) {
	large := jsFile(t, "function handler(e) { return e.request; }\n//"+strings.Repeat("x", 10*1024))
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"unknown function", func(c *Config) { c.Behaviors[0].ViewerRequestFunction = "nope" }, `behaviors[0].viewerRequestFunction: no CloudFront Function "nope"`},
		{"runtime 1.0", func(c *Config) {
			c.CloudFrontFunctions["viewer"] = CloudFrontFunction{Code: viewerRequestJS, Runtime: "cloudfront-js-1.0"}
		}, `cloudfrontFunctions["viewer"].runtime`},
		{"no code", func(c *Config) { c.CloudFrontFunctions["viewer"] = CloudFrontFunction{} }, `cloudfrontFunctions["viewer"].code`},
		{"missing file", func(c *Config) { c.CloudFrontFunctions["viewer"] = CloudFrontFunction{Code: "/nope.js"} }, `cloudfrontFunctions["viewer"].code`},
		{"over the 10 KB quota", func(c *Config) { c.CloudFrontFunctions["viewer"] = CloudFrontFunction{Code: large} }, "10 KB quota"},
		{"undocumented syntax", func(c *Config) {
			c.CloudFrontFunctions["viewer"] = CloudFrontFunction{Code: jsFile(t, "function handler(e) { return e.request?.uri; }")}
		}, "optional chaining"},
		{"bad key value store", func(c *Config) {
			c.CloudFrontFunctions["viewer"] = CloudFrontFunction{Code: viewerRequestJS, KeyValueStore: jsFile(t, `{"k":"v"}`)}
		}, `cloudfrontFunctions["viewer"].keyValueStore`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := dirConfig(OriginRequest)
			cfg.CloudFrontFunctions = map[string]CloudFrontFunction{"viewer": {Code: viewerRequestJS}}
			cfg.Behaviors[0].ViewerRequestFunction = "viewer"
			tt.edit(cfg)
			_, err := New(cfg, map[string]Function{"f": passThrough}, nil)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestKeyValueStoreThroughTheEdge: a function reads its store file.
func TestKeyValueStoreThroughTheEdge(t *testing.T) {
	cfg := dirConfig(OriginRequest)
	kvs := filepath.Join(t.TempDir(), "kvs.json")
	if err := os.WriteFile(kvs, []byte(`{"data":[{"key":"greeting","value":"hello"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.CloudFrontFunctions = map[string]CloudFrontFunction{"viewer": {KeyValueStore: kvs, Code: jsFile(t, `import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(e) {
  return {statusCode: 200, body: await kvs.get('greeting')};
}`)}}
	cfg.Behaviors[0].ViewerRequestFunction = "viewer"
	env := newEdge(t, cfg, map[string]Function{"f": passThrough})
	if got := do(t, "GET", env.srv.URL+"/", nil); got.code != 200 || got.body != "hello" {
		t.Errorf("got %d %q, want the store's value", got.code, got.body)
	}
}

// TestViewerResponseFunction: it sees the response after the policy, may
// change headers and body, and does not run for an origin's error, a
// custom error page or a response a viewer-request function generated.
func TestViewerResponseFunction(t *testing.T) {
	cfg := dirConfig(OriginRequest)
	cfg.CloudFrontFunctions = map[string]CloudFrontFunction{
		"response": {Code: jsFile(t, `function handler(e) {
  var r = e.response;
  r.headers['x-from-policy'] = {value: String(!!r.headers['x-policy'])};
  r.headers['x-status'] = {value: String(r.statusCode)};
  if (e.request.uri === '/style.css') r.body = 'replaced';
  if (e.request.uri === '/data.json') r.headers.via = {value: 'changed'};
  return r;
}`)},
		"request": {Code: jsFile(t, `function handler(e) {
  if (e.request.uri === '/gen') return {statusCode: 200, body: 'generated'};
  return e.request;
}`)},
	}
	b := &cfg.Behaviors[0]
	b.ViewerRequestFunction, b.ViewerResponseFunction = "request", "response"
	b.ResponseHeadersPolicy = &ResponseHeadersPolicy{CustomHeaders: []CustomHeader{{Header: "X-Policy", Value: "1"}}}
	env := newEdge(t, cfg, map[string]Function{"f": passThrough})

	got := do(t, "GET", env.srv.URL+"/index.html", nil)
	if got.code != 200 || got.header.Get("X-Status") != "200" || got.header.Get("X-From-Policy") != "true" || !strings.Contains(got.body, "home page") {
		t.Errorf("index: %d %v %q, want the function's headers on the origin's body", got.code, got.header, got.body)
	}
	if got.header.Get("Content-Length") == "" || got.header.Get("X-Amz-Cf-Id") == "" {
		t.Errorf("index lost the edge's headers: %v", got.header)
	}
	if got := do(t, "GET", env.srv.URL+"/style.css", nil); got.body != "replaced" {
		t.Errorf("style.css body = %q, want the function's", got.body)
	}
	if got := do(t, "GET", env.srv.URL+"/nope", nil); got.code != 403 || got.header.Get("X-Status") != "" {
		t.Errorf("an origin error: %d, X-Status %q; want the 403 without the function", got.code, got.header.Get("X-Status"))
	}
	if got := do(t, "GET", env.srv.URL+"/gen", nil); got.body != "generated" || got.header.Get("X-Status") != "" || got.header.Get("X-Policy") != "1" {
		t.Errorf("a viewer-request response: %q %v; want it without the function, with the policy", got.body, got.header)
	}
	if got := do(t, "GET", env.srv.URL+"/data.json", nil); got.code != 502 || got.header.Get("X-Cache") != "FunctionValidationError from cloudfront" {
		t.Errorf("via changed: %d %q, want 502 FunctionValidationError", got.code, got.header.Get("X-Cache"))
	}
}

// countingOrigin is an upstream answering /obj with Cache-Control and
// counting the requests that reach it.
func countingOrigin(t *testing.T, cacheControl string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		w.Header().Set("X-Powered-By", "origin")
		_, _ = io.WriteString(w, "object")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestResponseHeadersPolicy: custom headers with and without Override,
// security headers, removals, on answers from the origin and from the
// cache; the cache keeps what the origin sent, as CloudFront's does.
func TestResponseHeadersPolicy(t *testing.T) {
	origin, hits := countingOrigin(t, "max-age=60")
	policy := &ResponseHeadersPolicy{
		CustomHeaders: []CustomHeader{
			{Header: "Cache-Control", Value: "private, no-cache", Override: false},
			{Header: "X-Frame", Value: "policy", Override: true},
		},
		RemoveHeaders: []string{"X-Powered-By"},
	}
	policy.SecurityHeaders = &SecurityHeaders{}
	policy.SecurityHeaders.ContentTypeOptions = &struct {
		Override bool `json:"override"`
	}{Override: true}
	cfg := &Config{
		Behaviors: []Behavior{{PathPattern: "*", Cache: &CachePolicy{MaxTTL: config.Duration(time.Hour), DefaultTTL: config.Duration(time.Minute)},
			ResponseHeadersPolicy: policy}},
		Origin: Origin{URL: origin.URL},
	}
	env := newEdge(t, cfg, nil)
	for i, wantXCache := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		got := do(t, "GET", env.srv.URL+"/obj", nil)
		if got.header.Get("X-Cache") != wantXCache {
			t.Fatalf("request %d: X-Cache %q, want %q (the origin's max-age=60 decides the cache, not the policy)", i, got.header.Get("X-Cache"), wantXCache)
		}
		if cc := got.header.Values("Cache-Control"); !slices.Equal(cc, []string{"max-age=60"}) {
			t.Errorf("request %d: Cache-Control %q, want the origin's (Override false)", i, cc)
		}
		if got.header.Get("X-Frame") != "policy" || got.header.Get("X-Content-Type-Options") != "nosniff" || got.header.Get("X-Powered-By") != "" {
			t.Errorf("request %d: headers %v, want the policy's added and X-Powered-By removed", i, got.header)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("origin reached %d times, want 1", hits.Load())
	}

	// Without a Cache-Control from the origin the policy's is added; the
	// cache still keeps the object for the default TTL.
	bare, bareHits := countingOrigin(t, "")
	cfg.Origin.URL = bare.URL
	env = newEdge(t, cfg, nil)
	for i := range 2 {
		got := do(t, "GET", env.srv.URL+"/obj", nil)
		if cc := got.header.Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("request %d: Cache-Control %q, want the policy's", i, cc)
		}
	}
	if bareHits.Load() != 1 {
		t.Errorf("bare origin reached %d times, want 1: private, no-cache is for browsers, not CloudFront's cache", bareHits.Load())
	}
}

func TestResponseHeadersPolicyErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		p    ResponseHeadersPolicy
		want string
	}{
		"remove Content-Length": {ResponseHeadersPolicy{RemoveHeaders: []string{"Content-Length"}}, "removeHeaders[0]"},
		"remove X-Amz-Cf-Pop":   {ResponseHeadersPolicy{RemoveHeaders: []string{"X-Amz-Cf-Pop"}}, "removeHeaders[0]"},
		"bad header name":       {ResponseHeadersPolicy{CustomHeaders: []CustomHeader{{Header: "a b", Value: "v"}}}, "customHeaders[0].header"},
		"set X-Cache":           {ResponseHeadersPolicy{CustomHeaders: []CustomHeader{{Header: "X-Cache", Value: "v"}}}, "customHeaders[0].header"},
		"remove X-Real-IP":      {ResponseHeadersPolicy{RemoveHeaders: []string{"X-Real-IP"}}, "removeHeaders[0]"},
		"set Warning":           {ResponseHeadersPolicy{CustomHeaders: []CustomHeader{{Header: "Warning", Value: "v"}}}, "customHeaders[0].header"},
		"value too long":        {ResponseHeadersPolicy{CustomHeaders: []CustomHeader{{Header: "X-A", Value: strings.Repeat("v", 1784)}}}, "customHeaders[0].value"},
		"eleven headers": {ResponseHeadersPolicy{CustomHeaders: slices.Repeat([]CustomHeader{{Header: "X-A", Value: "v"}}, 11)},
			"customHeaders: 11 headers"},
	} {
		cfg := dirConfig(OriginRequest)
		p := tt.p
		cfg.Behaviors[0].ResponseHeadersPolicy = &p
		cfg.applyDefaults()
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want %q", name, err, tt.want)
		}
	}
}

// errorPageSite is a bucket with a 404 page, listed (s3:ListBucket granted).
func errorPageSite(t *testing.T) string {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(siteDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "404.html"), []byte("<h1>Page not found</h1>"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCustomErrorResponses: S3's 404 for a missing key becomes the page
// with the configured status; the page is fetched through its own behavior,
// which runs no viewer-request function; a CloudFront Function's generated
// error keeps its own body; the page is cached for the error-caching TTL;
// a missing page gives the page origin's answer.
func TestCustomErrorResponses(t *testing.T) {
	var calls atomic.Int64
	check := func(ctx context.Context, ev edge.Event) (edge.Result, error) {
		calls.Add(1)
		req, _, _ := ev.Request()
		if req.URI == "/denied" {
			return edge.Respond(edge.NewResponse(404, false).HTML("<p>the function's own 404</p>")), nil
		}
		return edge.Continue(req), nil
	}
	ttl := config.Duration(30 * time.Second)
	cfg := &Config{
		CloudFrontFunctions: map[string]CloudFrontFunction{
			// Would break the page's fetch if it ran there.
			"fail": {Code: jsFile(t, "function handler(e) { throw new Error('never on an error page fetch'); }")},
			"gen":  {Code: jsFile(t, "function handler(e) { if (e.request.uri === '/gen404') return {statusCode: 404, body: 'generated 404'}; return e.request; }")},
		},
		Behaviors: []Behavior{
			{PathPattern: "/404.html", ViewerRequestFunction: "fail"},
			{PathPattern: "*", Function: "check-auth", EventType: OriginRequest, ViewerRequestFunction: "gen",
				Cache: &CachePolicy{MaxTTL: config.Duration(time.Hour)}},
		},
		Origin:               Origin{Dir: errorPageSite(t), ListBucket: true},
		CustomErrorResponses: []CustomErrorResponse{{ErrorCode: 404, ResponsePagePath: "/404.html", ResponseCode: 404, ErrorCachingMinTTL: &ttl}},
	}
	env := newEdge(t, cfg, map[string]Function{"check-auth": check})

	got := do(t, "GET", env.srv.URL+"/missing.html", nil)
	if got.code != 404 || !strings.Contains(got.body, "Page not found") || strings.Contains(got.body, "NoSuchKey") {
		t.Fatalf("missing key: %d %q, want the 404 page", got.code, got.body)
	}
	if line := env.logs.last(t); line["error_page"] != "/404.html" || line["origin_status"] != float64(404) {
		t.Errorf("log line = %v, want the error page and the origin's status", line)
	}
	before := calls.Load()
	if got := do(t, "GET", env.srv.URL+"/missing.html", nil); got.code != 404 || got.header.Get("X-Cache") != "Hit from cloudfront" || !strings.Contains(got.body, "Page not found") {
		t.Errorf("again: %d %q %q, want the cached page", got.code, got.header.Get("X-Cache"), got.body)
	}
	if calls.Load() != before {
		t.Errorf("the cached error page ran the function again")
	}
	// A Lambda@Edge answer with the status is replaced too: AWS's
	// documentation exempts CloudFront Functions only.
	if got := do(t, "GET", env.srv.URL+"/denied", nil); got.code != 404 || !strings.Contains(got.body, "Page not found") {
		t.Errorf("a Lambda@Edge 404: %d %q, want the custom error page", got.code, got.body)
	}
	if got := do(t, "GET", env.srv.URL+"/gen404", nil); got.code != 404 || got.body != "generated 404" {
		t.Errorf("a CloudFront Function's 404: %d %q, want its own body", got.code, got.body)
	}
	// Without the page, the viewer gets what the page's origin answered.
	if err := os.Remove(filepath.Join(cfg.Origin.Dir, "404.html")); err != nil {
		t.Fatal(err)
	}
	if got := do(t, "GET", env.srv.URL+"/also-missing.html", nil); got.code != 404 || !strings.Contains(got.body, "NoSuchKey") {
		t.Errorf("no page: %d %q, want the page origin's NoSuchKey", got.code, got.body)
	}
}

// TestCustomErrorResponseSkipsLimitExceeded: CloudFront answers a limit
// exceeded with its 503 whatever the custom error responses say.
func TestCustomErrorResponseSkipsLimitExceeded(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	cfg := &Config{
		Behaviors:            []Behavior{{PathPattern: "*", Function: "slow"}},
		Origin:               Origin{Dir: errorPageSite(t)},
		CustomErrorResponses: []CustomErrorResponse{{ErrorCode: 503, ResponsePagePath: "/404.html", ResponseCode: 200}},
		FunctionTimeout:      1,
	}
	env := newEdge(t, cfg, map[string]Function{"slow": func(context.Context, edge.Event) (edge.Result, error) {
		<-block
		return edge.Result{}, nil
	}})
	if got := do(t, "GET", env.srv.URL+"/", nil); got.code != 503 || strings.Contains(got.body, "Page not found") {
		t.Errorf("timeout: %d %q, want CloudFront's own 503", got.code, got.body)
	}
}

func TestCustomErrorResponseConfigErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		c    CustomErrorResponse
		want string
	}{
		"401 has none":       {CustomErrorResponse{ErrorCode: 401}, "customErrorResponses[0].errorCode"},
		"page without code":  {CustomErrorResponse{ErrorCode: 404, ResponsePagePath: "/404.html"}, "together"},
		"code without page":  {CustomErrorResponse{ErrorCode: 404, ResponseCode: 404}, "together"},
		"relative page path": {CustomErrorResponse{ErrorCode: 404, ResponsePagePath: "404.html", ResponseCode: 404}, "responsePagePath"},
		"odd response code":  {CustomErrorResponse{ErrorCode: 404, ResponsePagePath: "/x", ResponseCode: 302}, "responseCode"},
	} {
		cfg := dirConfig(OriginRequest)
		cfg.CustomErrorResponses = []CustomErrorResponse{tt.c}
		cfg.applyDefaults()
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want %q", name, err, tt.want)
		}
	}
}

// TestListBucketAndRootObject: with s3:ListBucket a missing key is 404 and
// the bucket itself lists its keys, which the default root object keeps a
// viewer from reaching.
func TestListBucketAndRootObject(t *testing.T) {
	cfg := &Config{Behaviors: []Behavior{{PathPattern: "*"}}, Origin: Origin{Dir: siteDir, ListBucket: true}}
	env := newEdge(t, cfg, nil)
	if got := do(t, "GET", env.srv.URL+"/nope.html", nil); got.code != 404 || !strings.Contains(got.body, "<Code>NoSuchKey</Code>") {
		t.Errorf("missing key: %d %q, want 404 NoSuchKey", got.code, got.body)
	}
	if got := do(t, "GET", env.srv.URL+"/", nil); got.code != 200 || !strings.Contains(got.body, "<Key>docs/index.html</Key>") {
		t.Errorf("the bucket: %d %q, want its listing", got.code, got.body)
	}
	cfg.DefaultRootObject = "index.html"
	env = newEdge(t, cfg, nil)
	if got := do(t, "GET", env.srv.URL+"/", nil); got.code != 200 || !strings.Contains(got.body, "home page") {
		t.Errorf("with a default root object: %d %q, want index.html", got.code, got.body)
	}
	bad := &Config{Behaviors: []Behavior{{PathPattern: "*"}}, Origin: Origin{URL: "http://127.0.0.1:1", ListBucket: true}}
	bad.applyDefaults()
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "origin.listBucket") {
		t.Errorf("listBucket on a URL origin: %v", err)
	}
}
