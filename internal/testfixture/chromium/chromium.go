// Package chromium starts the headless Chromium the browser tests drive
// (through chromedp), the same way for every package. A missing browser
// skips the test on a developer's machine and fails it when CI is set.
// For tests only.
package chromium

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Options shape one browser.
type Options struct {
	// Timeout bounds the whole browser session.
	Timeout time.Duration
	// Width and Height of the window; zero: 1024 x 768.
	Width, Height int
	// Console sends the pages' console messages to the test log.
	Console bool
}

// CIIsSet reports whether the tests run in CI, where a missing dependency
// is a failure, not a skip.
func CIIsSet() bool {
	v, ok := os.LookupEnv("CI")
	if !ok || v == "" {
		return false
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return true
}

// Path finds Debian's Chromium, or skips (fails under CI).
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "Chromium not found (looked for chromium and chromium-browser in PATH); install it with: apt-get install -y chromium"
	if CIIsSet() {
		t.Fatal(msg)
	}
	t.Skip(msg + " (the test fails instead of skipping when CI=true)")
	return ""
}

// Start starts a headless Chromium with a fresh profile, closed when the
// test ends. The returned context carries the browser.
func Start(t testing.TB, o Options) context.Context {
	t.Helper()
	execPath := Path(t)
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 1024, 768
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// The machines have no internet: without these, Chromium's own
		// connections fail by the dozen.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(o.Width, o.Height),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// Registered before the timeout's cancel, so it runs after it: the
	// allocator's cancel waits for Chromium to exit, before t.TempDir
	// removes the profile.
	t.Cleanup(cancelAlloc)
	timeoutCtx, cancelTimeout := context.WithTimeout(allocCtx, o.Timeout)
	t.Cleanup(cancelTimeout)
	ctxOpts := []chromedp.ContextOption{chromedp.WithLogf(t.Logf)}
	if o.Console {
		ctxOpts = append(ctxOpts, chromedp.WithBrowserOption(chromedp.WithConsolef(t.Logf)))
	}
	ctx, cancelBrowser := chromedp.NewContext(timeoutCtx, ctxOpts...)
	t.Cleanup(cancelBrowser)
	// The first Do starts Chromium and binds its life to the context it
	// gets, so it gets ctx (bounded by Timeout), not a step's.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", execPath, err)
	}
	return ctx
}
