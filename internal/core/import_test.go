package core

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// argon2idHash hashes pw as Authelia does (small parameters, for speed).
func argon2idHash(pw string) string {
	salt := []byte("import-test-salt")
	key := argon2.IDKey([]byte(pw), salt, 1, 1024, 2, 32)
	return fmt.Sprintf("$argon2id$v=19$m=1024,t=1,p=2$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

func importFixture(t *testing.T) (*Accounts, []ImportedUser) {
	t.Helper()
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bh, _ := h.Hash("bob's bcrypt password")
	in := []ImportedUser{
		{Username: "Alice", DisplayName: " Alice Smith ", Email: "alice@example.com", Groups: []string{"dev", "admins", "dev"},
			PasswordHash: argon2idHash("alice's argon2 password"), Line: 2, PasswordLine: 5},
		{Username: "bob", PasswordHash: bh, Line: 8},
		{Username: "olga", PasswordHash: bh, Disabled: true, Line: 10},
	}
	return NewAccounts(teststore.Open(t), h).WithActor("cli (os user tester)"), in
}

func TestImportCreatesAllAtOnce(t *testing.T) {
	ctx := context.Background()
	svc, in := importFixture(t)
	res, err := svc.Import(ctx, "/etc/authelia/users.yml", in, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Users) != 3 || res.Rehashed != 1 || res.Blocked != 1 || res.Reset != 0 {
		t.Fatalf("result: %d users, %d to rehash, %d blocked, %d reset", len(res.Users), res.Rehashed, res.Blocked, res.Reset)
	}
	alice, err := svc.Get(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if alice.PasswordHash != in[0].PasswordHash || alice.DisplayName != "Alice Smith" || fmt.Sprint(alice.Groups) != "[admins dev]" ||
		alice.MFAState != model.MFAEnabled || !alice.BlockedAt.IsZero() {
		t.Fatalf("alice: %+v", alice)
	}
	olga, _ := svc.Get(ctx, "olga")
	if olga.BlockedAt.IsZero() || olga.BlockedReason != "disabled in the imported file /etc/authelia/users.yml" {
		t.Fatalf("olga (disabled in the file): blocked %v %q", olga.BlockedAt, olga.BlockedReason)
	}
	if bob, _ := svc.Get(ctx, "bob"); bob.PasswordHash != in[1].PasswordHash {
		t.Fatalf("bob's bcrypt hash was not kept: %q", bob.PasswordHash)
	}
	events, _ := svc.store.AuditEvents(ctx, 0, 0)
	imported := 0
	for _, e := range events {
		if e.Event == audit.UserCreated && strings.HasSuffix(e.Detail, "imported from /etc/authelia/users.yml by cli (os user tester)") {
			imported++
		}
	}
	if imported != 3 {
		t.Fatalf("%d imports audited, want 3: %+v", imported, events)
	}
}

// TestImportRefusesAndKeepsNothing: one bad entry (or a name the store
// has) refuses the whole file, naming its line; a dry run writes nothing.
func TestImportRefusesAndKeepsNothing(t *testing.T) {
	ctx := context.Background()
	svc, in := importFixture(t)
	bad := append([]ImportedUser{}, in...)
	bad = append(bad, ImportedUser{Username: "sha", PasswordHash: "$6$rounds=5000$salt$hash", Line: 12, PasswordLine: 13})
	_, err := svc.Import(ctx, "users.yml", bad, ImportOptions{})
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || !strings.HasPrefix(ie.Problems[0].String(), `line 13: user "sha": password: unsupported`) {
		t.Fatalf("bad hash: %v", err)
	}
	if us, _ := svc.List(ctx); len(us) != 0 {
		t.Fatalf("%d users after a refused import", len(us))
	}

	res, err := svc.Import(ctx, "users.yml", in, ImportOptions{DryRun: true})
	if err != nil || len(res.Users) != 3 || res.Rehashed != 1 {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if us, _ := svc.List(ctx); len(us) != 0 {
		t.Fatalf("%d users after a dry run", len(us))
	}
	if events, _ := svc.store.AuditEvents(ctx, 0, 0); len(events) != 0 {
		t.Fatalf("a dry run was audited: %+v", events)
	}

	if _, err := svc.Add(ctx, NewUser{Username: "bob", Password: "violet tractor 7 umbrella"}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Import(ctx, "users.yml", in, ImportOptions{})
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].String() != `line 8: user "bob": a user of this name exists already` {
		t.Fatalf("existing user: %v", err)
	}
	_, err = svc.Import(ctx, "users.yml", in, ImportOptions{DryRun: true})
	if !errors.As(err, &ie) {
		t.Fatalf("a dry run does not see the existing user: %v", err)
	}
	if us, _ := svc.List(ctx); len(us) != 1 {
		t.Fatalf("%d users after a refused import, want bob alone", len(us))
	}
}

// TestUpgradePasswordHash: the argon2id hash becomes bcrypt at the
// server's cost once; a hash changed meanwhile is never overwritten.
func TestUpgradePasswordHash(t *testing.T) {
	ctx := context.Background()
	svc, in := importFixture(t)
	if _, err := svc.Import(ctx, "users.yml", in, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	alice, _ := svc.Get(ctx, "alice")
	hash, err := svc.UpgradePasswordHash(ctx, alice, "alice's argon2 password", "192.0.2.1")
	if err != nil || !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("upgrade: %q %v", hash, err)
	}
	stored, _ := svc.Get(ctx, "alice")
	if stored.PasswordHash != hash || !svc.hasher.Verify(stored.PasswordHash, "alice's argon2 password") {
		t.Fatalf("stored hash %q", stored.PasswordHash)
	}
	// Again from the old hash (another node's sign-in): nothing changes.
	if again, err := svc.UpgradePasswordHash(ctx, alice, "alice's argon2 password", ""); again != "" || err != nil {
		t.Fatalf("second upgrade: %q %v", again, err)
	}
	// bcrypt hashes at the server's cost are kept.
	bob, _ := svc.Get(ctx, "bob")
	if h, err := svc.UpgradePasswordHash(ctx, bob, "bob's bcrypt password", ""); h != "" || err != nil {
		t.Fatalf("bcrypt upgraded: %q %v", h, err)
	}
	events, _ := svc.store.AuditEvents(ctx, alice.ID, 0)
	if len(events) == 0 || events[0].Event != audit.PasswordHashUpgraded || events[0].RemoteIP != "192.0.2.1" {
		t.Fatalf("upgrade not audited: %+v", events)
	}
	// A bcrypt hash at another cost than the server's is replaced too.
	dearer, _ := bcrypt.GenerateFromPassword([]byte("carl's bcrypt password"), password.MinCost+1)
	in2 := []ImportedUser{{Username: "carl", PasswordHash: string(dearer), Line: 1}}
	if _, err := svc.Import(ctx, "more.yml", in2, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	carl, _ := svc.Get(ctx, "carl")
	hash, err = svc.UpgradePasswordHash(ctx, carl, "carl's bcrypt password", "192.0.2.2")
	if err != nil || !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("bcrypt at cost 11 on a cost-10 server: %q %v", hash, err)
	}
	events, _ = svc.store.AuditEvents(ctx, carl.ID, 0)
	if len(events) == 0 || events[0].Detail != "bcrypt (cost 11) hash replaced by bcrypt (cost 10) at sign-in" {
		t.Fatalf("upgrade audited as %+v", events)
	}
}

// TestImportCostBoundAndAllowReset: a hash costlier than 2 checks at the
// server's bcrypt cost refuses the file, naming its line; with AllowReset
// the user is imported with no usable password (no password matches, the
// audit log says so), and the admin center's Reset password gives one.
func TestImportCostBoundAndAllowReset(t *testing.T) {
	ctx := context.Background()
	f := newAdminFixture(t, "admins")
	svc := f.c.Accounts
	costly := "$2y$12$" + strings.Repeat("a", 53) // 4 checks at cost 10
	in := []ImportedUser{{Username: "dee", PasswordHash: costly, Line: 3, PasswordLine: 4}}
	_, err := svc.Import(ctx, "users.yml", in, ImportOptions{})
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || !strings.HasPrefix(ie.Problems[0].String(),
		`line 4: user "dee": password: password hash too costly to check: a check against this bcrypt hash costs about 4.0 checks at this server's bcrypt cost 10`) {
		t.Fatalf("costly hash: %v", err)
	}
	res, err := svc.Import(ctx, "users.yml", in, ImportOptions{AllowReset: true})
	if err != nil || res.Reset != 1 || res.Rehashed != 0 {
		t.Fatalf("--allow-reset: %+v %v", res, err)
	}
	dee, err := svc.Get(ctx, "dee")
	if err != nil || !NoUsablePassword(dee) {
		t.Fatalf("dee: %+v %v", dee, err)
	}
	for _, pw := range []string{"", "x", costly} {
		if ok, err := svc.hasher.VerifyBounded(ctx, dee.PasswordHash, pw); ok || err != nil {
			t.Fatalf("a password %q matched the account with none: %v", pw, err)
		}
	}
	events, _ := f.st.AuditEvents(ctx, dee.ID, 0)
	if len(events) != 1 || !strings.Contains(events[0].Detail, "no usable password") {
		t.Fatalf("import audited as %+v", events)
	}

	admin := f.user(t, "root", true, "admins")
	out := f.apply(t, admin, Action{Kind: ActionResetPassword}, dee.ID)
	if len(out) != 1 || out[0].Kind != ResultChanged || out[0].Secret == "" {
		t.Fatalf("reset password: %+v", out)
	}
	dee, _ = svc.Get(ctx, "dee")
	if NoUsablePassword(dee) || !svc.hasher.Verify(dee.PasswordHash, out[0].Secret) {
		t.Fatal("the admin center's reset gave no password that works")
	}
}
