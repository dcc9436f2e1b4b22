package demo

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
)

// TestReachability: a config written for a deployment is named for what
// keeps logins from finishing on the local edge, with the change that
// fixes it; a config made for the edge passes.
func TestReachability(t *testing.T) {
	const edgeURL = "http://localhost:8080"
	local := func(m map[string]any) { m["scheme"] = "http"; m["hosts"] = []any{"localhost:8080"} }
	tests := []struct {
		name   string
		config string
		edit   func(m map[string]any)
		want   []string // substrings of the one problem each line names; nil: no problem
	}{
		{"cognito.json as shipped (make run CONFIG=…)", "cognito.json", nil, []string{
			"logins cannot finish on http://localhost:8080",
			"redirect URI https://www.example.com/parseauth",
			`set "scheme": "http" (now "https")`,
			`put "localhost:8080" in "hosts" (now ["www.example.com"])`,
			"register http://localhost:8080/parseauth",
		}},
		{"made for the edge", "cognito.json", local, nil},
		{"the edge's host among others", "cognito.json", func(m map[string]any) {
			m["scheme"] = "http"
			m["hosts"] = []any{"www.example.com", "LOCALHOST:8080"}
		}, nil},
		{"http, but another port", "cognito.json", func(m map[string]any) {
			m["scheme"] = "http"
			m["hosts"] = []any{"localhost:9090"}
		}, []string{"redirect URI http://localhost:9090/parseauth", `put "localhost:8080" in "hosts"`}},
		{"no hosts: the distribution's domain", "cognito.json", func(m map[string]any) {
			m["scheme"] = "http"
			delete(m, "hosts")
		}, []string{"redirect URI http://" + localedge.DefaultDomainName + "/parseauth", `put "localhost:8080" in "hosts" (now [])`}},
		{"a cookie domain the edge is not under", "oidc.json", local, []string{
			`cookies.domain "example.org" does not cover localhost`, `Leave "domain" out of "cookies"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := suitetest.Config(t, tt.config, tt.edit)
			problems := Reachability(cfg, edgeURL, localedge.DefaultDomainName)
			if tt.want == nil {
				if problems != nil {
					t.Fatalf("Reachability = %q, want none", problems)
				}
				return
			}
			if len(problems) != 1 {
				t.Fatalf("Reachability = %q, want one problem", problems)
			}
			for _, w := range tt.want {
				if !strings.Contains(problems[0], w) {
					t.Errorf("problem %q does not say %q", problems[0], w)
				}
			}
		})
	}
}

// TestStartWarns: `make run CONFIG=testdata/config/cognito.json` starts
// (public pages and Bearer calls work), and says, in its warnings and its
// log, what keeps logins from finishing.
func TestStartWarns(t *testing.T) {
	root := testtoken.ModuleRoot(t)
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env, err := Start(ctx, Options{
		Root: root, Listen: "localhost:0", SuiteConfig: filepath.Join(root, "testdata", "config", "cognito.json"),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	if len(env.Warnings) != 1 || !strings.Contains(env.Warnings[0], `set "scheme": "http"`) {
		t.Errorf("Warnings = %q, want the scheme and hosts named", env.Warnings)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"suite config does not fit this edge"`) {
		t.Errorf("no warning in the log:\n%s", logs.String())
	}
}
