package demo

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/config"
	"github.com/edgeauth/edgeauth/shared/edge"
)

// TestGenerateViewerFunctions: the viewer-mode edge config names make
// package's files; the demo writes them from its config and the edge then
// compiles the function and opens its store.
func TestGenerateViewerFunctions(t *testing.T) {
	root := testtoken.ModuleRoot(t)
	lc, err := localedge.LoadConfig(filepath.Join(root, "testdata", "demo", "localedge-viewer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !NeedsViewerFunction(lc) {
		t.Fatal("localedge-viewer.json runs no generated function")
	}
	suite, err := config.Load(filepath.Join(root, "testdata", "config", "cognito.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := GenerateViewerFunctions(lc, suite, dir); err != nil {
		t.Fatal(err)
	}
	f := lc.CloudFrontFunctions["viewer-auth"]
	if filepath.Dir(filepath.Dir(f.Code)) != dir || filepath.Dir(filepath.Dir(f.KeyValueStore)) != dir {
		t.Fatalf("function %s, store %s: want them under %s", f.Code, f.KeyValueStore, dir)
	}
	if _, err := cfjs.OpenKeyValueStore(f.KeyValueStore); err != nil {
		t.Errorf("the store file: %v", err)
	}
	noop := func(context.Context, edge.Event) (edge.Result, error) { return edge.Result{}, nil }
	s, err := localedge.New(lc, map[string]localedge.Function{"check-auth": noop, "parse-callback": noop, "sign-out": noop}, nil)
	if err != nil {
		t.Fatalf("the edge refuses the generated function: %v", err)
	}
	_ = s.Close()
}
