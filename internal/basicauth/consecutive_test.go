package basicauth

import (
	"context"
	"fmt"
	"testing"

	"github.com/mfagate/mfagate/internal/policy"
)

// Wrong basic-auth secrets are consecutive failed sign-ins of the account
// (NIST SP 800-63B-4's cap), and a basic-auth pass, a whole sign-in of a
// client, starts the count anew.
func TestBasicAuthConsecutiveFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	count := func() int {
		t.Helper()
		n, err := f.st.FailedSignIns(ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 3 {
		if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", fmt.Sprintf("wrong secret %d", i), "192.0.2.1"); !denied(err) {
			t.Fatalf("wrong secret %d: %v", i, err)
		}
	}
	if n := count(); n != 3 {
		t.Fatalf("after 3 wrong secrets: %d consecutive failed sign-ins, want 3", n)
	}
	if _, err := f.v.Verify(ctx, policy.Site{}, "wanda", f.pw, "192.0.2.1"); err != nil {
		t.Fatalf("the app password: %v", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("after a basic-auth pass: %d consecutive failed sign-ins, want 0", n)
	}
}
