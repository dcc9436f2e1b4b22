package localedge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/runtimeapi"
)

// TestRuntimeAPIEndToEnd runs a real aws-lambda-go binary behind the
// loopback Runtime API, as `localedge` does in runtime-api mode.
func TestRuntimeAPIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "check-auth", "bootstrap")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/edgefn").CombinedOutput(); err != nil {
		t.Fatalf("build edgefn: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	funcs, closeAll, err := StartFunctions(ctx, map[string]string{"check-auth": bin}, nil, nil)
	if err != nil {
		t.Fatalf("StartFunctions: %v", err)
	}
	t.Cleanup(func() {
		if err := closeAll(); err != nil {
			t.Errorf("close functions: %v", err)
		}
	})

	seen := make(chan http.Header, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
	}))
	t.Cleanup(upstream.Close)
	cfg := &Config{
		Behaviors: []Behavior{{PathPattern: "*", Function: "check-auth"}},
		Origin:    Origin{URL: upstream.URL},
	}
	env := newEdge(t, cfg, funcs)

	got := do(t, "GET", env.srv.URL+"/login", nil)
	if got.code != 302 || got.header.Get("Location") != "/?seen="+got.header.Get("X-Amz-Cf-Id") {
		t.Errorf("/login = %d Location %q, want 302 carrying the request id %q", got.code, got.header.Get("Location"), got.header.Get("X-Amz-Cf-Id"))
	}
	got = do(t, "GET", env.srv.URL+"/boom", nil)
	if got.code != 503 {
		t.Errorf("/boom = %d, want 503", got.code)
	}
	if line := env.logs.last(t); line["rule"] != RuleFunctionError || !strings.Contains(line["err"].(string), "boom") {
		t.Errorf("/boom log line = %v, want rule %s with the function's message", line, RuleFunctionError)
	}
	got = do(t, "GET", env.srv.URL+"/page", http.Header{"Authorization": {"Bearer t"}})
	if got.code != 200 {
		t.Fatalf("/page = %d %q, want 200", got.code, got.body)
	}
	if h := <-seen; h.Get("Authorization") != "" {
		t.Errorf("origin saw Authorization")
	}
}

var _ Invoker = (*runtimeapi.Process)(nil)
