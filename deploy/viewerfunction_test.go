package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/deploy"
	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/shared/edge"
)

var update = flag.Bool("update", false, "copy deploy/functions/viewer-request.js into template.yaml")

// viewerFunctionFile is the one source of the template's CloudFront
// Function: the local edge configs run it, the template holds it inline.
const viewerFunctionFile = "functions/viewer-request.js"

func viewerFunctionCode(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(viewerFunctionFile)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestViewerRequestFunctionInline keeps the template's FunctionCode equal,
// byte for byte, to the file the local edge runs, so the code tested
// locally is the code that deploys. -update rewrites the template's copy.
func TestViewerRequestFunctionInline(t *testing.T) {
	code := viewerFunctionCode(t)
	if *update {
		b, err := os.ReadFile("template.yaml")
		if err != nil {
			t.Fatal(err)
		}
		out, err := replaceFunctionCode(b, code)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("template.yaml", out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inline := str(get(loadTemplate(t).Resources, "ViewerRequestFunction", "Properties", "FunctionCode"))
	if inline != string(code) {
		t.Errorf("template.yaml's ViewerRequestFunction code differs from %s (go test ./deploy -run %s -args -update)", viewerFunctionFile, t.Name())
	}
	if len(code) > cfjs.MaxCodeSize {
		t.Errorf("%s is %d bytes, over CloudFront's %d", viewerFunctionFile, len(code), cfjs.MaxCodeSize)
	}
}

// replaceFunctionCode puts code into the ViewerRequestFunction's
// "FunctionCode: |" block of the template text.
func replaceFunctionCode(tpl, code []byte) ([]byte, error) {
	return deploy.ReplaceFunctionCode(tpl, "ViewerRequestFunction", code)
}

// viewerCases are the function's promises.
func viewerCases() []struct {
	name, uri string
	host      []string // "" = no Host
	forged    []string
	wantURI   string
} {
	return []struct {
		name, uri string
		host      []string
		forged    []string
		wantURI   string
	}{
		{"copies the Host", "/docs/guide.html", []string{"shop.example.com"}, nil, "/docs/guide.html"},
		{"overwrites a forged copy", "/index.html", []string{"www.example.com"}, []string{"evil.example"}, "/index.html"},
		{"overwrites two forged copies", "/index.html", []string{"www.example.com"}, []string{"evil.example", "worse.example"}, "/index.html"},
		{"removes a forged copy without a Host", "/index.html", nil, []string{"evil.example"}, "/index.html"},
		{"root gets index.html", "/", []string{"h"}, nil, "/index.html"},
		{"a folder gets index.html", "/docs/", []string{"h"}, nil, "/docs/index.html"},
		{"a user's folder", "/users/CiQ4ZDVjM2E2ZS00ZjBiLTRjMWUtOWE1MS0wYTExY2UwMDAwMDESBWxvY2Fs/", []string{"h"}, nil,
			"/users/CiQ4ZDVjM2E2ZS00ZjBiLTRjMWUtOWE1MS0wYTExY2UwMDAwMDESBWxvY2Fs/index.html"},
		{"an encoded folder keeps its encoding", "/a%20b/", []string{"h"}, nil, "/a%20b/index.html"},
		{"no slash: left alone", "/docs", []string{"h"}, nil, "/docs"},
		{"an extensionless object: left alone", "/LICENSE", []string{"h"}, nil, "/LICENSE"},
		{"a slash encoded: no folder", "/docs%2F", []string{"h"}, nil, "/docs%2F"},
	}
}

func viewerEvent(uri string, host, forged []string) *cfjs.Event {
	headers := map[string]cfjs.Value{}
	for _, v := range host {
		cfjs.AddValue(headers, "host", v)
	}
	for _, v := range forged {
		cfjs.AddValue(headers, edge.ViewerHostHeader, v)
	}
	return &cfjs.Event{
		Context: cfjs.Context{EventType: cfjs.ViewerRequest, DistributionDomainName: "d111111abcdef8.cloudfront.net"},
		Viewer:  cfjs.Viewer{IP: "198.51.100.11"},
		Request: cfjs.Request{Method: "GET", URI: uri, QueryString: map[string]cfjs.Value{}, Headers: headers, Cookies: map[string]cfjs.Cookie{}},
	}
}

// TestViewerRequestFunctionCode runs the function file in the local edge's
// engine (cfjs, with CloudFront's subset checks) and, as a cross-check of
// the engines, under Node: the same request comes back from both.
func TestViewerRequestFunctionCode(t *testing.T) {
	code := viewerFunctionCode(t)
	fn, err := cfjs.Compile(viewerFunctionFile, code, cfjs.Options{})
	if err != nil {
		t.Fatalf("the function does not compile as cloudfront-js-2.0: %v", err)
	}
	var events []*cfjs.Event
	var local []*cfjs.Request
	for _, tt := range viewerCases() {
		ev := viewerEvent(tt.uri, tt.host, tt.forged)
		events = append(events, ev)
		res, err := fn.Run(context.Background(), ev)
		if err != nil || res.Request == nil {
			t.Fatalf("%s: Run = %+v, %v", tt.name, res, err)
		}
		r := res.Request
		local = append(local, r)
		if r.URI != tt.wantURI {
			t.Errorf("%s: uri %q, want %q", tt.name, r.URI, tt.wantURI)
		}
		got, ok := r.Headers[edge.ViewerHostHeader]
		switch {
		case len(tt.host) == 0 && ok:
			t.Errorf("%s: %s = %+v, want it removed", tt.name, edge.ViewerHostHeader, got)
		case len(tt.host) > 0 && (got.Value != tt.host[0] || strings.Join(got.Values(), ",") != tt.host[0]):
			// The multiValue is what CloudFront applies over forged
			// duplicates: it must hold the Host alone.
			t.Errorf("%s: %s = %+v, want %q alone", tt.name, edge.ViewerHostHeader, got, tt.host[0])
		}
	}

	out := runInNode(t, code, events, "(r) => r")
	var fromNode []cfjs.Request
	if err := json.Unmarshal(out, &fromNode); err != nil || len(fromNode) != len(local) {
		t.Fatalf("node results %s: %v", out, err)
	}
	for i, tt := range viewerCases() {
		a, _ := json.Marshal(local[i])
		b, _ := json.Marshal(fromNode[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s: cfjs returned %s, Node %s", tt.name, a, b)
		}
	}
}

// runInNode runs the CloudFront Function code under Node on each event
// (cloudfront-js-2.0 code is close enough to CommonJS once its crypto
// import is a require) and returns the JSON array of pick(result): the
// cross-check of what cfjs runs. Without Node it skips, except under CI.
func runInNode(t *testing.T, code []byte, events any, pick string) []byte {
	t.Helper()
	node := needNode(t)
	dir := t.TempDir()
	in, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(code), "import crypto from 'crypto';", "const crypto = require('crypto');", 1)
	harness := `const fs = require('fs');
const handler = new Function('require', fs.readFileSync('function.js', 'utf8') + '\nreturn handler;')(require);
const events = JSON.parse(fs.readFileSync('events.json', 'utf8'));
const pick = ` + pick + `;
process.stdout.write(JSON.stringify(events.map((e) => pick(handler(e)))));
`
	for name, data := range map[string][]byte{"function.js": []byte(src), "events.json": in, "harness.cjs": []byte(harness)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, "harness.cjs")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	return out
}

// TestDemoSiteLinks: every page of the demo site that a link names is an
// object once the template's function has rewritten the link's path, as
// S3 (no index documents) needs, and the 404 page the template names exists.
func TestDemoSiteLinks(t *testing.T) {
	fn, err := cfjs.Compile(viewerFunctionFile, viewerFunctionCode(t), cfjs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join("..", "testdata", "site")
	suitePaths := map[string]bool{"/signout": true, "/parseauth": true, "/refreshauth": true}
	href := regexp.MustCompile(`href="(/[^"]*)"`)
	seen := 0
	err = filepath.WalkDir(site, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range href.FindAllStringSubmatch(string(b), -1) {
			path, _, _ := strings.Cut(m[1], "?")
			if suitePaths[path] {
				continue
			}
			seen++
			res, err := fn.Run(context.Background(), viewerEvent(path, []string{"h"}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(site, filepath.FromSlash(strings.TrimPrefix(res.Request.URI, "/")))); err != nil {
				t.Errorf("%s links %s, which the function makes %s: no such object", p, m[1], res.Request.URI)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("no links found in the demo site")
	}
	if _, err := os.Stat(filepath.Join(site, "404.html")); err != nil {
		t.Errorf("the 404 page the template maps missing keys to: %v", err)
	}
}
