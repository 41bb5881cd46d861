package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// webAuthnTests are the conformance cases of passkeys and security keys
// (migration 0009), run by Run.
var webAuthnTests = []struct {
	name string
	fn   func(*testing.T, store.Store)
}{
	{"WebAuthn/CredentialsAddListUseDelete", testWebAuthnCredentials},
	{"WebAuthn/GroupMembersCountPasskeys", testWebAuthnGroupMembers},
	{"WebAuthn/CredentialIDUniqueAcrossUsers", testWebAuthnCredentialIDUnique},
	{"WebAuthn/UserHandleOnce", testWebAuthnUserHandle},
	{"WebAuthn/UserHandleConcurrent", testWebAuthnUserHandleConcurrent},
	{"WebAuthn/ChallengeTakeOnce", testWebAuthnChallenge},
	{"WebAuthn/ChallengeTakeConcurrent", testWebAuthnChallengeConcurrent},
	{"WebAuthn/DeleteUserCascades", testWebAuthnDeleteUserCascades},
	{"WebAuthn/UserByHandle", testWebAuthnUserByHandle},
	{"WebAuthn/PasskeyChallengeUsedOnce", testPasskeyChallengeUsedOnce},
	{"WebAuthn/PasskeyChallengeUsedConcurrent", testPasskeyChallengeUsedConcurrent},
}

// update runs fn in one Update and fails the test on an error.
func update(t *testing.T, s store.Store, what string, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	noErr(t, what, s.Update(t.Context(), fn))
}

func newCredential(userID int64, id string) *model.WebAuthnCredential {
	return &model.WebAuthnCredential{UserID: userID, CredentialID: []byte(id), PublicKey: []byte("cose-key-" + id),
		AttestationType: "none", AAGUID: bytes.Repeat([]byte{0xab}, 16), SignCount: 7, Name: "Key " + id,
		RPID: "example.com", Transports: []string{"usb", "nfc"}, BackupEligible: true, Discoverable: true}
}

// Credentials are stored with every field, listed oldest first, updated
// by an assertion (sign count up to 2^32-1, flags, last use) and deleted,
// only by their own user.
func testWebAuthnCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	first, second := newCredential(alice.ID, "cred-1"), newCredential(alice.ID, "cred-2")
	second.Transports, second.AAGUID, second.Discoverable = nil, make([]byte, 16), false
	update(t, s, "add credentials", func(ctx context.Context, tx store.Tx) error {
		if err := tx.AddWebAuthnCredential(ctx, first); err != nil {
			return err
		}
		return tx.AddWebAuthnCredential(ctx, second)
	})
	if first.ID == 0 || second.ID == 0 || first.CreatedAt.IsZero() {
		t.Fatalf("IDs and creation time not set: %+v, %+v", first, second)
	}
	got, err := s.WebAuthnCredentials(ctx, alice.ID)
	noErr(t, "WebAuthnCredentials", err)
	if len(got) != 2 || got[0].ID != first.ID || got[1].ID != second.ID {
		t.Fatalf("credentials = %+v, want cred-1 then cred-2", got)
	}
	c := got[0]
	if !bytes.Equal(c.CredentialID, first.CredentialID) || !bytes.Equal(c.PublicKey, first.PublicKey) ||
		!bytes.Equal(c.AAGUID, first.AAGUID) || c.SignCount != 7 || c.Name != "Key cred-1" || c.RPID != "example.com" ||
		!slices.Equal(c.Transports, []string{"usb", "nfc"}) || c.AttestationType != "none" || !c.BackupEligible ||
		c.BackupState || c.UserVerified || !c.Discoverable || !c.LastUsedAt.IsZero() || !c.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("stored credential = %+v, want %+v", c, first)
	}
	if got[1].Transports != nil || !bytes.Equal(got[1].AAGUID, make([]byte, 16)) || got[1].Discoverable {
		t.Errorf("second credential = %+v", got[1])
	}
	if others, err := s.WebAuthnCredentials(ctx, bob.ID); err != nil || len(others) != 0 {
		t.Errorf("bob's credentials = %+v, %v; want none", others, err)
	}

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	update(t, s, "use credential", func(ctx context.Context, tx store.Tx) error {
		return tx.UseWebAuthnCredential(ctx, alice.ID, first.ID, 1<<32-1, true, true, at)
	})
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.UseWebAuthnCredential(ctx, bob.ID, first.ID, 9, false, false, at)
	})
	wantErr(t, "UseWebAuthnCredential (another user's)", err, model.ErrNotFound)
	got, err = s.WebAuthnCredentials(ctx, alice.ID)
	noErr(t, "WebAuthnCredentials", err)
	if c := got[0]; c.SignCount != 1<<32-1 || !c.UserVerified || !c.BackupState || !c.LastUsedAt.Equal(at) {
		t.Errorf("after use: %+v, want sign count 2^32-1, verified, backed up, last used %v", c, at)
	}

	update(t, s, "rename credential", func(ctx context.Context, tx store.Tx) error {
		return tx.RenameWebAuthnCredential(ctx, alice.ID, second.ID, "Laptop")
	})
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.RenameWebAuthnCredential(ctx, bob.ID, second.ID, "Stolen")
	})
	wantErr(t, "RenameWebAuthnCredential (another user's)", err, model.ErrNotFound)
	if got, _ := s.WebAuthnCredentials(ctx, alice.ID); got[1].Name != "Laptop" {
		t.Errorf("renamed credential = %q, want Laptop", got[1].Name)
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteWebAuthnCredential(ctx, bob.ID, first.ID)
	})
	wantErr(t, "DeleteWebAuthnCredential (another user's)", err, model.ErrNotFound)
	update(t, s, "delete credential", func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteWebAuthnCredential(ctx, alice.ID, first.ID)
	})
	got, err = s.WebAuthnCredentials(ctx, alice.ID)
	noErr(t, "WebAuthnCredentials", err)
	if len(got) != 1 || got[0].ID != second.ID {
		t.Errorf("after delete: %+v, want cred-2 alone", got)
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteWebAuthnCredential(ctx, alice.ID, first.ID)
	})
	wantErr(t, "DeleteWebAuthnCredential (again)", err, model.ErrNotFound)
}

// A credential ID is registered once, whoever registers it again; an
// unknown user's credential is not stored.
func testWebAuthnCredentialIDUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	update(t, s, "add", func(ctx context.Context, tx store.Tx) error {
		return tx.AddWebAuthnCredential(ctx, newCredential(alice.ID, "shared"))
	})
	for _, u := range []*model.User{alice, bob} {
		err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.AddWebAuthnCredential(ctx, newCredential(u.ID, "shared"))
		})
		wantErr(t, "AddWebAuthnCredential (same ID, "+u.Username+")", err, model.ErrConflict)
	}
	// The refusal leaves the transaction usable: what else it wrote
	// commits (PostgreSQL aborts a transaction on a unique violation).
	update(t, s, "conflict, then more", func(ctx context.Context, tx store.Tx) error {
		err := tx.AddWebAuthnCredential(ctx, newCredential(bob.ID, "shared"))
		wantErr(t, "AddWebAuthnCredential (same ID, in a transaction)", err, model.ErrConflict)
		return tx.AppendAudit(ctx, &model.AuditEvent{UserID: bob.ID, Username: bob.Username, Event: "test.after_conflict"})
	})
	if evs, err := s.AuditEvents(ctx, bob.ID, 0); err != nil || len(evs) != 1 {
		t.Errorf("audit after a refused credential = %+v, %v; want the row written after it", evs, err)
	}
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.AddWebAuthnCredential(ctx, newCredential(bob.ID+100, "other"))
	})
	wantErr(t, "AddWebAuthnCredential (unknown user)", err, model.ErrNotFound)
	if got, _ := s.WebAuthnCredentials(ctx, bob.ID); len(got) != 0 {
		t.Errorf("bob's credentials = %+v, want none", got)
	}
}

// The first call stores its fresh handle; later ones get that one back.
// Users have distinct handles; an unknown user has none.
func testWebAuthnUserHandle(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	handle := func(u int64, fresh byte) ([]byte, error) {
		var h []byte
		err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			h, err = tx.WebAuthnUserHandle(ctx, u, bytes.Repeat([]byte{fresh}, 32))
			return err
		})
		return h, err
	}
	h1, err := handle(alice.ID, 1)
	noErr(t, "first handle", err)
	h2, err := handle(alice.ID, 2)
	noErr(t, "second handle", err)
	if !bytes.Equal(h1, bytes.Repeat([]byte{1}, 32)) || !bytes.Equal(h2, h1) {
		t.Errorf("handles = %x, %x; want the first one twice", h1, h2)
	}
	hb, err := handle(bob.ID, 3)
	noErr(t, "bob's handle", err)
	if bytes.Equal(hb, h1) {
		t.Errorf("bob's handle equals alice's")
	}
	_, err = handle(bob.ID+100, 4)
	wantErr(t, "handle of an unknown user", err, model.ErrNotFound)
}

// Concurrent first uses (several nodes) all get the one handle stored.
func testWebAuthnUserHandleConcurrent(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	const n = 8
	handles := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
				h, err := tx.WebAuthnUserHandle(ctx, u.ID, bytes.Repeat([]byte{byte(i + 1)}, 32))
				handles[i] = h
				return err
			})
		})
	}
	wg.Wait()
	for i := range n {
		noErr(t, "concurrent handle", errs[i])
		if !bytes.Equal(handles[i], handles[0]) {
			t.Fatalf("handles differ: %x and %x", handles[i], handles[0])
		}
	}
}

// A challenge is taken once; a new one of the same kind for the session
// replaces it, the other kind and other sessions are apart; putting one
// deletes every expired challenge.
func testWebAuthnChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	now := time.Now().UTC().Truncate(time.Millisecond)
	sessA, sessB := bytes.Repeat([]byte{0xa}, 32), bytes.Repeat([]byte{0xb}, 32)
	take := func(sess []byte, kind model.WebAuthnCeremony) (*model.WebAuthnChallenge, error) {
		var c *model.WebAuthnChallenge
		err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			c, err = tx.TakeWebAuthnChallenge(ctx, sess, kind)
			return err
		})
		return c, err
	}
	expires := now.Add(5 * time.Minute)
	update(t, s, "put challenge", func(ctx context.Context, tx store.Tx) error {
		return tx.PutWebAuthnChallenge(ctx, &model.WebAuthnChallenge{SessionHash: sessA, Ceremony: model.CeremonyAssert,
			UserID: u.ID, Data: []byte("old"), ExpiresAt: expires}, now)
	})
	for _, c := range []struct {
		sess []byte
		kind model.WebAuthnCeremony
		data string
	}{{sessA, model.CeremonyAssert, "new"}, {sessA, model.CeremonyRegister, "register"}, {sessB, model.CeremonyAssert, "B"}} {
		update(t, s, "put challenge", func(ctx context.Context, tx store.Tx) error {
			return tx.PutWebAuthnChallenge(ctx, &model.WebAuthnChallenge{SessionHash: c.sess, Ceremony: c.kind,
				UserID: u.ID, Data: []byte(c.data), ExpiresAt: expires}, now)
		})
	}
	got, err := take(sessA, model.CeremonyAssert)
	noErr(t, "take", err)
	if string(got.Data) != "new" || got.UserID != u.ID || !bytes.Equal(got.SessionHash, sessA) ||
		got.Ceremony != model.CeremonyAssert || !got.ExpiresAt.Equal(expires) || got.CreatedAt.IsZero() {
		t.Errorf("taken = %+v, want the newer assert challenge of session A", got)
	}
	_, err = take(sessA, model.CeremonyAssert)
	wantErr(t, "take again", err, model.ErrNotFound)
	if got, err := take(sessA, model.CeremonyRegister); err != nil || string(got.Data) != "register" {
		t.Errorf("register challenge = %+v, %v", got, err)
	}
	_, err = take(bytes.Repeat([]byte{0xc}, 32), model.CeremonyAssert)
	wantErr(t, "take (unknown session)", err, model.ErrNotFound)

	// Session B's challenge has expired by the time another is put.
	later := expires.Add(time.Second)
	update(t, s, "put after expiry", func(ctx context.Context, tx store.Tx) error {
		return tx.PutWebAuthnChallenge(ctx, &model.WebAuthnChallenge{SessionHash: sessA, Ceremony: model.CeremonyAssert,
			UserID: u.ID, Data: []byte("x"), ExpiresAt: later.Add(5 * time.Minute)}, later)
	})
	_, err = take(sessB, model.CeremonyAssert)
	wantErr(t, "take (expired, swept)", err, model.ErrNotFound)
}

// Of concurrent takes of one challenge (one per node), exactly one gets
// it.
func testWebAuthnChallengeConcurrent(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, "alice")
	sess := bytes.Repeat([]byte{0xa}, 32)
	now := time.Now()
	update(t, s, "put", func(ctx context.Context, tx store.Tx) error {
		return tx.PutWebAuthnChallenge(ctx, &model.WebAuthnChallenge{SessionHash: sess, Ceremony: model.CeremonyAssert,
			UserID: u.ID, Data: []byte("c"), ExpiresAt: now.Add(time.Minute)}, now)
	})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
				_, err := tx.TakeWebAuthnChallenge(ctx, sess, model.CeremonyAssert)
				return err
			})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, model.ErrNotFound):
			t.Errorf("take: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d takes got the challenge, want 1", won)
	}
}

// Deleting the user deletes their handle, credentials and challenges: a
// user added again under the name starts clean, and the credential ID can
// be registered again.
func testWebAuthnDeleteUserCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	sess := bytes.Repeat([]byte{0xa}, 32)
	update(t, s, "set up", func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.WebAuthnUserHandle(ctx, u.ID, bytes.Repeat([]byte{1}, 32)); err != nil {
			return err
		}
		if err := tx.AddWebAuthnCredential(ctx, newCredential(u.ID, "cred")); err != nil {
			return err
		}
		return tx.PutWebAuthnChallenge(ctx, &model.WebAuthnChallenge{SessionHash: sess, Ceremony: model.CeremonyRegister,
			UserID: u.ID, Data: []byte("c"), ExpiresAt: time.Now().Add(time.Minute)}, time.Now())
	})
	noErr(t, "DeleteUser", deleteUser(s, ctx, u.ID))
	again := mustCreateUser(t, s, "alice")
	update(t, s, "again", func(ctx context.Context, tx store.Tx) error {
		h, err := tx.WebAuthnUserHandle(ctx, again.ID, bytes.Repeat([]byte{2}, 32))
		if err == nil && !bytes.Equal(h, bytes.Repeat([]byte{2}, 32)) {
			t.Errorf("the new alice got the old handle")
		}
		if err != nil {
			return err
		}
		return tx.AddWebAuthnCredential(ctx, newCredential(again.ID, "cred"))
	})
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.TakeWebAuthnChallenge(ctx, sess, model.CeremonyRegister)
		return err
	})
	wantErr(t, "the deleted user's challenge", err, model.ErrNotFound)
}

// A user handle names its user; an unknown handle (or a deleted user's)
// names none.
func testWebAuthnUserByHandle(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	ha, hb := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	update(t, s, "handles", func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.WebAuthnUserHandle(ctx, alice.ID, ha); err != nil {
			return err
		}
		_, err := tx.WebAuthnUserHandle(ctx, bob.ID, hb)
		return err
	})
	for handle, want := range map[string]int64{string(ha): alice.ID, string(hb): bob.ID} {
		got, err := s.WebAuthnUserByHandle(ctx, []byte(handle))
		if err != nil || got != want {
			t.Errorf("user by handle %x = %d, %v; want %d", handle, got, err, want)
		}
	}
	_, err := s.WebAuthnUserByHandle(ctx, bytes.Repeat([]byte{3}, 32))
	wantErr(t, "unknown handle", err, model.ErrNotFound)
	_, err = s.WebAuthnUserByHandle(ctx, nil)
	wantErr(t, "empty handle", err, model.ErrNotFound)
	noErr(t, "DeleteUser", deleteUser(s, ctx, alice.ID))
	_, err = s.WebAuthnUserByHandle(ctx, ha)
	wantErr(t, "deleted user's handle", err, model.ErrNotFound)
}

// A passwordless challenge is recorded once: the second record is a
// conflict that leaves the transaction usable (the caller still commits
// its refusal's rows); a record deletes those past their expiry, so an
// expired challenge could be recorded again (the core refuses it as
// expired before it gets here).
func testPasskeyChallengeUsedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	a, b := bytes.Repeat([]byte{0xa}, 32), bytes.Repeat([]byte{0xb}, 32)
	use := func(h []byte, expires, at time.Time) error {
		return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.UsePasskeyChallenge(ctx, h, expires, at)
		})
	}
	noErr(t, "first use", use(a, now.Add(5*time.Minute), now))
	wantErr(t, "second use", use(a, now.Add(5*time.Minute), now), model.ErrConflict)
	noErr(t, "another challenge", use(b, now.Add(time.Minute), now))
	// The conflict leaves the transaction usable: its other writes commit.
	var u *model.User
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UsePasskeyChallenge(ctx, a, now.Add(5*time.Minute), now); !errors.Is(err, model.ErrConflict) {
			t.Errorf("replay in a transaction: err = %v, want model.ErrConflict", err)
		}
		u = &model.User{Username: "after-conflict", MFAState: model.MFADisabled}
		return tx.CreateUser(ctx, u)
	})
	noErr(t, "write after a conflict", err)
	if _, err := s.UserByName(ctx, "after-conflict"); err != nil {
		t.Errorf("the transaction's other write was lost after the conflict: %v", err)
	}
	// Past b's expiry (not a's), recording another sweeps b only.
	later := now.Add(2 * time.Minute)
	noErr(t, "a third challenge", use(bytes.Repeat([]byte{0xc}, 32), later.Add(5*time.Minute), later))
	noErr(t, "expired b swept, recorded again", use(b, later.Add(time.Minute), later))
	wantErr(t, "a still recorded", use(a, now.Add(5*time.Minute), later), model.ErrConflict)
	if err := use([]byte("short"), now, now); err == nil {
		t.Errorf("a hash that is not 32 bytes was recorded")
	}
}

// Of concurrent records of one challenge (one per node), exactly one
// succeeds.
func testPasskeyChallengeUsedConcurrent(t *testing.T, s store.Store) {
	h := bytes.Repeat([]byte{0xd}, 32)
	now := time.Now()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
				return tx.UsePasskeyChallenge(ctx, h, now.Add(time.Minute), now)
			})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, model.ErrConflict):
			t.Errorf("use: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d records of one challenge succeeded, want 1", won)
	}
}

// GroupMembers counts each member's passkeys with their other methods:
// the last-admin rule counts a passkey as a second factor.
func testWebAuthnGroupMembers(t *testing.T, s store.Store) {
	alice := mustCreateUser(t, s, "alice", "admins")
	update(t, s, "add a credential", func(ctx context.Context, tx store.Tx) error {
		return tx.AddWebAuthnCredential(ctx, newCredential(alice.ID, "admin-key"))
	})
	update(t, s, "group members", func(ctx context.Context, tx store.Tx) error {
		members, err := tx.GroupMembers(ctx, "admins")
		if err != nil {
			return err
		}
		if len(members) != 1 || members[0].Methods.Passkeys != 1 || members[0].Methods.Total() != 1 {
			t.Errorf("GroupMembers = %+v, want alice with one passkey", members)
		}
		return nil
	})
}
