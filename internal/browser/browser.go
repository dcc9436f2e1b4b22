// Package browser starts headless Chromium for the suite's browser tests,
// through chromedp: one fresh browser per test, with its own profile, shut
// down when the test ends.
package browser

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium means no Chromium binary was found.
var ErrNoChromium = errors.New("browser: chromium not found (install it with scripts/ensure-chromium.sh)")

// Chromium returns the Chromium binary: /usr/bin/chromium (Debian's
// package), else chromium or chromium-browser from PATH.
func Chromium() (string, error) {
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Flags are the command-line switches New starts Chromium with, besides
// --user-data-dir: headless, no sandbox (tests may run as root), no GPU, no
// QUIC, and none of the background traffic (updates, sync, first-run pages)
// that would make a test depend on the network.
func Flags() []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
	}
}

// New starts a headless Chromium with [Flags] and a fresh profile in
// t.TempDir, and returns a chromedp context for one tab in it. The browser
// is closed, and waited for, in t.Cleanup. Without Chromium the test is
// skipped, or fails under CI (CI set and not "false" or "0"). The context
// has no deadline of its own; give each step one with context.WithTimeout
// if a hang must fail fast.
func New(t testing.TB) context.Context {
	t.Helper()
	bin, err := Chromium()
	if err != nil {
		if inCI() {
			t.Fatalf("browser: %v", err)
		}
		t.Skipf("browser: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir())}
	for _, f := range Flags() {
		opts = append(opts, chromedp.Flag(strings.TrimPrefix(f, "--"), true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)

	// chromedp reports protocol events it cannot decode through errorf;
	// route them to the test log while the test can still log.
	var done atomic.Bool
	logf := func(format string, args ...any) {
		if !done.Load() {
			t.Logf("chromedp: "+format, args...)
		}
	}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		// Close the browser gracefully, then make sure the process is gone
		// before t.TempDir removes its profile.
		closeCtx, cancelClose := context.WithTimeout(ctx, 10*time.Second)
		if err := chromedp.Cancel(closeCtx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browser: close: %v", err)
		}
		cancelClose()
		cancel()
		cancelAlloc()
		done.Store(true)
	})
	// Start the browser now, so a broken install fails here, clearly.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("browser: start %s: %v", bin, err)
	}
	return ctx
}

// inCI reports whether the CI environment variable asks for strict tests.
func inCI() bool {
	v := strings.TrimSpace(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// DexLogin fills in and submits Dex's password form (inputs #login and
// #password, button #submit-login) once it is visible. It does not wait for
// what comes after; follow it with a WaitVisible on the page expected next.
func DexLogin(email, password string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible("#login", chromedp.ByID),
		chromedp.SendKeys("#login", email, chromedp.ByID),
		chromedp.SendKeys("#password", password, chromedp.ByID),
		chromedp.Click("#submit-login", chromedp.ByID),
	}
}
