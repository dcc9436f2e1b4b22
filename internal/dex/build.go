package dex

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the main module whose root [ModuleRoot] looks for.
const ModulePath = "github.com/edgeauth/edgeauth"

// dexPackage is the Dex command pinned by tools/go.mod.
const dexPackage = "github.com/dexidp/dex/cmd/dex"

// ErrNoModuleRoot means no enclosing go.mod declares [ModulePath].
var ErrNoModuleRoot = errors.New("dex: module root not found")

// ModuleRoot walks up from the working directory to the directory whose
// go.mod declares module github.com/edgeauth/edgeauth. The tools module below
// it declares a different path and is skipped.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("dex: module root: %w", err)
	}
	for {
		if modulePathOf(filepath.Join(dir, "go.mod")) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoModuleRoot
		}
		dir = parent
	}
}

func modulePathOf(gomod string) string {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// BinaryPath is where [Build] puts Dex: <moduleRoot>/bin/dex (git-ignored).
func BinaryPath(moduleRoot string) string { return filepath.Join(moduleRoot, "bin", "dex") }

// Build returns the path of bin/dex under moduleRoot, building it from the
// tools module (CGO_ENABLED=0; 148 s of CPU time with an empty build cache) when it is missing. The build
// writes to a temporary name and renames, so parallel test binaries never run
// a half-written file.
func Build(ctx context.Context, moduleRoot string) (string, error) {
	out := BinaryPath(moduleRoot)
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
		return out, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("dex: build: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("dex: build: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".dex-build-*")
	if err != nil {
		return "", fmt.Errorf("dex: build: %w", err)
	}
	tmpName := tmp.Name()
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("dex: build: %w", err)
	}
	defer os.Remove(tmpName) // a no-op after the rename

	cmd := exec.CommandContext(ctx, goBin, "build", "-o", tmpName, dexPackage)
	cmd.Dir = filepath.Join(moduleRoot, "tools")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if outb, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("dex: build in %s: %w: %s", cmd.Dir, err, bytes.TrimSpace(outb))
	}
	if err := os.Rename(tmpName, out); err != nil {
		return "", fmt.Errorf("dex: build: %w", err)
	}
	return out, nil
}
