package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
