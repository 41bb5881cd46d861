package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/testfixture"
)

// TestDeletedAppPasswordIsLoggedAsNotRecognised: an Enforced user's
// device still sending a deleted app password gets 401 each time, and the
// sign-in log says the app password was not recognised, never that an
// account password was refused. Distinct wrong secrets lock basic auth for
// the account at the limit, still answered 401 like any refusal.
func TestDeletedAppPasswordIsLoggedAsNotRecognised(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "gus", Password: "gus rides a violet tractor", MFAState: model.MFAEnforced})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := svc.Core.AppPasswords.Create(ctx, u, "old phone", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	aps, _ := svc.Core.AppPasswords.List(ctx, u.ID)
	if err := svc.Core.AppPasswords.Delete(ctx, u, aps[0].ID, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, signin.Config{Issuer: "T"})
	g := New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, Config{Policy: policy.Site{}, SignInLog: svc.Core.SignInLog})
	basic := func(pw string) int {
		r := httptest.NewRequest("PROPFIND", "http://dav.example.com/dav/", nil)
		r.SetBasicAuth("gus", pw)
		r.Header.Set("User-Agent", "rclone/v1.69.1")
		_, w := serve(g, r)
		return w.Code
	}
	for i := range 20 {
		if code := basic(stale); code != http.StatusUnauthorized {
			t.Fatalf("deleted app password, attempt %d: %d", i, code)
		}
	}
	rows, err := svc.Store.SignIns(ctx, model.SignInFilter{UserID: u.ID})
	if err != nil || len(rows) != 20 {
		t.Fatalf("sign-in log: %d rows, %v; want 20", len(rows), err)
	}
	for _, row := range rows {
		if !strings.HasPrefix(row.Reason, "app password not recognised (deleted or mistyped)") || strings.Contains(row.Reason, "account password") {
			t.Fatalf("sign-in log reason %q", row.Reason)
		}
	}
	if c, _ := svc.Store.FailuresFor(ctx, bruteforce.AccountKey("gus")); c.Count != 0 {
		t.Fatalf("the account's counter = %+v", c)
	}

	for i := range bruteforce.DefaultAccountLimit {
		basic(fmt.Sprintf("wrongguess%06d", i))
	}
	right, err := svc.Core.AppPasswords.Create(ctx, u, "new phone", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if code := basic(right); code != http.StatusUnauthorized {
		t.Fatalf("right app password while basic auth is locked for the account: %d, want 401", code)
	}
	rows, _ = svc.Store.SignIns(ctx, model.SignInFilter{UserID: u.ID})
	if rows[0].Reason != "locked" {
		t.Fatalf("the refusal at the limit is logged as %q, want locked", rows[0].Reason)
	}
}
