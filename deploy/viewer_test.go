package deploy_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// TestWriteViewerFunction: the files make package writes for the viewer
// mode are what the local edge runs: the code compiles in cfjs, the store
// file opens with cfjs.OpenKeyValueStore and gives the function its keys
// (a session made by Go reaches the shared key), secrets are 0600, and
// inline keys leave no store file behind.
func TestWriteViewerFunction(t *testing.T) {
	cfg := suitetest.Config(t, "cognito.json", nil)
	out := filepath.Join(t.TempDir(), "dist")
	p := &deploy.Packager{Out: out}
	tpl := mustRead(t, "template.yaml")
	a, err := p.WriteViewerFunction(cfg, viewerfn.Options{}, tpl)
	if err != nil {
		t.Fatal(err)
	}
	// The template to deploy holds the generated code, and nothing else
	// of it changed.
	packaged, err := os.ReadFile(a.TemplatePath)
	if err != nil || a.TemplatePath != filepath.Join(out, deploy.TemplateName) || len(packaged) != a.TemplateSize {
		t.Fatalf("template: %s, %d bytes (%v), artifact %+v", a.TemplatePath, len(packaged), err, a)
	}
	if want, err := deploy.PackageTemplate(tpl, mustRead(t, a.FunctionPath)); err != nil || !bytes.Equal(packaged, want) {
		t.Errorf("written template is not the repository's with the generated function inline (%v)", err)
	}
	if fi, err := os.Stat(a.TemplatePath); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("template mode = %v (%v), want 0644: it holds no key", fi.Mode().Perm(), err)
	}
	if a.FunctionPath != filepath.Join(out, deploy.ViewerFunctionName) || a.KVSPath != filepath.Join(out, deploy.ViewerKVSName) {
		t.Fatalf("artifact %+v", a)
	}
	code, err := os.ReadFile(a.FunctionPath)
	if err != nil || len(code) != a.FunctionSize || len(code) > viewerfn.MaxCodeSize {
		t.Fatalf("function file: %d bytes (%v), artifact says %d", len(code), err, a.FunctionSize)
	}
	for name, want := range map[string]os.FileMode{a.FunctionPath: 0o644, a.KVSPath: 0o600} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v (%v), want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	kv, err := cfjs.OpenKeyValueStore(a.KVSPath)
	if err != nil {
		t.Fatalf("the local edge cannot read %s: %v", a.KVSPath, err)
	}
	fn, err := cfjs.Compile(deploy.ViewerFunctionName, code, cfjs.Options{KeyValueStore: kv, Now: suitetest.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(code, cfg.Keys[0].Hash) || strings.Contains(string(code), b64(cfg.Keys[0].Hash)) {
		t.Error("the function holds the hash key although the keys are in the store")
	}
	cookie := sessionCookie(t, cfg)
	if key := viewerKey(t, fn, "/docs/x", cookie); key != viewerfn.Shared {
		t.Errorf("a valid session gets key %q through the written files, want shared", key)
	}

	// Inline: the keys move into the code, the store file goes.
	a, err = p.WriteViewerFunction(cfg, viewerfn.Options{InlineKeys: true}, tpl)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(a.TemplatePath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("inline keys: template mode = %v (%v), want 0600: its function holds the keys", fi.Mode().Perm(), err)
	}
	if a.KVSPath != "" {
		t.Errorf("inline keys: KVSPath = %q", a.KVSPath)
	}
	if _, err := os.Stat(filepath.Join(out, deploy.ViewerKVSName)); !os.IsNotExist(err) {
		t.Errorf("inline keys left %s behind (%v)", deploy.ViewerKVSName, err)
	}
	if fi, err := os.Stat(a.FunctionPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("inline function mode = %v, want 0600", fi.Mode().Perm())
	}
	code, _ = os.ReadFile(a.FunctionPath)
	fn, err = cfjs.Compile(deploy.ViewerFunctionName, code, cfjs.Options{Now: suitetest.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if key := viewerKey(t, fn, "/docs/x", cookie); key != viewerfn.Shared {
		t.Errorf("inline: a valid session gets key %q, want shared", key)
	}

	// A config whose rules do not fit fails, naming the limit.
	many := suitetest.Config(t, "cognito.json", func(m map[string]any) {
		var rules []any
		for i := range 300 {
			rules = append(rules, map[string]any{"path": "/t/" + strings.Repeat("x", 10) + string(rune('a'+i%26)) + "/" + string(rune('a'+i/26)) + "/*", "groups": []string{"g"}})
		}
		m["rules"] = rules
	})
	if _, err := p.WriteViewerFunction(many, viewerfn.Options{}, tpl); err == nil || !strings.Contains(err.Error(), "10,240") {
		t.Errorf("300 rules: err = %v, want the size limit", err)
	}
}

func viewerKey(t *testing.T, fn *cfjs.Function, uri, cookie string) string {
	t.Helper()
	name, value, _ := strings.Cut(cookie, "=")
	res, err := fn.Run(context.Background(), &cfjs.Event{
		Context: cfjs.Context{EventType: cfjs.ViewerRequest},
		Request: cfjs.Request{Method: "GET", URI: uri, Headers: map[string]cfjs.Value{"host": {Value: "www.example.com"}},
			Cookies: map[string]cfjs.Cookie{name: {Value: value}}, QueryString: map[string]cfjs.Value{}},
	})
	if err != nil || res.Request == nil {
		t.Fatalf("run: %v", err)
	}
	return res.Request.Headers[strings.ToLower(viewerfn.CacheKeyHeader)].Value
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// sessionCookie is a session cookie pair for alice, made by Go's session
// package from cfg's keys.
func sessionCookie(t *testing.T, cfg *config.Config) string {
	t.Helper()
	c, err := suitetest.Sessions(t, cfg, suitetest.Clock).EncodeSession(session.Session{
		Identity: verifier.Identity{Subject: "alice"}, Expiry: suitetest.Now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.Name + "=" + c.Value
}
