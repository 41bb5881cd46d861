package integration

import (
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// TestCLIChangesAreAudited: changes made with `caddy mfa` are written to
// the audit log like page changes, naming the CLI and the OS user.
func TestCLIChangesAreAudited(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("carl", "carl password 1", "--group", "staff")
	for _, args := range [][]string{
		{"mfa", "user", "mfa", "carl", "enforced", "--config", "Caddyfile"},
		{"mfa", "user", "remove", "carl", "--config", "Caddyfile"},
	} {
		if out, err := g.caddy(nil, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(g.dir, "mfagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.AuditEvents(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	actor := "by cli (os user " + me.Username + ")"
	want := map[string]string{audit.UserCreated: "groups [staff]", audit.MFAStateChanged: "multi-factor sign-in Enabled → Enforced", audit.UserRemoved: "user removed"}
	for _, e := range events {
		if e.Username != "carl" {
			continue
		}
		if part, ok := want[e.Event]; ok && strings.Contains(e.Detail, part) && strings.HasSuffix(e.Detail, actor) {
			delete(want, e.Event)
		}
	}
	if len(want) != 0 {
		t.Fatalf("not audited as %q: %v\nevents: %+v", actor, want, events)
	}
}
