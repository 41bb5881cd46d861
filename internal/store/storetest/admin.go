package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// The admin center's cases, registered in Run.

const adminGroup = "admins"

// lockPrefix names the account counters as the brute-force limiter does.
const lockPrefix = "acct:"

// searchNames runs q and returns the page's usernames and the total.
func searchNames(t *testing.T, s store.Store, q model.UserQuery) ([]string, int) {
	t.Helper()
	if q.LockKeyPrefix == "" {
		q.LockKeyPrefix = lockPrefix
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	page, err := s.SearchUsers(t.Context(), q)
	noErr(t, fmt.Sprintf("SearchUsers(%+v)", q), err)
	var names []string
	for _, u := range page.Users {
		names = append(names, u.Username)
	}
	return names, page.Total
}

func wantNames(t *testing.T, what string, s store.Store, q model.UserQuery, want []string, total int) {
	t.Helper()
	got, n := searchNames(t, s, q)
	if !slices.Equal(got, want) || n != total {
		t.Errorf("%s: got %v (total %d), want %v (total %d)", what, got, n, want, total)
	}
}

// basicLockPrefix names the basic-auth-only counters as the limiter does.
const basicLockPrefix = "basic:"

// The list counts passkeys among the methods, and an account whose
// basic-auth-only counter is locked (basic auth refuses it) is locked
// too, with that counter's time; without that counter's prefix it is not
// read.
func testSearchUsersPasskeysAndBasicAuthLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	ann := mustCreateUser(t, s, "ann")
	update(t, s, "add passkeys", func(ctx context.Context, tx store.Tx) error {
		if err := tx.AddWebAuthnCredential(ctx, newCredential(ann.ID, "cred-1")); err != nil {
			return err
		}
		return tx.AddWebAuthnCredential(ctx, newCredential(ann.ID, "cred-2"))
	})
	mustCreateUser(t, s, "bea")
	_, _, err := s.ClaimFailure(ctx, basicLockPrefix+"bea", now, time.Hour, 1, time.Hour)
	noErr(t, "ClaimFailure", err)
	mustCreateUser(t, s, "cy")
	_, _, err = s.ClaimFailure(ctx, lockPrefix+"cy", now, time.Hour, 1, time.Hour)
	noErr(t, "ClaimFailure", err)

	q := model.UserQuery{LockKeyPrefix: lockPrefix, BasicLockKeyPrefix: basicLockPrefix, Now: now}
	page, err := s.SearchUsers(ctx, q)
	noErr(t, "SearchUsers", err)
	if len(page.Users) != 3 {
		t.Fatalf("users: %+v", page.Users)
	}
	a, b, c := page.Users[0], page.Users[1], page.Users[2]
	if a.Passkeys != 2 || a.Authenticators+a.Phones+a.AppPasswords != 0 || !a.LockedUntil.IsZero() || !a.BasicAuthLockedUntil.IsZero() {
		t.Errorf("ann's row: %+v", a)
	}
	if !b.LockedUntil.IsZero() || !b.BasicAuthLockedUntil.After(now) {
		t.Errorf("bea's row: locked until %v, basic auth until %v", b.LockedUntil, b.BasicAuthLockedUntil)
	}
	if !c.LockedUntil.After(now) || !c.BasicAuthLockedUntil.IsZero() {
		t.Errorf("cy's row: locked until %v, basic auth until %v", c.LockedUntil, c.BasicAuthLockedUntil)
	}
	q.Status = model.StatusLocked
	wantNames(t, "locked", s, q, []string{"bea", "cy"}, 2)
	q.Status = model.StatusActive
	wantNames(t, "active", s, q, []string{"ann"}, 1)
	q.Status, q.Now = model.StatusLocked, now.Add(2*time.Hour)
	wantNames(t, "locked later", s, q, nil, 0)
	// Without the basic-auth prefix only the account counter is read.
	wantNames(t, "locked, account counter only", s, model.UserQuery{LockKeyPrefix: lockPrefix, Status: model.StatusLocked, Now: now}, []string{"cy"}, 1)
}

func testSearchUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	// ann: Enforced, two authenticators, a phone, an app password,
	// signed in twice (the last success counts, failures do not).
	ann := newUser("ann", adminGroup, "staff")
	ann.DisplayName, ann.MFAState = "Zoe Ann", model.MFAEnforced
	noErr(t, "CreateUser", s.CreateUser(ctx, ann))
	mustAddTOTP(t, s, ann.ID)
	mustAddTOTP(t, s, ann.ID)
	mustPairDevice(t, s, ann.ID, 1)
	mustCreateAppPassword(t, s, ann.ID, 1)
	older, newer := ms(now.Add(-2*time.Hour)), ms(now.Add(-time.Hour))
	for _, e := range []model.SignIn{
		{At: older, UserID: ann.ID, Username: "ann", Result: model.SignInSuccess},
		{At: newer, UserID: ann.ID, Username: "ann", Result: model.SignInSuccess},
		{At: ms(now), UserID: ann.ID, Username: "ann", Result: model.SignInFailure},
	} {
		noErr(t, "AppendSignIn", s.AppendSignIn(ctx, &e))
	}
	// bob: Disabled, blocked. cy: Enabled, locked. dee: Enabled, a
	// counter below the limit. "e_x" and "e%x" for wildcards.
	bob := newUser("bob")
	bob.DisplayName, bob.Email, bob.MFAState = "Bob Builder", "BOB@Example.org", model.MFADisabled
	noErr(t, "CreateUser", s.CreateUser(ctx, bob))
	noErr(t, "SetBlocked", setBlocked(s, ctx, bob.ID, now, "by an admin (x)"))
	mustCreateUser(t, s, "cy")
	_, _, err := s.ClaimFailure(ctx, lockPrefix+"cy", now, time.Hour, 1, time.Hour)
	noErr(t, "ClaimFailure", err)
	dee := mustCreateUser(t, s, "dee")
	_, _, err = s.ClaimFailure(ctx, lockPrefix+"dee", now, time.Hour, 5, time.Hour)
	noErr(t, "ClaimFailure", err)
	// eve and fay carry LIKE's wildcards in their names.
	eve := newUser("eve")
	eve.DisplayName = "Eve 100% sure"
	noErr(t, "CreateUser", s.CreateUser(ctx, eve))
	fay := newUser("fay")
	fay.DisplayName = "Fay_F"
	noErr(t, "CreateUser", s.CreateUser(ctx, fay))

	page, err := s.SearchUsers(ctx, model.UserQuery{LockKeyPrefix: lockPrefix, Now: now})
	noErr(t, "SearchUsers", err)
	if page.Total != 6 || len(page.Users) != 6 {
		t.Fatalf("all users: %d rows, total %d", len(page.Users), page.Total)
	}
	got := page.Users[0]
	if got.Username != "ann" || got.Authenticators != 2 || got.Phones != 1 || got.AppPasswords != 1 ||
		!slices.Equal(got.Groups, []string{adminGroup, "staff"}) || got.MFAState != model.MFAEnforced || got.DisplayName != "Zoe Ann" {
		t.Errorf("ann's row: %+v", got)
	}
	sameTime(t, "ann's last sign-in", got.LastSignIn, newer)
	if !got.LockedUntil.IsZero() {
		t.Errorf("ann locked until %v", got.LockedUntil)
	}
	byName := map[string]model.UserSummary{}
	for _, u := range page.Users {
		byName[u.Username] = u
	}
	if b := byName["bob"]; b.BlockedAt.IsZero() || b.BlockedReason != "by an admin (x)" || !b.LastSignIn.IsZero() || b.Groups != nil ||
		b.Authenticators+b.Phones+b.AppPasswords != 0 {
		t.Errorf("bob's row: %+v", b)
	}
	if c := byName["cy"]; !c.LockedUntil.After(now) {
		t.Errorf("cy's row: locked until %v", c.LockedUntil)
	}
	if d := byName["dee"]; !d.LockedUntil.IsZero() || d.ID != dee.ID {
		t.Errorf("dee's row: %+v", d)
	}

	// Search: substrings of username, display name or email, any ASCII
	// case; LIKE's wildcards match only themselves.
	wantNames(t, "search email", s, model.UserQuery{Search: "example.ORG"}, []string{"bob"}, 1)
	wantNames(t, "search zoe", s, model.UserQuery{Search: "zoe"}, []string{"ann"}, 1)
	wantNames(t, "search builder", s, model.UserQuery{Search: "BUILD"}, []string{"bob"}, 1)
	wantNames(t, "search %", s, model.UserQuery{Search: "%"}, []string{"eve"}, 1)
	wantNames(t, "search y_", s, model.UserQuery{Search: "y_"}, []string{"fay"}, 1)
	wantNames(t, "search none", s, model.UserQuery{Search: "nobody"}, nil, 0)
	// Filters.
	wantNames(t, "enforced", s, model.UserQuery{MFAState: model.MFAEnforced}, []string{"ann"}, 1)
	wantNames(t, "disabled", s, model.UserQuery{MFAState: model.MFADisabled}, []string{"bob"}, 1)
	wantNames(t, "blocked", s, model.UserQuery{Status: model.StatusBlocked}, []string{"bob"}, 1)
	wantNames(t, "locked", s, model.UserQuery{Status: model.StatusLocked}, []string{"cy"}, 1)
	wantNames(t, "active", s, model.UserQuery{Status: model.StatusActive}, []string{"ann", "dee", "eve", "fay"}, 4)
	wantNames(t, "enabled, active, e", s, model.UserQuery{MFAState: model.MFAEnabled, Status: model.StatusActive, Search: "e"},
		[]string{"dee", "eve", "fay"}, 3)
	wantNames(t, "ids", s, model.UserQuery{IDs: []int64{fay.ID, ann.ID, 99999}}, []string{"ann", "fay"}, 2)
	wantNames(t, "no ids", s, model.UserQuery{IDs: []int64{}}, nil, 0)
	// A lock that has passed does not count.
	wantNames(t, "locked later", s, model.UserQuery{Status: model.StatusLocked, Now: now.Add(2 * time.Hour)}, nil, 0)
	// Sorting, both ways; users never signed in go last either way.
	wantNames(t, "by name", s, model.UserQuery{Sort: model.SortDisplayName, Limit: 3}, []string{"bob", "eve", "fay"}, 6)
	wantNames(t, "by name desc", s, model.UserQuery{Sort: model.SortDisplayName, Desc: true, Limit: 2}, []string{"ann", "dee"}, 6)
	wantNames(t, "by state", s, model.UserQuery{Sort: model.SortMFAState, Limit: 3}, []string{"bob", "cy", "dee"}, 6)
	wantNames(t, "by state desc", s, model.UserQuery{Sort: model.SortMFAState, Desc: true, Limit: 2}, []string{"ann", "fay"}, 6)
	wantNames(t, "by last sign-in", s, model.UserQuery{Sort: model.SortLastSignIn, Limit: 2}, []string{"ann", "bob"}, 6)
	wantNames(t, "by last sign-in desc", s, model.UserQuery{Sort: model.SortLastSignIn, Desc: true, Limit: 2}, []string{"ann", "fay"}, 6)
	wantNames(t, "by created", s, model.UserQuery{Sort: model.SortCreated, Limit: 2}, []string{"ann", "bob"}, 6)
	// Paging.
	wantNames(t, "page 1", s, model.UserQuery{Limit: 4}, []string{"ann", "bob", "cy", "dee"}, 6)
	wantNames(t, "page 2", s, model.UserQuery{Limit: 4, Offset: 4}, []string{"eve", "fay"}, 6)
	wantNames(t, "past the end", s, model.UserQuery{Limit: 4, Offset: 8}, nil, 6)
	wantNames(t, "desc page 1", s, model.UserQuery{Limit: 2, Desc: true}, []string{"fay", "eve"}, 6)
	wantNames(t, "filtered page 2", s, model.UserQuery{Status: model.StatusActive, Limit: 3, Offset: 3}, []string{"fay"}, 4)
	// Bad input.
	if _, err := s.SearchUsers(ctx, model.UserQuery{Sort: "password_hash"}); err == nil {
		t.Error("unknown sort accepted")
	}
	if _, err := s.SearchUsers(ctx, model.UserQuery{Status: "gone"}); err == nil {
		t.Error("unknown status accepted")
	}
}

func testAdminChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	admin := mustCreateUser(t, s, "root", adminGroup)
	mustAddTOTP(t, s, admin.ID)
	u := mustCreateUser(t, s, "amy", "staff")
	mustAddTOTP(t, s, u.ID)
	mustPairDevice(t, s, u.ID, 1)
	mustCreatePairing(t, s, u.ID, 2, time.Now().Add(time.Hour))
	mustCreateAppPassword(t, s, u.ID, 1)
	mustCreateAppPassword(t, s, u.ID, 2)
	mustCreateSession(t, s, newSession(1, u.ID, time.Now()))
	mustCreateSession(t, s, newSession(2, u.ID, time.Now()))
	mustCreateSession(t, s, newSession(3, admin.ID, time.Now()))

	out, err := adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionDisable})
	noErr(t, "disable", err)
	if out.Username != "amy" || out.Detail != "multi-factor sign-in Enabled → Disabled" {
		t.Errorf("disable: %+v", out)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.MFAState != model.MFADisabled {
		t.Errorf("state after disable: %s", got.MFAState)
	}
	_, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: "sometimes"})
	if err == nil {
		t.Error("unknown action accepted")
	}

	out, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionDeleteAppPasswords})
	noErr(t, "delete app passwords", err)
	if out.Count != 2 || countAppPasswords(t, s, u.ID) != 0 {
		t.Errorf("delete app passwords: count %d, left %d", out.Count, countAppPasswords(t, s, u.ID))
	}

	out, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionSignOut})
	noErr(t, "end sessions", err)
	if out.Count != 2 {
		t.Errorf("end sessions: count %d", out.Count)
	}
	sessionGone(t, s, "end sessions", hash(1))
	sessionKept(t, s, "end sessions (the admin's)", hash(3))

	mustCreateSession(t, s, newSession(5, u.ID, time.Now()))
	out, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionResetMethods})
	noErr(t, "reset methods", err)
	if out.Count != 2 || methods(t, s, u.ID) != 0 {
		t.Errorf("reset methods: count %d, left %d", out.Count, methods(t, s, u.ID))
	}
	pairingGone(t, s, "reset methods", u.ID, 2)
	sessionGone(t, s, "reset methods", hash(5))

	_, _, err = s.ClaimFailure(ctx, lockPrefix+"amy", time.Now(), time.Hour, 1, time.Hour)
	noErr(t, "ClaimFailure", err)
	mustCreateSession(t, s, newSession(4, u.ID, time.Now()))
	blockedAt := time.Now()
	_, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionBlock})
	noErr(t, "block", err)
	got, _ := s.UserByID(ctx, u.ID)
	if got.BlockedAt.Before(blockedAt.Add(-time.Second)) || got.BlockedReason != "by an admin (root)" {
		t.Errorf("after block: %+v", got)
	}
	sessionGone(t, s, "block", hash(4))
	out, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionUnblock})
	noErr(t, "unblock", err)
	if !strings.Contains(out.Detail, "was blocked: by an admin (root)") {
		t.Errorf("unblock: %+v, want it to say amy was blocked", out)
	}
	got, _ = s.UserByID(ctx, u.ID)
	if !got.BlockedAt.IsZero() || got.BlockedReason != "" {
		t.Errorf("after unblock: %+v", got)
	}
	if f, _ := s.FailuresFor(ctx, lockPrefix+"amy"); f.Count != 0 || !f.LockedUntil.IsZero() {
		t.Errorf("unblock left the counter: %+v", f)
	}

	_, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionEdit,
		DisplayName: "Amy Pond", Email: "amy@example.net", Groups: []string{"staff", "ops"}})
	noErr(t, "profile", err)
	got, _ = s.UserByID(ctx, u.ID)
	if got.DisplayName != "Amy Pond" || got.Email != "amy@example.net" || !slices.Equal(got.Groups, []string{"ops", "staff"}) {
		t.Errorf("after profile: %+v", got)
	}

	_, _, err = s.ClaimFailure(ctx, lockPrefix+"amy", time.Now(), time.Hour, 5, time.Hour)
	noErr(t, "ClaimFailure", err)
	_, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionRemove})
	noErr(t, "remove", err)
	if _, err := s.UserByID(ctx, u.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("removed user: %v", err)
	}
	if f, _ := s.FailuresFor(ctx, lockPrefix+"amy"); f.Count != 0 {
		t.Errorf("remove left the counter: %+v", f)
	}
	_, err = adminChange(t, s, admin.ID, u.ID, core.Action{Kind: core.ActionSignOut})
	wantErr(t, "change of a removed user", err, model.ErrNotFound)
	_, err = adminChange(t, s, admin.ID, admin.ID, core.Action{Kind: "explode"})
	if err == nil {
		t.Error("unknown change accepted")
	}
}

func testAdminLastAdmin(t *testing.T, s store.Store) {
	ctx := t.Context()
	// root: the only admin with a second factor. nofactor: an admin
	// without one. blocked: an admin with one, but blocked.
	root := mustCreateUser(t, s, "root", adminGroup)
	mustAddTOTP(t, s, root.ID)
	nofactor := mustCreateUser(t, s, "nofactor", adminGroup)
	blocked := mustCreateUser(t, s, "blocked", adminGroup)
	mustAddTOTP(t, s, blocked.ID)
	noErr(t, "SetBlocked", setBlocked(s, ctx, blocked.ID, time.Now(), "reported by the user"))
	plain := mustCreateUser(t, s, "plain")

	for _, ch := range []core.Action{
		{Kind: core.ActionEdit, DisplayName: "Root", Groups: []string{"staff"}},
		{Kind: core.ActionBlock},
		{Kind: core.ActionResetMethods},
		{Kind: core.ActionRemove},
	} {
		_, err := adminChange(t, s, nofactor.ID, root.ID, ch)
		wantErr(t, "last admin: "+string(ch.Kind), err, model.ErrLastAdmin)
		got, err := s.UserByID(ctx, root.ID)
		noErr(t, "UserByID", err)
		if !slices.Equal(got.Groups, []string{adminGroup}) || !got.BlockedAt.IsZero() || got.DisplayName != root.DisplayName || methods(t, s, root.ID) != 1 {
			t.Errorf("refused %s changed root: %+v", ch.Kind, got)
		}
	}
	// What keeps the last admin is fine.
	for _, ch := range []struct {
		by, id int64
		act    core.Action
	}{
		{nofactor.ID, root.ID, core.Action{Kind: core.ActionEdit, DisplayName: "Root", Groups: []string{adminGroup, "staff"}}},
		{nofactor.ID, root.ID, core.Action{Kind: core.ActionDisable}},
		{nofactor.ID, root.ID, core.Action{Kind: core.ActionSignOut}},
		{nofactor.ID, root.ID, core.Action{Kind: core.ActionDeleteAppPasswords}},
		{root.ID, nofactor.ID, core.Action{Kind: core.ActionEdit, Groups: nil}},
		{root.ID, blocked.ID, core.Action{Kind: core.ActionResetMethods}},
		{root.ID, plain.ID, core.Action{Kind: core.ActionBlock}},
	} {
		_, err := adminChange(t, s, ch.by, ch.id, ch.act)
		noErr(t, "allowed "+string(ch.act.Kind), err)
	}
	// A second qualified admin lets the first go.
	second := mustCreateUser(t, s, "second", adminGroup)
	mustPairDevice(t, s, second.ID, 1)
	_, err := adminChange(t, s, second.ID, root.ID, core.Action{Kind: core.ActionBlock})
	noErr(t, "block root with a second admin", err)
	// The blocked root is no admin any more, nor is a non-member.
	_, err = adminChange(t, s, root.ID, plain.ID, core.Action{Kind: core.ActionSignOut})
	wantErr(t, "blocked actor", err, model.ErrNotAdmin)
	_, err = adminChange(t, s, plain.ID, nofactor.ID, core.Action{Kind: core.ActionSignOut})
	wantErr(t, "non-member actor", err, model.ErrNotAdmin)
	// With no qualified admin left at all (say, after the CLI), changes
	// that cannot make it worse go on.
	_, err = deleteAllMethods(s, ctx, second.ID)
	noErr(t, "DeleteAllMethods", err)
	_, err = adminChange(t, s, second.ID, plain.ID, core.Action{Kind: core.ActionEnforce})
	noErr(t, "change without any qualified admin", err)
}

// testAdminLastAdminConcurrent: two qualified admins demote each other at
// once, many times over: exactly one change wins each time.
func testAdminLastAdminConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustCreateUser(t, s, "a", adminGroup)
	mustAddTOTP(t, s, a.ID)
	b := mustCreateUser(t, s, "b", adminGroup)
	mustPairDevice(t, s, b.ID, 1)
	users := []*model.User{a, b}
	for round := range 10 {
		// Restore both (unguarded changes).
		for _, u := range users {
			u.Groups = []string{adminGroup}
			noErr(t, "UpdateUserProfile", updateUserProfile(s, ctx, u))
			noErr(t, "SetBlocked", setBlocked(s, ctx, u.ID, time.Time{}, ""))
			if methods(t, s, u.ID) == 0 {
				mustAddTOTP(t, s, u.ID)
			}
		}
		kinds := []core.Action{
			{Kind: core.ActionEdit, Groups: []string{"staff"}},
			{Kind: core.ActionBlock},
			{Kind: core.ActionResetMethods},
		}
		kind := kinds[round%len(kinds)]
		errs := make([]error, 2)
		parallel(2, func(i int) {
			_, errs[i] = adminChange(t, s, users[i].ID, users[1-i].ID, kind)
		})
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, model.ErrLastAdmin), errors.Is(err, model.ErrNotAdmin):
			default:
				t.Fatalf("round %d, %s by %s: %v", round, kind.Kind, users[i].Username, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d (%s): %d of 2 changes succeeded (%v), want exactly 1", round, kind.Kind, ok, errs)
		}
		page, err := s.SearchUsers(ctx, model.UserQuery{LockKeyPrefix: lockPrefix, Now: time.Now()})
		noErr(t, "SearchUsers", err)
		qualified := 0
		for _, u := range page.Users {
			if u.BlockedAt.IsZero() && slices.Contains(u.Groups, adminGroup) && u.Authenticators+u.Phones > 0 {
				qualified++
			}
		}
		if qualified != 1 {
			t.Fatalf("round %d: %d qualified admins left, want 1", round, qualified)
		}
	}
	// Removing each other: one remains.
	errs := make([]error, 2)
	parallel(2, func(i int) {
		_, errs[i] = adminChange(t, s, users[i].ID, users[1-i].ID, core.Action{Kind: core.ActionRemove})
	})
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("removing each other: %v", errs)
	}
}
