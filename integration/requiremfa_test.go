package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// requireMFASite is the standard config with only require_mfa set on the
// site (no app_passwords_only).
func requireMFASite(g *gatewayInstance, up *upstream) string {
	return strings.Replace(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), ""),
		"mfa_gateway\n", "mfa_gateway {\n\t\trequire_mfa\n\t}\n", 1)
}

// startRequireMFAGateway runs Caddy with a require_mfa-only site.
func startRequireMFAGateway(t *testing.T, up *upstream) *gatewayInstance {
	t.Helper()
	g := newGatewayInstance(t)
	g.writeCaddyfile(requireMFASite(g, up))
	g.start()
	t.Cleanup(g.stop)
	return g
}

// userRow is one user as `caddy mfa user list --json` shows it.
type userRow struct {
	Username string `json:"username"`
	MFAState string `json:"mfa_state"`
}

// listUsers reads the users through the real CLI.
func listUsers(t *testing.T, g *gatewayInstance) []userRow {
	t.Helper()
	out, err := g.caddy(nil, "mfa", "user", "list", "--json", "--config", "Caddyfile")
	if err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	var rows []userRow
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil {
		t.Fatalf("list output: %v\n%s", err, out)
	}
	return rows
}

// mfaStateOf reads a user's state through the CLI.
func mfaStateOf(t *testing.T, g *gatewayInstance, user string) string {
	t.Helper()
	rows := listUsers(t, g)
	for _, r := range rows {
		if r.Username == user {
			return r.MFAState
		}
	}
	t.Fatalf("no user %q in %+v", user, rows)
	return ""
}

// TestRequireMFABasicAuthTakesAppPasswordsOnly: on a require_mfa-only
// site the account passwords of a Disabled and of a new (Enabled, not
// enrolled) user get 401 in basic auth; a Disabled user who registered an
// authenticator there creates an app password on Security info, and it
// passes basic auth. Without require_mfa, the same Disabled user still
// cannot create one.
func TestRequireMFABasicAuthTakesAppPasswordsOnly(t *testing.T) {
	up := newUpstream(t)
	g := startRequireMFAGateway(t, up)
	g.addUser("dana", "dana password 1", "--mfa", "disabled")
	g.addUser("eddy", "eddy password 1") // enabled, not registered

	wantStatus(t, basicGet(t, g, "/dav", "dana", "dana password 1"), 401, "disabled user, account password, require_mfa")
	wantStatus(t, basicGet(t, g, "/dav", "eddy", "eddy password 1"), 401, "new enabled user, account password, require_mfa")
	if r := up.lastRequest(); r != nil {
		t.Fatalf("upstream reached as %q", r.Header.Get("Remote-User"))
	}

	// require_mfa sends dana through enrolment; she stays Disabled.
	b := newBrowser(t, g)
	b.enrolled("dana", "dana password 1")
	if s := mfaStateOf(t, g, "dana"); s != "disabled" {
		t.Fatalf("dana is %s after enrolling, want disabled", s)
	}
	p := b.get("/.mfa/security/add")
	if p.status != 200 || !strings.Contains(p.body, `id="add-app-password"`) {
		t.Fatalf("security info of a disabled user with an authenticator on a require_mfa site: %d\n%s", p.status, p.body)
	}
	pw, p := b.createAppPassword("Laptop mail")
	if pw == "" {
		t.Fatalf("no app password: %d\n%s", p.status, p.body)
	}
	wantStatus(t, basicGet(t, g, "/dav/file.txt", "dana", pw), 200, "disabled user's app password, require_mfa")
	if got := up.lastRequest().Header.Get("Remote-User"); got != "dana" {
		t.Fatalf("Remote-User = %q", got)
	}
	wantStatus(t, basicGet(t, g, "/dav", "dana", "dana password 1"), 401, "account password after enrolling, require_mfa")

	// The same Disabled user, with the same authenticator, on a site
	// without require_mfa: the option is missing and the POST refused.
	g.reload(caddyfileFor(g.dir, g.httpPort, g.adminPort, up.port(), ""))
	p = b.get("/.mfa/security/add")
	if p.status != 200 || strings.Contains(p.body, `id="add-app-password"`) || !strings.Contains(p.body, "enforces multi-factor") {
		t.Fatalf("security info without require_mfa: %d\n%s", p.status, p.body)
	}
	if pw, p := b.createAppPassword("sneaky"); pw != "" || p.status != http.StatusForbidden {
		t.Fatalf("disabled user created an app password without require_mfa: %d", p.status)
	}
}

var pendingRE = regexp.MustCompile(`name="pending" value="([^"]+)"`)

// TestSecurityInfoRefusesPasswordOnlySessionOfRaisedUser: a session taken
// with the password alone while the user was Disabled is sent to sign in
// on Security info once the admin sets the user Enforced, as at the
// gateway: nothing is shown, and adding an authenticator is refused.
func TestSecurityInfoRefusesPasswordOnlySessionOfRaisedUser(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("fred", "fred password 1", "--mfa", "disabled")
	b := newBrowser(t, g)
	if p := b.login("fred", "fred password 1", "/"); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("disabled user login: %d %q", p.status, p.location)
	}
	// While Disabled the session may add a method: take the form now.
	p := b.get("/.mfa/security/add?method=authenticator")
	pending := pendingRE.FindStringSubmatch(p.body)
	if p.status != 200 || pending == nil {
		t.Fatalf("add authenticator page while disabled: %d\n%s", p.status, p.body)
	}
	secret := enrolSecret(t, p)

	if out, err := g.caddy(nil, "mfa", "user", "mfa", "fred", "enforced", "--config", "Caddyfile"); err != nil {
		t.Fatalf("set enforced: %v\n%s", err, out)
	}
	p = b.get("/.mfa/security")
	if p.status != http.StatusFound || p.location != "/.mfa/login?rd="+url.QueryEscape("/.mfa/security") {
		t.Fatalf("security info for a password-only session of an enforced user: %d %q\n%s", p.status, p.location, p.body)
	}
	p = b.post("/.mfa/security/authenticator", url.Values{"pending": {pending[1]}, "code": {codeAt(t, secret, currentStep())}})
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, "/.mfa/login?rd=") {
		t.Fatalf("add authenticator from a password-only session: %d %q\n%s", p.status, p.location, p.body)
	}
	// Nothing was added: signing in again asks to register a first
	// authenticator instead of a code from one.
	if p := newBrowser(t, g).login("fred", "fred password 1", "/"); p.status != http.StatusSeeOther || p.location != "/.mfa/enrol" {
		t.Fatalf("fred signs in to %d %q, want enrolment (no authenticator)", p.status, p.location)
	}
}
