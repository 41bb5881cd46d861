package basicauth

import (
	"context"
	"slices"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// TestAccountPasswordUpgradeInTheAttemptsTransaction: basic auth with an
// account password whose hash is of another cost replaces it in the
// transaction that gives the attempt's slots back, with its audit row:
// the claim, then one transaction; the result proves the new hash.
func TestAccountPasswordUpgradeInTheAttemptsTransaction(t *testing.T) {
	ctx := context.Background()
	st := countingstore.New(teststore.Open(t))
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	old, err := bcrypt.GenerateFromPassword([]byte("account pw"), password.MinCost+1)
	if err != nil {
		t.Fatal(err)
	}
	u := &model.User{Username: "wanda", PasswordHash: string(old), MFAState: model.MFADisabled}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	v, err := newVerifier(t, st, h, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	st.Reset()
	res, err := v.Verify(ctx, policy.Site{}, "wanda", "account pw", "192.0.2.9")
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got := st.Writes(); !slices.Equal(got, []string{"Update", "Update"}) {
		t.Errorf("writes %v, want the claim, then one Update", got)
	}
	stored, err := st.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.PasswordHash == string(old) || h.NeedsRehash(stored.PasswordHash) || res.User.PasswordHash != stored.PasswordHash {
		t.Errorf("hash not upgraded: stored %q, result %q", stored.PasswordHash, res.User.PasswordHash)
	}
	rows, err := st.AuditEvents(ctx, u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Event == audit.PasswordHashUpgraded {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d upgrade audit rows, want 1", n)
	}
}
