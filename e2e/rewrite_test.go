package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/suitetest"
)

// TestRulesJudgeRewrittenURIs: in the deployed shape the template's
// viewer-request function turns /admin/ into /admin/index.html before
// check-auth judges it, so the demo site's folders are objects on an S3
// without index documents, and the rules still hold on what the function
// made of the path: /admin/* for admins only, /users/{sub}/* for that
// user only, whatever spelling of the folder the viewer sends.
func TestRulesJudgeRewrittenURIs(t *testing.T) {
	cfg := suitetest.Config(t, "cognito.json", nil)
	d := startDeployed(t, cfg, suitetest.NewFakeClock(suitetest.Now))
	const aliceSub, bobSub = "CiQ4ZDVjM2E2ZS00ZjBiLTRjMWUtOWE1MS0wYTExY2UwMDAwMDESBWxvY2Fs", "CiQyYjdlOWYxMC02YzNkLTRhOGItYjJlNC0wMDAwMDBiMGIwMDISBWxvY2Fs"
	later := suitetest.Now.Add(time.Hour)
	alice, bob := d.cookie(aliceSub, []string{"admins"}, later), d.cookie(bobSub, []string{"staff"}, later)
	for _, tt := range []struct {
		name, path, cookie string
		wantStatus         int
		wantBody           string
	}{
		{"alice reads admin", "/admin/", alice, 200, "Admin area"},
		{"bob is refused admin", "/admin/", bob, 403, "Access denied"},
		{"bob is refused admin, spelled %61dmin", "/%61dmin/", bob, 403, "Access denied"},
		{"bob is refused admin's index by name", "/admin/index.html", bob, 403, "Access denied"},
		{"bob is refused the folder without its slash", "/admin", bob, 403, "Access denied"},
		{"alice asking without the slash: no such object, the 404 page", "/admin", alice, 404, "Page not found"},
		{"alice reads her folder", "/users/" + aliceSub + "/", alice, 200, "alice"},
		{"bob reads his folder", "/users/" + bobSub + "/", bob, 200, ""},
		{"bob is refused alice's folder", "/users/" + aliceSub + "/", bob, 403, "Access denied"},
		{"alice is refused bob's folder", "/users/" + bobSub + "/", alice, 403, "Access denied"},
		{"the root is the default root object", "/", bob, 200, "Home"},
		{"a public folder without a session", "/public/", "", 200, "Public"},
		{"docs without a session: login", "/docs/", "", 302, cfg.Endpoints.Authorize},
	} {
		var header []string
		if tt.cookie != "" {
			header = []string{"Cookie", tt.cookie}
		}
		status, _, body := d.get(tt.path, header...)
		if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
			t.Errorf("%s: GET %s = %d, want %d naming %q; body %.200q", tt.name, tt.path, status, tt.wantStatus, tt.wantBody, body)
		}
	}
}
