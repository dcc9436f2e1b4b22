package oidcprovider

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseForm(t *testing.T) {
	tests := []struct {
		name, page string
		ok         bool
		want       form
	}{
		{
			name: "sign-in page",
			page: `<form method="post" action="/interaction/abc/login" autocomplete="off"><input id="login" name="login" type="email"><input id="password" name="password" type="password"></form>` +
				`<form method="post" action="/interaction/abc/abort"><button>Cancel</button></form>`,
			ok: true, want: form{action: "/interaction/abc/login", hidden: url.Values{}, password: true},
		},
		{
			name: "logout page",
			page: `<form id="op.logoutForm" method="post" action="http://127.0.0.1:1/session/end/confirm"><input type="hidden" name="xsrf" value="x1"/><input type="hidden" name="logout" value="yes"/></form>`,
			ok:   true, want: form{action: "http://127.0.0.1:1/session/end/confirm", hidden: url.Values{"xsrf": {"x1"}, "logout": {"yes"}}},
		},
		{
			name: "oidc-provider's self-submitting form, escaped",
			page: "<form method=\"post\" action=\"/session/end/confirm?a=1&amp;b=2\">\n    <input type=\"hidden\" name=\"xsrf\" value=\"&quot;q&quot;\"/>\n<noscript><button autofocus type=\"submit\">Continue</button></noscript></form>",
			ok:   true, want: form{action: "/session/end/confirm?a=1&b=2", hidden: url.Values{"xsrf": {`"q"`}}},
		},
		{
			name: "a get form is skipped",
			page: `<FORM METHOD="GET" ACTION="/search"><input type="hidden" name="q" value="1"></FORM><FORM METHOD="POST" ACTION="/x"><INPUT TYPE="HIDDEN" NAME="k" VALUE="v"></FORM>`,
			ok:   true, want: form{action: "/x", hidden: url.Values{"k": {"v"}}},
		},
		{name: "form without action", page: `<form method="post"><input type="password" name="password"></form>`},
		{name: "no form", page: `<input type="password" name="password">`},
		{name: "empty", page: ``},
		{
			name: "unclosed form",
			page: `<form method="post" action="/y"><input type="hidden" name="a" value="b">`,
			ok:   true, want: form{action: "/y", hidden: url.Values{"a": {"b"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseForm(tt.page)
			if ok != tt.ok {
				t.Fatalf("parseForm() ok = %t, want %t", ok, tt.ok)
			}
			if !ok {
				return
			}
			if got.action != tt.want.action || got.password != tt.want.password || got.hidden.Encode() != tt.want.hidden.Encode() {
				t.Errorf("parseForm() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseForm(f *testing.F) {
	f.Add(`<form method="post" action="/interaction/abc/login"><input name="password" type="password"></form>`)
	f.Add(`<form id="op.logoutForm" method="post" action="/session/end/confirm"><input type="hidden" name="xsrf" value="x"/></form>`)
	f.Add(`<form method="post" action="`)
	f.Add(`<form method=post action=/x>`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, page string) {
		got, ok := parseForm(page)
		if ok && got.action == "" {
			t.Fatalf("parseForm(%q) ok with an empty action", page)
		}
		if !ok && (got.action != "" || got.password || got.hidden != nil) {
			t.Fatalf("parseForm(%q) = %+v with ok=false", page, got)
		}
	})
}

func TestErrorCode(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":"invalid_request","error_description":"post_logout_redirect_uri not registered"}`: "(invalid_request)",
		`<h1 id="error">invalid_target</h1><p>resource indicator is missing, or unknown</p>`:        "(invalid_target)",
		`<h1>Server Error</h1>`: "",
		`{"error":42}`:          "",
		``:                      "",
	} {
		if got := errorCode(body); got != want {
			t.Errorf("errorCode(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestNodeMajor(t *testing.T) {
	for v, want := range map[string]int{"v20.20.2": 20, "v18.20.4": 18, "v22.0.0-nightly": 22, "20.1.0": 0, "v": 0, "vx.1": 0, "": 0} {
		got, ok := nodeMajor(v)
		if ok != (want != 0) || got != want {
			t.Errorf("nodeMajor(%q) = %d, %t; want %d", v, got, ok, want)
		}
	}
}

// fakeNode writes a script that answers --version with version.
func fakeNode(t *testing.T, version string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+version+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNode(t *testing.T) {
	if _, _, err := Node(t.Context(), fakeNode(t, "v16.20.2")); !errors.Is(err, ErrNodeTooOld) || !strings.Contains(err.Error(), "v16.20.2") || !strings.Contains(err.Error(), Version) {
		t.Errorf("Node(v16) err = %v; want ErrNodeTooOld naming the version found and oidc-provider %s", err, Version)
	}
	if _, _, err := Node(t.Context(), fakeNode(t, "garbage")); !errors.Is(err, ErrNoNode) {
		t.Errorf("Node(garbage version) err = %v, want ErrNoNode", err)
	}
	if _, _, err := Node(t.Context(), filepath.Join(t.TempDir(), "no-node")); !errors.Is(err, ErrNoNode) {
		t.Errorf("Node(missing) err = %v, want ErrNoNode", err)
	}
	bin := fakeNode(t, "v18.20.4")
	if path, v, err := Node(t.Context(), bin); err != nil || path != bin || v != "v18.20.4" {
		t.Errorf("Node(v18) = %q, %q, %v; want %s v18.20.4", path, v, err, bin)
	}
}

// TestVersionPinned keeps Version, js/package.json and the lockfile equal.
func TestVersionPinned(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
		Engines      map[string]string `json:"engines"`
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	for name, dst := range map[string]any{"js/package.json": &pkg, "js/package-lock.json": &lock} {
		b, err := jsFiles.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if got := pkg.Dependencies["oidc-provider"]; got != Version {
		t.Errorf("package.json pins oidc-provider %q, want exactly %q", got, Version)
	}
	// scripts/ensure-node.sh reads the minimum from engines.
	if got, want := pkg.Engines["node"], ">="+strconv.Itoa(MinNodeMajor); got != want {
		t.Errorf("package.json engines.node = %q, want %q (MinNodeMajor)", got, want)
	}
	if got := lock.Packages["node_modules/oidc-provider"].Version; got != Version {
		t.Errorf("package-lock.json has oidc-provider %q, want %q", got, Version)
	}
	if h := LockHash(); len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Errorf("LockHash() = %q, want 64 hex digits", h)
	}
}

func TestInstallWithoutNPM(t *testing.T) {
	cache := t.TempDir()
	t.Run("missing install needs npm", func(t *testing.T) {
		if _, err := Install(t.Context(), filepath.Join(t.TempDir(), "no-npm"), cache); !errors.Is(err, ErrNoNPM) {
			t.Errorf("Install without npm = %v, want ErrNoNPM", err)
		}
		if left, _ := filepath.Glob(filepath.Join(cache, ".install-*")); len(left) > 0 {
			t.Errorf("failed install left %v", left)
		}
	})
	t.Run("present install is reused", func(t *testing.T) {
		dir := InstallDir(cache)
		pkg := filepath.Join(dir, "node_modules", "oidc-provider", "package.json")
		if err := os.MkdirAll(filepath.Dir(pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pkg, []byte(`{"version":"`+Version+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := Install(t.Context(), filepath.Join(t.TempDir(), "no-npm"), cache); err != nil || got != dir {
			t.Errorf("Install with an install present = %q, %v; want %q without npm", got, err, dir)
		}
	})
	t.Run("another version is not reused", func(t *testing.T) {
		other := t.TempDir()
		pkg := filepath.Join(InstallDir(other), "node_modules", "oidc-provider", "package.json")
		if err := os.MkdirAll(filepath.Dir(pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pkg, []byte(`{"version":"0.0.1"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Install(t.Context(), filepath.Join(t.TempDir(), "no-npm"), other); !errors.Is(err, ErrNoNPM) {
			t.Errorf("Install over a wrong version = %v, want it to try npm (ErrNoNPM)", err)
		}
	})
}

func TestOptionsRejected(t *testing.T) {
	ok := func() Options { return Options{RedirectURIs: []string{testRedirect}} }
	tests := map[string]func(*Options){
		"no redirect URI":            func(o *Options) { o.RedirectURIs = nil },
		"relative redirect URI":      func(o *Options) { o.RedirectURIs = []string{"/parseauth"} },
		"redirect URI with fragment": func(o *Options) { o.RedirectURIs = []string{"http://localhost/cb#x"} },
		"bad post-logout URI":        func(o *Options) { o.PostLogoutRedirectURIs = []string{"ftp://x/"} },
		"not loopback":               func(o *Options) { o.Addr = "0.0.0.0:0" },
		"host name":                  func(o *Options) { o.Addr = "localhost:0" },
		"bad port":                   func(o *Options) { o.Addr = "127.0.0.1:http" },
		"HS256":                      func(o *Options) { o.IDTokenAlg = "HS256" },
		"none":                       func(o *Options) { o.AccessTokenAlg = "none" },
		"relative resource":          func(o *Options) { o.Resources = []Resource{{URL: "api"}} },
		"resource with fragment":     func(o *Options) { o.Resources = []Resource{{URL: "https://api/#x"}} },
		"user without password":      func(o *Options) { o.Users = []User{{Subject: "s", Email: "e@x"}} },
		"duplicate email": func(o *Options) {
			o.Users = []User{{Subject: "1", Email: "a@x", Password: "p"}, {Subject: "2", Email: "A@x", Password: "p"}}
		},
		"sub-second ttl":                func(o *Options) { o.IDTokenTTL = time.Millisecond },
		"public id = confidential id":   func(o *Options) { o.PublicClientID = "edgeauth" },
		"negative refresh token ttl":    func(o *Options) { o.RefreshTokenTTL = -time.Hour },
		"access token ttl below second": func(o *Options) { o.AccessTokenTTL = 10 * time.Millisecond },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			o := ok()
			mutate(&o)
			if err := o.defaults(); err == nil {
				t.Errorf("defaults() = nil, want an error")
			}
		})
	}
	o := ok()
	if err := o.defaults(); err != nil {
		t.Fatalf("defaults() on good options: %v", err)
	}
	if o.PostLogoutRedirectURIs[0] != "http://localhost:8080/" || o.ClientSecret == "" || o.IDTokenAlg != RS256 || len(o.Users) != 2 || o.Resources[0].URL != DefaultResource {
		t.Errorf("defaults() = %+v", o)
	}
}

func TestDemoUsersMatchDex(t *testing.T) {
	users := DemoUsers()
	want := map[string][]string{"alice@example.com": {"admins", "staff"}, "bob@example.com": {"staff"}}
	for _, u := range users {
		if strings.Join(u.Groups, ",") != strings.Join(want[u.Email], ",") || u.Password == "" || u.Subject == "" {
			t.Errorf("demo user %+v: want groups %v, a password and a subject", u, want[u.Email])
		}
		delete(want, u.Email)
	}
	if len(want) != 0 {
		t.Errorf("missing demo users %v", want)
	}
}

func TestReadyWriter(t *testing.T) {
	w := &readyWriter{log: slog.New(slog.DiscardHandler), ready: make(chan string, 1)}
	for _, chunk := range []string{"noise\n{\"event\":\"re", "ady\",\"issuer\":\"http://127.0.0.1:1\"}\n", `{"event":"ready","issuer":"http://127.0.0.1:2"}` + "\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case got := <-w.ready:
		if got != "http://127.0.0.1:1" {
			t.Errorf("ready issuer = %q, want the first one", got)
		}
	default:
		t.Fatal("no ready issuer")
	}
	select {
	case got := <-w.ready:
		t.Errorf("a second ready line was taken: %q", got)
	default:
	}
}
