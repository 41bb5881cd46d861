package signin

import (
	"context"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
)

// Every browser attempt at the password step lands in the sign-in log
// with its reason; an unknown typed name is stored as a keyed hash, never
// as typed.
func TestPasswordAttemptsAreLogged(t *testing.T) {
	p, st := newPortal(t)
	postLogin(p, "alice", "wrong", "192.0.2.1")
	postLogin(p, "Typed-Secret-Name", "wrong", "192.0.2.2")
	rows, err := st.SignIns(context.Background(), model.SignInFilter{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("sign-in log = %+v, %v", rows, err)
	}
	unknown, alice := rows[0], rows[1]
	if alice.Username != "alice" || alice.UserID == 0 || alice.Result != model.SignInFailure || alice.Reason != "wrong password" ||
		alice.Client != model.ClientBrowser || alice.FirstFactor != "password" || alice.RemoteIP != "192.0.2.1" || alice.Site == "" {
		t.Errorf("wrong password row = %+v", alice)
	}
	if unknown.UserID != 0 || !strings.HasPrefix(unknown.Username, "unknown:") || strings.Contains(strings.ToLower(unknown.Username), "typed") ||
		unknown.Reason != "unknown user" {
		t.Errorf("unknown user row = %+v", unknown)
	}
}
