package deploy_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/cfjs"
)

// The viewer mode's names in template.yaml.
const (
	viewerModeParam   = "ViewerMode"
	viewerKeysParam   = "ViewerKeysObjectKey"
	viewerAuthFn      = "ViewerAuthFunction"
	viewerRequestFn   = "ViewerRequestFunction"
	viewerKVS         = "ViewerKeyValueStore"
	cacheKeyHeader    = "X-Edgeauth-Cache-Key"
	defaultBehavior   = "default behavior"
	perCredentialFile = "testdata/template-per-credential.json"
)

var goldenFrom = flag.String("per-credential-golden-from", "",
	"write "+perCredentialFile+" from this template file (resolved with its defaults)")

// withParams is tp deployed with these parameter values.
func (tp *template) withParams(p map[string]string) *template {
	c := *tp
	c.params = p
	return &c
}

// viewerMode is tp deployed with ViewerMode "true", the keys in a store
// seeded from keysObject ("" for keys in the code).
func (tp *template) inViewerMode(keysObject string) *template {
	return tp.withParams(map[string]string{viewerModeParam: "true", viewerKeysParam: keysObject})
}

// resolve returns the template as CloudFormation deploys it with tp's
// parameter values: every condition decided, resources whose condition is
// false left out, each Fn::If replaced by its chosen branch and
// AWS::NoValue removed.
func (tp *template) resolve() (*template, error) {
	conds := map[string]bool{}
	var condition func(name string, depth int) (bool, error)
	var eval func(v any, depth int) (bool, error)
	eval = func(v any, depth int) (bool, error) {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return false, fmt.Errorf("condition %v: not a condition function", v)
		}
		for fn, arg := range m {
			args := list(arg)
			switch fn {
			case "Fn::Equals":
				if len(args) != 2 {
					return false, fmt.Errorf("Fn::Equals %v: want two values", arg)
				}
				a, okA := tp.value(args[0])
				b, okB := tp.value(args[1])
				if !okA || !okB {
					return false, fmt.Errorf("Fn::Equals %v: unresolvable", arg)
				}
				return a == b, nil
			case "Fn::Not":
				if len(args) != 1 {
					return false, fmt.Errorf("Fn::Not %v: want one condition", arg)
				}
				r, err := eval(args[0], depth)
				return !r, err
			case "Fn::And", "Fn::Or":
				all := fn == "Fn::And"
				for _, a := range args {
					r, err := eval(a, depth)
					if err != nil {
						return false, err
					}
					if r != all {
						return r, nil
					}
				}
				return all, nil
			case "Condition", "Fn::Condition":
				return condition(str(arg), depth+1)
			}
			return false, fmt.Errorf("condition function %s not modelled", fn)
		}
		return false, nil
	}
	condition = func(name string, depth int) (bool, error) {
		if r, ok := conds[name]; ok {
			return r, nil
		}
		def, ok := tp.Conditions[name]
		if !ok || depth > 10 {
			return false, fmt.Errorf("condition %q: not defined (or circular)", name)
		}
		r, err := eval(def, depth)
		if err != nil {
			return false, fmt.Errorf("condition %s: %w", name, err)
		}
		conds[name] = r
		return r, nil
	}
	noValue := errors.New("AWS::NoValue")
	var value func(v any) (any, error)
	value = func(v any) (any, error) {
		switch x := v.(type) {
		case map[string]any:
			if refName(x) == "AWS::NoValue" {
				return nil, noValue
			}
			if args, ok := x["Fn::If"]; ok && len(x) == 1 {
				a := list(args)
				if len(a) != 3 {
					return nil, fmt.Errorf("Fn::If %v: want [condition, then, else]", args)
				}
				r, err := condition(str(a[0]), 0)
				if err != nil {
					return nil, err
				}
				if r {
					return value(a[1])
				}
				return value(a[2])
			}
			out := make(map[string]any, len(x))
			for k, e := range x {
				r, err := value(e)
				if errors.Is(err, noValue) {
					continue
				}
				if err != nil {
					return nil, err
				}
				out[k] = r
			}
			return out, nil
		case []any:
			out := make([]any, 0, len(x))
			for _, e := range x {
				r, err := value(e)
				if errors.Is(err, noValue) {
					continue
				}
				if err != nil {
					return nil, err
				}
				out = append(out, r)
			}
			return out, nil
		}
		return v, nil
	}
	c := *tp
	c.Resources = map[string]any{}
	for name, r := range tp.Resources {
		if cn := str(get(r, "Condition")); cn != "" {
			on, err := condition(cn, 0)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", name, err)
			}
			if !on {
				continue
			}
		}
		v, err := value(r)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", name, err)
		}
		c.Resources[name] = v
	}
	outputs, err := value(tp.Outputs)
	if err != nil {
		return nil, fmt.Errorf("outputs: %w", err)
	}
	c.Outputs, _ = outputs.(map[string]any)
	if _, ok := tp.Conditions[viewerModeParam]; ok {
		if c.viewerMode, err = condition(viewerModeParam, 0); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// viewerFunctionFor is the viewer-request function a behavior must run.
func (tp *template) viewerFunctionFor(where string) string {
	if tp.viewerMode && where == defaultBehavior {
		return viewerAuthFn
	}
	return viewerRequestFn
}

// checkViewerModeParameters: off unless asked for, and only "true" or
// "false" (a typo must not deploy half a mode).
func (tp *template) checkViewerModeParameters(bad func(string, ...any)) {
	p := get(tp.Parameters, viewerModeParam)
	if p == nil {
		bad("no parameter %s", viewerModeParam)
		return
	}
	if d, _ := tp.value(get(p, "Default")); d != "false" {
		bad("parameter %s defaults to %q, want \"false\" (the template as it was)", viewerModeParam, d)
	}
	if a := list(get(p, "AllowedValues")); !slices.Equal(a, []any{"false", "true"}) {
		bad("parameter %s allows %v, want [false true]", viewerModeParam, a)
	}
}

// checkViewerCacheKey checks the default cache key in viewer mode: the
// header the viewer function sets (shared or per credential), never a
// cookie (the session cookie would split the shared copy per user, and
// the function has judged it), Authorization (how it reaches check-auth,
// and it keeps Bearer requests off the shared entry). It also checks the
// function and its key value store.
func (tp *template) checkViewerCacheKey(key any, session string, bad func(string, ...any)) {
	var headers []string
	for _, h := range list(get(key, "HeadersConfig", "Headers")) {
		headers = append(headers, strings.ToLower(str(h)))
	}
	if get(key, "HeadersConfig", "HeaderBehavior") != "whitelist" {
		bad("viewer mode: cache key HeaderBehavior %v, want whitelist", get(key, "HeadersConfig", "HeaderBehavior"))
	}
	for _, want := range []string{cacheKeyHeader, "Authorization"} {
		if !slices.Contains(headers, strings.ToLower(want)) {
			bad("viewer mode: the cache key lacks %s", want)
		}
	}
	if cb := get(key, "CookiesConfig", "CookieBehavior"); cb != "none" {
		bad("viewer mode: cache key cookies %v (%v), want none: the shared copy is per URL, not per %s", tp.values(get(key, "CookiesConfig", "Cookies")), cb, session)
	}

	fn, ok := tp.resource(viewerAuthFn, "AWS::CloudFront::Function")
	if !ok {
		bad("viewer mode: no AWS::CloudFront::Function %s", viewerAuthFn)
		return
	}
	if code := str(get(fn, "FunctionCode")); !strings.Contains(strings.ToLower(code), strings.ToLower(cacheKeyHeader)) {
		bad("viewer mode: %s's code never sets %s", viewerAuthFn, cacheKeyHeader)
	}
	assocs := list(get(fn, "FunctionConfig", "KeyValueStoreAssociations"))
	store, inStore := tp.resource(viewerKVS, "AWS::CloudFront::KeyValueStore")
	keysObject, _ := tp.value(map[string]any{"Ref": viewerKeysParam})
	switch {
	case keysObject == "" && (inStore || len(assocs) > 0):
		bad("viewer mode without %s: a key value store is created or associated", viewerKeysParam)
	case keysObject != "" && !inStore:
		bad("viewer mode with %s: no %s", viewerKeysParam, viewerKVS)
	case keysObject != "" && (len(assocs) != 1 || !slices.Equal(list(get(assocs[0], "KeyValueStoreARN", "Fn::GetAtt")), []any{viewerKVS, "Arn"})):
		bad("viewer mode: %s is not associated with %s (associations %v)", viewerKVS, viewerAuthFn, assocs)
	case keysObject != "":
		src := get(store, "ImportSource")
		arn, _ := tp.withPseudo(map[string]string{"AWS::Partition": "aws"}).value(get(src, "SourceArn"))
		bucket, _ := tp.value(map[string]any{"Ref": "CodeBucket"})
		if get(src, "SourceType") != "S3" || arn != "arn:aws:s3:::"+bucket+"/"+keysObject {
			bad("viewer mode: %s imports %v %q, want S3 %s/%s", viewerKVS, get(src, "SourceType"), arn, bucket, keysObject)
		}
	}
}

// TestTemplateViewerMode checks the template deployed in viewer mode, with
// the keys in a store and in the code.
func TestTemplateViewerMode(t *testing.T) {
	for name, keys := range map[string]string{"keys in a store": "viewer-kvs-0123abcd.json", "keys in the code": ""} {
		t.Run(name, func(t *testing.T) {
			tp := loadTemplate(t).withParams(map[string]string{viewerModeParam: "true", viewerKeysParam: keys, "CodeBucket": "code-bucket"})
			for _, p := range tp.check(testConfig(t)) {
				t.Error(p)
			}
			r, err := tp.resolve()
			if err != nil || !r.viewerMode {
				t.Fatalf("resolve: viewer mode %v, %v", r != nil && r.viewerMode, err)
			}
		})
	}
}

// TestTemplateViewerModeCatches breaks a copy of the template in each way
// the viewer-mode check must notice.
func TestTemplateViewerModeCatches(t *testing.T) {
	key := func(tp *template) map[string]any {
		return get(tp.Resources, "ViewerCachePolicy", "Properties", "CachePolicyConfig", "ParametersInCacheKeyAndForwardedToOrigin").(map[string]any)
	}
	tests := []struct {
		name   string
		keys   string // ViewerKeysObjectKey
		mutate func(tp *template)
		want   string
	}{
		{"on by default", "k", func(tp *template) { get(tp.Parameters, viewerModeParam).(map[string]any)["Default"] = "true" }, "defaults to \"true\""},
		{"a third value", "k", func(tp *template) {
			p := get(tp.Parameters, viewerModeParam).(map[string]any)
			p["AllowedValues"] = append(list(p["AllowedValues"]), "yes")
		}, "allows"},
		{"session cookie in the key", "k", func(tp *template) {
			key(tp)["CookiesConfig"] = map[string]any{"CookieBehavior": "whitelist", "Cookies": []any{map[string]any{"Fn::Sub": "${CookiePrefix}-session"}}}
		}, "want none"},
		{"no cache key header", "k", func(tp *template) {
			h := key(tp)["HeadersConfig"].(map[string]any)
			h["Headers"] = slices.DeleteFunc(slices.Clone(list(h["Headers"])), func(v any) bool { return v == cacheKeyHeader })
		}, "lacks " + cacheKeyHeader},
		{"no Authorization in the key", "k", func(tp *template) {
			h := key(tp)["HeadersConfig"].(map[string]any)
			h["Headers"] = slices.DeleteFunc(slices.Clone(list(h["Headers"])), func(v any) bool { return v == "Authorization" })
		}, "lacks Authorization"},
		{"session not forwarded", "k", func(tp *template) {
			get(tp.Resources, "ViewerOriginRequestPolicy", "Properties", "OriginRequestPolicyConfig").(map[string]any)["CookiesConfig"] =
				map[string]any{"CookieBehavior": "whitelist", "Cookies": []any{map[string]any{"Fn::Sub": "${CookiePrefix}-attempts"}}}
		}, "session cookie edgeauth-session does not reach check-auth"},
		{"the plain function on the default behavior", "k", func(tp *template) {
			a := list(get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "DefaultCacheBehavior", "FunctionAssociations"))
			a[0].(map[string]any)["FunctionARN"] = map[string]any{"Fn::GetAtt": []any{viewerRequestFn, "FunctionMetadata.FunctionARN"}}
		}, "the viewer-request ViewerAuthFunction is not associated"},
		{"the default policy in viewer mode", "k", func(tp *template) {
			get(tp.Resources, "Distribution", "Properties", "DistributionConfig", "DefaultCacheBehavior").(map[string]any)["CachePolicyId"] = map[string]any{"Ref": "CheckAuthCachePolicy"}
		}, "want none"},
		{"auth function without the host copy", "k", func(tp *template) {
			p := get(tp.Resources, viewerAuthFn, "Properties").(map[string]any)
			p["FunctionCode"] = strings.ReplaceAll(str(p["FunctionCode"]), "'x-edgeauth-viewer-host'", "'x-other'")
		}, "ViewerAuthFunction: its code does not set"},
		{"auth function without the cache key", "k", func(tp *template) {
			p := get(tp.Resources, viewerAuthFn, "Properties").(map[string]any)
			p["FunctionCode"] = strings.ReplaceAll(str(p["FunctionCode"]), "x-edgeauth-cache-key", "x-other")
		}, "never sets " + cacheKeyHeader},
		{"store not associated", "k", func(tp *template) {
			delete(get(tp.Resources, viewerAuthFn, "Properties", "FunctionConfig").(map[string]any), "KeyValueStoreAssociations")
		}, "is not associated with ViewerAuthFunction"},
		{"store from elsewhere", "k", func(tp *template) {
			get(tp.Resources, viewerKVS, "Properties", "ImportSource").(map[string]any)["SourceArn"] = "arn:aws:s3:::other/k"
		}, "imports S3"},
		{"store without keys", "", func(tp *template) {
			get(tp.Resources, viewerKVS).(map[string]any)["Condition"] = viewerModeParam
		}, "a key value store is created"},
		{"no viewer function in viewer mode", "k", func(tp *template) { delete(tp.Resources, viewerAuthFn) }, "no AWS::CloudFront::Function ViewerAuthFunction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, cfg := loadTemplate(t), testConfig(t)
			tt.mutate(tp)
			problems := tp.withParams(map[string]string{viewerModeParam: "true", viewerKeysParam: tt.keys}).check(cfg)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("check() = %q, want a problem mentioning %q", problems, tt.want)
			}
		})
	}
}

// deployedShape is what a resolved template deploys, as JSON: resources,
// outputs and the parameters other than viewer mode's own.
func deployedShape(t *testing.T, tp *template) []byte {
	t.Helper()
	r, err := tp.resolve()
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{}
	for k, v := range r.Parameters {
		if k != viewerModeParam && k != viewerKeysParam {
			params[k] = v
		}
	}
	b, err := json.MarshalIndent(map[string]any{"Parameters": params, "Resources": r.Resources, "Outputs": r.Outputs}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestViewerModeOffIsToday: with ViewerMode at its default the template
// deploys exactly what it deployed before viewer mode existed. The golden
// file was written from the template of main before the change
// (-per-credential-golden-from=<that file>), every resource, property and
// output resolved as CloudFormation would.
func TestViewerModeOffIsToday(t *testing.T) {
	if *goldenFrom != "" {
		if err := os.WriteFile(perCredentialFile, deployedShape(t, loadTemplateFile(t, *goldenFrom)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(perCredentialFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := deployedShape(t, loadTemplate(t)); string(got) != string(want) {
		out := filepath.Join(t.TempDir(), "got.json")
		_ = os.WriteFile(out, got, 0o644)
		t.Errorf("template.yaml with ViewerMode false deploys something else than before viewer mode (%s); diff %s %s", perCredentialFile, perCredentialFile, out)
	}
	on := deployedShape(t, loadTemplate(t).inViewerMode(""))
	if string(on) == string(want) {
		t.Error("ViewerMode true deploys the same as false")
	}
}

// unpackagedFile is the repository's fail-safe viewer-mode function, which
// template.yaml holds inline until make package replaces it.
const unpackagedFile = "functions/viewer-auth-unpackaged.js"

// TestViewerAuthUnpackagedInline keeps ViewerAuthFunction's code in
// template.yaml equal to the file (-update copies the file in).
func TestViewerAuthUnpackagedInline(t *testing.T) {
	code, err := os.ReadFile(unpackagedFile)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		b, err := os.ReadFile("template.yaml")
		if err != nil {
			t.Fatal(err)
		}
		out, err := deploy.ReplaceFunctionCode(b, viewerAuthFn, code)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("template.yaml", out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if inline := str(get(loadTemplate(t).Resources, viewerAuthFn, "Properties", "FunctionCode")); inline != string(code) {
		t.Errorf("template.yaml's %s code differs from %s (go test ./deploy -run %s -args -update)", viewerAuthFn, unpackagedFile, t.Name())
	}
}

// TestViewerAuthUnpackaged: the fail-safe function never gives a request
// the shared key, whatever it carries; its key follows the credentials
// (same credentials, same key; any other, another), overwrites what the
// viewer sent, and it does the Host copy and the directory index. Run in
// cfjs and, as a cross-check, under Node.
func TestViewerAuthUnpackaged(t *testing.T) {
	code, err := os.ReadFile(unpackagedFile)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := cfjs.Compile(unpackagedFile, code, cfjs.Options{})
	if err != nil {
		t.Fatalf("does not compile as cloudfront-js-2.0: %v", err)
	}
	type req struct {
		name    string
		auth    []string
		cookies map[string][]string
		forged  []string // X-Edgeauth-Cache-Key values the viewer sent
	}
	reqs := []req{
		{name: "nothing"},
		{name: "nothing, forged shared", forged: []string{"shared"}},
		{name: "nothing, two forged", forged: []string{"shared", "shared"}},
		{name: "alice", cookies: map[string][]string{"edgeauth-session": {"alice"}}},
		{name: "alice again, forged shared", cookies: map[string][]string{"edgeauth-session": {"alice"}}, forged: []string{"shared"}},
		{name: "bob", cookies: map[string][]string{"edgeauth-session": {"bob"}}},
		{name: "alice twice", cookies: map[string][]string{"edgeauth-session": {"alice", "alice"}}},
		{name: "alice under another prefix", cookies: map[string][]string{"auth-session": {"alice"}}},
		{name: "bearer", auth: []string{"Bearer abc"}},
		{name: "other bearer", auth: []string{"Bearer abd"}},
		{name: "bearer and alice", auth: []string{"Bearer abc"}, cookies: map[string][]string{"edgeauth-session": {"alice"}}},
	}
	var events []*cfjs.Event
	var keys []string
	for _, r := range reqs {
		ev := viewerEvent("/docs/", []string{"h.example"}, nil)
		for _, v := range r.auth {
			cfjs.AddValue(ev.Request.Headers, "authorization", v)
		}
		for _, v := range r.forged {
			cfjs.AddValue(ev.Request.Headers, "x-edgeauth-cache-key", v)
		}
		for name, vs := range r.cookies {
			for _, v := range vs {
				cfjs.AddCookie(ev.Request.Cookies, name, cfjs.Cookie{Value: v})
			}
		}
		events = append(events, ev)
		res, err := fn.Run(t.Context(), ev)
		if err != nil || res.Request == nil {
			t.Fatalf("%s: Run = %+v, %v", r.name, res, err)
		}
		k := res.Request.Headers["x-edgeauth-cache-key"]
		if !strings.HasPrefix(k.Value, "c-") || len(k.Value) != 2+64 || strings.Join(k.Values(), ",") != k.Value {
			t.Errorf("%s: cache key %+v, want one c-<sha256>", r.name, k)
		}
		if res.Request.URI != "/docs/index.html" || res.Request.Headers["x-edgeauth-viewer-host"].Value != "h.example" {
			t.Errorf("%s: uri %q, viewer host %+v: not what viewer-request.js does", r.name, res.Request.URI, res.Request.Headers["x-edgeauth-viewer-host"])
		}
		keys = append(keys, k.Value)
	}
	same := func(a, b int) bool { return keys[a] == keys[b] }
	if !same(0, 1) || !same(0, 2) || !same(3, 4) {
		t.Errorf("a forged header changed the key: %q", keys)
	}
	for i := range reqs {
		for j := range reqs {
			if i < j && same(i, j) && !(i <= 2 && j <= 2) && !(i == 3 && j == 4) {
				t.Errorf("%s and %s share the key %s", reqs[i].name, reqs[j].name, keys[i])
			}
		}
	}

	// Node: the same requests come back with the same keys.
	out := runInNode(t, code, events, "(r) => r.headers['x-edgeauth-cache-key'].value")
	var fromNode []string
	if err := json.Unmarshal(out, &fromNode); err != nil || !slices.Equal(fromNode, keys) {
		t.Errorf("node keys %s (%v), cfjs %q", out, err, keys)
	}
}

// TestPackagedTemplate: the template make package writes, with the
// function generated from the config in place of the fail-safe copy,
// passes the viewer-mode checks and cfn-lint, keeps the rest of the
// template byte for byte, and fits CloudFormation's inline template body
// (51,200 bytes; deploy takes a larger one only through S3).
func TestPackagedTemplate(t *testing.T) {
	tpl, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, inline := range map[string]bool{"keys in a store": false, "keys in the code": true} {
		t.Run(name, func(t *testing.T) {
			gen, err := viewerfn.Generate(testConfig(t), viewerfn.Options{InlineKeys: inline})
			if err != nil {
				t.Fatal(err)
			}
			out, err := deploy.PackageTemplate(tpl, gen.Code)
			if err != nil {
				t.Fatal(err)
			}
			tp := parseTemplate(t, out)
			if got := str(get(tp.Resources, viewerAuthFn, "Properties", "FunctionCode")); got != string(gen.Code) {
				t.Fatalf("the packaged template's %s code is not the generated code", viewerAuthFn)
			}
			keys := "viewer-kvs.json"
			if inline {
				keys = ""
			}
			for _, p := range tp.withParams(map[string]string{viewerModeParam: "true", viewerKeysParam: keys}).check(testConfig(t)) {
				t.Error(p)
			}
			// Everything but the function's code is the repository's.
			back, err := deploy.PackageTemplate(out, mustRead(t, unpackagedFile))
			if err != nil || string(back) != string(tpl) {
				t.Errorf("packaging changed more than %s's code (%v)", viewerAuthFn, err)
			}
			if len(out) > deploy.MaxTemplateBody {
				t.Errorf("packaged template is %d bytes, over CloudFormation's inline %d: deploy needs --s3-bucket", len(out), deploy.MaxTemplateBody)
			}
			t.Logf("packaged template: %d bytes (inline limit %d); function %d bytes", len(out), deploy.MaxTemplateBody, len(gen.Code))
			lint, err := exec.LookPath("cfn-lint")
			if err != nil {
				t.Skip("cfn-lint not installed")
			}
			path := filepath.Join(t.TempDir(), deploy.TemplateName)
			if err := os.WriteFile(path, out, 0o600); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(lint, "--", path).CombinedOutput(); err != nil {
				t.Errorf("cfn-lint of the packaged template: %v\n%s", err, b)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
