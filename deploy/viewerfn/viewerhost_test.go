package viewerfn_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/internal/testtoken"
)

// TestDoesWhatViewerRequestDoes: in viewer mode the generated function
// replaces deploy/functions/viewer-request.js on the default behavior
// (CloudFront takes one function per event type), so it must do the same
// to the request: the viewer host copy (forged copies replaced, value and
// multiValue) and the directory index. Run side by side, every header but
// the cache key and the URI come out the same.
func TestDoesWhatViewerRequestDoes(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(testtoken.ModuleRoot(t), "deploy", "functions", "viewer-request.js"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := cfjs.Compile("viewer-request.js", orig, cfjs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, rulesConfig, viewerfn.Options{})
	gen := f.engines["goja"].(*gojaEngine).f
	forged := cfjs.Value{Value: "evil.example", MultiValue: []cfjs.Value{{Value: "evil.example"}, {Value: "other.example"}}}
	for _, tt := range []struct {
		uri     string
		headers map[string]cfjs.Value
	}{
		{"/", map[string]cfjs.Value{"host": {Value: "www.example.com"}}},
		{"/docs/", map[string]cfjs.Value{"host": {Value: "www.example.com"}, "x-edgeauth-viewer-host": forged}},
		{"/docs/x", map[string]cfjs.Value{"x-edgeauth-viewer-host": forged}},
		{"/docs/x", map[string]cfjs.Value{"host": {Value: ""}, "x-edgeauth-viewer-host": {Value: "evil.example"}}},
		{"/a/b/", map[string]cfjs.Value{"host": {Value: "h1", MultiValue: []cfjs.Value{{Value: "h1"}, {Value: "h2"}}}}},
	} {
		run := func(fn *cfjs.Function) *cfjs.Request {
			hs := map[string]cfjs.Value{}
			for k, v := range tt.headers {
				hs[k] = v
			}
			res, err := fn.Run(context.Background(), &cfjs.Event{
				Context: cfjs.Context{EventType: cfjs.ViewerRequest},
				Request: cfjs.Request{Method: "GET", URI: tt.uri, Headers: hs, Cookies: map[string]cfjs.Cookie{}, QueryString: map[string]cfjs.Value{}},
			})
			if err != nil || res.Request == nil {
				t.Fatalf("%s: %v", fn.Name(), err)
			}
			delete(res.Request.Headers, "x-edgeauth-cache-key")
			return res.Request
		}
		a, b := run(old), run(gen)
		if a.URI != b.URI || !reflect.DeepEqual(a.Headers, b.Headers) {
			t.Errorf("%s %v:\nviewer-request.js: %s %v\ngenerated:         %s %v", tt.uri, tt.headers, a.URI, a.Headers, b.URI, b.Headers)
		}
	}
}
