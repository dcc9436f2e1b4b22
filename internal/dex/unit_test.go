package dex

import (
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/demo/rules.json from DemoRules")

func TestSubject(t *testing.T) {
	tests := []struct {
		name, userID, conn, want string
	}{
		// The sub of Dex's own example user in config.dev.yaml, as Dex issues it.
		{"dex example admin", "08a8684b-db88-4b73-90a9-3cd1661f5466", "local", "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs"},
		{"short ids", "u", "c", "CgF1EgFj"},
		// 200 bytes needs a two-byte varint length.
		{"long user id", string(make([]byte, 200)), "local", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Subject(tt.userID, tt.conn)
			if tt.want != "" && got != tt.want {
				t.Errorf("Subject(%q, %q) = %q, want %q", tt.userID, tt.conn, got, tt.want)
			}
			u, c, err := ParseSubject(got)
			if err != nil || u != tt.userID || c != tt.conn {
				t.Errorf("ParseSubject(Subject(...)) = %q, %q, %v; want the inputs back", u, c, err)
			}
		})
	}
}

func TestParseSubjectRejects(t *testing.T) {
	for name, sub := range map[string]string{
		"empty":              "",
		"not base64url":      "a+b/c==",
		"only user id":       Subject("u", ""),
		"truncated":          Subject("user", "local")[:6],
		"wrong wire type":    "CAE",          // field 1, varint 1
		"unknown field":      "GgF4",         // field 3, "x"
		"repeated field":     "CgF1CgF2EgFj", // user id twice
		"overlong varint":    "CoCAgICAgICAgIAB",
		"length past end":    "Cn91",
		"plain user id":      "alice",
		"dex example raw id": "08a8684b-db88-4b73-90a9-3cd1661f5466",
	} {
		t.Run(name, func(t *testing.T) {
			if u, c, err := ParseSubject(sub); !errors.Is(err, ErrBadSubject) {
				t.Errorf("ParseSubject(%q) = %q, %q, %v; want ErrBadSubject", sub, u, c, err)
			}
		})
	}
}

func FuzzParseSubject(f *testing.F) {
	for _, u := range DemoUsers() {
		f.Add(u.Subject())
	}
	f.Add("CgF1EgFj")
	f.Add("CoCAgICAgICAgIAB")
	f.Add("")
	f.Fuzz(func(t *testing.T, sub string) {
		u, c, err := ParseSubject(sub)
		if err != nil {
			return
		}
		// Whatever parses re-encodes to a subject that parses to the same.
		u2, c2, err := ParseSubject(Subject(u, c))
		if err != nil || u2 != u || c2 != c {
			t.Fatalf("round trip of %q: %q,%q -> %q,%q,%v", sub, u, c, u2, c2, err)
		}
	})
}

func TestParseLoginForm(t *testing.T) {
	tests := []struct {
		name, page, want string
		ok               bool
	}{
		{"dex form", `<form method="post" action="/dex/auth/local/login?back=&amp;state=abc"><input id="login" name="login"/><input tabindex="2" required id="password" name="password" type="password"/></form>`, "/dex/auth/local/login?back=&state=abc", true},
		{"upper case", `<FORM METHOD="POST" ACTION="/x"><INPUT NAME="password"></FORM>`, "/x", true},
		{"no password input", `<form method="post" action="/x"><input name="login"></form>`, "", false},
		{"no form", `<input name="password">`, "", false},
		{"form without action", `<form method="post"><input name="password"></form>`, "", false},
		{"empty", ``, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseLoginForm(tt.page)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseLoginForm() = %q, %t; want %q, %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseLoginForm(f *testing.F) {
	f.Add(`<form method="post" action="/dex/auth/local/login?back=&amp;state=abc"><input name="password"></form>`)
	f.Add(`<form action="`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, page string) {
		action, ok := parseLoginForm(page)
		if !ok && action != "" {
			t.Fatalf("parseLoginForm(%q) = %q with ok=false", page, action)
		}
	})
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatalf("ModuleRoot: %v", err)
	}
	if got := modulePathOf(filepath.Join(root, "go.mod")); got != ModulePath {
		t.Errorf("ModuleRoot() = %s, whose go.mod declares %q", root, got)
	}
	t.Chdir(filepath.Join(root, "tools"))
	if again, err := ModuleRoot(); err != nil || again != root {
		t.Errorf("ModuleRoot from tools/ = %q, %v; want %q (tools is another module)", again, err, root)
	}
	t.Chdir(t.TempDir())
	if _, err := ModuleRoot(); !errors.Is(err, ErrNoModuleRoot) {
		t.Errorf("ModuleRoot outside the module: err = %v, want ErrNoModuleRoot", err)
	}
}

func TestBuild(t *testing.T) {
	t.Run("present binary is reused", func(t *testing.T) {
		root := t.TempDir()
		bin := BinaryPath(root)
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err := Build(t.Context(), root)
		if err != nil || got != bin {
			t.Errorf("Build = %q, %v; want %q", got, err, bin)
		}
	})
	t.Run("missing tools module fails", func(t *testing.T) {
		root := t.TempDir()
		if _, err := Build(t.Context(), root); err == nil {
			t.Error("Build without tools/ = nil error")
		}
		if _, err := os.Stat(BinaryPath(root)); !os.IsNotExist(err) {
			t.Errorf("failed build left %s behind", BinaryPath(root))
		}
		left, _ := filepath.Glob(filepath.Join(root, "bin", ".dex-build-*"))
		if len(left) > 0 {
			t.Errorf("failed build left temporary files %v", left)
		}
	})
}

// TestDemoRulesFile keeps testdata/demo/rules.json (what readers see) equal
// to DemoRules (what SuiteConfig writes). Run with -update to rewrite it.
func TestDemoRulesFile(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "testdata", "demo", "rules.json")
	want, err := json.MarshalIndent(DemoRules(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from DemoRules (go test -run TestDemoRulesFile -args -update):\n got %s\nwant %s", path, got, want)
	}
}

// TestDemoSitePages checks that the demo site has what the rules and the
// browser tests rely on: one page per area, a page per demo user named
// after the sub Dex issues, a shared style sheet, and a sign-out link.
func TestDemoSitePages(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(root, "testdata", "site")
	pages := map[string]string{
		"index.html":        "<h1>Home</h1>",
		"public/index.html": "<h1>Public area</h1>",
		"admin/index.html":  "<h1>Admin area</h1>",
		"users/index.html":  "<h1>Users</h1>",
	}
	for _, u := range DemoUsers() {
		pages["users/"+u.Subject()+"/index.html"] = "<h1>Page of " + u.Email + "</h1>"
	}
	for page, h1 := range pages {
		b, err := os.ReadFile(filepath.Join(site, page))
		if err != nil {
			t.Errorf("demo site page: %v", err)
			continue
		}
		for _, want := range []string{h1, `href="/style.css"`, `href="/signout"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %s", page, want)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(site, "style.css")); err != nil {
		t.Errorf("style sheet: %v", err)
	}
}

func TestWithin(t *testing.T) {
	issuer, _ := url.Parse("http://127.0.0.1:5556/dex")
	for raw, want := range map[string]bool{
		"http://127.0.0.1:5556/dex":                      true,
		"http://127.0.0.1:5556/dex/auth/local/login?x=1": true,
		"http://127.0.0.1:5556/dexter":                   false,
		"http://127.0.0.1:5556/":                         false,
		"http://127.0.0.1:5557/dex/auth":                 false,
		"https://127.0.0.1:5556/dex/auth":                false,
		"http://localhost:5556/dex/auth":                 false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := within(issuer, u); got != want {
			t.Errorf("within(%s) = %t, want %t", raw, got, want)
		}
	}
}
