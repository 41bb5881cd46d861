package integration

import (
	"net/http"
	"testing"
)

// TestBasicAuthRefusesUnicodeUsernameAliases: only A-Z is folded, so
// "alİce" (dotted capital I, which strings.ToLower turns into "alice") and
// other look-alikes are not alice, even with her correct password.
func TestBasicAuthRefusesUnicodeUsernameAliases(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	g.addUser("alice", "alice password 1") // Enabled: the account password works in basic auth
	wantStatus(t, basicGet(t, g, "/dav", "alice", "alice password 1"), http.StatusOK, "alice")
	wantStatus(t, basicGet(t, g, "/dav", "ALICE", "alice password 1"), http.StatusOK, "ALICE (A-Z folds)")
	if got := up.lastRequest().Header.Get("Remote-User"); got != "alice" {
		t.Fatalf("Remote-User = %q", got)
	}
	for _, alias := range []string{"al\u0130ce", "\uff41lice", "alice\u200b"} {
		wantStatus(t, basicGet(t, g, "/dav", alias, "alice password 1"), http.StatusUnauthorized, "alias "+alias)
	}
	g.addUser("kim", "kim password 1")
	wantStatus(t, basicGet(t, g, "/dav", "\u212aim", "kim password 1"), http.StatusUnauthorized, "Kelvin-sign alias of kim")
}
