package integration

import (
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/webdav"
)

// litmusSuites are the suites litmus runs by default, all of them named so
// a missing one shows.
var litmusSuites = []string{"basic", "copymove", "props", "locks", "http"}

// litmusSummary matches a suite's summary line, e.g.
// "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%".
var litmusSummary = regexp.MustCompile("summary for `([a-z]+)': of ([0-9]+) tests run: ([0-9]+) passed, ([0-9]+) failed")

// litmusResult is one suite's counts.
type litmusResult struct{ run, passed, failed int }

// runLitmus runs every litmus suite against url with basic-auth
// credentials and returns each suite's counts and the whole output.
func runLitmus(t *testing.T, url, user, pw string) (map[string]litmusResult, string) {
	t.Helper()
	cmd := exec.Command("litmus", "--keep-going", url, user, pw)
	cmd.Dir = t.TempDir() // litmus writes debug.log and child.log here
	cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks http")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("litmus %s: %v in %v", url, err, time.Since(start).Round(time.Millisecond))
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("running litmus: %v", err)
	}
	results := make(map[string]litmusResult)
	for _, m := range litmusSummary.FindAllStringSubmatch(string(out), -1) {
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		results[m[1]] = litmusResult{run: n(2), passed: n(3), failed: n(4)}
	}
	return results, string(out)
}

// TestLitmusThroughGateway runs the litmus WebDAV suites against a WebDAV
// server directly, then through the gateway as a user signing in with
// basic auth: every suite passes as it does direct. (http/expect100 is
// the one that failed: the refused first request of a client sending
// "Expect: 100-continue" hung until the client gave up.)
func TestLitmusThroughGateway(t *testing.T) {
	if _, err := exec.LookPath("litmus"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("litmus is not installed (Debian package litmus; scripts/test.sh installs it)")
		}
		t.Fatal("litmus is not installed; CI needs it (apt-get install litmus)")
	}
	dav := httptest.NewServer(&webdav.Handler{FileSystem: webdav.NewMemFS(), LockSystem: webdav.NewMemLS()})
	t.Cleanup(dav.Close)
	// litmus works in a collection litmus/ below the URL, which it
	// deletes first: both runs use the server's root, one after the other.
	direct, directOut := runLitmus(t, dav.URL+"/", "dana", "dana password 1")
	for _, s := range litmusSuites {
		if _, ok := direct[s]; !ok {
			t.Fatalf("litmus direct: no summary for suite %s:\n%s", s, directOut)
		}
	}

	g := newGatewayInstance(t)
	_, davPort, err := net.SplitHostPort(dav.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	g.writeCaddyfile(caddyfileFor(g.dir, g.httpPort, g.adminPort, davPort, ""))
	g.start()
	t.Cleanup(g.stop)
	g.addUser("dana", "dana password 1", "--mfa", "disabled")

	through, throughOut := runLitmus(t, g.url("/"), "dana", "dana password 1")
	for _, s := range litmusSuites {
		d, gw := direct[s], through[s]
		t.Logf("litmus suite %s: %d of %d passed direct, %d of %d through the gateway", s, d.passed, d.run, gw.passed, gw.run)
		if gw != d {
			t.Errorf("litmus suite %s: direct %d run, %d passed, %d failed; through the gateway %d run, %d passed, %d failed",
				s, d.run, d.passed, d.failed, gw.run, gw.passed, gw.failed)
		}
	}
	if t.Failed() {
		t.Logf("litmus direct:\n%s\nlitmus through the gateway:\n%s", directOut, throughOut)
	}
}
