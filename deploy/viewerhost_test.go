package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// TestViewerHostFunctionCode runs the template's CloudFront Function, as
// written in template.yaml, under Node with CloudFront Functions events:
// the viewer's Host is copied into edge.ViewerHostHeader, a value the
// viewer sent in that header is overwritten, and without a Host the header
// is removed.
func TestViewerHostFunctionCode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if dex.InCI() {
			t.Fatal("node not installed")
		}
		t.Skip("node not installed")
	}
	code := str(get(loadTemplate(t).Resources, "ViewerHostFunction", "Properties", "FunctionCode"))
	if code == "" {
		t.Fatal("no ViewerHostFunction code in template.yaml")
	}
	type header struct {
		Value string `json:"value"`
	}
	event := func(headers map[string]header) map[string]any {
		return map[string]any{
			"version": "1.0",
			"context": map[string]any{"eventType": "viewer-request", "distributionDomainName": "d111111abcdef8.cloudfront.net"},
			"viewer":  map[string]any{"ip": "198.51.100.11"},
			"request": map[string]any{"method": "GET", "uri": "/docs/", "querystring": map[string]any{}, "headers": headers, "cookies": map[string]any{}},
		}
	}
	tests := []struct {
		name    string
		headers map[string]header
		want    string // "" = header absent
	}{
		{"copies the Host", map[string]header{"host": {"shop.example.com"}}, "shop.example.com"},
		{"overwrites a forged copy", map[string]header{"host": {"www.example.com"}, edge.ViewerHostHeader: {"evil.example"}}, "www.example.com"},
		{"removes it without a Host", map[string]header{edge.ViewerHostHeader: {"evil.example"}}, ""},
	}
	var events []map[string]any
	for _, tt := range tests {
		events = append(events, event(tt.headers))
	}
	dir := t.TempDir()
	in, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	harness := `const fs = require('fs');
const handler = new Function(fs.readFileSync('function.js', 'utf8') + '\nreturn handler;')();
const events = JSON.parse(fs.readFileSync('events.json', 'utf8'));
process.stdout.write(JSON.stringify(events.map((e) => handler(e))));
`
	for name, data := range map[string][]byte{"function.js": []byte(code), "events.json": in, "harness.cjs": []byte(harness)} {
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
	var results []struct {
		URI     string            `json:"uri"`
		Headers map[string]header `json:"headers"`
	}
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(tests) {
		t.Fatalf("results %s: %v", out, err)
	}
	for i, tt := range tests {
		got, ok := results[i].Headers[edge.ViewerHostHeader]
		if (tt.want == "") == ok || got.Value != tt.want {
			t.Errorf("%s: %s = %+v (present %v), want %q", tt.name, edge.ViewerHostHeader, got, ok, tt.want)
		}
		if results[i].URI != "/docs/" {
			t.Errorf("%s: the request changed: uri %q", tt.name, results[i].URI)
		}
	}
}
