package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// testFailedSignIns: a user's consecutive failed sign-ins start at 0,
// grow by one per AddFailedSignIn (each returning the new count) for that
// user only, outlast everything but a success row of AppendSignIn or
// ResetFailedSignIns, and a rolled-back add counts nothing. Unknown users
// have none.
func testFailedSignIns(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	v := mustCreateUser(t, s, "bob")
	count := func(id int64) int {
		t.Helper()
		n, err := s.FailedSignIns(ctx, id)
		noErr(t, "FailedSignIns", err)
		return n
	}
	add := func(id int64) (int, error) {
		var n int
		err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			n, err = tx.AddFailedSignIn(ctx, id)
			return err
		})
		return n, err
	}
	if got := count(u.ID); got != 0 {
		t.Fatalf("a new user has %d failed sign-ins", got)
	}
	for want := 1; want <= 3; want++ {
		n, err := add(u.ID)
		noErr(t, "AddFailedSignIn", err)
		if n != want {
			t.Errorf("AddFailedSignIn returned %d, want %d", n, want)
		}
	}
	if got := count(u.ID); got != 3 {
		t.Errorf("after 3 adds: %d failed sign-ins", got)
	}
	if got := count(v.ID); got != 0 {
		t.Errorf("another user's adds counted for bob: %d", got)
	}
	if _, err := add(u.ID + v.ID + 100); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("AddFailedSignIn(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.FailedSignIns(ctx, u.ID+v.ID+100); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("FailedSignIns(unknown) = %v, want ErrNotFound", err)
	}

	// A rolled-back add counts nothing.
	rollback := errors.New("roll back")
	err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.AddFailedSignIn(ctx, u.ID); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) || count(u.ID) != 3 {
		t.Errorf("rolled-back add: err %v, count %d, want 3", err, count(u.ID))
	}

	// A failure row of the sign-in log resets nothing; a success row does.
	noErr(t, "AppendSignIn(failure)", s.AppendSignIn(ctx, &model.SignIn{UserID: u.ID, Username: "alice",
		Result: model.SignInFailure, Reason: "wrong password"}))
	if got := count(u.ID); got != 3 {
		t.Errorf("a failure row reset the count to %d", got)
	}
	_, err = add(v.ID)
	noErr(t, "AddFailedSignIn(bob)", err)
	noErr(t, "AppendSignIn(success)", s.AppendSignIn(ctx, &model.SignIn{UserID: u.ID, Username: "alice",
		Result: model.SignInSuccess}))
	if got := count(u.ID); got != 0 {
		t.Errorf("after a successful sign-in: %d failed sign-ins, want 0", got)
	}
	if got := count(v.ID); got != 1 {
		t.Errorf("alice's success reset bob's count to %d", got)
	}

	// ResetFailedSignIns: 0 again; an unknown user is fine.
	noErr(t, "Update(Reset)", s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ResetFailedSignIns(ctx, v.ID); err != nil {
			return err
		}
		return tx.ResetFailedSignIns(ctx, u.ID+v.ID+100)
	}))
	if got := count(v.ID); got != 0 {
		t.Errorf("after ResetFailedSignIns: %d", got)
	}
}

// testFailedSignInsConcurrent: adds from many goroutines at once lose
// none, and each returns a different count.
func testFailedSignInsConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice")
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]bool{}
	for range n {
		wg.Go(func() {
			err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.AddFailedSignIn(ctx, u.ID)
				if err == nil {
					mu.Lock()
					seen[got] = true
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Errorf("AddFailedSignIn: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.FailedSignIns(ctx, u.ID)
	noErr(t, "FailedSignIns", err)
	if got != n || len(seen) != n {
		t.Errorf("%d concurrent adds: count %d, %d distinct results", n, got, len(seen))
	}
}
