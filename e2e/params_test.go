package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/internal/localedge"
	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// TestParamsThroughTheLocalEdge runs the real check-auth behind the local
// edge in front of a folder served as S3 serves a bucket: a ";params"
// segment that a servlet origin would strip to /admin is refused with 400
// for bob and alice alike, however it is spelled, while a ";" where no rule
// looks is an ordinary character: the folder serves the key that holds it,
// raw or as %3B, and answers a key that is not there as S3 does (403).
func TestParamsThroughTheLocalEdge(t *testing.T) {
	site := t.TempDir()
	for name, body := range map[string]string{
		"admin/index.html": "admin page",
		"docs/index.html":  "docs page",
		"docs/a;b.html":    "a page with a semicolon",
	} {
		p := filepath.Join(site, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := suitetest.Config(t, "cognito.json", nil)
	ca, err := checkauth.New(lambdafn.Deps{Config: cfg, Now: suitetest.Clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := localedge.New(&localedge.Config{
		Behaviors: []localedge.Behavior{{PathPattern: "*", Function: "check-auth"}},
		Origin:    localedge.Origin{Dir: site},
	}, map[string]localedge.Function{"check-auth": ca.Handle}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveEdge(t, s)
	sessions := suitetest.Sessions(t, cfg, suitetest.Clock)
	cookie := func(name string, groups []string) string {
		c, err := sessions.EncodeSession(session.Session{Identity: verifier.Identity{Subject: name, Groups: groups}, Expiry: suitetest.Now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return c.Name + "=" + c.Value
	}
	alice, bob := cookie("alice", []string{"admins"}), cookie("bob", []string{"staff"})

	for _, tt := range []struct {
		path, who, cookie string
		want              int
		body              string
	}{
		{"/admin;jsessionid=1/index.html", "bob", bob, 400, "not valid"},
		{"/admin;x/", "bob", bob, 400, "not valid"},
		{"/admin;/index.html", "bob", bob, 400, "not valid"},
		{"/%61dmin;x/index.html", "bob", bob, 400, "not valid"},
		{"/admin%3Bx/index.html", "bob", bob, 400, "not valid"},
		{"/admin;x/", "alice", alice, 400, "not valid"},
		{"/admin/index.html", "alice", alice, 200, "admin page"},
		{"/admin/index.html", "bob", bob, 403, "Access denied"},
		{"/docs/a;b.html", "bob", bob, 200, "a page with a semicolon"},
		{"/docs/a%3Bb.html", "bob", bob, 200, "a page with a semicolon"},
		{"/docs;x/index.html", "bob", bob, 403, "AccessDenied"}, // no such key, as S3 answers
	} {
		req, err := http.NewRequest("GET", srv.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", tt.cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || !strings.Contains(string(b), tt.body) {
			t.Errorf("%s as %s: %d %.200q, want %d with %q", tt.path, tt.who, resp.StatusCode, b, tt.want, tt.body)
		}
	}
}

// TestSignOutAtCloudFrontLimits: a signed-in browser whose request fills
// CloudFront's whole 20,480 bytes with login-named cookies signs out through
// the local edge at viewer-request, whose generated responses may have 40 KB:
// it used to build a 73 KB answer, which the edge (as CloudFront) turns into
// a 502.
func TestSignOutAtCloudFrontLimits(t *testing.T) {
	cfg := suitetest.Config(t, "cognito.json", nil)
	so, err := signout.New(lambdafn.Deps{Config: cfg, Now: suitetest.Clock, Logger: slog.New(slog.DiscardHandler),
		HTTPClient: &http.Client{Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := localedge.New(&localedge.Config{
		Behaviors: []localedge.Behavior{{PathPattern: "/signout*", Function: "sign-out"}, {PathPattern: "*"}},
		Origin:    localedge.Origin{Dir: t.TempDir()},
	}, map[string]localedge.Function{"sign-out": so.Handle}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveEdge(t, s)
	sc, err := suitetest.Sessions(t, cfg, suitetest.Clock).EncodeSession(session.Session{Identity: verifier.Identity{Subject: "u"}, Expiry: suitetest.Now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(sc.Name + "=" + sc.Value)
	for i := 0; b.Len() < 20480-512; i++ {
		fmt.Fprintf(&b, "; edgeauth-login-%s=x", base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("attempt-%08d", i))))
	}
	req, err := http.NewRequest("GET", srv.URL+"/signout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", b.String())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || len(resp.Header.Values("Set-Cookie")) > 4+session.DefaultMaxAttempts {
		t.Errorf("sign-out with a full Cookie header: %d with %d Set-Cookie, want a 302 with a bounded set", resp.StatusCode, len(resp.Header.Values("Set-Cookie")))
	}
}
