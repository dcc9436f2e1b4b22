package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/edgeauth/edgeauth/internal/dex"
)

// TestMakeTestChecksPrerequisitesFirst: make test checks Node.js, Go,
// Chromium (required: its browser tests must run) and Dex before it builds
// or tests anything, so a missing one fails in seconds with what to do, not
// after minutes of Go tests.
func TestMakeTestChecksPrerequisitesFirst(t *testing.T) {
	root, err := dex.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	cmd := exec.Command("make", "-n", "test")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n test: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	first := func(pred func(string) bool) int {
		for i, l := range lines {
			if pred(l) {
				return i
			}
		}
		return -1
	}
	work := first(func(l string) bool {
		return strings.Contains(l, "go vet") || strings.Contains(l, "go build") || strings.Contains(l, "go test") ||
			strings.Contains(l, "make --no-print-directory")
	})
	for _, check := range []string{"scripts/ensure-node.sh", "scripts/ensure-go.sh", "scripts/ensure-chromium.sh --require", "scripts/ensure-dex.sh"} {
		i := first(func(l string) bool { return strings.TrimSpace(l) == check })
		if i < 0 || work < 0 || i > work {
			t.Errorf("make test runs %q at line %d, the first build or test at %d; want every check first:\n%s", check, i, work, out)
		}
	}
}

// TestEnsureGoRefusesAnOldGo: the Go check names the version go.mod needs.
func TestEnsureGoRefusesAnOldGo(t *testing.T) {
	root, err := dex.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho go1.20.3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "ensure-go.sh"))
	cmd.Env = append(os.Environ(), "GO="+fake)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is Go 1.20.3; go.mod needs 1.26") {
		t.Errorf("ensure-go.sh with Go 1.20.3: %v, %q; want a failure naming both versions", err, out)
	}
	cmd = exec.Command(filepath.Join(root, "scripts", "ensure-go.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("ensure-go.sh with this Go: %v, %s", err, out)
	}
}

// TestFuzzScriptUsesATemporaryFolder: no fixed path under /tmp, which two
// runs (or two users) would share.
func TestFuzzScriptUsesATemporaryFolder(t *testing.T) {
	root, err := dex.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "scripts", "fuzz.sh"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "/tmp/edgeauth") || !strings.Contains(s, "mktemp -d") || !strings.Contains(s, "trap 'rm -rf") {
		t.Errorf("scripts/fuzz.sh should log to a mktemp -d folder removed at exit:\n%s", s)
	}
}

// TestDocLinksResolve: every relative link in the README and the docs names
// a file of the repository, and every #anchor a heading of that file, so
// moving reference material into docs/ leaves no dead link behind.
func TestDocLinksResolve(t *testing.T) {
	root, err := dex.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join(root, "README.md"), filepath.Join(root, "deploy", "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, doc)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := doc
			if file != "" {
				path = filepath.Join(filepath.Dir(doc), filepath.FromSlash(file))
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s: no such file", rel, target)
				continue
			}
			if anchor != "" && strings.HasSuffix(path, ".md") && !slices.Contains(anchors(t, path), anchor) {
				t.Errorf("%s links to %s: no heading with that anchor", rel, target)
			}
		}
	}
}

// anchors are the anchors GitHub gives the headings of a Markdown file:
// lower case, spaces to hyphens, punctuation other than "-" and "_" gone.
func anchors(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fence := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "```") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		var a strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				a.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				a.WriteRune(r)
			}
		}
		out = append(out, a.String())
	}
	return out
}
