package oidcprovider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgeauth/edgeauth/internal/idpproc"
)

// Version is the oidc-provider release pinned in js/package.json and
// js/package-lock.json. The 8.x line, not 9.x: 9.x warns on every Node.js
// before 22 and calls crypto.hash and URL.parse, which Debian 12's own
// nodejs (18.x, what scripts/ensure-node.sh installs) lacks; 8.8.1 supports
// Node.js 18 and later and has every feature the tests use. A test keeps
// this constant, package.json and the installed package equal.
const Version = "8.8.1"

// MinNodeMajor is the oldest Node.js major version oidc-provider 8.x and its
// dependencies (quick-lru, nanoid, @koa/router) support.
const MinNodeMajor = 18

var (
	// ErrNoNode means no node executable was found.
	ErrNoNode = errors.New("oidcprovider: node not found (install Node.js with scripts/ensure-node.sh)")
	// ErrNodeTooOld means the node found is older than [MinNodeMajor].
	ErrNodeTooOld = errors.New("oidcprovider: node is too old")
	// ErrNoNPM means npm is needed to install oidc-provider and was not found.
	ErrNoNPM = errors.New("oidcprovider: npm not found (install it with scripts/ensure-node.sh)")
)

//go:embed js/package.json js/package-lock.json js/server.mjs
var jsFiles embed.FS

// Node returns the node executable (bin, or node from PATH when bin is
// empty) and its version, e.g. "v20.20.2". It fails with [ErrNoNode] or
// [ErrNodeTooOld], each saying what was found.
func Node(ctx context.Context, bin string) (path, version string, err error) {
	if bin == "" {
		bin = "node"
	}
	if path, err = exec.LookPath(bin); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrNoNode, err)
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", "", fmt.Errorf("%w: %s --version: %w", ErrNoNode, path, err)
	}
	version = strings.TrimSpace(string(out))
	major, ok := nodeMajor(version)
	if !ok {
		return "", "", fmt.Errorf("%w: %s --version printed %q", ErrNoNode, path, version)
	}
	if major < MinNodeMajor {
		return "", "", fmt.Errorf("%w: %s is %s; oidc-provider %s needs Node.js %d or later (scripts/ensure-node.sh says how to get it)",
			ErrNodeTooOld, path, version, Version, MinNodeMajor)
	}
	return path, version, nil
}

// nodeMajor parses "v20.20.2".
func nodeMajor(version string) (int, bool) {
	rest, ok := strings.CutPrefix(version, "v")
	if !ok {
		return 0, false
	}
	major, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(major)
	return n, err == nil && n > 0
}

// LockHash is the hex SHA-256 of the embedded package-lock.json: the name
// of the folder [Install] installs into, so a changed lockfile installs anew
// and an unchanged one never again.
func LockHash() string {
	b, err := jsFiles.ReadFile("js/package-lock.json")
	if err != nil {
		panic("oidcprovider: embedded lockfile missing: " + err.Error()) // a build defect, not a runtime condition
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// InstallDir is where [Install] puts oidc-provider under cacheDir.
func InstallDir(cacheDir string) string {
	return filepath.Join(cacheDir, LockHash()[:16])
}

// DefaultCacheDir is <module root>/.cache/oidc-provider (git-ignored), shared
// by every test run in one checkout.
func DefaultCacheDir(moduleRoot string) string {
	return filepath.Join(moduleRoot, ".cache", "oidc-provider")
}

// Install makes sure the pinned oidc-provider is installed under cacheDir
// and returns the folder holding its node_modules. The first call runs
// `npm ci` (npm: the npm executable, or npm from PATH when empty; a few
// seconds with a warm npm cache) into a temporary folder and renames it into
// place, so concurrent test binaries never see half an install; later calls
// only look.
func Install(ctx context.Context, npm, cacheDir string) (string, error) {
	dir := InstallDir(cacheDir)
	if installed(dir) == nil {
		return dir, nil
	}
	if npm == "" {
		npm = "npm"
	}
	npmPath, err := exec.LookPath(npm)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoNPM, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("oidcprovider: install: %w", err)
	}
	tmp, err := os.MkdirTemp(cacheDir, ".install-*")
	if err != nil {
		return "", fmt.Errorf("oidcprovider: install: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := jsFiles.ReadFile("js/" + name)
		if err != nil {
			return "", fmt.Errorf("oidcprovider: install: %w", err)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return "", fmt.Errorf("oidcprovider: install: %w", err)
		}
	}
	// --ignore-scripts: nothing in the tree needs an install script, and
	// none should run. npm runs in its own process group, killed whole when
	// ctx ends.
	cmd := exec.CommandContext(ctx, npmPath, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	cmd.SysProcAttr = idpproc.GroupAttr()
	cmd.Cancel = func() error { return idpproc.KillGroup(cmd.Process) }
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("oidcprovider: npm ci in %s: %w: %s", tmp, err, bytes.TrimSpace(out))
	}
	if err := installed(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another test binary may have finished first: its install is as good.
		if installed(dir) == nil {
			return dir, nil
		}
		return "", fmt.Errorf("oidcprovider: install: %w", err)
	}
	return dir, nil
}

// installed checks that dir holds oidc-provider at [Version].
func installed(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		return fmt.Errorf("oidcprovider: not installed in %s: %w", dir, err)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("oidcprovider: %s: %w", dir, err)
	}
	if pkg.Version != Version {
		return fmt.Errorf("oidcprovider: %s holds oidc-provider %s, want %s", dir, pkg.Version, Version)
	}
	return nil
}
