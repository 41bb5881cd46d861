package caddymodule

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/sqlite"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
	"github.com/mfagate/mfagate/internal/wiring"
)

// cliStore makes a store with users added by the CLI (each in the group
// named after them with an s: root is in "roots") and a config naming it;
// the store stays open beside the CLI's.
func cliStore(t *testing.T, users ...string) (*sqlite.Store, string) {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	for _, name := range users {
		if _, _, err := runCLI(t, name+" correct horse battery\n", "user", "add", name, "--password-stdin", "--group", name+"s", "--config", config); err != nil {
			t.Fatal(err)
		}
	}
	return st, config
}

// `caddy mfa user unblock` lets a locked-out user in again as the admin
// center's Unblock does: the account's failed sign-in counter and its
// basic-auth-only one are both cleared, with the block.
func TestCLIUnblockClearsTheLockout(t *testing.T) {
	st, config := cliStore(t, "alice")
	ctx := context.Background()
	keys := []string{bruteforce.AccountKey("alice"), bruteforce.BasicAuthOnlyKey("alice")}
	for _, k := range keys {
		if ok, f, err := st.ClaimFailure(ctx, k, time.Now(), time.Hour, 1, time.Hour); err != nil || !ok || f.LockedUntil.IsZero() {
			t.Fatalf("locking %s: %v %+v %v", k, ok, f, err)
		}
	}
	if _, _, err := runCLI(t, "", "user", "block", "alice", "--config", config); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "", "user", "unblock", "alice", "--config", config)
	if err != nil || !strings.Contains(out, "failed sign-in counter cleared") {
		t.Fatalf("unblock: %v %s", err, out)
	}
	for _, k := range keys {
		if f, err := st.FailuresFor(ctx, k); err != nil || f.Count != 0 || !f.LockedUntil.IsZero() {
			t.Errorf("counter %s after the CLI's unblock: %+v %v", k, f, err)
		}
	}
	if u, err := st.UserByName(ctx, "alice"); err != nil || !u.BlockedAt.IsZero() {
		t.Errorf("still blocked: %+v %v", u, err)
	}
}

// "Methods removed" is the same number from the CLI and the admin center:
// authenticators and active phones, not a phone still waiting for its
// confirmation code (it never was a sign-in method).
func TestCLIAndAdminCenterCountRemovedMethodsAlike(t *testing.T) {
	st, config := cliStore(t, "alice", "bob", "root")
	ctx := context.Background()
	svc, err := wiring.New(ctx, st, wiring.Options{BcryptCost: password.MinCost, AdminGroup: "roots"})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	users := map[string]*model.User{}
	for _, name := range []string{"alice", "bob", "root"} {
		u, err := st.UserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := svc.Core.Codes.Seal(u.ID, make([]byte, 20))
		if err != nil {
			t.Fatal(err)
		}
		teststore.Methods(t, st, u.ID, sealed)
		users[name] = u
	}
	out, _, err := runCLI(t, "", "user", "reset-methods", "alice", "--config", config)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Core.Admin.Apply(ctx, core.AdminActor(users["root"], "192.0.2.1"), core.Action{Kind: core.ActionResetMethods}, []int64{users["bob"].ID})
	if err != nil || len(res) != 1 {
		t.Fatal(res, err)
	}
	if !strings.Contains(out, "removed 2 sign-in methods of alice") || res[0].Detail != "2 sign-in methods removed (enrols again at the next sign-in)" {
		t.Errorf("the CLI says %q, the admin center %q: want 2 methods removed by both", strings.TrimSpace(out), res[0].Detail)
	}
	for _, name := range []string{"alice", "bob"} {
		if ds, err := st.Devices(ctx, users[name].ID); err != nil || len(ds) != 0 {
			t.Errorf("%s keeps devices: %+v %v", name, ds, err)
		}
	}
}
