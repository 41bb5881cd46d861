package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleAdaptsToJSONThatRuns: `caddy adapt` of Caddyfile.example gives
// JSON that `caddy run --config x.json` accepts and serves.
func TestExampleAdaptsToJSONThatRuns(t *testing.T) {
	up := newUpstream(t)
	g := newGatewayInstance(t)
	example, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	// Same file, on free ports so tests can run beside a running demo
	// (TestQuickStartAsWritten runs it on its own ports, byte for byte).
	portal := fmt.Sprintf("http://localhost:%d", freePort(t))
	text := replaceOnce(t, string(example), ":8080 {", fmt.Sprintf(":%d {", g.httpPort))
	text = replaceOnce(t, text, "reverse_proxy 127.0.0.1:9000", "reverse_proxy 127.0.0.1:"+up.port())
	text = replaceOnce(t, text, "http://:9000 {", fmt.Sprintf("http://:%d {", freePort(t)))
	text = replaceOnce(t, text, "portal http://localhost:8081", "portal "+portal)
	text = replaceOnce(t, text, "http://localhost:8081 {", portal+" {")
	text = replaceOnce(t, text, "{\n\tmfa {", fmt.Sprintf("{\n\tadmin localhost:%d\n\tpersist_config off\n\tmfa {", g.adminPort))
	g.writeCaddyfile(text)
	out, err := g.caddy(nil, "adapt", "--config", "Caddyfile")
	if err != nil {
		t.Fatalf("adapt: %v\n%s", err, out)
	}
	jsonCfg := out[strings.Index(out, "{"):]
	if !strings.Contains(jsonCfg, `"handler":"mfa_gateway"`) || !strings.Contains(jsonCfg, `"issuer":"Example Corp"`) {
		t.Fatalf("adapted JSON lacks the gateway or the app:\n%s", jsonCfg)
	}
	if err := os.WriteFile(filepath.Join(g.dir, "x.json"), []byte(jsonCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(g.dir, "Caddyfile"))
	g.startWith("run", "--config", "x.json")
	t.Cleanup(g.stop)
	g.bootstrapPassword() // the first admin was created
	if p := newBrowser(t, g).get("/"); p.status != 302 {
		t.Fatalf("protected site from JSON config: %d", p.status)
	}
	if _, err := os.Stat(filepath.Join(g.dir, "mfagate.db")); err != nil {
		t.Fatalf("sqlite file not where the example says: %v", err)
	}
}

// replaceOnce replaces the one occurrence of old in text, failing the test
// when Caddyfile.example no longer holds it (so a changed example cannot
// slip past on its real ports).
func replaceOnce(t *testing.T, text, old, repl string) string {
	t.Helper()
	if n := strings.Count(text, old); n != 1 {
		t.Fatalf("Caddyfile.example holds %q %d times, want once", old, n)
	}
	return strings.Replace(text, old, repl, 1)
}

// TestConfigErrorsNameTheProblem: bad config fails at load, naming the
// option and the line.
func TestConfigErrorsNameTheProblem(t *testing.T) {
	cases := map[string]struct{ config, want string }{
		"unknown global option": {"{\n\tmfa {\n\t\tstorag sqlite x.db\n\t}\n}\n:1 {\n\tmfa_gateway\n}\n", "Caddyfile:3"},
		"bad backend":           {"{\n\tmfa {\n\t\tstorage redis x\n\t}\n}\n:1 {\n\tmfa_gateway\n}\n", "unknown backend"},
		"bad duration":          {"{\n\tmfa {\n\t\tsession_lifetime forever\n\t}\n}\n:1 {\n\tmfa_gateway\n}\n", "session_lifetime"},
		"unknown directive opt": {":1 {\n\tmfa_gateway {\n\t\tportal /x/\n\t}\n}\n", "Caddyfile:3"},
		"low bcrypt cost":       {"{\n\tmfa {\n\t\tbcrypt_cost 4\n\t}\n}\n:1 {\n\tmfa_gateway\n}\n", "bcrypt_cost"},
		"bad prefix":            {":1 {\n\tmfa_gateway {\n\t\tportal_prefix nope\n\t}\n}\n", "portal_prefix"},
		"short key":             {"{\n\tmfa {\n\t\tkeys {\n\t\t\tfactor c2hvcnQ=\n\t\t}\n\t}\n}\n:1 {\n\tmfa_gateway\n}\n", "keys factor"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := newGatewayInstance(t)
			g.writeCaddyfile(c.config)
			out, err := g.caddy(nil, "validate", "--config", "Caddyfile")
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			if !strings.Contains(out, c.want) {
				t.Fatalf("error does not mention %q:\n%s", c.want, out)
			}
		})
	}
}
