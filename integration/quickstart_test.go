package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/mfagate/mfagate/internal/caddyproc"
	"github.com/mfagate/mfagate/internal/testfixture/chromium"
	"github.com/pquerna/otp/totp"
)

// quickStartPorts are the ports Caddyfile.example uses as written: the
// protected site, the portal origin, the demo upstream and Caddy's admin
// endpoint (its default, localhost:2019).
var quickStartPorts = []int{8080, 8081, 9000, 2019}

// quickStartTimeout bounds the browser session of the quick start: Caddy
// starts first, on a machine that may be busy.
const quickStartTimeout = 2 * time.Minute

// TestQuickStartAsWritten follows the README's quick start as a newcomer
// does: Caddyfile.example byte for byte, run with the README's own
// arguments from a copy of the repository's folder (so ./mfagate.db lands
// there), on its real ports, then real Chromium at http://localhost:8080:
// sign in as the bootstrapped admin with the password from the log, enrol
// an authenticator app, and reach the demo upstream's page, which greets
// the admin and lists the identity headers the gateway sent; then, as the
// quick start goes on, add a passkey on the portal's Security info and
// sign in to the site with it alone. It does not run in parallel: the
// ports are fixed.
func TestQuickStartAsWritten(t *testing.T) {
	chromium.Path(t) // skip (fail under CI) before taking any port
	for _, port := range quickStartPorts {
		requirePortFree(t, port)
	}
	section := quickStartSection(t)
	args := quickStartArgs(t, section, "run")
	cliArgs := quickStartArgs(t, section, "mfa user list")
	t.Logf("the README runs caddy %q, then caddy %q", args, cliArgs)
	dir := copyRepoFiles(t, "Caddyfile.example")

	inst, err := caddyproc.New(caddyBin, dir)
	if err != nil {
		t.Fatal(err)
	}
	// The example's own ports: the site answers on 8080, the admin
	// endpoint is Caddy's default.
	inst.HTTPPort, inst.AdminPort = 8080, 2019
	g := &gatewayInstance{Instance: inst, t: t, dir: dir, httpPort: inst.HTTPPort, adminPort: inst.AdminPort}
	g.startWith(args...)
	t.Cleanup(g.stop)

	// The first start prints the admin's password and where to change it.
	password := g.bootstrapPassword()
	if line := quickStartBootstrapLine(t, g.logs.String()); !strings.Contains(line, "Security info → Change password") {
		t.Errorf("the first-start log line does not point to Security info → Change password:\n%s", line)
	}
	if _, err := os.Stat(filepath.Join(dir, "mfagate.db")); err != nil {
		t.Errorf("the database is not ./mfagate.db beside Caddyfile.example: %v", err)
	}

	// The command line the quick start shows finds the same users.
	out, err := g.caddy(nil, cliArgs...)
	if err != nil {
		t.Fatalf("%v (the README's CLI example): %v\n%s", cliArgs, err, out)
	}
	if !regexp.MustCompile(`(?m)^admin +Administrator `).MatchString(out) {
		t.Errorf("%v does not list the admin:\n%s", cliArgs, out)
	}

	ctx := chromium.Start(t, chromium.Options{Timeout: quickStartTimeout})
	chromeStep(t, ctx, "open http://localhost:8080", chromedp.Navigate("http://localhost:8080/"))
	if got := chromeLocation(t, ctx); got != "/.mfa/login?rd=%2F" {
		t.Fatalf("http://localhost:8080/: at %q, want the sign-in page", got)
	}
	chromeStep(t, ctx, "type the admin's password",
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), password))
	chromeSubmit(t, ctx, "submit password", `form[action$="/login"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/enrol" {
		t.Fatalf("after the password: at %q, want /.mfa/enrol", got)
	}
	secret := strings.ReplaceAll(chromeValue(t, ctx, "read secret", chromedp.Text(chromedp.ID("secret"))), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("secret %q from the enrolment page: %v", secret, err)
	}
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), code))
	resp := chromeSubmit(t, ctx, "submit code", `form[action$="/enrol"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/" {
		t.Fatalf("after the code: at %q, want the demo page /", got)
	}
	if resp.Status != 200 || resp.MimeType != "text/html" {
		t.Errorf("demo page: status %d, type %q, want 200 text/html", resp.Status, resp.MimeType)
	}

	// The payoff: the upstream's page, with who the gateway says you are.
	// Read without waiting for elements: a blank page must fail at once,
	// saying so.
	body := chromeValue(t, ctx, "read the demo page", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	chromeScreenshot(t, ctx, "quickstart-demo-page")
	if strings.TrimSpace(body) == "" {
		t.Fatal("the demo page is blank: the demo upstream did not answer for the Host the proxy sent")
	}
	h := chromeValue(t, ctx, "read h1", chromedp.Evaluate[string](`(document.querySelector("h1") || {}).textContent || ""`))
	if strings.TrimSpace(h) != "Hello, Administrator!" {
		t.Errorf("demo page heading %q, want \"Hello, Administrator!\" (the admin's name); page text:\n%s", h, body)
	}
	for _, want := range []string{"Remote-User: admin", "Remote-Groups: admins"} {
		if !strings.Contains(body, want) {
			t.Errorf("demo page lacks %q; page text:\n%s", want, body)
		}
	}
	quickStartPasskey(t, ctx, password, secret)
}

// quickStartPasskey follows the quick start's next step: on the portal
// (http://localhost:8081, its own sign-in: the password and the next
// code), Security info → Add sign-in method → Passkey or security key,
// made by the DevTools virtual authenticator; then, signed out of the
// site on port 8080, "Sign in with a passkey" signs in there without the
// password: the demo's RP ID, localhost, covers both origins.
func quickStartPasskey(t *testing.T, ctx context.Context, password, secret string) {
	t.Helper()
	chromeStep(t, ctx, "virtual authenticator", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
				Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		return err
	}))
	// The demo page's Security info link leads to the portal's sign-in.
	chromeStep(t, ctx, "open Security info", chromedp.Navigate("http://localhost:8080/.mfa/security"))
	if loc := chromeValue(t, ctx, "location", chromedp.Location()); !strings.HasPrefix(loc, "http://localhost:8081/.mfa/login") {
		t.Fatalf("Security info from the site: at %q, want the portal's sign-in", loc)
	}
	chromeStep(t, ctx, "type the admin's password on the portal",
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), password))
	chromeSubmit(t, ctx, "submit the password on the portal", `form[action$="/login"] button[type="submit"]`)
	// The enrolment used this time step's code: the next step's signs in.
	code, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	chromeStep(t, ctx, "type the next code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit the code on the portal", `form[action$="/verify"] button[type="submit"]`)
	if got := chromeLocation(t, ctx); got != "/.mfa/security" {
		t.Fatalf("the portal's sign-in: at %q, want Security info", got)
	}
	securityAddMethod(t, ctx, "passkey")
	chromeStep(t, ctx, "create passkey", chromedp.Click(chromedp.CSS(`button[data-passkey-start]`)))
	waitForPath(t, ctx, "/.mfa/security?done=passkey-added")

	// Signed out of the site, as a browser without conditional mediation
	// (with it, the username field would offer the passkey at once).
	chromeStep(t, ctx, "open the site's sign-out", chromedp.Navigate("http://localhost:8080/.mfa/logout"))
	chromeSubmit(t, ctx, "sign out of the site", `form[action$="/logout"] button[type="submit"]`)
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`}); err != nil {
		t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}
	chromeStep(t, ctx, "open the site again", chromedp.Navigate("http://localhost:8080/"))
	chromeStep(t, ctx, "the passkey button appears", chromedp.WaitVisible(chromedp.ID("passkey-button")))
	chromeStep(t, ctx, "sign in with a passkey", chromedp.Click(chromedp.ID("passkey-button")))
	waitForPath(t, ctx, "/")
	if h := chromeValue(t, ctx, "read h1", chromedp.Evaluate[string](`(document.querySelector("h1") || {}).textContent || ""`)); strings.TrimSpace(h) != "Hello, Administrator!" {
		t.Errorf("after the passkey alone: heading %q, want the demo page", h)
	}
}

// requirePortFree fails the test, naming the port, when something already
// listens on it on 127.0.0.1 or ::1 (localhost has both; Chromium may use
// either).
func requirePortFree(t *testing.T, port int) {
	t.Helper()
	for _, host := range []string{"127.0.0.1", "::1"} {
		l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
		if err == nil {
			l.Close()
			continue
		}
		if host == "::1" && !errors.Is(err, syscall.EADDRINUSE) {
			continue // no IPv6 loopback on this machine: nothing can hold it
		}
		t.Fatalf("port %d busy: the quick start needs ports %v free on localhost (is the demo running?): %v", port, quickStartPorts, err)
	}
}

// quickStartSection is the README's "Quick start" section.
func quickStartSection(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "\n## Quick start\n")
	if start < 0 {
		t.Fatal(`README.md has no "## Quick start" section`)
	}
	section = section[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	return section
}

// quickStartArgs returns the arguments the quick start gives Caddy for
// command (e.g. "run" in "go run ./cmd/caddy run --config
// Caddyfile.example"), so the test runs what the README says. Every
// command there names the example's config.
func quickStartArgs(t *testing.T, section, command string) []string {
	t.Helper()
	// The program is `caddy`, `./caddy` or `go run ./cmd/caddy`; its
	// arguments run to the end of the line or of the inline code.
	re := regexp.MustCompile(`\bcaddy (` + regexp.QuoteMeta(command) + "(?: [^\\s`]+)*)")
	for _, m := range re.FindAllStringSubmatch(section, -1) {
		if strings.Contains(m[1], " --config Caddyfile.example") {
			return strings.Fields(m[1])
		}
	}
	t.Fatalf("the README's quick start shows no `caddy %s … --config Caddyfile.example`:\n%s", command, section)
	return nil
}

// copyRepoFiles copies the named files of the repository, byte for byte,
// into a fresh directory standing in for a clean clone.
func copyRepoFiles(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, name)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if copied, err := os.ReadFile(dst); err != nil || !bytes.Equal(copied, data) {
			t.Fatalf("copy of %s differs from the repository's (%v)", name, err)
		}
	}
	return dir
}

// quickStartBootstrapLine is the log line that carries the first admin's
// password.
func quickStartBootstrapLine(t *testing.T, logs string) string {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if adminPasswordRE.MatchString(line) {
			return line
		}
	}
	t.Fatalf("no first-admin line in the log:\n%s", logs)
	return ""
}
