package deploy_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// TestLocalEdgeMatchesTemplate keeps testdata/demo/localedge-aws.json, the
// local edge shaped as deployed, equal to what template.yaml deploys with
// its default parameters: the same behaviors, functions and event types,
// the same cache key and TTL bounds, the same forwarding. The end-to-end
// tests that run through that file then say something about the template.
// One difference is deliberate and checked: the local default TTL is
// positive, so the demo's files (no Cache-Control) are cached at all.
func TestLocalEdgeMatchesTemplate(t *testing.T) {
	tp := loadTemplate(t)
	le, err := localedge.LoadConfig(filepath.Join("..", "testdata", "demo", "localedge-aws.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range compareLocalEdge(tp, le) {
		t.Error(p)
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
		{"credential out of the key", func(c *localedge.Config) { c.Behaviors[3].Cache.Cookies = nil }, "cache cookies"},
		{"no cache", func(c *localedge.Config) { c.Behaviors[3].Cache = nil }, "no cache policy"},
		{"longer max TTL", func(c *localedge.Config) { c.Behaviors[3].Cache.MaxTTL *= 2 }, "maxTTL"},
		{"viewer trigger", func(c *localedge.Config) { c.Behaviors[0].EventType = localedge.ViewerRequest }, "event type"},
		{"suite path cached", func(c *localedge.Config) {
			c.Behaviors[1].Cache = &localedge.CachePolicy{MaxTTL: c.Behaviors[3].Cache.MaxTTL}
		}, "CachingDisabled"},
		{"extra header", func(c *localedge.Config) {
			c.Behaviors[3].ForwardHeaders = append(c.Behaviors[3].ForwardHeaders, "User-Agent")
		}, "forwards headers"},
		{"missing behavior", func(c *localedge.Config) { c.Behaviors = c.Behaviors[1:] }, "no behavior"},
		{"no viewer host copy", func(c *localedge.Config) { c.Behaviors[2].CopyHostTo = "" }, "copyHostTo"},
		{"attempts index not forwarded", func(c *localedge.Config) {
			c.Behaviors[3].ForwardCookies = localedge.CookieForwarding{Names: []string{}}
		}, "forwards cookies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			le, err := localedge.LoadConfig(filepath.Join("..", "testdata", "demo", "localedge-aws.json"))
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(le)
			problems := compareLocalEdge(loadTemplate(t), le)
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

func compareLocalEdge(tp *template, le *localedge.Config) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	dist := get(tp.Resources, "Distribution", "Properties", "DistributionConfig")
	tbs := append(list(get(dist, "CacheBehaviors")), get(dist, "DefaultCacheBehavior"))
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
		if len(assoc) != 1 {
			add("%s: want one function association in the template", pattern)
			continue
		}
		if want := functionOf[refName(get(assoc[0], "LambdaFunctionARN"))]; b.Function != want {
			add("%s: function %q, the template runs %q", pattern, b.Function, want)
		}
		if want := str(get(assoc[0], "EventType")); b.EventType != want {
			add("%s: event type %q, the template's is %q", pattern, b.EventType, want)
		}
		fas := list(get(tb, "FunctionAssociations"))
		switch {
		case len(fas) == 1 && str(get(fas[0], "EventType")) == "viewer-request" &&
			slices.Equal(list(get(fas[0], "FunctionARN", "Fn::GetAtt")), []any{"ViewerHostFunction", "FunctionMetadata.FunctionARN"}):
			if !strings.EqualFold(b.CopyHostTo, edge.ViewerHostHeader) {
				add("%s: copyHostTo %q, the template's ViewerHostFunction sets %s", pattern, b.CopyHostTo, edge.ViewerHostHeader)
			}
		case b.CopyHostTo != "":
			add("%s: copyHostTo set, the template runs no ViewerHostFunction here", pattern)
		}
		compareCache(tp, pattern, b, get(tb, "CachePolicyId"), add)
		compareForwarding(tp, pattern, b, get(tb, "OriginRequestPolicyId"), add)
	}
	return problems
}

func compareCache(tp *template, pattern string, b localedge.Behavior, id any, add func(string, ...any)) {
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
	if b.Cache.DefaultTTL <= 0 {
		add("%s: defaultTTL 0 would cache none of the demo's files", pattern)
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
