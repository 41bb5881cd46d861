package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// accessPassTests are the conformance cases of Temporary Access Passes
// (migration 0011), run by Run.
var accessPassTests = []struct {
	name string
	fn   func(*testing.T, store.Store)
}{
	{"AccessPass/PutReplacesUseDelete", testAccessPassPutReplaces},
	{"AccessPass/OnceUsedOnceConcurrent", testAccessPassOnceConcurrent},
}

// A user has at most one pass: putting another replaces it (a new ID);
// a multi-use pass counts each use; deleting names the pass, so a
// replaced pass's ID deletes nothing; removing the user removes it.
func testAccessPassPutReplaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice"), mustCreateUser(t, s, "bob")
	if _, err := s.AccessPass(ctx, alice.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("AccessPass before any = %v, want ErrNotFound", err)
	}
	expires := time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	first := &model.AccessPass{UserID: alice.ID, Hash: "$2a$10$first", ExpiresAt: expires, IssuedBy: "cli"}
	update(t, s, "put first", func(ctx context.Context, tx store.Tx) error { return tx.PutAccessPass(ctx, first) })
	if first.ID == 0 || first.CreatedAt.IsZero() {
		t.Fatalf("ID and creation time not set: %+v", first)
	}
	got, err := s.AccessPass(ctx, alice.ID)
	noErr(t, "AccessPass", err)
	if got.ID != first.ID || got.Hash != first.Hash || got.Once || !got.ExpiresAt.Equal(expires) || got.Uses != 0 ||
		!got.LastUsedAt.IsZero() || got.IssuedBy != "cli" || !got.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("stored pass = %+v, want %+v", got, first)
	}
	at := time.Date(2029, 6, 1, 12, 0, 0, 0, time.UTC)
	update(t, s, "use twice", func(ctx context.Context, tx store.Tx) error {
		if err := tx.UseAccessPass(ctx, alice.ID, first.ID, at); err != nil {
			return err
		}
		return tx.UseAccessPass(ctx, alice.ID, first.ID, at.Add(time.Minute))
	})
	got, err = s.AccessPass(ctx, alice.ID)
	noErr(t, "AccessPass after uses", err)
	if got.Uses != 2 || !got.LastUsedAt.Equal(at.Add(time.Minute)) {
		t.Errorf("after two uses: uses %d, last %v", got.Uses, got.LastUsedAt)
	}

	second := &model.AccessPass{UserID: alice.ID, Hash: "$2a$10$second", Once: true, ExpiresAt: expires, IssuedBy: "admin root"}
	update(t, s, "put second", func(ctx context.Context, tx store.Tx) error {
		if old, err := tx.AccessPass(ctx, alice.ID); err != nil || old.ID != first.ID {
			t.Errorf("pass in tx = %+v, %v; want the first", old, err)
		}
		return tx.PutAccessPass(ctx, second)
	})
	got, err = s.AccessPass(ctx, alice.ID)
	noErr(t, "AccessPass after replace", err)
	if got.ID != second.ID || second.ID == first.ID || !got.Once || got.Uses != 0 || got.Hash != "$2a$10$second" {
		t.Errorf("after replace = %+v, want the second, unused", got)
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteAccessPass(ctx, alice.ID, first.ID) })
	if !errors.Is(err, model.ErrNotFound) {
		t.Errorf("deleting the replaced pass = %v, want ErrNotFound", err)
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.UseAccessPass(ctx, alice.ID, first.ID, at) })
	if !errors.Is(err, model.ErrNotFound) {
		t.Errorf("using the replaced pass = %v, want ErrNotFound", err)
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteAccessPass(ctx, bob.ID, second.ID) })
	if !errors.Is(err, model.ErrNotFound) {
		t.Errorf("deleting alice's pass as bob's = %v, want ErrNotFound", err)
	}
	update(t, s, "delete", func(ctx context.Context, tx store.Tx) error { return tx.DeleteAccessPass(ctx, alice.ID, second.ID) })
	if _, err := s.AccessPass(ctx, alice.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("AccessPass after delete = %v, want ErrNotFound", err)
	}

	third := &model.AccessPass{UserID: bob.ID, Hash: "$2a$10$third", ExpiresAt: expires}
	update(t, s, "put bob's", func(ctx context.Context, tx store.Tx) error { return tx.PutAccessPass(ctx, third) })
	update(t, s, "remove bob", func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, bob.ID) })
	if _, err := s.AccessPass(ctx, bob.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("a removed user's pass = %v, want ErrNotFound", err)
	}
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.PutAccessPass(ctx, &model.AccessPass{UserID: bob.ID, Hash: "x", ExpiresAt: expires})
	})
	if !errors.Is(err, model.ErrNotFound) {
		t.Errorf("a pass for a removed user = %v, want ErrNotFound", err)
	}
}

// A one-time pass counts one use however many transactions use it at
// once.
func testAccessPassOnceConcurrent(t *testing.T, s store.Store) {
	alice := mustCreateUser(t, s, "alice")
	p := &model.AccessPass{UserID: alice.ID, Hash: "$2a$10$once", Once: true, ExpiresAt: time.Now().Add(time.Hour)}
	update(t, s, "put", func(ctx context.Context, tx store.Tx) error { return tx.PutAccessPass(ctx, p) })
	const n = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	used, gone := 0, 0
	for range n {
		wg.Go(func() {
			err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
				return tx.UseAccessPass(ctx, alice.ID, p.ID, time.Now())
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				used++
			case errors.Is(err, model.ErrNotFound):
				gone++
			default:
				t.Errorf("UseAccessPass: %v", err)
			}
		})
	}
	wg.Wait()
	if used != 1 || gone != n-1 {
		t.Errorf("%d uses counted, %d refused; want 1 and %d", used, gone, n-1)
	}
	got, err := s.AccessPass(t.Context(), alice.ID)
	noErr(t, "AccessPass", err)
	if got.Uses != 1 || !got.UsedUp() {
		t.Errorf("after the race: %+v, want used once", got)
	}
}
