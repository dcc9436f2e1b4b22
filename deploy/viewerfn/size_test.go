package viewerfn_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
)

// demoRules is the demo site's rules (testdata/demo/rules.json).
func demoRules(t testing.TB) func(map[string]any) {
	b, err := os.ReadFile(filepath.Join(testtoken.ModuleRoot(t), "testdata", "demo", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []any
	if err := json.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	return func(m map[string]any) { m["rules"] = rules }
}

// manyRules has n rules of the usual shape: a folder for a group.
func manyRules(n int) func(map[string]any) {
	return func(m map[string]any) {
		var rules []any
		for i := range n {
			rules = append(rules, map[string]any{"path": fmt.Sprintf("/teams/team-%03d/*", i), "groups": []string{fmt.Sprintf("team-%03d-members", i)}})
		}
		m["rules"] = rules
	}
}

// TestSize: the generated code stays within CloudFront's 10,240 bytes for
// the demo, the test configs and 50 rules, inline keys or not; past the
// limit Generate fails with ErrTooLarge rather than writing code
// CloudFront would refuse.
func TestSize(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"demo", demoRules(t)},
		{"cognito.json", nil},
		{"differential rules", rulesConfig},
		{"50 rules", manyRules(50)},
	} {
		for _, inline := range []bool{false, true} {
			cfg := suitetest.Config(t, "cognito.json", tt.edit)
			fn, err := viewerfn.Generate(cfg, viewerfn.Options{InlineKeys: inline})
			if err != nil {
				t.Fatalf("%s inline=%v: %v", tt.name, inline, err)
			}
			if len(fn.Code) > viewerfn.MaxCodeSize {
				t.Errorf("%s inline=%v: %d bytes, over %d", tt.name, inline, len(fn.Code), viewerfn.MaxCodeSize)
			}
			t.Logf("%s, inline keys %v: %d bytes of %d (%d rules)", tt.name, inline, len(fn.Code), viewerfn.MaxCodeSize, len(cfg.Rules))
		}
	}
	// How many rules of that shape fit.
	fit := 0
	for n := 50; n < 400; n++ {
		if _, err := viewerfn.Generate(suitetest.Config(t, "cognito.json", manyRules(n)), viewerfn.Options{}); err != nil {
			if !errors.Is(err, viewerfn.ErrTooLarge) {
				t.Fatalf("%d rules: %v, want ErrTooLarge", n, err)
			}
			break
		}
		fit = n
	}
	if fit == 0 || fit >= 399 {
		t.Fatalf("no rule count between 50 and 400 reaches the limit (fit %d)", fit)
	}
	t.Logf("up to %d rules of the shape /teams/team-NNN/* for group team-NNN-members fit", fit)
}
