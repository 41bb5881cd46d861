package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// recoveryTests are the conformance cases of recovery codes and notices
// (migration 0010), run by Run.
var recoveryTests = []struct {
	name string
	fn   func(*testing.T, store.Store)
}{
	{"Recovery/CodesReplaceUseDelete", testRecoveryCodes},
	{"Recovery/CodeUsedOnceConcurrent", testRecoveryCodeUseConcurrent},
	{"Recovery/Notices", testRecoveryNotices},
	{"Recovery/DeleteUserCascades", testRecoveryDeleteUserCascades},
}

func newRecoveryCodes(prefix string, n int) []model.RecoveryCode {
	out := make([]model.RecoveryCode, n)
	for i := range out {
		out[i] = model.RecoveryCode{LookupTag: []byte(prefix + string(rune('a'+i))), Hash: "$2a$10$hash-" + prefix}
	}
	return out
}

// A set of codes is stored, found by tag while unused, used once, counted,
// replaced (voiding the old set) and deleted, only for its own user.
func testRecoveryCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	first := newRecoveryCodes("one-", 3)
	var voided int64
	update(t, s, "replace codes", func(ctx context.Context, tx store.Tx) (err error) {
		voided, err = tx.ReplaceRecoveryCodes(ctx, alice.ID, first)
		return err
	})
	if voided != 0 || first[0].ID == 0 || first[2].UserID != alice.ID || first[1].CreatedAt.IsZero() {
		t.Fatalf("first set: voided %d, codes %+v", voided, first)
	}
	if n, total, err := s.RecoveryCodeCounts(ctx, alice.ID); err != nil || n != 3 || total != 3 {
		t.Fatalf("RecoveryCodeCounts = %d, %d, %v; want 3 of 3", n, total, err)
	}
	got, err := s.RecoveryCodeByTag(ctx, alice.ID, []byte("one-b"))
	noErr(t, "RecoveryCodeByTag", err)
	if got.ID != first[1].ID || got.Hash != "$2a$10$hash-one-" || !got.UsedAt.IsZero() {
		t.Errorf("RecoveryCodeByTag = %+v, want %+v", got, first[1])
	}
	_, err = s.RecoveryCodeByTag(ctx, bob.ID, []byte("one-b"))
	wantErr(t, "RecoveryCodeByTag (another user's)", err, model.ErrNotFound)

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.UseRecoveryCode(ctx, bob.ID, first[1].ID, at, "192.0.2.9")
	})
	wantErr(t, "UseRecoveryCode (another user's)", err, model.ErrNotFound)
	var left int
	update(t, s, "use code", func(ctx context.Context, tx store.Tx) (err error) {
		if err := tx.UseRecoveryCode(ctx, alice.ID, first[1].ID, at, "192.0.2.1"); err != nil {
			return err
		}
		left, err = tx.RecoveryCodesLeft(ctx, alice.ID)
		return err
	})
	if left != 2 {
		t.Errorf("left in the transaction = %d, want 2", left)
	}
	if n, total, _ := s.RecoveryCodeCounts(ctx, alice.ID); n != 2 || total != 3 {
		t.Errorf("after a use: %d of %d left, want 2 of 3", n, total)
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.UseRecoveryCode(ctx, alice.ID, first[1].ID, at, "192.0.2.1")
	})
	wantErr(t, "UseRecoveryCode (again)", err, model.ErrNotFound)
	_, err = s.RecoveryCodeByTag(ctx, alice.ID, []byte("one-b"))
	wantErr(t, "RecoveryCodeByTag (used)", err, model.ErrNotFound)

	second := newRecoveryCodes("two-", 2)
	update(t, s, "regenerate", func(ctx context.Context, tx store.Tx) (err error) {
		voided, err = tx.ReplaceRecoveryCodes(ctx, alice.ID, second)
		return err
	})
	if voided != 2 {
		t.Errorf("regenerating voided %d, want the 2 unused", voided)
	}
	_, err = s.RecoveryCodeByTag(ctx, alice.ID, []byte("one-a"))
	wantErr(t, "RecoveryCodeByTag (voided set)", err, model.ErrNotFound)
	if n, total, _ := s.RecoveryCodeCounts(ctx, alice.ID); n != 2 || total != 2 {
		t.Errorf("after regenerating: %d of %d left, want 2 of 2", n, total)
	}
	update(t, s, "bob's codes", func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ReplaceRecoveryCodes(ctx, bob.ID, newRecoveryCodes("bob-", 1))
		return err
	})
	update(t, s, "delete codes", func(ctx context.Context, tx store.Tx) (err error) {
		voided, err = tx.DeleteRecoveryCodes(ctx, alice.ID)
		return err
	})
	if n, total, _ := s.RecoveryCodeCounts(ctx, alice.ID); n != 0 || total != 0 || voided != 2 {
		t.Errorf("after delete: %d left, %d deleted; want 0 and 2", n, voided)
	}
	if n, _, _ := s.RecoveryCodeCounts(ctx, bob.ID); n != 1 {
		t.Errorf("bob's codes after alice's delete = %d, want 1", n)
	}
}

// Of concurrent uses of one code, on any connection, exactly one succeeds.
func testRecoveryCodeUseConcurrent(t *testing.T, s store.Store) {
	alice := mustCreateUser(t, s, "alice")
	codes := newRecoveryCodes("c-", 1)
	update(t, s, "codes", func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ReplaceRecoveryCodes(ctx, alice.ID, codes)
		return err
	})
	var ok, gone atomic.Int32
	parallel(8, func(int) {
		err := s.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
			return tx.UseRecoveryCode(ctx, alice.ID, codes[0].ID, time.Now(), "192.0.2.1")
		})
		switch {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, model.ErrNotFound):
			gone.Add(1)
		default:
			t.Errorf("UseRecoveryCode: %v", err)
		}
	})
	if ok.Load() != 1 || gone.Load() != 7 {
		t.Errorf("%d uses succeeded and %d were refused; want 1 and 7", ok.Load(), gone.Load())
	}
}

// Notices are listed newest first until dismissed; a sign-in marks those
// made before it shown once.
func testRecoveryNotices(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	older := &model.RecoveryNotice{UserID: alice.ID, Kind: model.RecoveryByCode, RemoteIP: "192.0.2.1", Site: "app.example", CreatedAt: t0}
	newer := &model.RecoveryNotice{UserID: alice.ID, Kind: model.RecoveryByPass, RemoteIP: "192.0.2.2", CreatedAt: t0.Add(time.Hour)}
	update(t, s, "add notices", func(ctx context.Context, tx store.Tx) error {
		for _, n := range []*model.RecoveryNotice{older, newer, {UserID: bob.ID, Kind: model.RecoveryByCode}} {
			if err := tx.AddRecoveryNotice(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.AddRecoveryNotice(ctx, &model.RecoveryNotice{UserID: alice.ID, Kind: "magic"})
	})
	if err == nil {
		t.Error("AddRecoveryNotice accepted an unknown kind")
	}
	got, err := s.RecoveryNotices(ctx, alice.ID)
	noErr(t, "RecoveryNotices", err)
	if len(got) != 2 || got[0].ID != newer.ID || got[1].ID != older.ID || got[1].Kind != model.RecoveryByCode ||
		got[1].RemoteIP != "192.0.2.1" || got[1].Site != "app.example" || !got[1].CreatedAt.Equal(t0) || !got[0].ShownAtSignIn.IsZero() {
		t.Fatalf("notices = %+v, want the pass's then the code's", got)
	}
	var n int64
	update(t, s, "mark shown", func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.MarkRecoveryNoticesShown(ctx, alice.ID, t0.Add(30*time.Minute), t0.Add(2*time.Hour))
		return err
	})
	got, _ = s.RecoveryNotices(ctx, alice.ID)
	if n != 1 || got[1].ShownAtSignIn.IsZero() || !got[0].ShownAtSignIn.IsZero() {
		t.Errorf("marked %d; notices %+v; want the older one alone shown", n, got)
	}
	update(t, s, "mark shown again", func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.MarkRecoveryNoticesShown(ctx, alice.ID, t0.Add(30*time.Minute), t0.Add(3*time.Hour))
		return err
	})
	if n != 0 {
		t.Errorf("marked %d again, want 0", n)
	}
	update(t, s, "dismiss", func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.DismissRecoveryNotices(ctx, alice.ID, t0.Add(4*time.Hour))
		return err
	})
	if got, _ := s.RecoveryNotices(ctx, alice.ID); n != 2 || len(got) != 0 {
		t.Errorf("dismissed %d; left %+v; want 2 and none", n, got)
	}
	if got, _ := s.RecoveryNotices(ctx, bob.ID); len(got) != 1 {
		t.Errorf("bob's notices = %+v, want his one", got)
	}
}

// Removing a user removes their codes and notices.
func testRecoveryDeleteUserCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	update(t, s, "rows", func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.ReplaceRecoveryCodes(ctx, alice.ID, newRecoveryCodes("x-", 2)); err != nil {
			return err
		}
		return tx.AddRecoveryNotice(ctx, &model.RecoveryNotice{UserID: alice.ID, Kind: model.RecoveryByCode})
	})
	update(t, s, "delete user", func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, alice.ID) })
	if n, _, err := s.RecoveryCodeCounts(ctx, alice.ID); err != nil || n != 0 {
		t.Errorf("codes after removal = %d, %v", n, err)
	}
	if got, err := s.RecoveryNotices(ctx, alice.ID); err != nil || len(got) != 0 {
		t.Errorf("notices after removal = %+v, %v", got, err)
	}
}
