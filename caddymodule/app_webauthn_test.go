package caddymodule

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestWebAuthnRPID: without rp_id the RP ID is derived from the portal
// (its host without the first label when it has three or more, else the
// host; "" without a portal: each request's host); a configured one must
// be a domain covering the portal.
func TestWebAuthnRPID(t *testing.T) {
	for _, c := range []struct {
		rpID, portal, want, err string
	}{
		{"", "https://mfa.example.com", "example.com", ""},
		{"", "https://mfa.example.com:8443", "example.com", ""},
		{"", "http://localhost:8443", "localhost", ""},
		{"", "https://example.com", "example.com", ""},
		{"", "", "", ""},
		{"example.com", "https://mfa.example.com", "example.com", ""},
		{"mfa.example.com", "https://mfa.example.com", "mfa.example.com", ""},
		{"example.com", "", "example.com", ""},
		{"other.org", "https://mfa.example.com", "", "does not cover the portal"},
		{"app.example.com", "https://mfa.example.com", "", "does not cover the portal"},
		{"https://example.com", "", "", "webauthn rp_id"},
		{"com", "", "", "public suffix"},
		{"{env.MFAGATE_TEST_UNSET_RP_ID}", "", "", "webauthn rp_id is set to"},
	} {
		got, err := (&WebAuthnConfig{RPID: c.rpID}).rpID(c.portal)
		if got != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("rp_id %q, portal %q: %q, %v; want %q, error containing %q", c.rpID, c.portal, got, err, c.want, c.err)
		}
	}
}

// TestWebAuthnCaddyfile: `webauthn { rp_id … }` lands in the JSON; a
// stray argument or unknown option names the line.
func TestWebAuthnCaddyfile(t *testing.T) {
	out, err := adapt(t, "{\n\tmfa {\n\t\twebauthn {\n\t\t\trp_id example.com\n\t\t}\n\t}\n}\n")
	if err != nil || !strings.Contains(out, `"webauthn":{"rp_id":"example.com"}`) {
		t.Fatalf("webauthn rp_id: %v\n%s", err, out)
	}
	for name, text := range map[string]string{
		"argument":       "{\n\tmfa {\n\t\twebauthn example.com\n\t}\n}\n",
		"unknown option": "{\n\tmfa {\n\t\twebauthn {\n\t\t\torigin x\n\t\t}\n\t}\n}\n",
		"two values":     "{\n\tmfa {\n\t\twebauthn {\n\t\t\trp_id a.com b.com\n\t\t}\n\t}\n}\n",
	} {
		if _, err := adapt(t, text); err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%s: error %v does not name the line", name, err)
		}
	}
}

// TestWebAuthnRPIDLogged: the start names the RP ID passkeys use, says
// when it is each site's own host, and warns when a portal on an address
// leaves none a browser accepts.
func TestWebAuthnRPIDLogged(t *testing.T) {
	for rpID, want := range map[string]string{
		"example.com":  "passkeys: relying party ID",
		"":             "each site's own host",
		"192.168.1.10": "passkeys are not available",
	} {
		core, logs := observer.New(zapcore.InfoLevel)
		a := &App{logger: zap.New(core), rpID: rpID}
		a.logRPID()
		entries := logs.All()
		if len(entries) != 1 || !strings.Contains(entries[0].Message, want) {
			t.Errorf("rp ID %q logged %+v, want one entry saying %q", rpID, entries, want)
			continue
		}
		if rpID == "example.com" && entries[0].ContextMap()["rp_id"] != "example.com" {
			t.Errorf("the log entry %+v does not name the RP ID", entries[0])
		}
	}
}
