package oidcprovider

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/dex"
	"github.com/edgeauth/edgeauth/internal/idpproc"
)

// StartForTest starts the provider for a test and stops it in t.Cleanup.
// When Node.js or npm is missing or too old, or the install fails, it
// skips the test, except under CI (CI set and not "false" or "0"), where
// that must fail the run. node's output goes to t.Log unless o.Logger is set.
func StartForTest(t testing.TB, o Options) *Server {
	t.Helper()
	// A first install (npm ci) takes seconds; a cold npm cache, longer.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node, _, err := Node(ctx, o.Node)
	if err == nil {
		o.Node = node
		if o.CacheDir == "" {
			root, rerr := dex.ModuleRoot()
			if rerr != nil {
				t.Fatalf("oidcprovider: %v", rerr)
			}
			o.CacheDir = DefaultCacheDir(root)
		}
		_, err = Install(ctx, o.NPM, o.CacheDir)
	}
	if err != nil {
		if dex.InCI() {
			t.Fatalf("oidc-provider unavailable under CI: %v", err)
		}
		if errors.Is(err, ErrNoNode) || errors.Is(err, ErrNodeTooOld) || errors.Is(err, ErrNoNPM) {
			t.Skipf("oidc-provider unavailable: %v", err)
		}
		t.Skipf("oidc-provider unavailable (npm ci failed; run scripts/ensure-node.sh): %v", err)
	}
	if o.Logger == nil {
		o.Logger = idpproc.TestLogger(t)
	}
	return idpproc.StartForTest(ctx, t, "oidcprovider", func(ctx context.Context) (*Server, error) { return Start(ctx, o) })
}
