package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

type adminFixture struct {
	c   *Core
	st  store.Store
	ctx context.Context
}

func newAdminFixture(t *testing.T, group string) *adminFixture {
	t.Helper()
	st := teststore.Open(t)
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	c, err := New(st, Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, AdminGroup: group})
	if err != nil {
		t.Fatal(err)
	}
	return &adminFixture{c: c, st: st, ctx: context.Background()}
}

// user creates a user in groups; withFactor adds an authenticator (which
// makes an Enabled user Enforced).
func (f *adminFixture) user(t *testing.T, name string, withFactor bool, groups ...string) *model.User {
	t.Helper()
	u := &model.User{Username: name, DisplayName: "User " + name, PasswordHash: "x", MFAState: model.MFAEnabled, Groups: groups}
	if err := f.st.CreateUser(f.ctx, u); err != nil {
		t.Fatal(err)
	}
	if withFactor {
		teststore.Register(t, f.st, &model.TOTPAuthenticator{UserID: u.ID, Name: "app", SealedSecret: []byte("s")})
	}
	got, err := f.st.UserByID(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *adminFixture) apply(t *testing.T, actor *model.User, act Action, ids ...int64) []Result {
	t.Helper()
	res, err := f.c.Admin.Apply(f.ctx, AdminActor(actor, "198.51.100.7"), act, ids)
	if err != nil {
		t.Fatalf("%s: %v", act.Kind, err)
	}
	return res
}

func kinds(res []Result) []ResultKind {
	var out []ResultKind
	for _, r := range res {
		out = append(out, r.Kind)
	}
	return out
}

func TestAdminGroupAndIsAdmin(t *testing.T) {
	f := newAdminFixture(t, "")
	if f.c.Admin.Group() != AdminGroup {
		t.Fatalf("default group %q", f.c.Admin.Group())
	}
	g := newAdminFixture(t, "it-admins")
	if g.c.Admin.Group() != "it-admins" {
		t.Fatalf("group %q", g.c.Admin.Group())
	}
	// The first admin is in the configured group.
	if _, err := g.c.Accounts.Bootstrap(g.ctx); err != nil {
		t.Fatal(err)
	}
	first, err := g.st.UserByName(g.ctx, BootstrapUsername)
	if err != nil || !slices.Equal(first.Groups, []string{"it-admins"}) || !g.c.Admin.IsAdmin(first) {
		t.Fatalf("bootstrapped admin %+v, %v", first, err)
	}
	staff := g.user(t, "staff", true, "admins")
	if g.c.Admin.IsAdmin(staff) {
		t.Error("a member of another group is an admin")
	}
	first.BlockedAt = time.Now()
	if g.c.Admin.IsAdmin(first) || g.c.Admin.IsAdmin(nil) {
		t.Error("a blocked member is an admin")
	}
}

// An admin never changes their own groups, MFA state, methods, block or
// account: a bulk action skips their row and says so; what is theirs to
// change (app passwords, sessions, name and email) goes through.
func TestAdminSelfProtection(t *testing.T) {
	f := newAdminFixture(t, "")
	root := f.user(t, "root", true, AdminGroup)
	other := f.user(t, "other", true, AdminGroup)
	amy := f.user(t, "amy", false, "staff")
	for _, k := range []ActionKind{ActionEnable, ActionDisable, ActionResetMethods, ActionBlock, ActionUnblock, ActionRemove} {
		res := f.apply(t, root, Action{Kind: k}, amy.ID, root.ID)
		if !slices.Equal(kinds(res), []ResultKind{kindFor(k, amy), ResultSkipped}) || !strings.Contains(res[1].Detail, "your own account") {
			t.Errorf("%s on amy and self: %+v", k, res)
		}
		if k == ActionRemove {
			amy = f.user(t, "amy", false, "staff")
		}
	}
	res := f.apply(t, root, Action{Kind: ActionEdit, DisplayName: "Root", Groups: []string{AdminGroup, "staff"}}, root.ID)
	if res[0].Kind != ResultSkipped {
		t.Errorf("own groups changed: %+v", res)
	}
	res = f.apply(t, root, Action{Kind: ActionEdit, DisplayName: "The Root", Email: "root@example.com", Groups: []string{AdminGroup}}, root.ID)
	if res[0].Kind != ResultChanged || res[0].Detail != `name "User root" → "The Root"; email "" → "root@example.com"` {
		t.Errorf("own name and email: %+v", res)
	}
	for _, k := range []ActionKind{ActionDeleteAppPasswords, ActionSignOut} {
		if res := f.apply(t, root, Action{Kind: k}, root.ID); res[0].Kind == ResultSkipped {
			t.Errorf("%s on self skipped", k)
		}
	}
	got, _ := f.st.UserByID(f.ctx, root.ID)
	if !got.BlockedAt.IsZero() || got.MFAState != model.MFAEnforced || !slices.Equal(got.Groups, []string{AdminGroup}) || got.DisplayName != "The Root" {
		t.Errorf("root after the attempts: %+v", got)
	}
	if auths, _ := f.st.TOTPAuthenticators(f.ctx, root.ID); len(auths) != 1 {
		t.Errorf("root's authenticators: %d", len(auths))
	}
	_ = other
}

// kindFor is what a first action of kind k does to a fresh user u.
func kindFor(k ActionKind, u *model.User) ResultKind {
	switch k {
	case ActionEnable:
		if u.MFAState == model.MFAEnabled {
			return ResultUnchanged
		}
	case ActionResetMethods:
		return ResultUnchanged // amy has none
	}
	return ResultChanged
}

func TestAdminActionsAuditedWithActorAndIP(t *testing.T) {
	f := newAdminFixture(t, "")
	root := f.user(t, "root", true, AdminGroup)
	amy := f.user(t, "amy", true, "staff")
	bob := f.user(t, "bob", false)
	// A lockout, and one of basic auth alone, both cleared by Unblock.
	key, basicKey := bruteforce.AccountKey("amy"), bruteforce.BasicAuthOnlyKey("amy")
	for _, k := range []string{key, basicKey} {
		if _, _, err := f.st.ClaimFailure(f.ctx, k, time.Now(), time.Hour, 1, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		act    Action
		event  string
		detail string
	}{
		{Action{Kind: ActionEnforce}, audit.MFAStateChanged, "multi-factor sign-in was already Enforced"},
		{Action{Kind: ActionDisable}, audit.MFAStateChanged, "multi-factor sign-in Enforced → Disabled"},
		{Action{Kind: ActionDeleteAppPasswords}, audit.AppPasswordsPurged, "had no app passwords"},
		{Action{Kind: ActionSignOut}, audit.SessionsEnded, "had no sessions"},
		{Action{Kind: ActionResetMethods}, audit.MethodsReset, "1 sign-in method removed (enrols again at the next sign-in)"},
		{Action{Kind: ActionBlock}, audit.UserBlocked, "sign-in blocked; sessions ended"},
		{Action{Kind: ActionUnblock}, audit.UserUnblocked, "sign-in unblocked (was blocked: by an admin (root)); failed sign-in counter cleared"},
		{Action{Kind: ActionEdit, DisplayName: " Amy ", Groups: []string{"ops", " staff"}}, audit.ProfileChanged,
			`name "User amy" → "Amy"; groups [staff] → [ops, staff]`},
		{Action{Kind: ActionRemove}, audit.UserRemoved, "user removed"},
	}
	for _, s := range steps {
		res := f.apply(t, root, s.act, amy.ID)
		if len(res) != 1 || res[0].Detail != s.detail || res[0].Username != "amy" {
			t.Fatalf("%s: %+v, want %q", s.act.Kind, res, s.detail)
		}
		ev, err := f.st.AuditEvents(f.ctx, amy.ID, 1)
		if err != nil || len(ev) != 1 {
			t.Fatalf("%s: audit %v %v", s.act.Kind, ev, err)
		}
		if ev[0].Event != s.event || ev[0].RemoteIP != "198.51.100.7" || ev[0].Username != "amy" ||
			ev[0].Detail != s.detail+"; by admin root (admin center)" {
			t.Errorf("%s: audit %+v", s.act.Kind, ev[0])
		}
		if s.act.Kind == ActionUnblock {
			if c, _ := f.st.FailuresFor(f.ctx, basicKey); c.Count != 0 {
				t.Errorf("unblock left basic auth locked: %+v", c)
			}
			if c, _ := f.st.FailuresFor(f.ctx, key); c.Count != 0 {
				t.Errorf("unblock left the lockout: %+v", c)
			}
			if n, err := f.st.FailedSignIns(f.ctx, amy.ID); err != nil || n != 0 {
				t.Errorf("unblock left %d consecutive failed sign-ins (%v)", n, err)
			}
		}
		if s.act.Kind == ActionBlock { // failures counted while blocked, cleared by the unblock
			teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.AddFailedSignIn(ctx, amy.ID)
				return err
			})
		}
	}
	// Gone users and bad input.
	if res := f.apply(t, root, Action{Kind: ActionSignOut}, amy.ID, bob.ID, bob.ID, 0); !slices.Equal(kinds(res), []ResultKind{ResultGone, ResultUnchanged}) {
		t.Errorf("gone and duplicate: %+v", res)
	}
	if _, err := f.c.Admin.Apply(f.ctx, AdminActor(root, ""), Action{Kind: "explode"}, []int64{bob.ID}); err == nil {
		t.Error("unknown action accepted")
	}
	if _, err := f.c.Admin.Apply(f.ctx, AdminActor(root, ""), Action{Kind: ActionEdit, Groups: []string{"a,b"}}, []int64{bob.ID}); !errors.Is(err, ErrInvalidGroup) {
		t.Errorf("bad group: %v", err)
	}
	for _, bad := range []Action{{Kind: ActionEdit, DisplayName: "evil\u202e"}, {Kind: ActionEdit, Email: "not an address"}, {Kind: ActionEdit, Email: "a@b@c"}} {
		if _, err := f.c.Admin.Apply(f.ctx, AdminActor(root, ""), bad, []int64{bob.ID}); !errors.Is(err, ErrInvalidProfile) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	many := make([]int64, MaxBatch+1)
	for i := range many {
		many[i] = int64(i + 1)
	}
	if _, err := f.c.Admin.Apply(f.ctx, AdminActor(root, ""), Action{Kind: ActionSignOut}, many); err == nil {
		t.Error("more than MaxBatch users accepted")
	}
}

func TestAdminLastAdminRefused(t *testing.T) {
	f := newAdminFixture(t, "")
	root := f.user(t, "root", true, AdminGroup)
	helper := f.user(t, "helper", false, AdminGroup) // an admin without a second factor
	for _, act := range []Action{{Kind: ActionBlock}, {Kind: ActionResetMethods}, {Kind: ActionRemove}, {Kind: ActionEdit, Groups: []string{"staff"}}} {
		res := f.apply(t, helper, act, root.ID)
		if res[0].Kind != ResultRefused || !strings.Contains(res[0].Detail, "last admin") {
			t.Errorf("%s of the last admin: %+v", act.Kind, res)
		}
		ev, _ := f.st.AuditEvents(f.ctx, root.ID, 1)
		if len(ev) != 1 || ev[0].Event != audit.AdminRefused || !strings.Contains(ev[0].Detail, "by admin helper") {
			t.Errorf("refusal audit: %+v", ev)
		}
	}
	got, _ := f.st.UserByID(f.ctx, root.ID)
	if !got.BlockedAt.IsZero() || !slices.Equal(got.Groups, []string{AdminGroup}) {
		t.Errorf("root changed: %+v", got)
	}
	// Demoted meanwhile: the rest of a bulk action is refused.
	amy := f.user(t, "amy", false)
	if res := f.apply(t, root, Action{Kind: ActionEdit, Groups: nil}, helper.ID); res[0].Kind != ResultChanged {
		t.Fatalf("demoting helper: %+v", res)
	}
	helper, _ = f.st.UserByID(f.ctx, helper.ID)
	res := f.apply(t, helper, Action{Kind: ActionBlock}, amy.ID, root.ID)
	if !slices.Equal(kinds(res), []ResultKind{ResultRefused, ResultRefused}) || !strings.Contains(res[0].Detail, "no longer an admin") {
		t.Errorf("demoted actor: %+v", res)
	}
}

// Two admins demote each other at once, on SQLite: one of them wins.
func TestAdminDemoteEachOtherConcurrently(t *testing.T) {
	for round := range 5 {
		f := newAdminFixture(t, "")
		a := f.user(t, "a", true, AdminGroup)
		b := f.user(t, "b", true, AdminGroup)
		var wg sync.WaitGroup
		res := make([][]Result, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, pair := range [][2]*model.User{{a, b}, {b, a}} {
			wg.Go(func() {
				<-start
				res[i], errs[i] = f.c.Admin.Apply(f.ctx, AdminActor(pair[0], ""), Action{Kind: ActionEdit, DisplayName: pair[1].DisplayName}, []int64{pair[1].ID})
			})
		}
		close(start)
		wg.Wait()
		changed := 0
		for i := range res {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if res[i][0].Kind == ResultChanged {
				changed++
			} else if res[i][0].Kind != ResultRefused {
				t.Fatalf("round %d: %+v", round, res[i])
			}
		}
		if changed != 1 {
			t.Fatalf("round %d: %d demotions succeeded (%+v), want 1", round, changed, res)
		}
		admins := 0
		for _, u := range []*model.User{a, b} {
			got, _ := f.st.UserByID(f.ctx, u.ID)
			if slices.Contains(got.Groups, AdminGroup) {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("round %d: %d admins left", round, admins)
		}
	}
}

func TestAdminUsersAndDetail(t *testing.T) {
	f := newAdminFixture(t, "")
	root := f.user(t, "root", true, AdminGroup)
	if _, _, err := f.st.ClaimFailure(f.ctx, bruteforce.AccountKey("root"), time.Now(), time.Hour, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	f.c.SignInLog.Record(f.ctx, model.SignIn{UserID: root.ID, Username: "root", Result: model.SignInSuccess})
	page, err := f.c.Admin.Users(f.ctx, model.UserQuery{Status: model.StatusLocked})
	if err != nil || page.Total != 1 || page.Users[0].LockedUntil.IsZero() {
		t.Fatalf("locked users: %+v %v", page, err)
	}
	d, err := f.c.Admin.User(f.ctx, root.ID, 10)
	if err != nil || d.Summary.Username != "root" || len(d.Authenticators) != 1 || len(d.SignIns) != 1 || d.Summary.LastSignIn.IsZero() {
		t.Fatalf("detail: %+v %v", d, err)
	}
	if _, err := f.c.Admin.User(f.ctx, 9999, 10); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

// TestUnblockIsOneRule: Accounts.Unblock (the CLI) does what the admin
// center's Unblock does: it lifts a block and clears the account's failed
// sign-in counter, and on an unblocked user it clears the counter too.
func TestUnblockIsOneRule(t *testing.T) {
	f := newAdminFixture(t, "admins")
	u := f.user(t, "lena", false)
	key := bruteforce.AccountKey(u.Username)
	lock := func() {
		t.Helper()
		for range 10 {
			if _, _, err := f.st.ClaimFailure(f.ctx, key, time.Now(), time.Hour, 10, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if fl, _ := f.st.FailuresFor(f.ctx, key); fl.Count == 0 {
			t.Fatal("no failures counted")
		}
	}
	lock()
	detail, err := f.c.Accounts.Unblock(f.ctx, "lena")
	if err != nil || detail != "was not blocked; failed sign-in counter cleared" {
		t.Fatalf("unblock of a locked user: %q %v", detail, err)
	}
	if fl, _ := f.st.FailuresFor(f.ctx, key); fl.Count != 0 || !fl.LockedUntil.IsZero() {
		t.Fatalf("counter after the CLI's unblock: %+v", fl)
	}
	lock()
	if err := f.c.Accounts.Block(f.ctx, "lena"); err != nil {
		t.Fatal(err)
	}
	detail, err = f.c.Accounts.Unblock(f.ctx, "lena")
	if err != nil || !strings.HasPrefix(detail, "sign-in unblocked (was blocked: by an admin") {
		t.Fatalf("unblock of a blocked user: %q %v", detail, err)
	}
	if got, _ := f.st.UserByID(f.ctx, u.ID); !got.BlockedAt.IsZero() {
		t.Fatal("still blocked")
	}
	if fl, _ := f.st.FailuresFor(f.ctx, key); fl.Count != 0 {
		t.Fatalf("counter after unblocking a blocked user: %+v", fl)
	}
}
