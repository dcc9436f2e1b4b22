package localedge

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/edgeauth/edgeauth/shared/edge"
)

func TestDirOrigin(t *testing.T) {
	// A symlink inside the bucket that points outside it must not be served.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(siteDir)); err != nil {
		t.Fatal(err)
	}
	outside, err := filepath.Abs("../../testdata/localedge/outside.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape.txt")); err != nil {
		t.Fatal(err)
	}
	cfg := dirConfig(ViewerRequest)
	cfg.Origin.Dir = dir
	env := newEdge(t, cfg, map[string]Function{"f": passThrough})

	tests := []struct {
		name     string
		method   string
		path     string
		wantCode int
		wantType string // prefix of Content-Type
		wantBody string // substring
	}{
		{"the bucket itself is no object", "GET", "/", 403, "application/xml", "AccessDenied"},
		{"index.html", "GET", "/index.html", 200, "text/html", "home page"},
		{"css by extension", "GET", "/style.css", 200, "text/css", "color"},
		{"json by extension", "GET", "/data.json", 200, "application/json", `"ok"`},
		{"no extension", "GET", "/LICENSE", 200, "binary/octet-stream", "plain bytes"},
		{"folder with slash is no object either", "GET", "/docs/", 403, "application/xml", "AccessDenied"},
		{"a folder's index is", "GET", "/docs/index.html", 200, "text/html", "docs index"},
		{"folder without slash is not an object", "GET", "/docs", 403, "application/xml", "AccessDenied"},
		{"missing key is 403 like private S3", "GET", "/nope.html", 403, "application/xml", "<Code>AccessDenied</Code>"},
		{"dot-dot", "GET", "/../outside.txt", 403, "application/xml", "AccessDenied"},
		{"encoded dot-dot", "GET", "/%2e%2e/outside.txt", 403, "application/xml", "AccessDenied"},
		{"encoded slash dot-dot", "GET", "/docs/..%2f..%2foutside.txt", 403, "application/xml", "AccessDenied"},
		{"symlink out of the bucket", "GET", "/escape.txt", 403, "application/xml", "AccessDenied"},
		{"POST is denied", "POST", "/index.html", 403, "application/xml", "AccessDenied"},
		{"HEAD has headers, no body", "HEAD", "/style.css", 200, "text/css", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := do(t, tt.method, env.srv.URL+tt.path, nil)
			if got.code != tt.wantCode {
				t.Fatalf("%s %s status = %d, want %d (body %q)", tt.method, tt.path, got.code, tt.wantCode, got.body)
			}
			if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("%s %s Content-Type = %q, want prefix %q", tt.method, tt.path, ct, tt.wantType)
			}
			if !strings.Contains(got.body, tt.wantBody) {
				t.Errorf("%s %s body = %q, want it to contain %q", tt.method, tt.path, got.body, tt.wantBody)
			}
			if strings.Contains(got.body, "must never be served") {
				t.Errorf("%s %s served a file outside the bucket", tt.method, tt.path)
			}
			if tt.method == "HEAD" && (got.body != "" || got.header.Get("Content-Length") == "") {
				t.Errorf("HEAD body = %q, Content-Length = %q; want empty body and a length", got.body, got.header.Get("Content-Length"))
			}
			if got.header.Get("X-Amz-Cf-Id") == "" {
				t.Errorf("no X-Amz-Cf-Id on the response")
			}
		})
	}
}

// TestUpstreamSeesReturnedRequest checks the origin gets exactly what the
// function returned: removed headers and cookies gone, added ones there,
// the rewritten uri and the raw querystring byte for byte.
func TestUpstreamSeesReturnedRequest(t *testing.T) {
	type seen struct {
		header     http.Header
		host       string
		requestURI string
	}
	got := make(chan seen, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Clone(), r.Host, r.RequestURI}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "from upstream")
	}))
	t.Cleanup(upstream.Close)

	fn := modify(func(r *edge.Request) {
		r.Headers.Del("authorization")
		r.DropCookies(func(name string) bool { return strings.HasPrefix(name, "edgeauth-") })
		r.Headers.Set("X-User", "alice")
		r.URI = "/backend" + r.URI
	})
	cfg := &Config{
		Behaviors: []Behavior{{PathPattern: "*", Function: "check-auth"}},
		Origin:    Origin{URL: upstream.URL + "/base"},
	}
	env := newEdge(t, cfg, map[string]Function{"check-auth": fn})

	resp := do(t, "GET", env.srv.URL+"/page?a=%2F&b", http.Header{
		"Authorization": {"Bearer secret-token"},
		"Cookie":        {"edgeauth-session=s1; theme=dark", "edgeauth-refresh=r1"},
		"Accept":        {"text/html"},
	})
	if resp.code != 200 || resp.body != "from upstream" {
		t.Fatalf("status %d body %q, want 200 from upstream", resp.code, resp.body)
	}
	if resp.header.Get("X-Cache") != "Miss from cloudfront" {
		t.Errorf("X-Cache = %q", resp.header.Get("X-Cache"))
	}
	s := <-got
	if s.requestURI != "/base/backend/page?a=%2F&b" {
		t.Errorf("origin request URI = %q, want %q", s.requestURI, "/base/backend/page?a=%2F&b")
	}
	if want := strings.TrimPrefix(env.srv.URL, "http://"); s.host != want {
		t.Errorf("origin Host = %q, want the viewer's %q", s.host, want)
	}
	if v := s.header.Values("Authorization"); len(v) != 0 {
		t.Errorf("origin saw Authorization %q", v)
	}
	if c := s.header.Values("Cookie"); !slices.Equal(c, []string{"theme=dark"}) {
		t.Errorf("origin Cookie = %q, want [theme=dark]", c)
	}
	if s.header.Get("X-User") != "alice" {
		t.Errorf("origin X-User = %q, want alice", s.header.Get("X-User"))
	}
	// Everything else the origin saw is the viewer's or CloudFront's own.
	allowed := []string{"Accept", "Accept-Encoding", "Cookie", "User-Agent", "Via", "X-Amz-Cf-Id", "X-Forwarded-For", "X-User"}
	for name := range s.header {
		if !slices.Contains(allowed, name) {
			t.Errorf("origin saw unexpected header %s", name)
		}
	}
	if s.header.Get("X-Amz-Cf-Id") != resp.header.Get("X-Amz-Cf-Id") {
		t.Errorf("origin X-Amz-Cf-Id %q differs from the viewer's %q", s.header.Get("X-Amz-Cf-Id"), resp.header.Get("X-Amz-Cf-Id"))
	}
	if s.header.Get("X-Forwarded-For") != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want 127.0.0.1", s.header.Get("X-Forwarded-For"))
	}
	line := env.logs.last(t)
	if line["decision"] != DecisionPass || line["status"] != float64(200) {
		t.Errorf("log line = %v, want decision pass, status 200", line)
	}
	if strings.Contains(env.logs.buf.String(), "secret-token") || strings.Contains(env.logs.buf.String(), "a=%2F") {
		t.Errorf("the log holds a token or a query string: %s", env.logs.buf.String())
	}
}

func TestUpstreamDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	cfg := &Config{Behaviors: []Behavior{{PathPattern: "*"}}, Origin: Origin{URL: url}}
	env := newEdge(t, cfg, nil)
	got := do(t, "GET", env.srv.URL+"/", nil)
	if got.code != http.StatusBadGateway {
		t.Fatalf("status = %d, want 502", got.code)
	}
	if line := env.logs.last(t); line["rule"] != RuleOrigin {
		t.Errorf("log rule = %v, want %s", line["rule"], RuleOrigin)
	}
}

// TestEventShape checks the event a function receives.
func TestEventShape(t *testing.T) {
	type capture struct {
		ev        edge.Event
		lambdaID  string
		hasCutoff bool
	}
	got := make(chan capture, 1)
	fn := func(ctx context.Context, ev edge.Event) (edge.Result, error) {
		c := capture{ev: ev}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			c.lambdaID = lc.AwsRequestID
		}
		_, c.hasCutoff = ctx.Deadline()
		got <- c
		return edge.Respond(edge.NewResponse(204, false)), nil
	}
	tests := []struct {
		eventType  string
		domainName string // config's domainName; "" keeps the default
		wantDomain string
	}{
		{ViewerRequest, "", DefaultDomainName},
		{OriginRequest, "", DefaultDomainName},
		{ViewerRequest, "d2222222222222.cloudfront.net", "d2222222222222.cloudfront.net"},
	}
	for _, tt := range tests {
		eventType := tt.eventType
		t.Run(eventType+"/"+tt.wantDomain, func(t *testing.T) {
			cfg := dirConfig(eventType)
			cfg.DistributionID = "ETEST123"
			cfg.DomainName = tt.domainName
			env := newEdge(t, cfg, map[string]Function{"f": fn})
			resp := do(t, "GET", env.srv.URL+"/a%20b/c?a=%2F&b", http.Header{
				"Cookie":            {"one=1", "two=2; three=3"},
				"Connection":        {"keep-alive"},
				"X-Forwarded-Proto": {"https"},
				"X-Custom":          {"x1", "x2"},
				"User-Agent":        {"test-browser"},
			})
			if resp.code != 204 {
				t.Fatalf("status = %d, want 204", resp.code)
			}
			c := <-got
			req, cfgGot, err := c.ev.Request()
			if err != nil {
				t.Fatal(err)
			}
			// CloudFront reports its own domain, whatever Host the viewer sent.
			if cfgGot.DistributionDomainName != tt.wantDomain || cfgGot.DistributionID != "ETEST123" || cfgGot.EventType != eventType {
				t.Errorf("config = %+v, want domain %s, id ETEST123, type %s", cfgGot, tt.wantDomain, eventType)
			}
			if len(cfgGot.RequestID) != 56 || cfgGot.RequestID != resp.header.Get("X-Amz-Cf-Id") {
				t.Errorf("requestId = %q (X-Amz-Cf-Id %q), want the same 56-character id", cfgGot.RequestID, resp.header.Get("X-Amz-Cf-Id"))
			}
			if c.lambdaID != cfgGot.RequestID {
				t.Errorf("lambdacontext AwsRequestID = %q, want requestId %q", c.lambdaID, cfgGot.RequestID)
			}
			if !c.hasCutoff {
				t.Error("function context has no deadline")
			}
			if req.URI != "/a%20b/c" || req.QueryString != "a=%2F&b" || req.Method != "GET" || req.ClientIP != "127.0.0.1" {
				t.Errorf("request = uri %q query %q method %q ip %q", req.URI, req.QueryString, req.Method, req.ClientIP)
			}
			for _, name := range []string{"connection", "x-forwarded-proto"} {
				if _, ok := req.Headers[name]; ok {
					t.Errorf("disallowed header %s was shown to the function", name)
				}
			}
			for name := range req.Headers {
				if name != strings.ToLower(name) {
					t.Errorf("header map key %q is not lowercase", name)
				}
			}
			if eventType == ViewerRequest {
				// The viewer's own request: every header, its Host.
				host := strings.TrimPrefix(env.srv.URL, "http://")
				if h := req.Headers["host"]; len(h) != 1 || h[0].Value != host || h[0].Key != "Host" {
					t.Errorf("host = %+v, want one entry %s", h, host)
				}
				if v := req.Headers.Values("cookie"); !slices.Equal(v, []string{"one=1", "two=2; three=3"}) {
					t.Errorf("cookie entries = %q, want two entries as sent", v)
				}
				if v := req.Headers.Values("x-custom"); !slices.Equal(v, []string{"x1", "x2"}) {
					t.Errorf("x-custom entries = %q", v)
				}
				if req.Origin != nil {
					t.Errorf("viewer-request event has an origin object")
				}
				return
			}
			// Origin request without policy fields: only what CloudFront
			// always sends, Host being the bucket's.
			if req.Origin == nil || req.Origin.S3 == nil || req.Origin.S3.DomainName != s3OriginDomain {
				t.Errorf("origin-request event has no S3 origin %s: %+v", s3OriginDomain, req.Origin)
			}
			if h := req.Headers["host"]; len(h) != 1 || h[0].Value != s3OriginDomain || h[0].Key != "Host" {
				t.Errorf("host = %+v, want one entry %s", h, s3OriginDomain)
			}
			if req.Headers.Get("user-agent") != "Amazon CloudFront" {
				t.Errorf("user-agent = %q, want CloudFront's own", req.Headers.Get("user-agent"))
			}
			if req.Headers.Get("via") == "" || req.Headers.Get("x-forwarded-for") != "127.0.0.1" {
				t.Errorf("origin-request event lacks via / x-forwarded-for: %v", req.Headers)
			}
			wantNames := []string{"host", "user-agent", "via", "x-forwarded-for"}
			if names := slices.Sorted(maps.Keys(req.Headers)); !slices.Equal(names, wantNames) {
				t.Errorf("origin-request headers = %q, want only %q", names, wantNames)
			}
		})
	}
}

func TestGeneratedResponse(t *testing.T) {
	redirect := edge.Redirect("https://idp.example/authorize?x=1", false)
	redirect.SetCookie(&http.Cookie{Name: "a", Value: "1"}).SetCookie(&http.Cookie{Name: "b", Value: "2"})
	png := []byte{0x89, 'P', 'N', 'G', 0, 1, 2}
	binary := edge.NewResponse(200, false)
	binary.Headers.Set("Content-Type", "image/png")
	binary.Headers.Set("Content-Length", "999") // the edge's to set, not the function's
	binary.Body, binary.BodyEncoding = base64.StdEncoding.EncodeToString(png), "base64"

	tests := []struct {
		name       string
		method     string
		resp       *edge.Response
		wantCode   int
		wantBody   string
		wantHeader map[string][]string
	}{
		{"redirect with two cookies", "GET", redirect, 302, "", map[string][]string{
			"Location":   {"https://idp.example/authorize?x=1"},
			"Set-Cookie": {"a=1", "b=2"},
		}},
		{"html page", "GET", edge.NewResponse(403, false).HTML("<p>no</p>"), 403, "<p>no</p>", map[string][]string{
			"Cache-Control": {edge.NoStore},
			"X-Cache":       {"LambdaGeneratedResponse from cloudfront"},
		}},
		{"base64 body is decoded", "GET", binary, 200, string(png), map[string][]string{"Content-Type": {"image/png"}}},
		{"HEAD gets no body", "HEAD", edge.NewResponse(401, false).Text("login"), 401, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEdge(t, dirConfig(ViewerRequest), map[string]Function{"f": respond(tt.resp)})
			got := do(t, tt.method, env.srv.URL+"/x", nil)
			if got.code != tt.wantCode || got.body != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", got.code, got.body, tt.wantCode, tt.wantBody)
			}
			for k, want := range tt.wantHeader {
				if v := got.header.Values(k); !slices.Equal(v, want) {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
			if line := env.logs.last(t); line["decision"] != DecisionGenerated || line["status"] != float64(tt.wantCode) {
				t.Errorf("log line = %v, want decision generated", line)
			}
		})
	}
}

// TestRuleBreaches runs each CloudFront rule a function can break and
// checks the viewer's status and the log line naming the rule.
func TestRuleBreaches(t *testing.T) {
	big := edge.NewResponse(200, false).Text(strings.Repeat("x", 41*1024))
	header := func(name string, h edge.Header) *edge.Response {
		r := edge.NewResponse(200, false)
		r.Headers[name] = []edge.Header{h}
		return r
	}
	withStatus := func(s string) *edge.Response { r := edge.NewResponse(200, false); r.Status = s; return r }
	withEncoding := func(body, enc string) *edge.Response {
		r := edge.NewResponse(200, false)
		r.Body, r.BodyEncoding = body, enc
		return r
	}

	tests := []struct {
		name      string
		eventType string
		fn        Function
		wantCode  int
		wantRule  string // "" means no breach
	}{
		{"status below 200", ViewerRequest, respond(withStatus("199")), 502, RuleStatus},
		{"status above 599", ViewerRequest, respond(withStatus("600")), 502, RuleStatus},
		{"status not a number", ViewerRequest, respond(withStatus("OK")), 502, RuleStatus},
		{"host changed", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Set("Host", "evil.example") }), 502, RuleReadOnlyHeader},
		{"host removed", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Del("host") }), 502, RuleReadOnlyHeader},
		{"content-length added", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Set("Content-Length", "5") }), 502, RuleReadOnlyHeader},
		{"via added", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Set("Via", "1.1 me") }), 502, RuleReadOnlyHeader},
		{"connection added", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Set("Connection", "close") }), 502, RuleDisallowed},
		{"x-amz-cf-* added", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Set("X-Amz-Cf-Pop", "x") }), 502, RuleDisallowed},
		{"x-edge-* added", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Set("X-Edge-Location", "x") }), 502, RuleDisallowed},
		{"x-forwarded-proto added", ViewerRequest, modify(func(r *edge.Request) { r.Headers.Set("X-Forwarded-Proto", "https") }), 502, RuleDisallowed},
		{"x-real-ip on a response", ViewerRequest, respond(header("x-real-ip", edge.Header{Value: "1.2.3.4"})), 502, RuleDisallowed},
		{"uppercase map key", ViewerRequest, respond(header("X-Thing", edge.Header{Value: "v"})), 502, RuleHeaderName},
		{"key does not match", ViewerRequest, respond(header("x-thing", edge.Header{Key: "X-Other", Value: "v"})), 502, RuleHeaderName},
		{"newline in a value", ViewerRequest, respond(header("x-thing", edge.Header{Value: "a\r\nSet-Cookie: x=1"})), 502, RuleHeaderValue},
		{"method changed", ViewerRequest, modify(func(r *edge.Request) { r.Method = "POST" }), 502, RuleReadOnlyField},
		{"clientIp changed", ViewerRequest, modify(func(r *edge.Request) { r.ClientIP = "10.0.0.1" }), 502, RuleReadOnlyField},
		{"uri without slash", ViewerRequest, modify(func(r *edge.Request) { r.URI = "index.html" }), 502, RuleURI},
		{"uri too long", ViewerRequest, modify(func(r *edge.Request) { r.URI = "/" + strings.Repeat("a", 8192) }), 502, RuleURI},
		{"body over 40 KB at viewer request", ViewerRequest, respond(big), 502, RuleResponseSize},
		{"body over 40 KB fits origin request", OriginRequest, respond(big), 200, ""},
		{"unknown bodyEncoding", ViewerRequest, respond(withEncoding("x", "gzip")), 502, RuleBodyEncoding},
		{"bad base64", ViewerRequest, respond(withEncoding("***", "base64")), 502, RuleBodyEncoding},
		{"neither request nor response", ViewerRequest, func(context.Context, edge.Event) (edge.Result, error) { return edge.Result{}, nil }, 502, RuleInvalidResult},
		{"function error", ViewerRequest, func(context.Context, edge.Event) (edge.Result, error) { return edge.Result{}, errors.New("bug") }, 503, RuleFunctionError},
		{"function panic", ViewerRequest, func(context.Context, edge.Event) (edge.Result, error) { panic("bug") }, 503, RuleFunctionError},
		{"host may change at origin request", OriginRequest, modify(func(r *edge.Request) { r.Headers.Set("Host", "other.example") }), 200, ""},
		{"accept-encoding is read-only at origin request", OriginRequest, modify(func(r *edge.Request) { r.Headers.Set("Accept-Encoding", "br") }), 502, RuleReadOnlyHeader},
		{"if-none-match is read-only at origin request", OriginRequest, modify(func(r *edge.Request) { r.Headers.Set("If-None-Match", `"x"`) }), 502, RuleReadOnlyHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEdge(t, dirConfig(tt.eventType), map[string]Function{"f": tt.fn})
			got := do(t, "GET", env.srv.URL+"/index.html", http.Header{"Accept-Encoding": {"gzip"}})
			if got.code != tt.wantCode {
				t.Fatalf("status = %d, want %d (body %q)", got.code, tt.wantCode, got.body)
			}
			line := env.logs.last(t)
			if tt.wantRule == "" {
				if _, ok := line["rule"]; ok || line["decision"] == DecisionError {
					t.Errorf("log line = %v, want no breach", line)
				}
				return
			}
			if line["rule"] != tt.wantRule || line["decision"] != DecisionError || line["status"] != float64(tt.wantCode) {
				t.Errorf("log line = %v, want rule %s, decision error, status %d", line, tt.wantRule, tt.wantCode)
			}
			if !strings.Contains(got.body, tt.wantRule) {
				t.Errorf("error page %q does not name rule %s", got.body, tt.wantRule)
			}
			if strings.Contains(got.body, "evil.example") || strings.Contains(got.body, "Set-Cookie") {
				t.Errorf("error page leaks a value: %q", got.body)
			}
		})
	}
}

// TestFunctionTimeout uses a function that ignores its context and blocks
// until the test ends; the viewer must get 503 once the limit passes.
func TestFunctionTimeout(t *testing.T) {
	release, returned := make(chan struct{}), make(chan struct{})
	fn := func(context.Context, edge.Event) (edge.Result, error) {
		defer close(returned)
		<-release
		return edge.Result{}, nil
	}
	cfg := dirConfig(ViewerRequest)
	cfg.FunctionTimeout = 1 // 1 ns: the deadline has passed as soon as it is set
	env := newEdge(t, cfg, map[string]Function{"f": fn})
	got := do(t, "GET", env.srv.URL+"/", nil)
	close(release)
	<-returned // the function did run, and stops before the test ends
	if got.code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", got.code)
	}
	if line := env.logs.last(t); line["rule"] != RuleFunctionTimeout {
		t.Errorf("log line = %v, want rule %s", line, RuleFunctionTimeout)
	}
	if got.header.Get("X-Cache") != "LambdaLimitExceeded from cloudfront" {
		t.Errorf("X-Cache = %q", got.header.Get("X-Cache"))
	}
}

func TestBehaviorOrder(t *testing.T) {
	named := func(name string) Function { return respond(edge.NewResponse(200, false).Text(name)) }
	cfg := &Config{
		Behaviors: []Behavior{
			{PathPattern: "/parseauth*", Function: "parse-callback"},
			{PathPattern: "public/*"}, // no function, and no leading slash
			{PathPattern: "*", Function: "check-auth"},
		},
		Origin: Origin{Dir: siteDir},
	}
	env := newEdge(t, cfg, map[string]Function{"parse-callback": named("parse"), "check-auth": named("check")})
	for path, want := range map[string]string{
		"/parseauth?code=1": "parse",
		"/parseauthx":       "parse",
		"/ParseAuth":        "check", // case-sensitive
		"/x/parseauth":      "check",
		"/":                 "check",
	} {
		if got := do(t, "GET", env.srv.URL+path, nil); got.body != want {
			t.Errorf("GET %s answered by %q, want %q", path, got.body, want)
		}
	}
	// The function-less behavior goes straight to the origin.
	if got := do(t, "GET", env.srv.URL+"/public/x", nil); got.code != 403 || !strings.Contains(got.body, "AccessDenied") {
		t.Errorf("GET /public/x = %d %q, want the origin's 403", got.code, got.body)
	}
	if line := env.logs.last(t); line["behavior"] != "/public/*" || line["function"] != "" {
		t.Errorf("log line = %v, want behavior /public/* without function", line)
	}
}

// fakeInvoker is an Invoker answering with fixed bytes or an error.
type fakeInvoker struct {
	out []byte
	err error
}

func (f fakeInvoker) Invoke(context.Context, []byte) ([]byte, error) { return f.out, f.err }

func TestRemote(t *testing.T) {
	tests := []struct {
		name     string
		inv      fakeInvoker
		wantCode int
		wantRule string
	}{
		{"generated response", fakeInvoker{out: []byte(`{"status":"418","body":"teapot"}`)}, 418, ""},
		{"passed request", fakeInvoker{out: []byte(`{"clientIp":"127.0.0.1","method":"GET","uri":"/","querystring":"","headers":{}}`)}, 502, RuleReadOnlyHeader},
		{"numeric status", fakeInvoker{out: []byte(`{"status":200}`)}, 502, RuleInvalidResult},
		{"not JSON", fakeInvoker{out: []byte(`{"status":`)}, 502, RuleInvalidResult},
		{"function error", fakeInvoker{err: errors.New("Runtime.ExitError")}, 503, RuleFunctionError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEdge(t, dirConfig(ViewerRequest), map[string]Function{"f": Remote(tt.inv)})
			got := do(t, "GET", env.srv.URL+"/", nil)
			if got.code != tt.wantCode {
				t.Fatalf("status = %d, want %d (%q)", got.code, tt.wantCode, got.body)
			}
			if line := env.logs.last(t); tt.wantRule != "" && line["rule"] != tt.wantRule {
				t.Errorf("log rule = %v, want %s", line["rule"], tt.wantRule)
			}
		})
	}
}
