package deploy_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/shared/config"
)

// TestLocalEdgeMatchesTemplate keeps the local edge configs of the demo
// equal to what template.yaml deploys with its default parameters: the same
// behaviors, functions and event types, the same CloudFront Function code,
// cache key and TTL bounds, forwarding, response headers policy, custom
// error responses, default root object and bucket permissions. The
// end-to-end tests that run through them then say something about the
// template. testdata/demo/localedge.json (make run's) is the template with
// its defaults; localedge-aws.json differs on purpose in one value, checked
// here: its default TTL is positive, so the demo's files (no Cache-Control)
// are cached at all and the cache's behavior shows.
func TestLocalEdgeMatchesTemplate(t *testing.T) {
	tp := loadTemplate(t)
	for file, positiveTTL := range map[string]bool{"localedge.json": false, "localedge-aws.json": true} {
		le, err := localedge.LoadConfig(filepath.Join("..", "testdata", "demo", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range compareLocalEdge(tp, le, positiveTTL) {
			t.Errorf("%s: %s", file, p)
		}
	}
}

// TestLocalEdgeViewerMatchesTemplate: localedge-viewer.json (make run
// EDGE=viewer) is the template deployed with ViewerMode "true" and the keys
// in a store: the generated function on the default behavior with its
// store file, the cache key without the session cookie and with
// X-Edgeauth-Cache-Key, the session cookie forwarded to check-auth; with
// localedge-aws.json's positive default TTL.
func TestLocalEdgeViewerMatchesTemplate(t *testing.T) {
	le, err := localedge.LoadConfig(filepath.Join("..", "testdata", "demo", "localedge-viewer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range compareLocalEdge(loadTemplate(t).inViewerMode(deploy.ViewerKVSName), le, true) {
		t.Errorf("localedge-viewer.json: %s", p)
	}
	for name, mutate := range map[string]func(c *localedge.Config){
		"session cookie in the key": func(c *localedge.Config) { c.Behaviors[4].Cache.Cookies = []string{"edgeauth-session"} },
		"no cache key header":       func(c *localedge.Config) { c.Behaviors[4].Cache.Headers = []string{"Authorization", "Origin"} },
		"session not forwarded":     func(c *localedge.Config) { c.Behaviors[4].ForwardCookies.Names = []string{"edgeauth-attempts"} },
		"the plain function":        func(c *localedge.Config) { c.Behaviors[4].ViewerRequestFunction = "viewer-request" },
		"no store": func(c *localedge.Config) {
			f := c.CloudFrontFunctions["viewer-auth"]
			f.KeyValueStore = ""
			c.CloudFrontFunctions["viewer-auth"] = f
		},
	} {
		c, err := localedge.LoadConfig(filepath.Join("..", "testdata", "demo", "localedge-viewer.json"))
		if err != nil {
			t.Fatal(err)
		}
		mutate(c)
		if len(compareLocalEdge(loadTemplate(t).inViewerMode(deploy.ViewerKVSName), c, true)) == 0 {
			t.Errorf("%s: the comparison does not notice", name)
		}
	}
	// And it is not the per-credential shape.
	if len(compareLocalEdge(loadTemplate(t), le, true)) == 0 {
		t.Error("localedge-viewer.json also matches the template in per-credential mode")
	}
}

// TestLocalEdgeComparisonCatches breaks a copy of the local edge config in
// each way the comparison must notice.
func TestLocalEdgeComparisonCatches(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *localedge.Config)
		want   string
	}{
		{"credential out of the key", func(c *localedge.Config) { c.Behaviors[4].Cache.Cookies = nil }, "cache cookies"},
		{"no cache", func(c *localedge.Config) { c.Behaviors[4].Cache = nil }, "no cache policy"},
		{"longer max TTL", func(c *localedge.Config) { c.Behaviors[4].Cache.MaxTTL *= 2 }, "maxTTL"},
		{"viewer trigger", func(c *localedge.Config) { c.Behaviors[1].EventType = localedge.ViewerRequest }, "event type"},
		{"suite path cached", func(c *localedge.Config) {
			c.Behaviors[2].Cache = &localedge.CachePolicy{MaxTTL: c.Behaviors[4].Cache.MaxTTL}
		}, "CachingDisabled"},
		{"extra header", func(c *localedge.Config) {
			c.Behaviors[4].ForwardHeaders = append(c.Behaviors[4].ForwardHeaders, "User-Agent")
		}, "forwards headers"},
		{"missing behavior", func(c *localedge.Config) { c.Behaviors = c.Behaviors[1:] }, "no behavior"},
		{"no viewer function", func(c *localedge.Config) { c.Behaviors[3].ViewerRequestFunction = "" }, "viewer-request function"},
		{"a function on the error page", func(c *localedge.Config) { c.Behaviors[0].Function = "check-auth" }, "function"},
		{"other function code", func(c *localedge.Config) {
			c.CloudFrontFunctions["viewer-request"] = localedge.CloudFrontFunction{Code: "other.js", Runtime: localedge.RuntimeJS2}
		}, "runs other.js"},
		{"attempts index not forwarded", func(c *localedge.Config) {
			c.Behaviors[4].ForwardCookies = localedge.CookieForwarding{Names: []string{}}
		}, "forwards cookies"},
		{"no response headers policy", func(c *localedge.Config) { c.Behaviors[4].ResponseHeadersPolicy = nil }, "response headers policy"},
		{"Cache-Control overriding", func(c *localedge.Config) {
			c.Behaviors[4].ResponseHeadersPolicy.CustomHeaders[0].Override = true
		}, "response headers policy"},
		{"no 404 page", func(c *localedge.Config) { c.CustomErrorResponses = c.CustomErrorResponses[1:] }, "custom error responses"},
		{"error TTL", func(c *localedge.Config) {
			ttl := config.Duration(10 * time.Second)
			c.CustomErrorResponses[2].ErrorCachingMinTTL = &ttl
		}, "custom error responses"},
		{"no ListBucket", func(c *localedge.Config) { c.Origin.ListBucket = false }, "listBucket"},
		{"no root object", func(c *localedge.Config) { c.DefaultRootObject = "" }, "defaultRootObject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			le, err := localedge.LoadConfig(filepath.Join("..", "testdata", "demo", "localedge-aws.json"))
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(le)
			problems := compareLocalEdge(loadTemplate(t), le, true)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q, want one naming %q", problems, tt.want)
			}
		})
	}
}

// functionOf maps the template's function versions to the suite's names.
var functionOf = map[string]string{
	"CheckAuthVersion": "check-auth", "ParseCallbackVersion": "parse-callback", "SignOutVersion": "sign-out",
}

func compareLocalEdge(tp *template, le *localedge.Config, positiveTTL bool) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	tp, err := tp.resolve()
	if err != nil {
		return []string{err.Error()}
	}
	dist := get(tp.Resources, "Distribution", "Properties", "DistributionConfig")
	tbs := append(list(get(dist, "CacheBehaviors")), get(dist, "DefaultCacheBehavior"))
	if len(le.Behaviors) != len(tbs) {
		add("%d behaviors, the template has %d", len(le.Behaviors), len(tbs))
	}
	for _, tb := range tbs {
		pattern, ok := tp.value(get(tb, "PathPattern"))
		if !ok {
			pattern = "*" // the default behavior has none
		}
		i := slices.IndexFunc(le.Behaviors, func(b localedge.Behavior) bool { return b.PathPattern == pattern })
		if i < 0 {
			add("%s: no behavior in the local edge config", pattern)
			continue
		}
		b := le.Behaviors[i]
		assoc := list(get(tb, "LambdaFunctionAssociations"))
		switch {
		case len(assoc) == 0:
			if b.Function != "" {
				add("%s: function %q, the template runs none here", pattern, b.Function)
			}
		case len(assoc) != 1:
			add("%s: want one function association in the template", pattern)
			continue
		default:
			if want := functionOf[refName(get(assoc[0], "LambdaFunctionARN"))]; b.Function != want {
				add("%s: function %q, the template runs %q", pattern, b.Function, want)
			}
			if want := str(get(assoc[0], "EventType")); b.EventType != want {
				add("%s: event type %q, the template's is %q", pattern, b.EventType, want)
			}
		}
		compareViewerFunction(tp, le, pattern, b, list(get(tb, "FunctionAssociations")), add)
		compareCache(tp, pattern, b, get(tb, "CachePolicyId"), positiveTTL, add)
		if id := get(tb, "OriginRequestPolicyId"); id != nil || b.Function != "" {
			compareForwarding(tp, pattern, b, id, add)
		}
		compareResponseHeaders(tp, pattern, b, get(tb, "ResponseHeadersPolicyId"), add)
	}
	if want, _ := tp.value(get(dist, "DefaultRootObject")); le.DefaultRootObject != want {
		add("defaultRootObject %q, the template's %q", le.DefaultRootObject, want)
	}
	if got, want := localErrorResponses(le), templateErrorResponses(tp); !slices.Equal(got, want) {
		add("custom error responses %q, the template's %q", got, want)
	}
	if want := bucketAllows(tp, "s3:ListBucket"); le.Origin.ListBucket != want {
		add("origin.listBucket %v, the template's bucket policy grants s3:ListBucket: %v", le.Origin.ListBucket, want)
	}
	return problems
}

// compareViewerFunction: where the template associates its viewer-request
// CloudFront Function, the local behavior runs the very file the template
// holds inline; elsewhere none.
func compareViewerFunction(tp *template, le *localedge.Config, pattern string, b localedge.Behavior, fas []any, add func(string, ...any)) {
	if b.ViewerResponseFunction != "" {
		add("%s: a viewer-response function, the template has none", pattern)
	}
	switch {
	case len(fas) == 0:
		if b.ViewerRequestFunction != "" {
			add("%s: viewer-request function %q, the template runs none here", pattern, b.ViewerRequestFunction)
		}
	case len(fas) == 1 && str(get(fas[0], "EventType")) == "viewer-request" &&
		slices.Equal(list(get(fas[0], "FunctionARN", "Fn::GetAtt")), []any{viewerAuthFn, "FunctionMetadata.FunctionARN"}):
		// Viewer mode: the function make package generates, and the
		// store file it writes when the template has the store.
		f, ok := le.CloudFrontFunctions[b.ViewerRequestFunction]
		if !ok {
			add("%s: no viewer-request function, the template runs %s", pattern, viewerAuthFn)
			return
		}
		if filepath.Base(f.Code) != deploy.ViewerFunctionName {
			add("%s: the viewer-request function runs %s, the template's is the generated %s", pattern, f.Code, deploy.ViewerFunctionName)
		}
		_, store := tp.resource(viewerKVS, "AWS::CloudFront::KeyValueStore")
		if got := f.KeyValueStore != "" && filepath.Base(f.KeyValueStore) == deploy.ViewerKVSName; got != store {
			add("%s: key value store %q, the template has one: %v", pattern, f.KeyValueStore, store)
		}
	case len(fas) == 1 && str(get(fas[0], "EventType")) == "viewer-request" &&
		slices.Equal(list(get(fas[0], "FunctionARN", "Fn::GetAtt")), []any{viewerRequestFn, "FunctionMetadata.FunctionARN"}):
		f, ok := le.CloudFrontFunctions[b.ViewerRequestFunction]
		if !ok {
			add("%s: no viewer-request function, the template runs ViewerRequestFunction", pattern)
			return
		}
		want, _ := filepath.Abs(viewerFunctionFile)
		if got, _ := filepath.Abs(f.Code); got != want {
			add("%s: the viewer-request function runs %s, the template's code is %s", pattern, f.Code, viewerFunctionFile)
		}
		if rt := str(get(tp.Resources, "ViewerRequestFunction", "Properties", "FunctionConfig", "Runtime")); f.Runtime != rt {
			add("%s: runtime %q, the template's %q", pattern, f.Runtime, rt)
		}
	default:
		add("%s: the template's function associations %v are not modelled", pattern, fas)
	}
}

// compareResponseHeaders: the same custom headers, override and all.
func compareResponseHeaders(tp *template, pattern string, b localedge.Behavior, id any, add func(string, ...any)) {
	var want []string
	if id != nil {
		p, ok := tp.resource(refName(id), "AWS::CloudFront::ResponseHeadersPolicy")
		if !ok {
			add("%s: the template's response headers policy is not in the template", pattern)
			return
		}
		c := get(p, "ResponseHeadersPolicyConfig")
		for _, k := range []string{"SecurityHeadersConfig", "RemoveHeadersConfig", "CorsConfig", "ServerTimingHeadersConfig"} {
			if get(c, k) != nil {
				add("%s: the template's response headers policy sets %s, which the comparison does not model", pattern, k)
			}
		}
		for _, h := range list(get(c, "CustomHeadersConfig", "Items")) {
			v, _ := tp.value(get(h, "Value"))
			want = append(want, fmt.Sprintf("%s: %s (override %v)", str(get(h, "Header")), v, get(h, "Override")))
		}
	}
	var got []string
	if p := b.ResponseHeadersPolicy; p != nil {
		if p.SecurityHeaders != nil || len(p.RemoveHeaders) > 0 {
			got = append(got, "security or remove headers")
		}
		for _, h := range p.CustomHeaders {
			got = append(got, fmt.Sprintf("%s: %s (override %v)", h.Header, h.Value, h.Override))
		}
	}
	if !slices.Equal(got, want) {
		add("%s: response headers policy %q, the template's %q", pattern, got, want)
	}
}

func localErrorResponses(le *localedge.Config) []string {
	var out []string
	for _, e := range le.CustomErrorResponses {
		ttl := "default"
		if e.ErrorCachingMinTTL != nil {
			ttl = strconv.Itoa(int(e.ErrorCachingMinTTL.Std() / time.Second))
		}
		out = append(out, fmt.Sprintf("%d -> %q %d, TTL %s", e.ErrorCode, e.ResponsePagePath, e.ResponseCode, ttl))
	}
	slices.Sort(out)
	return out
}

func templateErrorResponses(tp *template) []string {
	var out []string
	for _, e := range list(get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "CustomErrorResponses")) {
		code, _ := tp.value(get(e, "ErrorCode"))
		page, _ := tp.value(get(e, "ResponsePagePath"))
		resp, _ := tp.value(get(e, "ResponseCode"))
		if resp == "" {
			resp = "0"
		}
		ttl, ok := tp.value(get(e, "ErrorCachingMinTTL"))
		if !ok {
			ttl = "default"
		}
		out = append(out, fmt.Sprintf("%s -> %q %s, TTL %s", code, page, resp, ttl))
	}
	slices.Sort(out)
	return out
}

// bucketAllows reports whether the content bucket's policy lets this
// distribution perform action.
func bucketAllows(tp *template, action string) bool {
	pol, _ := tp.resource("ContentBucketPolicy", "AWS::S3::BucketPolicy")
	for _, st := range list(get(pol, "PolicyDocument", "Statement")) {
		if get(st, "Effect") == "Allow" && get(st, "Action") == action && get(st, "Principal", "Service") == "cloudfront.amazonaws.com" &&
			strings.Contains(str(get(st, "Condition", "StringEquals", "AWS:SourceArn", "Fn::Sub")), ":distribution/${Distribution}") {
			return true
		}
	}
	return false
}

func compareCache(tp *template, pattern string, b localedge.Behavior, id any, positiveTTL bool, add func(string, ...any)) {
	if str(id) == cachingDisabled {
		if b.Cache != nil {
			add("%s: cached locally, CachingDisabled in the template", pattern)
		}
		return
	}
	p, ok := tp.resource(refName(id), "AWS::CloudFront::CachePolicy")
	if !ok {
		add("%s: the template's cache policy is not in the template", pattern)
		return
	}
	if b.Cache == nil {
		add("%s: no cache policy locally, the template caches", pattern)
		return
	}
	cp := get(p, "CachePolicyConfig")
	key := get(cp, "ParametersInCacheKeyAndForwardedToOrigin")
	if got, want := b.Cache.Headers, tp.values(get(key, "HeadersConfig", "Headers")); !sameSet(got, want) {
		add("%s: cache headers %q, the template's %q", pattern, got, want)
	}
	if got, want := b.Cache.Cookies, tp.values(get(key, "CookiesConfig", "Cookies")); !sameSet(got, want) {
		add("%s: cache cookies %q, the template's %q", pattern, got, want)
	}
	if got, want := b.Cache.QueryStrings, str(get(key, "QueryStringsConfig", "QueryStringBehavior")) == "all"; got != want {
		add("%s: query strings in the key %v, the template's %v", pattern, got, want)
	}
	seconds := func(v any) time.Duration {
		s, _ := tp.value(v)
		n, _ := strconv.Atoi(s)
		return time.Duration(n) * time.Second
	}
	if got, want := b.Cache.MinTTL.Std(), seconds(get(cp, "MinTTL")); got != want {
		add("%s: minTTL %v, the template's %v", pattern, got, want)
	}
	if got, want := b.Cache.MaxTTL.Std(), seconds(get(cp, "MaxTTL")); got != want {
		add("%s: maxTTL %v, the template's %v", pattern, got, want)
	}
	switch def := seconds(get(cp, "DefaultTTL")); {
	case positiveTTL && b.Cache.DefaultTTL <= 0:
		add("%s: defaultTTL 0 would cache none of the demo's files", pattern)
	case !positiveTTL && b.Cache.DefaultTTL.Std() != def:
		add("%s: defaultTTL %v, the template's %v", pattern, b.Cache.DefaultTTL.Std(), def)
	}
}

func compareForwarding(tp *template, pattern string, b localedge.Behavior, id any, add func(string, ...any)) {
	p, ok := tp.resource(refName(id), "AWS::CloudFront::OriginRequestPolicy")
	if !ok {
		add("%s: the template's origin request policy is not in the template", pattern)
		return
	}
	orp := get(p, "OriginRequestPolicyConfig")
	if got, want := b.ForwardHeaders, tp.values(get(orp, "HeadersConfig", "Headers")); !sameSet(got, want) {
		add("%s: forwards headers %q, the template's policy %q", pattern, got, want)
	}
	switch cb := str(get(orp, "CookiesConfig", "CookieBehavior")); cb {
	case "all":
		if !b.ForwardCookies.All {
			add("%s: forwards cookies %+v, the template's policy all", pattern, b.ForwardCookies)
		}
	case "none":
		if b.ForwardCookies.All || len(b.ForwardCookies.Names) > 0 {
			add("%s: forwards cookies %+v, the template's policy none", pattern, b.ForwardCookies)
		}
	case "whitelist":
		if want := tp.values(get(orp, "CookiesConfig", "Cookies")); b.ForwardCookies.All || !sameSet(b.ForwardCookies.Names, want) {
			add("%s: forwards cookies %+v, the template's policy %q", pattern, b.ForwardCookies, want)
		}
	default:
		add("%s: the template's cookie behavior %q is not modelled", pattern, cb)
	}
	forwardsQuery := b.ForwardQuery == nil || *b.ForwardQuery
	if want := str(get(orp, "QueryStringsConfig", "QueryStringBehavior")) == "all"; forwardsQuery != want {
		add("%s: forwards the query %v, the template's policy %v", pattern, forwardsQuery, want)
	}
}

// values resolves a list of template scalars.
func (tp *template) values(v any) []string {
	var out []string
	for _, x := range list(v) {
		s, _ := tp.value(x)
		out = append(out, s)
	}
	return out
}

func sameSet(a, b []string) bool {
	norm := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = strings.ToLower(v)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}
