package deploy_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

// cachingDisabled is the managed CachingDisabled cache policy's id.
const cachingDisabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

// cfn decodes CloudFormation YAML into plain Go values, turning the short
// tags (!Ref, !GetAtt, !Sub, !If…) into their long JSON forms ({"Ref": …},
// {"Fn::GetAtt": [..]}), which a plain yaml.Unmarshal would lose.
type cfn struct{ v any }

func (c *cfn) UnmarshalYAML(n *yaml.Node) error {
	v, err := cfnValue(n)
	c.v = v
	return err
}

func cfnValue(n *yaml.Node) (any, error) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return cfnValue(n.Content[0])
	}
	if n.Kind == yaml.AliasNode {
		return cfnValue(n.Alias)
	}
	tag := n.Tag
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		plain := *n
		plain.Tag = ""
		if n.Kind == yaml.ScalarNode {
			plain.Tag = "!!str"
		}
		inner, err := cfnValue(&plain)
		if err != nil {
			return nil, err
		}
		name := tag[1:]
		if name == "Ref" {
			return map[string]any{"Ref": inner}, nil
		}
		if s, ok := inner.(string); ok && name == "GetAtt" {
			a, b, _ := strings.Cut(s, ".")
			inner = []any{a, b}
		}
		return map[string]any{"Fn::" + name: inner}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// template is a parsed CloudFormation template with lookups.
type template struct {
	Parameters map[string]any
	Conditions map[string]any
	Resources  map[string]any
	Outputs    map[string]any
	pseudo     map[string]string // pseudo parameters (AWS::StackName) for value
	// params are parameter values given at deploy (withParams); the others
	// take their Default.
	params map[string]string
	// viewerMode is set by resolve: the template as deployed with
	// ViewerMode "true".
	viewerMode bool
}

// withPseudo is tp with values for pseudo parameters.
func (tp *template) withPseudo(p map[string]string) *template {
	c := *tp
	c.pseudo = p
	return &c
}

func loadTemplate(t *testing.T) *template {
	t.Helper()
	return loadTemplateFile(t, "template.yaml")
}

func loadTemplateFile(t *testing.T, path string) *template {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseTemplate(t, b)
}

func parseTemplate(t *testing.T, b []byte) *template {
	t.Helper()
	var doc cfn
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	root, ok := doc.v.(map[string]any)
	if !ok {
		t.Fatal("template.yaml is not a mapping")
	}
	m := func(k string) map[string]any { v, _ := root[k].(map[string]any); return v }
	return &template{Parameters: m("Parameters"), Conditions: m("Conditions"), Resources: m("Resources"), Outputs: m("Outputs")}
}

// get walks a path of map keys.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func list(v any) []any { s, _ := v.([]any); return s }

func (tp *template) resource(name, typ string) (map[string]any, bool) {
	r, ok := tp.Resources[name].(map[string]any)
	if !ok || r["Type"] != typ {
		return nil, false
	}
	p, _ := r["Properties"].(map[string]any)
	return p, true
}

// refName returns the logical name of {"Ref": name}.
func refName(v any) string { return str(get(v, "Ref")) }

var subVar = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)\}`)

// value resolves a scalar the way a deploy with default parameters would:
// a literal, a Ref to a parameter (or to a pseudo parameter withPseudo
// gave), or a Sub over them.
func (tp *template) value(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case map[string]any:
		if name := refName(x); name != "" {
			if v, ok := tp.pseudo[name]; ok {
				return v, true
			}
			if v, ok := tp.params[name]; ok {
				return v, true
			}
			def := get(tp.Parameters, name, "Default")
			if def == nil {
				return "", false
			}
			return tp.value(def)
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			resolved := true
			out := subVar.ReplaceAllStringFunc(s, func(m string) string {
				v, ok := tp.value(map[string]any{"Ref": m[2 : len(m)-1]})
				if !ok {
					resolved = false
				}
				return v
			})
			return out, resolved
		}
	}
	return "", false
}

// checkAuthHeaders are the request headers check-auth decides on (Accept,
// Sec-Fetch-Mode, X-Requested-With, and a preflight's
// Access-Control-Request-Method) and the ones an S3 origin needs to answer a
// CORS preflight it is passed: an origin-request event carries only what the
// behavior's policies forward.
var checkAuthHeaders = []string{
	"Accept", "Sec-Fetch-Mode", "Sec-Fetch-Site", "X-Requested-With",
	"Access-Control-Request-Method", "Access-Control-Request-Headers", "Origin",
}

// minFunctionTimeout is the least function timeout (s) that leaves a
// function time to answer its own 502 page after its IdP call (5 s) gives
// up; below it a slow IdP becomes a Lambda timeout, CloudFront's bare 503.
const minFunctionTimeout = 10

// suite names the functions and their resources.
var suite = []struct{ function, resource string }{
	{"check-auth", "CheckAuthFunction"},
	{"parse-callback", "ParseCallbackFunction"},
	{"sign-out", "SignOutFunction"},
}

// zipParam is the parameter naming the one zip the three functions share.
const zipParam = "CodeZipKey"

// stackNames are stack names the function names are checked under: the
// README's, one ending like a function's name, and the longest the
// template's description allows (49 characters, for function names of at
// most 64).
var stackNames = []string{"edgeauth", "site-sign-out", strings.Repeat("s", 49)}

// check returns every way the template breaks the suite's rules for cfg.
func (tp *template) check(cfg *config.Config) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// What deploys: conditions and Fn::If decided by the parameters.
	tp, err := tp.resolve()
	if err != nil {
		return []string{err.Error()}
	}
	tp.checkViewerModeParameters(bad)

	// Every function: the shared zip, a name that makes the shared
	// bootstrap run it, Node.js, x86_64, the bridge's handler.
	fnName := map[string]string{} // function resource -> suite name
	if get(tp.Parameters, zipParam, "Type") != "String" {
		bad("no String parameter %s", zipParam)
	}
	for _, s := range suite {
		p, ok := tp.resource(s.resource, "AWS::Lambda::Function")
		if !ok {
			bad("%s: no AWS::Lambda::Function %s", s.function, s.resource)
			continue
		}
		fnName[s.resource] = s.function
		if got := refName(get(p, "Code", "S3Key")); got != zipParam {
			bad("%s: Code.S3Key = Ref %q, want Ref %q (the zip the three share)", s.function, got, zipParam)
		}
		tp.checkFunctionName(s.function, p["FunctionName"], bad)
		if b := refName(get(p, "Code", "S3Bucket")); b == "" || tp.Parameters[b] == nil {
			bad("%s: Code.S3Bucket is not a parameter", s.function)
		}
		if rt := str(p["Runtime"]); !strings.HasPrefix(rt, "nodejs") {
			bad("%s: Runtime %q, want nodejs (Lambda@Edge runs no Go)", s.function, rt)
		}
		if a := list(p["Architectures"]); len(a) != 1 || a[0] != "x86_64" {
			bad("%s: Architectures %v, want [x86_64]", s.function, a)
		}
		if p["Handler"] != "index.handler" {
			bad("%s: Handler %v, want index.handler", s.function, p["Handler"])
		}
		timeout, ok := tp.value(p["Timeout"])
		if n, err := strconv.Atoi(timeout); !ok || err != nil || n < minFunctionTimeout || n > 30 {
			bad("%s: Timeout %q by default, want %d to 30 s (room for the 502 page after a slow IdP; origin triggers allow 30)", s.function, timeout, minFunctionTimeout)
		}
	}
	for name, r := range tp.Resources {
		if get(r, "Type") == "AWS::Lambda::Function" && fnName[name] == "" {
			bad("unexpected function %s", name)
		}
	}
	versionOf := map[string]string{} // version resource -> suite name
	for name := range tp.Resources {
		if p, ok := tp.resource(name, "AWS::Lambda::Version"); ok {
			versionOf[name] = fnName[refName(p["FunctionName"])]
		}
	}

	// Every behavior runs a suite function at origin-request.
	dist, ok := tp.resource("Distribution", "AWS::CloudFront::Distribution")
	if !ok {
		bad("no AWS::CloudFront::Distribution Distribution")
		return problems
	}
	errorPage := tp.errorPagePath()
	runs := func(where string, b any) []string {
		if pat, _ := tp.value(get(b, "PathPattern")); pat != "" && pat == errorPage {
			return nil // checked by checkErrorPages: the one behavior without check-auth
		}
		tp.checkViewerHost(where, tp.viewerFunctionFor(where), b, bad)
		assocs := list(get(b, "LambdaFunctionAssociations"))
		if len(assocs) == 0 {
			bad("%s: no function: serves the bucket without check-auth", where)
		}
		var fns []string
		for _, a := range assocs {
			if et := get(a, "EventType"); et != "origin-request" {
				bad("%s: EventType %v, want origin-request", where, et)
			}
			fn := versionOf[refName(get(a, "LambdaFunctionARN"))]
			if fn == "" {
				bad("%s: association is not a suite function's version", where)
			}
			fns = append(fns, fn)
		}
		return fns
	}
	attached := map[string]bool{}
	def := get(dist, "DistributionConfig", "DefaultCacheBehavior")
	defFns := runs(defaultBehavior, def)
	if !slices.Contains(defFns, "check-auth") {
		bad("default behavior runs %v, want check-auth", defFns)
	}
	for _, f := range defFns {
		attached[f] = true
	}
	byPattern := map[string]any{}
	for i, b := range list(get(dist, "DistributionConfig", "CacheBehaviors")) {
		pat, ok := tp.value(get(b, "PathPattern"))
		if !ok {
			bad("behavior %d: unresolvable PathPattern", i)
			continue
		}
		byPattern[pat] = b
		for _, f := range runs("behavior "+pat, b) {
			attached[f] = true
		}
	}
	for _, s := range suite {
		if !attached[s.function] {
			bad("%s is attached to no behavior", s.function)
		}
	}

	// The suite's paths: their function, never cached, cookies and query in.
	for _, p := range []struct{ path, function string }{
		{cfg.Paths.ParseAuth, "parse-callback"},
		{cfg.Paths.RefreshAuth, "parse-callback"},
		{cfg.Paths.SignOut, "sign-out"},
	} {
		b, ok := byPattern[p.path+"*"]
		if !ok {
			bad("no behavior for %s* (have %v)", p.path, slices.Sorted(maps.Keys(byPattern)))
			continue
		}
		if fns := runs("behavior "+p.path, b); !slices.Contains(fns, p.function) {
			bad("%s runs %v, want %s", p.path, fns, p.function)
		}
		if id := get(b, "CachePolicyId"); id != cachingDisabled {
			bad("%s: CachePolicyId %v, want CachingDisabled", p.path, id)
		}
		orp, ok := tp.resource(refName(get(b, "OriginRequestPolicyId")), "AWS::CloudFront::OriginRequestPolicy")
		if !ok {
			bad("%s: no custom origin request policy", p.path)
			continue
		}
		c := get(orp, "OriginRequestPolicyConfig")
		if get(c, "CookiesConfig", "CookieBehavior") != "all" || get(c, "QueryStringsConfig", "QueryStringBehavior") != "all" {
			bad("%s: origin request policy must forward all cookies and query strings", p.path)
		}
		for _, h := range list(get(c, "HeadersConfig", "Headers")) {
			if strings.EqualFold(str(h), "authorization") {
				bad("%s: origin request policy forwards Authorization", p.path)
			}
		}
		if p.function != "sign-out" {
			continue
		}
		// sign-out tells another site's request from this site's by these;
		// without them every request looks like a typed address.
		for _, want := range []string{"Sec-Fetch-Site", "Origin", "Referer"} {
			if !slices.ContainsFunc(list(get(c, "HeadersConfig", "Headers")), func(h any) bool { return strings.EqualFold(str(h), want) }) {
				bad("%s: origin request policy does not forward %s: sign-out cannot tell a cross-site request", p.path, want)
			}
		}
	}

	// The default cache key holds the credential; objects live briefly.
	cp, ok := tp.resource(refName(get(def, "CachePolicyId")), "AWS::CloudFront::CachePolicy")
	if !ok {
		bad("default behavior: no custom cache policy")
		return problems
	}
	cc := get(cp, "CachePolicyConfig")
	key := get(cc, "ParametersInCacheKeyAndForwardedToOrigin")
	session := cfg.Cookies.Prefix + "-session"
	if tp.viewerMode {
		tp.checkViewerCacheKey(key, session, bad)
	} else {
		tp.checkCredentialCacheKey(key, session, bad)
	}
	tp.checkDefaultForwarding(def, key, session, cfg.Cookies.Prefix+"-attempts", bad)
	tp.checkBrowserCaching(def, bad)
	tp.checkErrorPages(dist, bad)

	maxTTL, ok := tp.value(get(cc, "MaxTTL"))
	n, err := strconv.Atoi(maxTTL)
	if !ok || err != nil || n > 600 {
		bad("default MaxTTL %q, want at most 600", maxTTL)
	}
	if p := refName(get(cc, "MaxTTL")); p != "" {
		if mv, ok := get(tp.Parameters, p, "MaxValue").(int); !ok || mv > 600 {
			bad("parameter %s allows MaxTTL %v, want MaxValue at most 600", p, get(tp.Parameters, p, "MaxValue"))
		}
	}
	if d, ok := tp.value(get(cc, "DefaultTTL")); ok {
		if dn, err := strconv.Atoi(d); err != nil || dn > n {
			bad("DefaultTTL %s above MaxTTL %d", d, n)
		}
	}

	// The bucket: private, readable by this distribution through OAC only.
	bucket, ok := tp.resource("ContentBucket", "AWS::S3::Bucket")
	if !ok {
		bad("no ContentBucket")
		return problems
	}
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if get(bucket, "PublicAccessBlockConfiguration", k) != true {
			bad("bucket: %s is not true", k)
		}
	}
	for i, o := range list(get(dist, "DistributionConfig", "Origins")) {
		if get(o, "OriginAccessControlId") == nil {
			bad("origin %d: no OriginAccessControlId", i)
		}
	}
	pol, ok := tp.resource("ContentBucketPolicy", "AWS::S3::BucketPolicy")
	if !ok {
		bad("no ContentBucketPolicy")
		return problems
	}
	allowsCloudFront := false
	for _, st := range list(get(pol, "PolicyDocument", "Statement")) {
		if get(st, "Effect") != "Allow" {
			continue
		}
		if get(st, "Principal", "Service") != "cloudfront.amazonaws.com" {
			bad("bucket policy allows %v", get(st, "Principal"))
			continue
		}
		arn := str(get(st, "Condition", "StringEquals", "AWS:SourceArn", "Fn::Sub"))
		if !strings.Contains(arn, ":distribution/${Distribution}") {
			bad("bucket policy: AWS:SourceArn %q is not this distribution", arn)
			continue
		}
		allowsCloudFront = true
	}
	if !allowsCloudFront {
		bad("bucket policy: no read for this distribution")
	}

	// The role Lambda@Edge can assume.
	role, _ := tp.resource("EdgeFunctionRole", "AWS::IAM::Role")
	var principals []string
	for _, st := range list(get(role, "AssumeRolePolicyDocument", "Statement")) {
		for _, s := range list(get(st, "Principal", "Service")) {
			principals = append(principals, str(s))
		}
	}
	if !slices.Contains(principals, "lambda.amazonaws.com") || !slices.Contains(principals, "edgelambda.amazonaws.com") {
		bad("EdgeFunctionRole trusts %v, want lambda and edgelambda", principals)
	}

	if got := get(tp.Outputs, "DistributionDomainName", "Value", "Fn::GetAtt"); !slices.Equal(list(got), []any{"Distribution", "DomainName"}) {
		bad("no DistributionDomainName output")
	}
	return problems
}

// checkViewerHost checks that behavior b runs the template's viewer-request
// CloudFront Function, ViewerRequestFunction, which copies the viewer's
// Host into edge.ViewerHostHeader and gives directory URIs their
// index.html, and that an origin request policy forwards that header.
// Without it, every redirect of a multi-host distribution would go to the
// first host, and /admin/ would be S3's 403.
func (tp *template) checkViewerHost(where, function string, b any, bad func(string, ...any)) {
	fas := list(get(b, "FunctionAssociations"))
	if len(fas) != 1 || str(get(fas[0], "EventType")) != "viewer-request" ||
		!slices.Equal(list(get(fas[0], "FunctionARN", "Fn::GetAtt")), []any{function, "FunctionMetadata.FunctionARN"}) {
		bad("%s: the viewer-request %s is not associated", where, function)
	}
	fn, ok := tp.resource(function, "AWS::CloudFront::Function")
	if !ok {
		bad("no AWS::CloudFront::Function %s", function)
		return
	}
	if get(fn, "FunctionConfig", "Runtime") != "cloudfront-js-2.0" || get(fn, "AutoPublish") != true {
		bad("%s: want Runtime cloudfront-js-2.0 and AutoPublish, so the association gets a live function", function)
	}
	if code := str(get(fn, "FunctionCode")); !strings.Contains(code, "'"+edge.ViewerHostHeader+"'") && !strings.Contains(code, `"`+edge.ViewerHostHeader+`"`) {
		bad("%s: its code does not set %s", function, edge.ViewerHostHeader)
	}
	orp, ok := tp.resource(refName(get(b, "OriginRequestPolicyId")), "AWS::CloudFront::OriginRequestPolicy")
	if !ok {
		return // reported where the policy is checked
	}
	headers := list(get(orp, "OriginRequestPolicyConfig", "HeadersConfig", "Headers"))
	if get(orp, "OriginRequestPolicyConfig", "HeadersConfig", "HeaderBehavior") != "whitelist" ||
		!slices.ContainsFunc(headers, func(h any) bool { return strings.EqualFold(str(h), edge.ViewerHostHeader) }) {
		bad("%s: the origin request policy does not forward %s", where, edge.ViewerHostHeader)
	}
}

// checkBrowserCaching checks that protected objects reach browsers with a
// Cache-Control that makes them ask again (private, and no-cache or
// no-store) when the object has none of its own, through a response headers
// policy, which CloudFront applies after its cache: without it a browser
// shows a cached private page after sign-out.
func (tp *template) checkBrowserCaching(def any, bad func(string, ...any)) {
	p, ok := tp.resource(refName(get(def, "ResponseHeadersPolicyId")), "AWS::CloudFront::ResponseHeadersPolicy")
	if !ok {
		bad("default behavior: no response headers policy: browsers cache protected objects heuristically")
		return
	}
	strict := func(v string) bool {
		return strings.Contains(v, "no-store") || strings.Contains(v, "private") && strings.Contains(v, "no-cache")
	}
	for _, h := range list(get(p, "ResponseHeadersPolicyConfig", "CustomHeadersConfig", "Items")) {
		if !strings.EqualFold(str(get(h, "Header")), "Cache-Control") {
			continue
		}
		if get(h, "Override") != false {
			bad("response headers policy: Cache-Control Override %v, want false (an object's own Cache-Control wins)", get(h, "Override"))
		}
		v, ok := tp.value(get(h, "Value"))
		if !ok || !strict(v) {
			bad("response headers policy: Cache-Control %q by default, want private, no-cache or no-store", v)
		}
		if param := refName(get(h, "Value")); param != "" {
			for _, a := range list(get(tp.Parameters, param, "AllowedValues")) {
				if !strict(str(a)) {
					bad("parameter %s allows %q, which lets browsers reuse a protected page", param, a)
				}
			}
			if get(tp.Parameters, param, "AllowedValues") == nil {
				bad("parameter %s has no AllowedValues: any Cache-Control could be deployed", param)
			}
		}
		return
	}
	bad("response headers policy: no Cache-Control custom header")
}

// suiteStatuses are the statuses the suite's functions answer with.
func suiteStatuses() []int { return []int{400, 401, 403, 500, 502, 503} }

// errorPagePath is the page the template maps missing objects to.
func (tp *template) errorPagePath() string {
	for _, e := range list(get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "CustomErrorResponses")) {
		if code, _ := tp.value(get(e, "ErrorCode")); code == "404" {
			p, _ := tp.value(get(e, "ResponsePagePath"))
			return p
		}
	}
	return ""
}

// checkErrorPages checks the custom error responses: a missing object (404,
// which S3 answers only with s3:ListBucket) gets a 404 page, fetched through
// a behavior without functions (its fetch would otherwise run check-auth
// without the viewer's cookies); no status the suite answers with has a
// page, since custom error responses replace Lambda@Edge answers too; and
// each of those has ErrorCachingMinTTL 0, so CloudFront never caches the
// suite's own pages.
func (tp *template) checkErrorPages(dist any, bad func(string, ...any)) {
	dist = get(dist, "DistributionConfig")
	page := tp.errorPagePath()
	ttls := map[int]string{}
	for _, e := range list(get(dist, "CustomErrorResponses")) {
		c, _ := tp.value(get(e, "ErrorCode"))
		code, _ := strconv.Atoi(c)
		if slices.Contains(suiteStatuses(), code) && get(e, "ResponsePagePath") != nil {
			bad("custom error response for %d replaces the suite's own %d page", code, code)
		}
		ttls[code], _ = tp.value(get(e, "ErrorCachingMinTTL"))
	}
	for _, code := range suiteStatuses() {
		if code != 401 && ttls[code] != "0" { // 401 is never cached
			bad("no ErrorCachingMinTTL 0 for %d: CloudFront would cache the suite's %d page", code, code)
		}
	}
	if page == "" {
		bad("no custom error response for 404: a missing page is S3's XML")
		return
	}
	var first any
	for _, b := range list(get(dist, "CacheBehaviors")) {
		if pat, _ := tp.value(get(b, "PathPattern")); localedge.MatchPattern(pat, page) {
			first = b
			break
		}
	}
	switch {
	case first == nil:
		bad("the error page %s goes through the default behavior: its fetch would run check-auth", page)
	case get(first, "LambdaFunctionAssociations") != nil || get(first, "FunctionAssociations") != nil:
		bad("the error page %s's behavior runs functions", page)
	case strings.ContainsAny(str(get(first, "PathPattern")), "*?"):
		bad("the error page's behavior %v serves more than the page without check-auth", get(first, "PathPattern"))
	}
	if !bucketAllows(tp, "s3:ListBucket") {
		bad("bucket policy: no s3:ListBucket for this distribution: a missing key is 403, never the 404 page")
	}
}

// checkDefaultForwarding checks what reaches check-auth on the default
// behavior: the origin request carries the cache key's values (key) and the
// origin request policy's, and nothing else. It needs the headers it decides
// on, the session cookie and the query string; each value is named in one
// policy only, and the origin request policy never names Authorization.
func (tp *template) checkDefaultForwarding(def, key any, session, attempts string, bad func(string, ...any)) {
	forwarded := map[string]string{} // lower-case header -> which policy
	for _, h := range list(get(key, "HeadersConfig", "Headers")) {
		forwarded[strings.ToLower(str(h))] = "cache policy"
	}
	keyCookies := map[string]bool{}
	for _, c := range list(get(key, "CookiesConfig", "Cookies")) {
		v, _ := tp.value(c)
		keyCookies[v] = true
	}
	queryAll := get(key, "QueryStringsConfig", "QueryStringBehavior") == "all"

	orp, ok := tp.resource(refName(get(def, "OriginRequestPolicyId")), "AWS::CloudFront::OriginRequestPolicy")
	if !ok {
		bad("default behavior: no custom origin request policy: check-auth sees none of %v", checkAuthHeaders)
		return
	}
	c := get(orp, "OriginRequestPolicyConfig")
	if hb := get(c, "HeadersConfig", "HeaderBehavior"); hb != "whitelist" {
		bad("default behavior: origin request policy HeaderBehavior %v, want whitelist (never Authorization)", hb)
	}
	for _, h := range list(get(c, "HeadersConfig", "Headers")) {
		name := strings.ToLower(str(h))
		switch {
		case name == "authorization":
			bad("default behavior: origin request policy names Authorization (only the cache key may)")
		case forwarded[name] != "":
			bad("default behavior: header %s is in both the cache policy and the origin request policy", str(h))
		}
		forwarded[name] = "origin request policy"
	}
	for _, h := range checkAuthHeaders {
		if forwarded[strings.ToLower(h)] == "" {
			bad("default behavior: %s does not reach check-auth (in neither policy)", h)
		}
	}

	orpCookies := map[string]bool{}
	switch cb := get(c, "CookiesConfig", "CookieBehavior"); cb {
	case "none":
	case "whitelist":
		for _, ck := range list(get(c, "CookiesConfig", "Cookies")) {
			v, _ := tp.value(ck)
			if keyCookies[v] {
				bad("default behavior: cookie %s is in both the cache policy and the origin request policy", v)
			}
			orpCookies[v] = true
		}
	default:
		bad("default behavior: origin request policy CookieBehavior %v, want none or a whitelist", cb)
	}
	// The login-attempts index must reach check-auth, or the cap on
	// pending logins cannot act; in the cache key it would only split the
	// cache.
	switch {
	case keyCookies[attempts]:
		bad("default behavior: the attempts index %s is in the cache key", attempts)
	case !orpCookies[attempts]:
		bad("default behavior: the attempts index %s does not reach check-auth (the login cap cannot act)", attempts)
	}
	if !keyCookies[session] && !orpCookies[session] {
		bad("default behavior: the session cookie %s does not reach check-auth", session)
	}

	switch qb := get(c, "QueryStringsConfig", "QueryStringBehavior"); {
	case queryAll && qb != "none":
		bad("default behavior: query strings are in the cache key and again in the origin request policy (%v)", qb)
	case !queryAll && qb != "all":
		bad("default behavior: not every query string reaches the origin")
	}
}

// checkCredentialCacheKey checks the default cache key when check-auth
// alone guards the cache (ViewerMode "false"): it holds the credential
// itself, the session cookie and Authorization.
func (tp *template) checkCredentialCacheKey(key any, session string, bad func(string, ...any)) {
	var cookies []string
	for _, c := range list(get(key, "CookiesConfig", "Cookies")) {
		v, _ := tp.value(c)
		cookies = append(cookies, v)
	}
	if get(key, "CookiesConfig", "CookieBehavior") != "whitelist" || !slices.Contains(cookies, session) {
		bad("default cache key cookies %v (%v), want a whitelist with %s", cookies, get(key, "CookiesConfig", "CookieBehavior"), session)
	}
	hasAuth := false
	for _, h := range list(get(key, "HeadersConfig", "Headers")) {
		hasAuth = hasAuth || strings.EqualFold(str(h), "Authorization")
	}
	if get(key, "HeadersConfig", "HeaderBehavior") != "whitelist" || !hasAuth {
		bad("default cache key headers lack Authorization")
	}
}

// checkFunctionName checks that, under every stack name in stackNames,
// the function's name and its Lambda@Edge replica's make cmd/bootstrap run
// fn (the very selection it runs, lambdafn.Select), and fit Lambda's 64
// characters.
func (tp *template) checkFunctionName(fn string, name any, bad func(string, ...any)) {
	for _, stack := range stackNames {
		got, ok := tp.withPseudo(map[string]string{"AWS::StackName": stack}).value(name)
		if !ok {
			bad("%s: FunctionName %v does not resolve: the shared bootstrap picks its function by name", fn, name)
			return
		}
		if len(got) > 64 {
			bad("%s: FunctionName %q is over 64 characters with stack %q", fn, got, stack)
		}
		for _, running := range []string{got, "us-east-1." + got} {
			if sel, err := lambdafn.Select(running, deploy.FunctionNames()); err != nil || sel != fn {
				bad("%s: as %q the shared bootstrap runs %q (%v), want %s", fn, running, sel, err, fn)
			}
		}
	}
}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse(readTestdata(t, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestTemplate(t *testing.T) {
	tp := loadTemplate(t)
	for _, p := range tp.check(testConfig(t)) {
		t.Error(p)
	}
}

// TestTemplateCheckCatches breaks a copy of the template in each way the
// check must notice, so a passing TestTemplate means something.
func TestTemplateCheckCatches(t *testing.T) {
	behaviors := func(tp *template) []any {
		return list(get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "CacheBehaviors"))
	}
	tests := []struct {
		name   string
		mutate func(tp *template, cfg *config.Config)
		want   string
	}{
		{"go runtime", func(tp *template, _ *config.Config) {
			get(tp.Resources, "CheckAuthFunction", "Properties").(map[string]any)["Runtime"] = "provided.al2023"
		}, "want nodejs"},
		{"arm64", func(tp *template, _ *config.Config) {
			get(tp.Resources, "SignOutFunction", "Properties").(map[string]any)["Architectures"] = []any{"arm64"}
		}, "x86_64"},
		{"another zip", func(tp *template, _ *config.Config) {
			get(tp.Parameters).(map[string]any)["SignOutZipKey"] = map[string]any{"Type": "String"}
			get(tp.Resources, "SignOutFunction", "Properties", "Code").(map[string]any)["S3Key"] = map[string]any{"Ref": "SignOutZipKey"}
		}, "sign-out: Code.S3Key = Ref \"SignOutZipKey\", want Ref \"CodeZipKey\""},
		{"no zip parameter", func(tp *template, _ *config.Config) {
			delete(tp.Parameters, "CodeZipKey")
		}, "no String parameter CodeZipKey"},
		{"function named after another", func(tp *template, _ *config.Config) {
			get(tp.Resources, "SignOutFunction", "Properties").(map[string]any)["FunctionName"] = map[string]any{"Fn::Sub": "${AWS::StackName}-check-auth"}
		}, "sign-out: as \"edgeauth-check-auth\" the shared bootstrap runs \"check-auth\""},
		{"function name the bootstrap does not know", func(tp *template, _ *config.Config) {
			get(tp.Resources, "CheckAuthFunction", "Properties").(map[string]any)["FunctionName"] = map[string]any{"Fn::Sub": "${AWS::StackName}-auth"}
		}, "check-auth: as \"edgeauth-auth\" the shared bootstrap runs \"\""},
		{"function without a name", func(tp *template, _ *config.Config) {
			delete(get(tp.Resources, "ParseCallbackFunction", "Properties").(map[string]any), "FunctionName")
		}, "parse-callback: FunctionName <nil> does not resolve"},
		{"function name too long", func(tp *template, _ *config.Config) {
			get(tp.Resources, "ParseCallbackFunction", "Properties").(map[string]any)["FunctionName"] = map[string]any{"Fn::Sub": "${AWS::StackName}-edgeauth-parse-callback"}
		}, "over 64 characters"},
		{"viewer-request", func(tp *template, _ *config.Config) {
			a := list(get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "DefaultCacheBehavior", "LambdaFunctionAssociations"))
			a[0].(map[string]any)["EventType"] = "viewer-request"
		}, "want origin-request"},
		{"unguarded behavior", func(tp *template, _ *config.Config) {
			cfg := get(tp.Resources, "Distribution", "Properties", "DistributionConfig").(map[string]any)
			cfg["CacheBehaviors"] = append(behaviors(tp), map[string]any{"PathPattern": "/public/*", "CachePolicyId": cachingDisabled})
		}, "serves the bucket without check-auth"},
		{"custom suite path", func(_ *template, cfg *config.Config) { cfg.Paths.SignOut = "/logout" }, "no behavior for /logout*"},
		{"cached callback", func(tp *template, _ *config.Config) {
			behaviors(tp)[1].(map[string]any)["CachePolicyId"] = "658327ea-f89d-4fab-a63d-7e88639e58f6"
		}, "want CachingDisabled"},
		{"other cookie prefix", func(_ *template, cfg *config.Config) { cfg.Cookies.Prefix = "auth" }, "want a whitelist with auth-session"},
		{"no Authorization in key", func(tp *template, _ *config.Config) {
			h := get(tp.Resources, "CheckAuthCachePolicy", "Properties", "CachePolicyConfig", "ParametersInCacheKeyAndForwardedToOrigin", "HeadersConfig").(map[string]any)
			h["Headers"] = []any{"Accept"}
		}, "lack Authorization"},
		{"default without origin request policy", func(tp *template, _ *config.Config) {
			delete(get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "DefaultCacheBehavior").(map[string]any), "OriginRequestPolicyId")
		}, "check-auth sees none"},
		{"Accept not forwarded", func(tp *template, _ *config.Config) {
			h := get(tp.Resources, "CheckAuthOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig", "HeadersConfig").(map[string]any)
			h["Headers"] = slices.DeleteFunc(slices.Clone(list(h["Headers"])), func(v any) bool { return v == "Accept" })
		}, "Accept does not reach check-auth"},
		{"preflight header not forwarded", func(tp *template, _ *config.Config) {
			h := get(tp.Resources, "CheckAuthOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig", "HeadersConfig").(map[string]any)
			h["Headers"] = slices.DeleteFunc(slices.Clone(list(h["Headers"])), func(v any) bool { return v == "Access-Control-Request-Method" })
		}, "Access-Control-Request-Method does not reach"},
		{"header in both policies", func(tp *template, _ *config.Config) {
			h := get(tp.Resources, "CheckAuthCachePolicy", "Properties", "CachePolicyConfig", "ParametersInCacheKeyAndForwardedToOrigin", "HeadersConfig").(map[string]any)
			h["Headers"] = append(slices.Clone(list(h["Headers"])), "Accept")
		}, "Accept is in both"},
		{"Authorization in origin request policy", func(tp *template, _ *config.Config) {
			h := get(tp.Resources, "CheckAuthOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig", "HeadersConfig").(map[string]any)
			h["Headers"] = append(slices.Clone(list(h["Headers"])), "Authorization")
		}, "names Authorization"},
		{"session cookie in both policies", func(tp *template, _ *config.Config) {
			get(tp.Resources, "CheckAuthOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig").(map[string]any)["CookiesConfig"] =
				map[string]any{"CookieBehavior": "whitelist", "Cookies": []any{map[string]any{"Fn::Sub": "${CookiePrefix}-session"}}}
		}, "cookie edgeauth-session is in both"},
		{"no viewer function on a behavior", func(tp *template, _ *config.Config) {
			delete(behaviors(tp)[1].(map[string]any), "FunctionAssociations")
		}, "ViewerRequestFunction is not associated"},
		{"viewer host not forwarded", func(tp *template, _ *config.Config) {
			get(tp.Resources, "SuitePathsOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig").(map[string]any)["HeadersConfig"] =
				map[string]any{"HeaderBehavior": "none"}
		}, "does not forward x-edgeauth-viewer-host"},
		{"sign-out blind to the requesting site", func(tp *template, _ *config.Config) {
			h := get(tp.Resources, "SignOutOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig", "HeadersConfig").(map[string]any)
			h["Headers"] = slices.DeleteFunc(slices.Clone(list(h["Headers"])), func(v any) bool { return v == "Sec-Fetch-Site" })
		}, "does not forward Sec-Fetch-Site"},
		{"viewer function sets another header", func(tp *template, _ *config.Config) {
			p := get(tp.Resources, "ViewerRequestFunction", "Properties").(map[string]any)
			p["FunctionCode"] = strings.ReplaceAll(str(p["FunctionCode"]), edge.ViewerHostHeader, "x-other")
		}, "its code does not set"},
		{"attempts index not forwarded", func(tp *template, _ *config.Config) {
			get(tp.Resources, "CheckAuthOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig").(map[string]any)["CookiesConfig"] =
				map[string]any{"CookieBehavior": "none"}
		}, "the attempts index edgeauth-attempts does not reach check-auth"},
		{"query strings in both policies", func(tp *template, _ *config.Config) {
			get(tp.Resources, "CheckAuthOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig", "QueryStringsConfig").(map[string]any)["QueryStringBehavior"] = "all"
		}, "query strings are in the cache key and again"},
		{"query string not forwarded", func(tp *template, _ *config.Config) {
			get(tp.Resources, "CheckAuthCachePolicy", "Properties", "CachePolicyConfig", "ParametersInCacheKeyAndForwardedToOrigin", "QueryStringsConfig").(map[string]any)["QueryStringBehavior"] = "none"
		}, "not every query string"},
		{"timeout no longer than the IdP call", func(tp *template, _ *config.Config) {
			get(tp.Parameters, "FunctionTimeout").(map[string]any)["Default"] = 5
		}, "Timeout \"5\" by default"},
		{"long max ttl", func(tp *template, _ *config.Config) {
			get(tp.Parameters, "CacheMaxTTL").(map[string]any)["Default"] = 86400
		}, "at most 600"},
		{"no response headers policy", func(tp *template, _ *config.Config) {
			delete(get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "DefaultCacheBehavior").(map[string]any), "ResponseHeadersPolicyId")
		}, "no response headers policy"},
		{"Cache-Control overrides the object's", func(tp *template, _ *config.Config) {
			h := list(get(tp.Resources, "ProtectedResponseHeadersPolicy", "Properties", "ResponseHeadersPolicyConfig", "CustomHeadersConfig", "Items"))
			h[0].(map[string]any)["Override"] = true
		}, "Override true"},
		{"a lax Cache-Control allowed", func(tp *template, _ *config.Config) {
			p := get(tp.Parameters, "ProtectedCacheControl").(map[string]any)
			p["AllowedValues"] = append(list(p["AllowedValues"]), "public, max-age=3600")
		}, "lets browsers reuse"},
		{"a page for the suite's 403", func(tp *template, _ *config.Config) {
			d := get(tp.Resources, "Distribution", "Properties", "DistributionConfig").(map[string]any)
			d["CustomErrorResponses"] = append(list(d["CustomErrorResponses"]),
				map[string]any{"ErrorCode": 403, "ResponsePagePath": "/404.html", "ResponseCode": 404})
		}, "replaces the suite's own 403 page"},
		{"the suite's 502 cached", func(tp *template, _ *config.Config) {
			d := get(tp.Resources, "Distribution", "Properties", "DistributionConfig").(map[string]any)
			d["CustomErrorResponses"] = slices.DeleteFunc(slices.Clone(list(d["CustomErrorResponses"])), func(e any) bool { return get(e, "ErrorCode") == 502 })
		}, "no ErrorCachingMinTTL 0 for 502"},
		{"error page behind check-auth", func(tp *template, _ *config.Config) {
			d := get(tp.Resources, "Distribution", "Properties", "DistributionConfig").(map[string]any)
			d["CacheBehaviors"] = behaviors(tp)[1:]
		}, "goes through the default behavior"},
		{"error page behavior runs check-auth", func(tp *template, _ *config.Config) {
			behaviors(tp)[0].(map[string]any)["LambdaFunctionAssociations"] = []any{map[string]any{"EventType": "origin-request"}}
		}, "behavior runs functions"},
		{"no 404 page", func(tp *template, _ *config.Config) {
			d := get(tp.Resources, "Distribution", "Properties", "DistributionConfig").(map[string]any)
			d["CustomErrorResponses"] = slices.DeleteFunc(slices.Clone(list(d["CustomErrorResponses"])), func(e any) bool { return get(e, "ErrorCode") == 404 })
		}, "no custom error response for 404"},
		{"no ListBucket", func(tp *template, _ *config.Config) {
			st := list(get(tp.Resources, "ContentBucketPolicy", "Properties", "PolicyDocument", "Statement"))
			st[1].(map[string]any)["Action"] = "s3:GetObjectAcl"
		}, "no s3:ListBucket"},
		{"public bucket", func(tp *template, _ *config.Config) {
			get(tp.Resources, "ContentBucket", "Properties", "PublicAccessBlockConfiguration").(map[string]any)["RestrictPublicBuckets"] = false
		}, "RestrictPublicBuckets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, cfg := loadTemplate(t), testConfig(t)
			tt.mutate(tp, cfg)
			problems := tp.check(cfg)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("check() = %q, want a problem mentioning %q", problems, tt.want)
			}
		})
	}
}

// TestTemplateLint runs cfn-lint when it is installed: it knows every
// resource's schema, which the checks above do not.
func TestTemplateLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed")
	}
	out, err := exec.Command(lint, "--", "template.yaml").CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}
