package checkauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

// A Bearer token the verifier refuses is logged by verifier.Reason, never
// by the verifier's own text, which quotes the token's kid, alg or claims;
// the path is logged as lambdafn.Excerpt writes it. Each reason is pinned.
func TestLogsCarryNoHostileText(t *testing.T) {
	f := newFixture(t, nil)
	toks := suitetest.HostileTokens(t, f.mint, testtoken.CognitoAccess(f.cfg.Issuer, clientID, sub, nil, suitetest.Now.Add(time.Hour)))
	for part, reason := range map[string]string{"kid": "invalid token: unknown key", "alg": "invalid token: bad signature", "iss": "invalid token: wrong issuer"} {
		t.Run("bearer with a hostile "+part, func(t *testing.T) {
			f.logs.Reset()
			res := f.handle(t, suitetest.Request(t, "/docs/a", "Authorization", "Bearer "+toks[part]))
			if res.Response == nil || res.Response.Status != "401" {
				t.Fatalf("result %+v, want 401", res)
			}
			lines := suitetest.LogLines(t, f.logs)
			if len(lines) != 1 || lines[0]["reason"] != reason {
				t.Fatalf("log = %s, want one line with reason %q", f.logs, reason)
			}
			if strings.Contains(f.logs.String(), suitetest.HostileMarker) {
				t.Errorf("the log carries hostile text: %s", f.logs)
			}
		})
	}
	t.Run("hostile path", func(t *testing.T) {
		ev := suitetest.Request(t, "/")
		req, _, _ := ev.Request()
		req.URI = "/docs/" + suitetest.Hostile()
		f.logs.Reset()
		res := f.handle(t, ev)
		if res.Response == nil || res.Response.Status != "400" {
			t.Fatalf("result %+v, want 400 for a control character", res)
		}
		lines := suitetest.LogLines(t, f.logs)
		if len(lines) != 1 || lines[0]["path"] != lambdafn.Excerpt(req.URI) || lines[0]["reason"] != "malformed path" {
			t.Fatalf("log = %s, want the path as lambdafn.Excerpt writes it", f.logs)
		}
		if got := lines[0]["path"].(string); strings.ContainsAny(got, "\n\x1b") || strings.Contains(got, "end") {
			t.Errorf("logged path %q is not a bounded, escaped excerpt", got)
		}
	})
}
