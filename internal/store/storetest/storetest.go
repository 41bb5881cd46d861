// Package storetest is the conformance suite every store.Store
// implementation must pass.
//
// A backend's test calls Run with a function returning a fresh, empty,
// migrated store; Run closes each store when its subtest ends, so open must
// not close it (though a second Close should be harmless).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
)

// Run runs the conformance suite. Every subtest calls open once and expects
// an empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Users/CreateAndLookup", testCreateAndLookup},
		{"Users/PasswordResetEndsSessionsAndAppPasswords", testPasswordReset},
		{"Users/ChangePassword", testChangePassword},
		{"Users/ChangePasswordStale", testChangePasswordStale},
		{"Users/ChangePasswordConcurrent", testChangePasswordConcurrent},
		{"Sessions/DeleteOtherSessions", testDeleteOtherSessions},
		{"Users/Conflict", testUserConflict},
		{"Users/List", testListUsers},
		{"Users/CreateFirstUser", testCreateFirstUser},
		{"Users/CreateFirstUserConcurrent", testCreateFirstUserConcurrent},
		{"Users/Update", testUpdateUser},
		{"Users/Delete", testDeleteUser},
		{"Users/DefaultMethod", testDefaultMethod},
		{"AppPasswords/CreateList", testAppPasswords},
		{"AppPasswords/Limit", testAppPasswordLimit},
		{"AppPasswords/LimitConcurrent", testAppPasswordLimitConcurrent},
		{"AppPasswords/TagUnique", testAppPasswordTagUnique},
		{"AppPasswords/Delete", testAppPasswordDelete},
		{"AppPasswords/Touch", testAppPasswordTouch},
		{"TOTP/AddListDelete", testTOTP},
		{"TOTP/PromotesEnabled", testTOTPPromotesEnabled},
		{"TOTP/OnlyFirstConcurrent", testTOTPOnlyFirstConcurrent},
		{"TOTP/KeepOneConcurrent", testTOTPKeepOneConcurrent},
		{"TOTP/ClaimStep", testClaimStep},
		{"TOTP/ClaimStepConcurrent", testClaimStepConcurrent},
		{"Sessions/CreateGet", testSessionCreateGet},
		{"Sessions/Replace", testSessionReplace},
		{"Sessions/Touch", testSessionTouch},
		{"Sessions/Delete", testSessionDelete},
		{"Sessions/DeleteUserSessions", testDeleteUserSessions},
		{"Sessions/DeleteStale", testDeleteStale},
		{"Sessions/Origin", testSessionOrigin},
		{"Failures/Window", testFailuresWindow},
		{"Failures/Lock", testFailuresLock},
		{"Failures/NewWindow", testFailuresNewWindow},
		{"Failures/Concurrent", testFailuresConcurrent},
		{"Failures/Release", testFailuresRelease},
		{"Failures/Clear", testFailuresClear},
		{"Failures/WrongSecrets", testWrongSecrets},
		{"Failures/WrongSecretsConcurrent", testWrongSecretsConcurrent},
		{"Failures/ConsecutiveFailedSignIns", testFailedSignIns},
		{"Failures/ConsecutiveFailedSignInsConcurrent", testFailedSignInsConcurrent},
		{"Secret/Basic", testSecret},
		{"Secret/Concurrent", testSecretConcurrent},
		{"Audit/AppendList", testAudit},
		{"SignIns/AppendFilterPage", testSignIns},
		{"Times/RoundTrip", testTimes},
		{"Text/Untrusted", testUntrustedText},
		{"Context/Canceled", testCanceled},
		{"Users/SetBlocked", testSetBlocked},
		{"Phones/PairingCreateRegister", testPairingCreateRegister},
		{"Phones/PairingVoidsOld", testPairingVoidsOld},
		{"Phones/RegisterExpired", testRegisterExpired},
		{"Phones/RegisterLimit", testRegisterLimit},
		{"Phones/Confirm", testConfirmPairing},
		{"Phones/ConfirmPicksThePhone", testConfirmPicksThePhone},
		{"Phones/RegisterWaitingConcurrent", testRegisterWaitingConcurrent},
		{"Phones/PairingManifest", testPairingManifest},
		{"Sessions/ReplaceMovesPairing", testReplaceSessionMovesPairing},
		{"Phones/ConfirmMaxAttempts", testConfirmMaxAttempts},
		{"Phones/ConfirmExpired", testConfirmExpired},
		{"Phones/DevicesListPushTouch", testDevicesListPushTouch},
		{"Phones/DeleteDeviceKeepOne", testDeleteDeviceKeepOne},
		{"Methods/Rename", testRenameMethods},
		{"Phones/MethodRemovalEndsOtherSessions", testMethodRemovalEndsOtherSessions},
		{"Phones/KeepOneConcurrent", testKeepOneConcurrentMixed},
		{"Phones/DeleteAllMethods", testDeleteAllMethods},
		{"Phones/DeleteUserCascades", testDeleteUserCascades},
		{"Nonces/Use", testNonces},
		{"Nonces/Limit", testNonceLimit},
		{"Nonces/UseConcurrent", testNonceConcurrent},
		{"Approvals/Create", testApprovalCreate},
		{"Approvals/NumberDigits", testApprovalNumberDigits},
		{"Approvals/Expire", testExpireApproval},
		{"Approvals/Limit", testApprovalLimit},
		{"Approvals/ForSession", testApprovalForSession},
		{"Approvals/Pending", testPendingApproval},
		{"Approvals/Answer", testAnswerApproval},
		{"Approvals/AnswerReported", testAnswerReported},
		{"Approvals/AnswerConcurrent", testAnswerConcurrent},
		{"Approvals/Consume", testConsumeApproval},
		{"Approvals/ConsumeSessionGone", testConsumeApprovalSessionGone},
		{"Approvals/DeleteStale", testDeleteStaleApprovals},
		{"Phones/KeepOneConfirmConcurrent", testKeepOneConfirmConcurrent},
		{"Phones/PairingLocksConcurrent", testPairingLocksConcurrent},
		{"Admin/SearchUsers", testSearchUsers},
		{"Admin/SearchUsersPasskeysAndBasicAuthLock", testSearchUsersPasskeysAndBasicAuthLock},
		{"Admin/Changes", testAdminChanges},
		{"Admin/LastAdmin", testAdminLastAdmin},
		{"Admin/LastAdminConcurrent", testAdminLastAdminConcurrent},
		{"Users/CreateUsers", testCreateUsers},
		{"Update/CommitRollback", testUpdateCommitRollback},
		{"Update/LockUser", testUpdateLockUser},
		{"Update/LockUserConcurrent", testUpdateLockUserConcurrent},
		{"Update/GroupMembersConcurrent", testUpdateGroupMembersConcurrent},
		{"Update/SignInApply", testUpdateSignInApply},
		{"Update/CreateUser", testUpdateCreateUser},
		{"Update/AccountRows", testUpdateAccountRows},
		{"Users/CreateUsersAllOrNothing", testCreateUsersAllOrNothing},
		{"Users/UpgradePasswordHash", testUpgradePasswordHash},
		{"Users/UpgradePasswordHashConcurrent", testUpgradePasswordHashConcurrent},
	}
	tests = append(tests, webAuthnTests...)
	tests = append(tests, accessPassTests...)
	tests = append(tests, recoveryTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// --- helpers ---

func newUser(name string, groups ...string) *model.User {
	return &model.User{
		Username:     name,
		DisplayName:  "User " + name,
		Email:        name + "@example.com",
		Groups:       groups,
		PasswordHash: "$2a$10$hash-of-" + name,
		MFAState:     model.MFAEnabled,
	}
}

func mustCreateUser(t *testing.T, s store.Store, name string, groups ...string) *model.User {
	t.Helper()
	u := newUser(name, groups...)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func hash(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// appTag is the lookup tag of test app password i (32 bytes, like an HMAC).
func appTag(i int) []byte { return fmt.Appendf(nil, "%032d", i) }

func newAppPassword(userID int64, i int) *model.AppPassword {
	return &model.AppPassword{
		UserID:    userID,
		Name:      fmt.Sprintf("client %d", i),
		Hash:      fmt.Sprintf("$2a$10$app-%d", i),
		LookupTag: appTag(i),
	}
}

func mustCreateAppPassword(t *testing.T, s store.Store, userID int64, i int) *model.AppPassword {
	t.Helper()
	a := newAppPassword(userID, i)
	if err := createAppPassword(t.Context(), s, a, model.MaxAppPasswords); err != nil {
		t.Fatalf("CreateAppPassword(user %d, #%d): %v", userID, i, err)
	}
	return a
}

func checkAppPassword(t *testing.T, got, want *model.AppPassword) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || got.Hash != want.Hash ||
		!bytes.Equal(got.LookupTag, want.LookupTag) || got.LastUsedIP != want.LastUsedIP {
		t.Errorf("app password = %+v, want %+v", got, want)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	if want.LastUsedAt.IsZero() {
		if !got.LastUsedAt.IsZero() {
			t.Errorf("LastUsedAt = %v, want zero", got.LastUsedAt)
		}
	} else {
		sameTime(t, "LastUsedAt", got.LastUsedAt, ms(want.LastUsedAt))
	}
}

// countAppPasswords returns how many app passwords the user has.
func countAppPasswords(t *testing.T, s store.Store, userID int64) int {
	t.Helper()
	aps, err := s.AppPasswords(t.Context(), userID)
	noErr(t, "AppPasswords", err)
	return len(aps)
}

func newSession(id byte, userID int64, created time.Time) *model.Session {
	return &model.Session{
		IDHash:     hash(id),
		UserID:     userID,
		Stage:      model.StagePassword,
		CreatedAt:  created,
		LastSeenAt: created,
		RedirectTo: "https://app.example.com/",
		RemoteIP:   "192.0.2.1",
		UserAgent:  "test",
		Origin:     "https://app.example.com:443",
	}
}

func mustCreateSession(t *testing.T, s store.Store, sess *model.Session) {
	t.Helper()
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
}

// createAppPassword stores a unless its user has limit app passwords
// (model.ErrLimit), in one transaction as the core makes it: the user's
// lock, the count, the insert (Tx.LockUser, CountAppPasswords,
// AddAppPassword), so that concurrent creations on any node never
// exceed the limit.
func createAppPassword(ctx context.Context, s store.Store, a *model.AppPassword, limit int) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.LockUser(ctx, a.UserID); err != nil {
			return err
		}
		n, err := tx.CountAppPasswords(ctx, a.UserID)
		if err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("%w (%d of %d)", model.ErrLimit, n, limit)
		}
		return tx.AddAppPassword(ctx, a)
	})
}

// deleteAppPassword runs Tx.DeleteAppPassword in a transaction of its own.
func deleteAppPassword(ctx context.Context, s store.Store, userID, id int64) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteAppPassword(ctx, userID, id) })
}

// deleteSession ends session idHash in a transaction of its own
// (Tx.DeleteSession).
func deleteSession(ctx context.Context, s store.Store, idHash []byte) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteSession(ctx, idHash) })
}

// deleteSessions ends the user's sessions but keep (nil: all) in a
// transaction of its own (Tx.DeleteSessions) and says how many went.
func deleteSessions(ctx context.Context, s store.Store, userID int64, keep []byte) (n int64, err error) {
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.DeleteSessions(ctx, userID, keep)
		return err
	})
	return n, err
}

// ms is t as a store returns it: UTC, truncated to milliseconds.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// base is a fixed instant with sub-millisecond digits and a non-UTC zone.
func base() time.Time {
	return time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("X", 5*3600+1800))
}

func checkUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.IsZero() {
		t.Errorf("%s is zero", what)
		return
	}
	if tm.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, tm.Location())
	}
	if tm.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("%s = %v has sub-millisecond precision", what, tm)
	}
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
}

func sameGroups(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }

func checkUser(t *testing.T, got, want *model.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.DisplayName != want.DisplayName ||
		got.Email != want.Email || got.PasswordHash != want.PasswordHash || got.MFAState != want.MFAState ||
		got.DefaultMethod != want.DefaultMethod || !sameGroups(got.Groups, want.Groups) {
		t.Errorf("user = %+v, want %+v", got, want)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkSession(t *testing.T, got, want *model.Session) {
	t.Helper()
	if !bytes.Equal(got.IDHash, want.IDHash) || got.UserID != want.UserID || got.Stage != want.Stage ||
		!bytes.Equal(got.PendingTOTP, want.PendingTOTP) || (got.PendingTOTP == nil) != (len(want.PendingTOTP) == 0) ||
		got.RedirectTo != want.RedirectTo || got.RemoteIP != want.RemoteIP || got.UserAgent != want.UserAgent ||
		got.Origin != want.Origin {
		t.Errorf("session = %+v, want %+v", got, want)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, ms(want.CreatedAt))
	sameTime(t, "LastSeenAt", got.LastSeenAt, ms(want.LastSeenAt))
	if want.MFAAt.IsZero() {
		if !got.MFAAt.IsZero() {
			t.Errorf("MFAAt = %v, want zero", got.MFAAt)
		}
	} else {
		sameTime(t, "MFAAt", got.MFAAt, ms(want.MFAAt))
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// parallel runs fn(i) for i in [0,n) at once and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// --- users ---

func testCreateAndLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	u := newUser("alice", "ops", "admins", "ops", "dev")
	noErr(t, "CreateUser", s.CreateUser(ctx, u))
	if u.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	checkUTC(t, "CreatedAt", u.CreatedAt)
	checkUTC(t, "UpdatedAt", u.UpdatedAt)
	if u.CreatedAt.Before(before) || u.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt = %v, not about now", u.CreatedAt)
	}
	want := *u
	want.Groups = []string{"admins", "dev", "ops"}

	got, err := s.UserByName(ctx, "alice")
	noErr(t, "UserByName", err)
	checkUser(t, got, &want)
	got, err = s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	checkUser(t, got, &want)

	_, err = s.UserByName(ctx, "bob")
	wantErr(t, "UserByName(unknown)", err, model.ErrNotFound)
	_, err = s.UserByID(ctx, u.ID+1000)
	wantErr(t, "UserByID(unknown)", err, model.ErrNotFound)

	v := mustCreateUser(t, s, "victor")
	if v.ID == u.ID {
		t.Errorf("second user got the same ID %d", v.ID)
	}
	got, err = s.UserByName(ctx, "victor")
	noErr(t, "UserByName(victor)", err)
	if len(got.Groups) != 0 {
		t.Errorf("groups of user without groups = %q", got.Groups)
	}
}

func testUserConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "alice", "a")
	dup := newUser("alice", "b")
	wantErr(t, "CreateUser(duplicate)", s.CreateUser(ctx, dup), model.ErrConflict)
	users, err := s.ListUsers(ctx)
	noErr(t, "ListUsers", err)
	if len(users) != 1 || !slices.Equal(users[0].Groups, []string{"a"}) {
		t.Errorf("after conflict users = %+v, want only alice with group a", users)
	}
}

func testListUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	users, err := s.ListUsers(ctx)
	noErr(t, "ListUsers(empty)", err)
	if len(users) != 0 {
		t.Fatalf("empty store lists %d users", len(users))
	}
	c := mustCreateUser(t, s, "carol", "z", "y")
	a := mustCreateUser(t, s, "alice", "admins")
	b := mustCreateUser(t, s, "bob")
	users, err = s.ListUsers(ctx)
	noErr(t, "ListUsers", err)
	want := []*model.User{a, b, c}
	if len(users) != len(want) {
		t.Fatalf("ListUsers returned %d users, want %d", len(users), len(want))
	}
	c.Groups = []string{"y", "z"}
	for i := range want {
		checkUser(t, &users[i], want[i])
	}
}

func testCreateFirstUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("admin", "admins")
	u.DefaultMethod = model.MethodCode
	ok, err := s.CreateFirstUser(ctx, u)
	noErr(t, "CreateFirstUser", err)
	if !ok || u.ID == 0 {
		t.Fatalf("first CreateFirstUser = %v (ID %d), want true", ok, u.ID)
	}
	checkUTC(t, "CreatedAt", u.CreatedAt)
	got, err := s.UserByName(ctx, "admin")
	noErr(t, "UserByName", err)
	checkUser(t, got, u)

	ok, err = s.CreateFirstUser(ctx, newUser("other"))
	noErr(t, "CreateFirstUser(second)", err)
	if ok {
		t.Error("second CreateFirstUser inserted")
	}
	_, err = s.UserByName(ctx, "other")
	wantErr(t, "UserByName(other)", err, model.ErrNotFound)
}

func testCreateFirstUserConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 8
	var inserted [n]bool
	var errs [n]error
	parallel(n, func(i int) {
		inserted[i], errs[i] = s.CreateFirstUser(ctx, newUser(fmt.Sprintf("admin%d", i), fmt.Sprintf("g%d", i), "admins"))
	})
	wins := 0
	for i := range n {
		noErr(t, fmt.Sprintf("CreateFirstUser #%d", i), errs[i])
		if inserted[i] {
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent CreateFirstUser calls inserted, want exactly 1", wins)
	}
	users, err := s.ListUsers(ctx)
	noErr(t, "ListUsers", err)
	if len(users) != 1 || len(users[0].Groups) != 2 {
		t.Fatalf("users = %+v, want one user with two groups", users)
	}
	// A non-empty table created by CreateUser also blocks it.
	ok, err := s.CreateFirstUser(ctx, newUser("late"))
	noErr(t, "CreateFirstUser(late)", err)
	if ok {
		t.Error("CreateFirstUser inserted into a non-empty table")
	}
}

func testUpdateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice", "a", "b")
	other := mustCreateUser(t, s, "bob", "a")

	upd := &model.User{ID: u.ID, Username: "ignored", DisplayName: "Alice A.", Email: "a@example.org", Groups: []string{"c", "a", "c"}}
	noErr(t, "UpdateUserProfile", updateUserProfile(s, ctx, upd))
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.Username != "alice" || got.DisplayName != "Alice A." || got.Email != "a@example.org" ||
		!slices.Equal(got.Groups, []string{"a", "c"}) || got.PasswordHash != u.PasswordHash {
		t.Errorf("after UpdateUserProfile user = %+v", got)
	}
	if got.UpdatedAt.Before(u.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v < %v", got.UpdatedAt, u.UpdatedAt)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, u.CreatedAt)

	upd.Groups = nil
	noErr(t, "UpdateUserProfile(no groups)", updateUserProfile(s, ctx, upd))
	got, err = s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if len(got.Groups) != 0 {
		t.Errorf("groups after clearing = %q", got.Groups)
	}
	ob, err := s.UserByID(ctx, other.ID)
	noErr(t, "UserByID(bob)", err)
	if !slices.Equal(ob.Groups, []string{"a"}) {
		t.Errorf("other user's groups changed to %q", ob.Groups)
	}

	_, err = setPassword(s, ctx, u.ID, "$2a$10$new", false)
	noErr(t, "SetPassword", err)
	noErr(t, "SetMFAState", s.SetMFAState(ctx, u.ID, model.MFAEnforced))
	got, err = s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.PasswordHash != "$2a$10$new" || got.MFAState != model.MFAEnforced {
		t.Errorf("after SetPassword/SetMFAState user = %+v", got)
	}
	noErr(t, "SetMFAState(disabled)", s.SetMFAState(ctx, u.ID, model.MFADisabled))
	got, err = s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.MFAState != model.MFADisabled {
		t.Errorf("MFAState = %q, want disabled", got.MFAState)
	}
	if err := s.SetMFAState(ctx, u.ID, "bogus"); err == nil {
		t.Error("SetMFAState(bogus) succeeded")
	}

	missing := u.ID + other.ID + 1000
	wantErr(t, "UpdateUserProfile(unknown)", updateUserProfile(s, ctx, &model.User{ID: missing}), model.ErrNotFound)
	_, err = setPassword(s, ctx, missing, "x", true)
	wantErr(t, "SetPassword(unknown)", err, model.ErrNotFound)
	wantErr(t, "SetMFAState(unknown)", s.SetMFAState(ctx, missing, model.MFAEnabled), model.ErrNotFound)
}

func testDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice", "admins")
	keep := mustCreateUser(t, s, "bob")
	noErr(t, "AddTOTP", addTOTP(s, ctx, &model.TOTPAuthenticator{UserID: u.ID, Name: "phone", SealedSecret: []byte("s")}))
	noErr(t, "AddTOTP(bob)", addTOTP(s, ctx, &model.TOTPAuthenticator{UserID: keep.ID, Name: "phone", SealedSecret: []byte("s")}))
	mustCreateSession(t, s, newSession(1, u.ID, time.Now()))
	mustCreateSession(t, s, newSession(2, keep.ID, time.Now()))
	noErr(t, "AppendAudit", s.AppendAudit(ctx, &model.AuditEvent{UserID: u.ID, Username: "alice", Event: "user.created"}))
	for i := range 3 {
		mustCreateAppPassword(t, s, u.ID, i)
	}
	mustCreateAppPassword(t, s, keep.ID, 0)

	noErr(t, "DeleteUser", deleteUser(s, ctx, u.ID))
	_, err := s.UserByID(ctx, u.ID)
	wantErr(t, "UserByID(deleted)", err, model.ErrNotFound)
	_, err = s.UserByName(ctx, "alice")
	wantErr(t, "UserByName(deleted)", err, model.ErrNotFound)
	auths, err := s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if len(auths) != 0 {
		t.Errorf("authenticators survived DeleteUser: %+v", auths)
	}
	_, err = s.SessionByHash(ctx, hash(1))
	wantErr(t, "SessionByHash(deleted user)", err, model.ErrNotFound)
	if aps, err := s.AppPasswords(ctx, u.ID); err != nil || len(aps) != 0 {
		t.Errorf("app passwords after DeleteUser = %+v, %v; want none", aps, err)
	}
	_, err = s.AppPasswordByTag(ctx, u.ID, appTag(0))
	wantErr(t, "AppPasswordByTag(deleted user)", err, model.ErrNotFound)
	wantErr(t, "DeleteUser(again)", deleteUser(s, ctx, u.ID), model.ErrNotFound)

	// Other user untouched, audit history kept.
	if a, err := s.TOTPAuthenticators(ctx, keep.ID); err != nil || len(a) != 1 {
		t.Errorf("bob's authenticators = %v, %v", a, err)
	}
	if _, err := s.SessionByHash(ctx, hash(2)); err != nil {
		t.Errorf("bob's session: %v", err)
	}
	if aps, err := s.AppPasswords(ctx, keep.ID); err != nil || len(aps) != 1 {
		t.Errorf("bob's app passwords = %+v, %v; want 1", aps, err)
	}
	ev, err := s.AuditEvents(ctx, u.ID, 10)
	noErr(t, "AuditEvents", err)
	if len(ev) != 1 {
		t.Errorf("audit events of deleted user = %+v, want 1", ev)
	}
	// The name is free again.
	again := mustCreateUser(t, s, "alice")
	if again.ID == u.ID {
		t.Errorf("re-created user reuses deleted ID %d", u.ID)
	}
}

func testDefaultMethod(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.DefaultMethod != model.MethodNone {
		t.Errorf("DefaultMethod of a new user = %q, want none", got.DefaultMethod)
	}
	v := newUser("bob")
	v.DefaultMethod = model.MethodPush
	noErr(t, "CreateUser(with method)", s.CreateUser(ctx, v))
	got, err = s.UserByName(ctx, "bob")
	noErr(t, "UserByName", err)
	checkUser(t, got, v)

	for _, m := range []model.Method{model.MethodCode, model.MethodPush, model.MethodPasskey, model.MethodNone, model.MethodCode} {
		noErr(t, "SetDefaultMethod", setDefaultMethod(s, ctx, u.ID, m))
		got, err = s.UserByID(ctx, u.ID)
		noErr(t, "UserByID", err)
		if got.DefaultMethod != m {
			t.Errorf("after SetDefaultMethod(%q): DefaultMethod = %q", m, got.DefaultMethod)
		}
		if got.UpdatedAt.Before(u.UpdatedAt) {
			t.Errorf("UpdatedAt went back: %v < %v", got.UpdatedAt, u.UpdatedAt)
		}
	}
	for _, bad := range []model.Method{"sms", "CODE", " code"} {
		if err := setDefaultMethod(s, ctx, u.ID, bad); err == nil {
			t.Errorf("SetDefaultMethod(%q) succeeded", bad)
		}
	}
	got, err = s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	if got.DefaultMethod != model.MethodCode {
		t.Errorf("DefaultMethod after invalid sets = %q, want %q", got.DefaultMethod, model.MethodCode)
	}
	wantErr(t, "SetDefaultMethod(unknown)", setDefaultMethod(s, ctx, u.ID+v.ID+1000, model.MethodCode), model.ErrNotFound)

	users, err := s.ListUsers(ctx)
	noErr(t, "ListUsers", err)
	if len(users) != 2 || users[0].DefaultMethod != model.MethodCode || users[1].DefaultMethod != model.MethodPush {
		t.Errorf("ListUsers = %+v, want alice code and bob push", users)
	}
}

// --- app passwords ---

func testAppPasswords(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	before := time.Now().Add(-time.Second)
	a1 := mustCreateAppPassword(t, s, u.ID, 1)
	a2 := mustCreateAppPassword(t, s, u.ID, 2)
	if a1.ID == 0 || a2.ID == 0 || a1.ID == a2.ID {
		t.Fatalf("IDs = %d, %d", a1.ID, a2.ID)
	}
	checkUTC(t, "CreatedAt", a1.CreatedAt)
	if a1.CreatedAt.Before(before) || a1.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt = %v, not about now", a1.CreatedAt)
	}
	b1 := mustCreateAppPassword(t, s, v.ID, 3)

	list, err := s.AppPasswords(ctx, u.ID)
	noErr(t, "AppPasswords", err)
	if len(list) != 2 {
		t.Fatalf("got %d app passwords, want 2", len(list))
	}
	for i, want := range []*model.AppPassword{a1, a2} {
		checkAppPassword(t, &list[i], want)
	}
	list, err = s.AppPasswords(ctx, v.ID)
	noErr(t, "AppPasswords(bob)", err)
	if len(list) != 1 {
		t.Fatalf("bob has %d app passwords, want 1", len(list))
	}
	checkAppPassword(t, &list[0], b1)
	if l, err := s.AppPasswords(ctx, u.ID+v.ID+1000); err != nil || len(l) != 0 {
		t.Errorf("AppPasswords(unknown user) = %v, %v; want none", l, err)
	}

	got, err := s.AppPasswordByTag(ctx, u.ID, appTag(2))
	noErr(t, "AppPasswordByTag", err)
	checkAppPassword(t, got, a2)
	_, err = s.AppPasswordByTag(ctx, u.ID, appTag(9))
	wantErr(t, "AppPasswordByTag(unknown tag)", err, model.ErrNotFound)
	_, err = s.AppPasswordByTag(ctx, v.ID, appTag(1))
	wantErr(t, "AppPasswordByTag(other user's tag)", err, model.ErrNotFound)
	_, err = s.AppPasswordByTag(ctx, u.ID, appTag(1)[:31])
	wantErr(t, "AppPasswordByTag(tag prefix)", err, model.ErrNotFound)

	missing := newAppPassword(u.ID+v.ID+1000, 5)
	wantErr(t, "CreateAppPassword(unknown user)", createAppPassword(ctx, s, missing, model.MaxAppPasswords), model.ErrNotFound)
	if missing.ID != 0 {
		t.Errorf("failed CreateAppPassword set ID %d", missing.ID)
	}
}

func testAppPasswordLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	var created []*model.AppPassword
	for i := range model.MaxAppPasswords {
		created = append(created, mustCreateAppPassword(t, s, u.ID, i))
	}
	over := newAppPassword(u.ID, model.MaxAppPasswords)
	wantErr(t, "CreateAppPassword(over limit)", createAppPassword(ctx, s, over, model.MaxAppPasswords), model.ErrLimit)
	if over.ID != 0 {
		t.Errorf("CreateAppPassword over the limit set ID %d", over.ID)
	}
	if n := countAppPasswords(t, s, u.ID); n != model.MaxAppPasswords {
		t.Fatalf("%d app passwords, want %d", n, model.MaxAppPasswords)
	}
	// The limit is per user.
	mustCreateAppPassword(t, s, v.ID, 0)

	// After one delete, exactly one more fits.
	noErr(t, "DeleteAppPassword", deleteAppPassword(ctx, s, u.ID, created[7].ID))
	noErr(t, "CreateAppPassword(after delete)", createAppPassword(ctx, s, over, model.MaxAppPasswords))
	wantErr(t, "CreateAppPassword(over limit again)",
		createAppPassword(ctx, s, newAppPassword(u.ID, model.MaxAppPasswords+1), model.MaxAppPasswords), model.ErrLimit)
	if n := countAppPasswords(t, s, u.ID); n != model.MaxAppPasswords {
		t.Errorf("%d app passwords, want %d", n, model.MaxAppPasswords)
	}

	// The limit is the caller's: a smaller one counts existing rows too.
	wantErr(t, "CreateAppPassword(limit 1, bob has 1)",
		createAppPassword(ctx, s, newAppPassword(v.ID, 1), 1), model.ErrLimit)
	noErr(t, "CreateAppPassword(limit 2, bob has 1)", createAppPassword(ctx, s, newAppPassword(v.ID, 1), 2))
}

func testAppPasswordLimitConcurrent(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	CheckAppPasswordLimitAcross(t, []store.Store{s}, u.ID)
}

// CheckAppPasswordLimitAcross creates MaxAppPasswords+20 app passwords for
// one user at once, spread round-robin over nodes (instances of one
// database): exactly MaxAppPasswords succeed, the rest get ErrLimit, and
// every node sees MaxAppPasswords stored. The backends' multi-node tests
// call it with two instances.
func CheckAppPasswordLimitAcross(t *testing.T, nodes []store.Store, userID int64) {
	t.Helper()
	ctx := t.Context()
	const n = model.MaxAppPasswords + 20
	var errs [n]error
	parallel(n, func(i int) {
		errs[i] = createAppPassword(ctx, nodes[i%len(nodes)], newAppPassword(userID, i), model.MaxAppPasswords)
	})
	ok, limited := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, model.ErrLimit):
			limited++
		default:
			t.Errorf("CreateAppPassword #%d: %v", i, err)
		}
	}
	if ok != model.MaxAppPasswords || limited != n-model.MaxAppPasswords {
		t.Errorf("%d created, %d ErrLimit; want %d and %d", ok, limited, model.MaxAppPasswords, n-model.MaxAppPasswords)
	}
	for i, s := range nodes {
		if got := countAppPasswords(t, s, userID); got != model.MaxAppPasswords {
			t.Errorf("node %d: %d app passwords stored, want %d", i, got, model.MaxAppPasswords)
		}
	}
}

func testAppPasswordTagUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	first := mustCreateAppPassword(t, s, u.ID, 1)
	dup := newAppPassword(u.ID, 1)
	dup.Name, dup.Hash = "other name", "$2a$10$other"
	wantErr(t, "CreateAppPassword(same tag)", createAppPassword(ctx, s, dup, model.MaxAppPasswords), model.ErrConflict)
	if dup.ID != 0 {
		t.Errorf("conflicting CreateAppPassword set ID %d", dup.ID)
	}
	list, err := s.AppPasswords(ctx, u.ID)
	noErr(t, "AppPasswords", err)
	if len(list) != 1 {
		t.Fatalf("after conflict: %d app passwords, want 1", len(list))
	}
	checkAppPassword(t, &list[0], first)

	// The same tag for another user is fine.
	other := mustCreateAppPassword(t, s, v.ID, 1)
	got, err := s.AppPasswordByTag(ctx, v.ID, appTag(1))
	noErr(t, "AppPasswordByTag(bob)", err)
	checkAppPassword(t, got, other)
	got, err = s.AppPasswordByTag(ctx, u.ID, appTag(1))
	noErr(t, "AppPasswordByTag(alice)", err)
	checkAppPassword(t, got, first)
}

func testAppPasswordDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	a1 := mustCreateAppPassword(t, s, u.ID, 1)
	a2 := mustCreateAppPassword(t, s, u.ID, 2)
	a3 := mustCreateAppPassword(t, s, u.ID, 3)
	b1 := mustCreateAppPassword(t, s, v.ID, 1)

	// Nobody deletes another user's app password.
	wantErr(t, "DeleteAppPassword(other user)", deleteAppPassword(ctx, s, v.ID, a1.ID), model.ErrNotFound)
	if _, err := s.AppPasswordByTag(ctx, u.ID, appTag(1)); err != nil {
		t.Errorf("app password deleted by another user: %v", err)
	}
	wantErr(t, "DeleteAppPassword(unknown)", deleteAppPassword(ctx, s, u.ID, a3.ID+b1.ID+1000), model.ErrNotFound)

	noErr(t, "DeleteAppPassword", deleteAppPassword(ctx, s, u.ID, a1.ID))
	wantErr(t, "DeleteAppPassword(again)", deleteAppPassword(ctx, s, u.ID, a1.ID), model.ErrNotFound)
	_, err := s.AppPasswordByTag(ctx, u.ID, appTag(1))
	wantErr(t, "AppPasswordByTag(deleted)", err, model.ErrNotFound)
	list, err := s.AppPasswords(ctx, u.ID)
	noErr(t, "AppPasswords", err)
	if len(list) != 2 || list[0].ID != a2.ID || list[1].ID != a3.ID {
		t.Errorf("after delete: %+v, want %d and %d", list, a2.ID, a3.ID)
	}

	n, err := deleteAllAppPasswords(s, ctx, u.ID)
	noErr(t, "DeleteAllAppPasswords", err)
	if n != 2 {
		t.Errorf("DeleteAllAppPasswords = %d, want 2", n)
	}
	if c := countAppPasswords(t, s, u.ID); c != 0 {
		t.Errorf("%d app passwords left", c)
	}
	n, err = deleteAllAppPasswords(s, ctx, u.ID)
	noErr(t, "DeleteAllAppPasswords(again)", err)
	if n != 0 {
		t.Errorf("DeleteAllAppPasswords(again) = %d, want 0", n)
	}
	got, err := s.AppPasswordByTag(ctx, v.ID, appTag(1))
	noErr(t, "AppPasswordByTag(bob)", err)
	checkAppPassword(t, got, b1)
	// The user itself stays.
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		t.Errorf("UserByID after DeleteAllAppPasswords: %v", err)
	}
}

func testAppPasswordTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	a := mustCreateAppPassword(t, s, u.ID, 1)
	other := mustCreateAppPassword(t, s, u.ID, 2)
	got, err := s.AppPasswordByTag(ctx, u.ID, appTag(1))
	noErr(t, "AppPasswordByTag", err)
	if !got.LastUsedAt.IsZero() || got.LastUsedIP != "" {
		t.Errorf("before first use: LastUsedAt = %v, LastUsedIP = %q; want zero and empty", got.LastUsedAt, got.LastUsedIP)
	}

	t0 := base() // sub-millisecond digits, non-UTC zone
	noErr(t, "TouchAppPassword", s.TouchAppPassword(ctx, a.ID, t0, "192.0.2.7"))
	a.LastUsedAt, a.LastUsedIP = t0, "192.0.2.7"
	got, err = s.AppPasswordByTag(ctx, u.ID, appTag(1))
	noErr(t, "AppPasswordByTag", err)
	checkAppPassword(t, got, a)
	if want := time.Date(2025, 3, 14, 9, 39, 26, 535000000, time.UTC); !got.LastUsedAt.Equal(want) {
		t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, want)
	}

	later := t0.Add(time.Hour)
	noErr(t, "TouchAppPassword(again)", s.TouchAppPassword(ctx, a.ID, later, "2001:db8::1"))
	a.LastUsedAt, a.LastUsedIP = later, "2001:db8::1"
	list, err := s.AppPasswords(ctx, u.ID)
	noErr(t, "AppPasswords", err)
	if len(list) != 2 {
		t.Fatalf("got %d app passwords, want 2", len(list))
	}
	checkAppPassword(t, &list[0], a)
	checkAppPassword(t, &list[1], other) // untouched

	noErr(t, "DeleteAppPassword", deleteAppPassword(ctx, s, u.ID, a.ID))
	wantErr(t, "TouchAppPassword(deleted)", s.TouchAppPassword(ctx, a.ID, later, "192.0.2.7"), model.ErrNotFound)
	wantErr(t, "TouchAppPassword(unknown)", s.TouchAppPassword(ctx, other.ID+1000, later, "192.0.2.7"), model.ErrNotFound)
}

// --- TOTP ---

func testTOTP(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	a1 := &model.TOTPAuthenticator{UserID: u.ID, Name: "phone", SealedSecret: []byte{0, 1, 2, 255}}
	a2 := &model.TOTPAuthenticator{UserID: u.ID, Name: "tablet", SealedSecret: []byte("sealed-2")}
	noErr(t, "AddTOTP(first)", addTOTP(s, ctx, a1))
	wantErr(t, "enrol(onlyFirst, has one)", enrol(s, ctx, u.ID, []byte("x"), true), model.ErrConflict)
	noErr(t, "AddTOTP", addTOTP(s, ctx, a2))
	wantErr(t, "enrol(unknown user)", enrol(s, ctx, v.ID+1000, []byte("x"), true), model.ErrNotFound)
	if a1.ID == 0 || a2.ID == 0 || a1.ID == a2.ID {
		t.Fatalf("IDs = %d, %d", a1.ID, a2.ID)
	}
	checkUTC(t, "CreatedAt", a1.CreatedAt)

	list, err := s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if len(list) != 2 {
		t.Fatalf("got %d authenticators, want 2", len(list))
	}
	for i, want := range []*model.TOTPAuthenticator{a1, a2} {
		got := list[i]
		if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || !bytes.Equal(got.SealedSecret, want.SealedSecret) {
			t.Errorf("authenticator %d = %+v, want %+v", i, got, want)
		}
		sameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	}
	if l, err := s.TOTPAuthenticators(ctx, v.ID); err != nil || len(l) != 0 {
		t.Errorf("bob's authenticators = %v, %v; want none", l, err)
	}

	wantErr(t, "DeleteTOTP(other user)", deleteTOTP(s, ctx, v.ID, a1.ID, false, nil), model.ErrNotFound)
	noErr(t, "DeleteTOTP(keepOne, two left)", deleteTOTP(s, ctx, u.ID, a1.ID, true, nil))
	wantErr(t, "DeleteTOTP(again)", deleteTOTP(s, ctx, u.ID, a1.ID, false, nil), model.ErrNotFound)
	wantErr(t, "DeleteTOTP(keepOne, last)", deleteTOTP(s, ctx, u.ID, a2.ID, true, nil), model.ErrLimit)
	list, err = s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if len(list) != 1 || list[0].ID != a2.ID {
		t.Errorf("after delete: %+v, want only %d", list, a2.ID)
	}
}

// Two sign-ins enrolling at once: only one may add the first method.
func testTOTPOnlyFirstConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const n = 8
	var errs [n]error
	parallel(n, func(i int) {
		errs[i] = enrol(s, ctx, u.ID, []byte{byte(i)}, true)
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, model.ErrConflict):
			t.Errorf("AddTOTP #%d: %v", i, err)
		}
	}
	list, err := s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if ok != 1 || len(list) != 1 {
		t.Errorf("%d added, %d stored; want exactly 1", ok, len(list))
	}
}

// Deleting every authenticator at once with keepOne leaves exactly one.
func testTOTPKeepOneConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const n = 6
	var ids [n]int64
	for i := range n {
		a := &model.TOTPAuthenticator{UserID: u.ID, Name: fmt.Sprint("app ", i), SealedSecret: []byte{byte(i)}}
		noErr(t, "AddTOTP", addTOTP(s, ctx, a))
		ids[i] = a.ID
	}
	var errs [n]error
	parallel(n, func(i int) { errs[i] = deleteTOTP(s, ctx, u.ID, ids[i], true, nil) })
	for i, err := range errs {
		if err != nil && !errors.Is(err, model.ErrLimit) {
			t.Errorf("DeleteTOTP #%d: %v", i, err)
		}
	}
	list, err := s.TOTPAuthenticators(ctx, u.ID)
	noErr(t, "TOTPAuthenticators", err)
	if len(list) != 1 {
		t.Errorf("%d authenticators left, want 1", len(list))
	}
}

func testClaimStep(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	claim := func(userID, step int64, want bool) {
		t.Helper()
		got, err := s.ClaimTOTPStep(ctx, userID, step)
		noErr(t, "ClaimTOTPStep", err)
		if got != want {
			t.Errorf("ClaimTOTPStep(user %d, step %d) = %v, want %v", userID, step, got, want)
		}
	}
	claim(u.ID, 0, true) // step 0 is claimable on a fresh user
	claim(u.ID, 58_000_000, true)
	claim(u.ID, 58_000_000, false)
	claim(u.ID, 57_999_999, false)
	claim(u.ID, 58_000_001, true)
	claim(u.ID, 58_000_003, true)
	claim(u.ID, 58_000_002, false)
	claim(v.ID, 58_000_000, true) // per user
}

func testClaimStepConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const n = 16
	var won [n]bool
	var errs [n]error
	parallel(n, func(i int) { won[i], errs[i] = s.ClaimTOTPStep(ctx, u.ID, 1000) })
	wins := 0
	for i := range n {
		noErr(t, "ClaimTOTPStep", errs[i])
		if won[i] {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent claims of one step won, want 1", wins, n)
	}
}

// --- sessions ---

func testSessionCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	t0 := base()
	full := newSession(1, u.ID, t0)
	full.Stage = model.StageComplete
	full.LastSeenAt = t0.Add(90 * time.Second)
	full.MFAAt = t0.Add(30 * time.Second)
	full.PendingTOTP = []byte("pending-sealed")
	mustCreateSession(t, s, full)
	got, err := s.SessionByHash(ctx, hash(1))
	noErr(t, "SessionByHash", err)
	checkSession(t, got, full)

	bare := newSession(2, u.ID, t0)
	mustCreateSession(t, s, bare)
	got, err = s.SessionByHash(ctx, hash(2))
	noErr(t, "SessionByHash(bare)", err)
	checkSession(t, got, bare)
	if got.PendingTOTP != nil || !got.MFAAt.IsZero() {
		t.Errorf("bare session PendingTOTP = %v, MFAAt = %v; want nil and zero", got.PendingTOTP, got.MFAAt)
	}

	dup := newSession(1, u.ID, t0.Add(time.Hour))
	wantErr(t, "CreateSession(duplicate)", s.CreateSession(ctx, dup), model.ErrConflict)
	got, err = s.SessionByHash(ctx, hash(1))
	noErr(t, "SessionByHash", err)
	checkSession(t, got, full)

	_, err = s.SessionByHash(ctx, hash(9))
	wantErr(t, "SessionByHash(unknown)", err, model.ErrNotFound)
}

// testSessionOrigin: the origin a session was made for is stored as given
// and replaced with the record; a session without one reads back as "".
func testSessionOrigin(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	portal := newSession(1, u.ID, base())
	portal.Origin = "http://localhost:8081"
	mustCreateSession(t, s, portal)
	got, err := s.SessionByHash(ctx, hash(1))
	noErr(t, "SessionByHash", err)
	if got.Origin != "http://localhost:8081" {
		t.Errorf("origin = %q, want http://localhost:8081", got.Origin)
	}
	next := newSession(2, u.ID, base())
	next.Origin = "https://mfa.example.com:443"
	noErr(t, "ReplaceSession", s.ReplaceSession(ctx, hash(1), next))
	got, err = s.SessionByHash(ctx, hash(2))
	noErr(t, "SessionByHash(replaced)", err)
	if got.Origin != "https://mfa.example.com:443" {
		t.Errorf("origin after replace = %q", got.Origin)
	}
	none := newSession(3, u.ID, base())
	none.Origin = ""
	mustCreateSession(t, s, none)
	got, err = s.SessionByHash(ctx, hash(3))
	noErr(t, "SessionByHash(no origin)", err)
	if got.Origin != "" {
		t.Errorf("origin of a session made without one = %q", got.Origin)
	}
}

func testSessionReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	t0 := base()
	old := newSession(1, u.ID, t0)
	mustCreateSession(t, s, old)
	other := newSession(3, u.ID, t0)
	mustCreateSession(t, s, other)

	rotated := newSession(2, u.ID, t0)
	rotated.Stage = model.StageComplete
	rotated.MFAAt = t0.Add(time.Minute)
	noErr(t, "ReplaceSession", s.ReplaceSession(ctx, hash(1), rotated))
	_, err := s.SessionByHash(ctx, hash(1))
	wantErr(t, "SessionByHash(old)", err, model.ErrNotFound)
	got, err := s.SessionByHash(ctx, hash(2))
	noErr(t, "SessionByHash(new)", err)
	checkSession(t, got, rotated)

	// The old one is gone now: replacing it again fails and inserts nothing.
	again := newSession(4, u.ID, t0)
	wantErr(t, "ReplaceSession(missing old)", s.ReplaceSession(ctx, hash(1), again), model.ErrNotFound)
	_, err = s.SessionByHash(ctx, hash(4))
	wantErr(t, "SessionByHash(not inserted)", err, model.ErrNotFound)

	// A failing insert keeps the old session (atomicity).
	clash := newSession(3, u.ID, t0) // hash(3) exists
	if err := s.ReplaceSession(ctx, hash(2), clash); err == nil {
		t.Fatal("ReplaceSession onto an existing hash succeeded")
	}
	if _, err := s.SessionByHash(ctx, hash(2)); err != nil {
		t.Errorf("old session lost after failed ReplaceSession: %v", err)
	}
}

func testSessionTouch(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	t0 := base()
	sess := newSession(1, u.ID, t0)
	mustCreateSession(t, s, sess)
	seen := t0.Add(17*time.Minute + 123456789*time.Nanosecond)
	noErr(t, "TouchSession", s.TouchSession(ctx, hash(1), seen))
	got, err := s.SessionByHash(ctx, hash(1))
	noErr(t, "SessionByHash", err)
	sameTime(t, "LastSeenAt", got.LastSeenAt, ms(seen))
	sameTime(t, "CreatedAt", got.CreatedAt, ms(t0))
	wantErr(t, "TouchSession(unknown)", s.TouchSession(ctx, hash(2), seen), model.ErrNotFound)
}

func testSessionDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	mustCreateSession(t, s, newSession(1, u.ID, base()))
	mustCreateSession(t, s, newSession(2, u.ID, base()))
	noErr(t, "DeleteSession", deleteSession(ctx, s, hash(1)))
	_, err := s.SessionByHash(ctx, hash(1))
	wantErr(t, "SessionByHash(deleted)", err, model.ErrNotFound)
	noErr(t, "DeleteSession(missing)", deleteSession(ctx, s, hash(1)))
	if _, err := s.SessionByHash(ctx, hash(2)); err != nil {
		t.Errorf("unrelated session: %v", err)
	}
}

func testDeleteUserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	for i := byte(1); i <= 3; i++ {
		mustCreateSession(t, s, newSession(i, u.ID, base()))
	}
	mustCreateSession(t, s, newSession(9, v.ID, base()))
	n, err := deleteSessions(ctx, s, u.ID, nil)
	noErr(t, "DeleteUserSessions", err)
	if n != 3 {
		t.Errorf("DeleteUserSessions = %d, want 3", n)
	}
	for i := byte(1); i <= 3; i++ {
		_, err := s.SessionByHash(ctx, hash(i))
		wantErr(t, "SessionByHash(deleted)", err, model.ErrNotFound)
	}
	if _, err := s.SessionByHash(ctx, hash(9)); err != nil {
		t.Errorf("bob's session: %v", err)
	}
	n, err = deleteSessions(ctx, s, u.ID, nil)
	noErr(t, "DeleteUserSessions(again)", err)
	if n != 0 {
		t.Errorf("DeleteUserSessions(again) = %d, want 0", n)
	}
}

func testDeleteStale(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	t0 := base()
	mk := func(id byte, created, seen time.Duration) {
		sess := newSession(id, u.ID, t0.Add(created))
		sess.LastSeenAt = t0.Add(seen)
		mustCreateSession(t, s, sess)
	}
	createdBefore := t0.Add(10 * time.Hour)
	seenBefore := t0.Add(20 * time.Hour)
	mk(1, 0, 21*time.Hour)                             // too old (created)
	mk(2, 11*time.Hour, 19*time.Hour)                  // idle (seen)
	mk(3, 0, 0)                                        // both
	mk(4, 11*time.Hour, 21*time.Hour)                  // fresh
	mk(5, 10*time.Hour, 20*time.Hour)                  // exactly at both bounds: kept
	mk(6, 10*time.Hour-time.Millisecond, 30*time.Hour) // just before: stale
	n, err := s.DeleteStaleSessions(ctx, createdBefore, seenBefore)
	noErr(t, "DeleteStaleSessions", err)
	if n != 4 {
		t.Errorf("DeleteStaleSessions = %d, want 4", n)
	}
	for id, kept := range map[byte]bool{1: false, 2: false, 3: false, 4: true, 5: true, 6: false} {
		_, err := s.SessionByHash(ctx, hash(id))
		if kept && err != nil {
			t.Errorf("session %d: %v, want kept", id, err)
		}
		if !kept && !errors.Is(err, model.ErrNotFound) {
			t.Errorf("session %d: err = %v, want deleted", id, err)
		}
	}
}

// --- failures ---

func checkFailures(t *testing.T, what string, got model.Failures, count int, windowStart, lockedUntil time.Time) {
	t.Helper()
	if got.Count != count {
		t.Errorf("%s: Count = %d, want %d", what, got.Count, count)
	}
	sameTime(t, what+": WindowStart", got.WindowStart, windowStart)
	if lockedUntil.IsZero() {
		if !got.LockedUntil.IsZero() {
			t.Errorf("%s: LockedUntil = %v, want zero", what, got.LockedUntil)
		}
	} else {
		sameTime(t, what+": LockedUntil", got.LockedUntil, lockedUntil)
	}
}

// claim claims a slot and fails the test on an error.
func claim(t *testing.T, s store.Store, key string, at time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures) {
	t.Helper()
	ok, f, err := s.ClaimFailure(t.Context(), key, at, window, limit, lockout)
	noErr(t, "ClaimFailure", err)
	return ok, f
}

func testFailuresWindow(t *testing.T, s store.Store) {
	ctx := t.Context()
	f, err := s.FailuresFor(ctx, "ip:192.0.2.1")
	noErr(t, "FailuresFor(none)", err)
	if f != (model.Failures{}) {
		t.Errorf("FailuresFor(none) = %+v, want zero", f)
	}
	t0 := ms(base())
	const window, lockout = 15 * time.Minute, time.Hour
	for i, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(window - time.Millisecond)} {
		ok, f := claim(t, s, "ip:192.0.2.1", at, window, 5, lockout)
		if !ok {
			t.Fatalf("claim %d refused", i+1)
		}
		checkFailures(t, fmt.Sprintf("claim %d", i+1), f, i+1, t0, time.Time{})
	}
	got, err := s.FailuresFor(ctx, "ip:192.0.2.1")
	noErr(t, "FailuresFor", err)
	checkFailures(t, "FailuresFor", got, 3, t0, time.Time{})
	other, err := s.FailuresFor(ctx, "user:alice")
	noErr(t, "FailuresFor(other key)", err)
	if other != (model.Failures{}) {
		t.Errorf("other key = %+v, want zero", other)
	}
}

// testFailuresLock: the claim that reaches the limit locks; later claims
// are refused and change nothing until the lock ends, and the first claim
// after it starts a new window.
func testFailuresLock(t *testing.T, s store.Store) {
	t0 := ms(base())
	const window, lockout, limit = 15 * time.Minute, time.Hour, 3
	var f model.Failures
	for i := range limit {
		var ok bool
		ok, f = claim(t, s, "user:alice", t0.Add(time.Duration(i)*time.Second), window, limit, lockout)
		if !ok {
			t.Fatalf("claim %d refused (limit %d)", i+1, limit)
		}
		if i < limit-1 && !f.LockedUntil.IsZero() {
			t.Errorf("locked after %d claims (limit %d)", i+1, limit)
		}
	}
	lockedUntil := t0.Add((limit - 1) * time.Second).Add(lockout)
	checkFailures(t, "at limit", f, limit, t0, lockedUntil)
	ok, f := claim(t, s, "user:alice", t0.Add(window+time.Minute), window, limit, lockout)
	if ok {
		t.Fatal("claim while locked (and after the window) succeeded")
	}
	checkFailures(t, "refused claim", f, limit, t0, lockedUntil)
	ok, f = claim(t, s, "user:alice", lockedUntil, window, limit, lockout)
	if !ok {
		t.Fatal("claim when the lock ends refused")
	}
	checkFailures(t, "after the lock", f, 1, lockedUntil, time.Time{})
}

func testFailuresNewWindow(t *testing.T, s store.Store) {
	t0 := ms(base())
	const window, lockout = 15 * time.Minute, time.Hour
	for i := range 3 {
		claim(t, s, "k", t0.Add(time.Duration(i)*time.Minute), window, 10, lockout)
	}
	t1 := t0.Add(window) // the window [t0, t0+window) has ended
	_, f := claim(t, s, "k", t1, window, 10, lockout)
	checkFailures(t, "new window", f, 1, t1, time.Time{})
	_, f = claim(t, s, "k", t1.Add(time.Second), window, 10, lockout)
	checkFailures(t, "second in new window", f, 2, t1, time.Time{})
}

// testFailuresConcurrent: many claims at once on one counter succeed
// exactly limit times, each seeing its own count.
func testFailuresConcurrent(t *testing.T, s store.Store) {
	CheckClaimsAcross(t, []store.Store{s}, "hot", 40, 15)
}

// CheckClaimsAcross sends n claims at once on counter key, spread over the
// stores (nodes sharing one database), and checks that exactly limit of
// them succeeded, with counts 1..limit each once, and that the counter is
// locked at limit on every node.
func CheckClaimsAcross(t *testing.T, nodes []store.Store, key string, n, limit int) {
	t.Helper()
	ctx := t.Context()
	t0 := ms(time.Now())
	counts := make([]int, n)
	oks := make([]bool, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		var f model.Failures
		oks[i], f, errs[i] = nodes[i%len(nodes)].ClaimFailure(ctx, key, t0, time.Hour, limit, time.Minute)
		if oks[i] {
			counts[i] = f.Count
		}
	})
	var got []int
	for i := range n {
		noErr(t, "ClaimFailure", errs[i])
		if oks[i] {
			got = append(got, counts[i])
		}
	}
	slices.Sort(got)
	if len(got) != limit {
		t.Fatalf("%d of %d concurrent claims succeeded, want exactly the limit %d", len(got), n, limit)
	}
	for i, c := range got {
		if c != i+1 {
			t.Fatalf("claimed counts = %v, want 1..%d each once", got, limit)
		}
	}
	for _, s := range nodes {
		f, err := s.FailuresFor(ctx, key)
		noErr(t, "FailuresFor", err)
		checkFailures(t, "after the claims", f, limit, t0, t0.Add(time.Minute))
	}
}

// testFailuresRelease: a released slot is free again (and lifts the lock
// its claim set); a release from an old window changes nothing. Releases
// name the window their claim was counted in (WindowStart), not the time.
func testFailuresRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := ms(base())
	const window, lockout, limit = 15 * time.Minute, time.Hour, 2
	claim(t, s, "k", t0, window, limit, lockout)
	_, f := claim(t, s, "k", t0.Add(time.Second), window, limit, lockout)
	checkFailures(t, "at limit", f, 2, t0, t0.Add(time.Second).Add(lockout))
	noErr(t, "ReleaseFailure", s.ReleaseFailure(ctx, "k", t0, limit))
	got, err := s.FailuresFor(ctx, "k")
	noErr(t, "FailuresFor", err)
	checkFailures(t, "after release", got, 1, t0, time.Time{})
	if ok, _ := claim(t, s, "k", t0.Add(2*time.Second), window, limit, lockout); !ok {
		t.Fatal("claim after a release refused")
	}

	// A claim from the previous window gives nothing back to the new one.
	claim(t, s, "old", t0, window, limit, lockout)
	t1 := t0.Add(window)
	claim(t, s, "old", t1, window, limit, lockout)
	noErr(t, "ReleaseFailure(old window)", s.ReleaseFailure(ctx, "old", t0, limit))
	got, err = s.FailuresFor(ctx, "old")
	noErr(t, "FailuresFor", err)
	checkFailures(t, "old-window release", got, 1, t1, time.Time{})

	// The last slot given back leaves no counter behind.
	claim(t, s, "one", t0, window, limit, lockout)
	noErr(t, "ReleaseFailure(last slot)", s.ReleaseFailure(ctx, "one", t0, limit))
	got, err = s.FailuresFor(ctx, "one")
	noErr(t, "FailuresFor(one)", err)
	if got != (model.Failures{}) {
		t.Errorf("after releasing the only slot = %+v, want no counter", got)
	}
	if ok, f := claim(t, s, "one", t0.Add(time.Second), window, limit, lockout); !ok || f.Count != 1 {
		t.Errorf("claim after the last release: %v %+v", ok, f)
	}

	// A claim whose clock reading is older than the window another claim
	// just started is still given back, by the window it was counted in.
	claim(t, s, "skew", t0.Add(5*time.Second), window, limit, lockout)
	_, f = claim(t, s, "skew", t0, window, limit, lockout)
	noErr(t, "ReleaseFailure(skewed)", s.ReleaseFailure(ctx, "skew", f.WindowStart, limit))
	got, err = s.FailuresFor(ctx, "skew")
	noErr(t, "FailuresFor(skew)", err)
	checkFailures(t, "skewed release", got, 1, t0.Add(5*time.Second), time.Time{})

	// Releasing what does not exist is not an error and creates nothing.
	noErr(t, "ReleaseFailure(missing)", s.ReleaseFailure(ctx, "missing", t0, limit))
	got, err = s.FailuresFor(ctx, "missing")
	noErr(t, "FailuresFor(missing)", err)
	if got != (model.Failures{}) {
		t.Errorf("release created a counter: %+v", got)
	}
}

func testFailuresClear(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Removing a user removes the counters named with it, and only those.
	u := mustCreateUser(t, s, "gone")
	claim(t, s, "acct:gone", ms(base()), time.Hour, 2, time.Hour)
	claim(t, s, "acct:stays", ms(base()), time.Hour, 2, time.Hour)
	noErr(t, "DeleteUser(with counter)", deleteUser(s, ctx, u.ID, "acct:gone"))
	if f, _ := s.FailuresFor(ctx, "acct:gone"); f != (model.Failures{}) {
		t.Errorf("counter of a removed user = %+v", f)
	}
	if f, _ := s.FailuresFor(ctx, "acct:stays"); f.Count != 1 {
		t.Errorf("unrelated counter = %+v", f)
	}
	wantErr(t, "DeleteUser(unknown, with counter)", deleteUser(s, ctx, u.ID, "acct:stays"), model.ErrNotFound)
	if f, _ := s.FailuresFor(ctx, "acct:stays"); f.Count != 1 {
		t.Errorf("a refused removal deleted a counter: %+v", f)
	}

	t0 := ms(base())
	for range 3 {
		claim(t, s, "a", t0, time.Hour, 2, time.Hour)
	}
	claim(t, s, "b", t0, time.Hour, 2, time.Hour)
	noErr(t, "ClearFailures", clearFailures(s, ctx, "a"))
	f, err := s.FailuresFor(ctx, "a")
	noErr(t, "FailuresFor", err)
	if f != (model.Failures{}) {
		t.Errorf("after clear = %+v, want zero", f)
	}
	noErr(t, "ClearFailures(missing)", clearFailures(s, ctx, "a"))
	f, err = s.FailuresFor(ctx, "b")
	noErr(t, "FailuresFor(b)", err)
	if f.Count != 1 {
		t.Errorf("unrelated counter = %+v", f)
	}
	ok, f := claim(t, s, "a", t0, time.Hour, 2, time.Hour)
	if !ok {
		t.Fatal("claim after clear refused")
	}
	checkFailures(t, "after clear", f, 1, t0, time.Time{})
}

// --- secrets ---

func testSecret(t *testing.T, s store.Store) {
	ctx := t.Context()
	boom := errors.New("boom")
	_, err := s.Secret(ctx, "k", func() ([]byte, error) { return nil, boom })
	wantErr(t, "Secret(generate fails)", err, boom)

	calls := 0
	gen := func(v string) func() ([]byte, error) {
		return func() ([]byte, error) { calls++; return []byte(v), nil }
	}
	v, err := s.Secret(ctx, "k", gen("first"))
	noErr(t, "Secret", err)
	if string(v) != "first" || calls != 1 {
		t.Errorf("Secret = %q after %d calls, want %q after 1", v, calls, "first")
	}
	v, err = s.Secret(ctx, "k", gen("second"))
	noErr(t, "Secret(again)", err)
	if string(v) != "first" {
		t.Errorf("Secret(again) = %q, want %q", v, "first")
	}
	if calls != 1 {
		t.Errorf("generate called %d times for an existing secret", calls)
	}
	v, err = s.Secret(ctx, "other", gen("x\x00y"))
	noErr(t, "Secret(other)", err)
	if string(v) != "x\x00y" {
		t.Errorf("Secret(other) = %q", v)
	}
}

func testSecretConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 16
	var vals [n][]byte
	var errs [n]error
	parallel(n, func(i int) {
		vals[i], errs[i] = s.Secret(ctx, "session-key", func() ([]byte, error) {
			return fmt.Appendf(nil, "value-%d", i), nil
		})
	})
	for i := range n {
		noErr(t, "Secret", errs[i])
		if !bytes.Equal(vals[i], vals[0]) {
			t.Fatalf("caller %d got %q, caller 0 got %q", i, vals[i], vals[0])
		}
	}
	v, err := s.Secret(ctx, "session-key", func() ([]byte, error) { return []byte("late"), nil })
	noErr(t, "Secret(after)", err)
	if !bytes.Equal(v, vals[0]) {
		t.Errorf("stored %q, callers got %q", v, vals[0])
	}
}

// --- audit ---

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev, err := s.AuditEvents(ctx, 0, 10)
	noErr(t, "AuditEvents(empty)", err)
	if len(ev) != 0 {
		t.Fatalf("empty audit log has %d events", len(ev))
	}
	t0 := base()
	in := []*model.AuditEvent{
		{At: t0, UserID: 1, Username: "alice", Event: "signin.password.ok", RemoteIP: "192.0.2.1", Detail: "d1"},
		{At: t0.Add(time.Second), UserID: 2, Username: "bob", Event: "signin.password.fail", RemoteIP: "192.0.2.2"},
		{At: t0.Add(2 * time.Second), Username: "mallory", Event: "signin.unknown_user", RemoteIP: "192.0.2.3"},
		{At: t0.Add(3 * time.Second), UserID: 1, Username: "alice", Event: "totp.enrolled", Detail: "phone"},
		{At: t0.Add(3 * time.Second), UserID: 1, Username: "alice", Event: "signin.totp.ok"}, // same At: later ID first
	}
	for _, e := range in {
		noErr(t, "AppendAudit", s.AppendAudit(ctx, e))
		if e.ID == 0 {
			t.Fatal("AppendAudit did not set ID")
		}
	}
	now := &model.AuditEvent{Event: "config.reloaded"}
	before := time.Now().Add(-time.Second)
	noErr(t, "AppendAudit(zero At)", s.AppendAudit(ctx, now))
	if now.At.Before(before) || now.At.After(time.Now().Add(time.Second)) {
		t.Errorf("AppendAudit set At = %v, not about now", now.At)
	}
	checkUTC(t, "At", now.At)

	check := func(got []model.AuditEvent, want ...*model.AuditEvent) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if g.ID != w.ID || g.UserID != w.UserID || g.Username != w.Username || g.Event != w.Event ||
				g.RemoteIP != w.RemoteIP || g.Detail != w.Detail {
				t.Errorf("event %d = %+v, want %+v", i, g, *w)
			}
			sameTime(t, "At", g.At, ms(w.At))
		}
	}
	all, err := s.AuditEvents(ctx, 0, 100)
	noErr(t, "AuditEvents", err)
	check(all, now, in[4], in[3], in[2], in[1], in[0])
	lim, err := s.AuditEvents(ctx, 0, 2)
	noErr(t, "AuditEvents(limit)", err)
	check(lim, now, in[4])
	alice, err := s.AuditEvents(ctx, 1, 100)
	noErr(t, "AuditEvents(user)", err)
	check(alice, in[4], in[3], in[0])
	alice2, err := s.AuditEvents(ctx, 1, 2)
	noErr(t, "AuditEvents(user, limit)", err)
	check(alice2, in[4], in[3])
	none, err := s.AuditEvents(ctx, 99, 100)
	noErr(t, "AuditEvents(unknown user)", err)
	check(none)
}

// --- times ---

func testTimes(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	got, err := s.UserByID(ctx, u.ID)
	noErr(t, "UserByID", err)
	checkUTC(t, "user CreatedAt", got.CreatedAt)
	if !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("CreatedAt stored %v, returned at create %v", got.CreatedAt, u.CreatedAt)
	}

	// Sub-millisecond digits and a non-UTC zone come back truncated, in UTC.
	t0 := base()
	sess := newSession(1, u.ID, t0)
	sess.LastSeenAt = t0.Add(999 * time.Microsecond)
	sess.MFAAt = t0.Add(1500 * time.Microsecond)
	mustCreateSession(t, s, sess)
	gs, err := s.SessionByHash(ctx, hash(1))
	noErr(t, "SessionByHash", err)
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", gs.CreatedAt, time.Date(2025, 3, 14, 9, 39, 26, 535000000, time.UTC)},
		{"LastSeenAt", gs.LastSeenAt, time.Date(2025, 3, 14, 9, 39, 26, 536000000, time.UTC)},
		{"MFAAt", gs.MFAAt, time.Date(2025, 3, 14, 9, 39, 26, 537000000, time.UTC)},
	} {
		if !c.got.Equal(c.want) || c.got.Location() != time.UTC {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	e := &model.AuditEvent{At: t0, Event: "x"}
	noErr(t, "AppendAudit", s.AppendAudit(ctx, e))
	ev, err := s.AuditEvents(ctx, 0, 1)
	noErr(t, "AuditEvents", err)
	if len(ev) != 1 || !ev[0].At.Equal(ms(t0)) || ev[0].At.Location() != time.UTC {
		t.Errorf("audit At = %+v, want %v", ev, ms(t0))
	}

	_, f, err := s.ClaimFailure(ctx, "k", t0, time.Hour, 1, time.Minute)
	noErr(t, "ClaimFailure", err)
	checkFailures(t, "ClaimFailure", f, 1, ms(t0), ms(t0).Add(time.Minute))
}

// --- context ---

// testUntrustedText: text fields carry what clients send (user agents,
// typed usernames in audit entries). Callers clean it (see package safetext), and every backend must then store it unchanged.
func testUntrustedText(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	odd := safetext.Clean(strings.Repeat("a", 255)+"\u00e9"+"\x00\xff end", 256)
	if !utf8.ValidString(odd) || strings.ContainsRune(odd, 0) || len(odd) > 256 {
		t.Fatalf("safetext.Clean left %q", odd)
	}
	sess := newSession(9, u.ID, base())
	sess.UserAgent = odd
	noErr(t, "CreateSession(odd user agent)", s.CreateSession(ctx, sess))
	got, err := s.SessionByHash(ctx, sess.IDHash)
	noErr(t, "SessionByHash", err)
	if got.UserAgent != odd {
		t.Errorf("UserAgent = %q, want %q", got.UserAgent, odd)
	}
	name := safetext.Clean("eve\x00\xfe\u00e9", 64)
	noErr(t, "AppendAudit(odd username)", s.AppendAudit(ctx, &model.AuditEvent{Username: name, Event: "test", Detail: safetext.Clean("d\x00\xc3", 64), At: base()}))
}

func testCanceled(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	checks := map[string]error{
		"CreateUser": s.CreateUser(ctx, newUser("bob")),
		"UserByID": func() error {
			_, err := s.UserByID(ctx, u.ID)
			return err
		}(),
		"ListUsers": func() error {
			_, err := s.ListUsers(ctx)
			return err
		}(),
		"ClaimFailure": func() error {
			_, _, err := s.ClaimFailure(ctx, "k", time.Now(), time.Hour, 5, time.Hour)
			return err
		}(),
		"ReleaseFailure": s.ReleaseFailure(ctx, "k", time.Now(), 5),
		"WrongSecretSeen": func() error {
			_, err := s.WrongSecretSeen(ctx, "k", []byte{1}, time.Now())
			return err
		}(),
		"RememberWrongSecret": s.RememberWrongSecret(ctx, "k", []byte{1}, time.Now(), 5, time.Now()),
		"AppendAudit":         s.AppendAudit(ctx, &model.AuditEvent{Event: "x"}),
		"CreateAppPassword":   createAppPassword(ctx, s, newAppPassword(u.ID, 1), model.MaxAppPasswords),
		"AppPasswords": func() error {
			_, err := s.AppPasswords(ctx, u.ID)
			return err
		}(),
	}
	for name, err := range checks {
		wantErr(t, name+"(canceled)", err, context.Canceled)
	}
	if _, err := s.UserByName(t.Context(), "bob"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("user created with a canceled context: err = %v", err)
	}
	if aps, err := s.AppPasswords(t.Context(), u.ID); err != nil || len(aps) != 0 {
		t.Errorf("app password created with a canceled context: %+v, %v", aps, err)
	}
}

// testTOTPPromotesEnabled: registering an authenticator makes an Enabled
// user Enforced in the same transaction (the core's rule, under this
// store's user lock); other states stay.
func testTOTPPromotesEnabled(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, c := range []struct {
		state model.MFAState
		after model.MFAState
	}{
		{model.MFAEnabled, model.MFAEnforced},
		{model.MFADisabled, model.MFADisabled},
		{model.MFAEnforced, model.MFAEnforced},
	} {
		u := newUser("u-" + string(c.state))
		u.MFAState = c.state
		noErr(t, "CreateUser", s.CreateUser(ctx, u))
		noErr(t, "enrol", enrol(s, ctx, u.ID, []byte("s"), true))
		got, err := s.UserByID(ctx, u.ID)
		noErr(t, "UserByID", err)
		if got.MFAState != c.after {
			t.Errorf("%s user: state %s; want %s", c.state, got.MFAState, c.after)
		}
	}
	// A refused add (a first method exists already) promotes nothing.
	u := newUser("refused")
	u.MFAState = model.MFAEnabled
	noErr(t, "CreateUser", s.CreateUser(ctx, u))
	noErr(t, "AddTOTP", addTOTP(s, ctx, &model.TOTPAuthenticator{UserID: u.ID, Name: "a", SealedSecret: []byte("s")}))
	if err := enrol(s, ctx, u.ID, []byte("b"), true); !errors.Is(err, model.ErrConflict) {
		t.Errorf("refused add: %v", err)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.MFAState != model.MFAEnabled {
		t.Errorf("refused add changed the state to %s", got.MFAState)
	}
}

// testPasswordReset: a new password ends the user's sessions and, when
// asked, deletes their app passwords, in one transaction; other users'
// rows stay.
func testPasswordReset(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	other := mustCreateUser(t, s, "bob")
	for i, id := range []int64{u.ID, u.ID, other.ID} {
		noErr(t, "CreateSession", s.CreateSession(ctx, newSession(byte(40+i), id, base())))
		noErr(t, "CreateAppPassword", createAppPassword(ctx, s, newAppPassword(id, 40+i), model.MaxAppPasswords))
	}
	n, err := setPassword(s, ctx, u.ID, "$2a$10$kept", false)
	noErr(t, "SetPassword(keep app passwords)", err)
	aps, _ := s.AppPasswords(ctx, u.ID)
	if n != 0 || len(aps) != 2 {
		t.Errorf("keeping app passwords: %d deleted, %d left; want 0 and 2", n, len(aps))
	}
	if _, err := s.SessionByHash(ctx, newSession(40, u.ID, base()).IDHash); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("session after a password change: %v, want ErrNotFound", err)
	}
	n, err = setPassword(s, ctx, u.ID, "$2a$10$reset", true)
	noErr(t, "SetPassword(drop app passwords)", err)
	aps, _ = s.AppPasswords(ctx, u.ID)
	if n != 2 || len(aps) != 0 {
		t.Errorf("reset: %d deleted, %d left; want 2 and 0", n, len(aps))
	}
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != "$2a$10$reset" {
		t.Errorf("hash = %q", got.PasswordHash)
	}
	if aps, _ := s.AppPasswords(ctx, other.ID); len(aps) != 1 {
		t.Errorf("the other user's app passwords: %d, want 1", len(aps))
	}
	if _, err := s.SessionByHash(ctx, newSession(42, other.ID, base()).IDHash); err != nil {
		t.Errorf("the other user's session: %v", err)
	}
}
