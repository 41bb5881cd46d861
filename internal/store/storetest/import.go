package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// testCreateUsers: a batch of users (more than one statement's worth, with
// groups and a blocked one) goes in at once, each readable as CreateUser
// would have stored it.
func testCreateUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	noErr(t, "CreateUsers(none)", s.CreateUsers(ctx, nil))
	const n = 450 // three statements of users
	var us []*model.User
	for i := range n {
		u := newUser(fmt.Sprintf("user%03d", i), "staff", fmt.Sprintf("team%d", i%3), "staff", "")
		if i == 7 {
			u.BlockedAt, u.BlockedReason = base(), "disabled in the imported file"
		}
		us = append(us, u)
	}
	noErr(t, "CreateUsers", s.CreateUsers(ctx, us))
	ids := map[int64]bool{}
	for i, u := range us {
		if u.ID == 0 || ids[u.ID] || u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
			t.Fatalf("user %d: ID %d (seen %v), created %v", i, u.ID, ids[u.ID], u.CreatedAt)
		}
		ids[u.ID] = true
	}
	got, err := s.UserByName(ctx, "user007")
	noErr(t, "UserByName", err)
	want := fmt.Sprint([]string{"staff", "team1"})
	if got.ID != us[7].ID || got.PasswordHash != us[7].PasswordHash || got.Email != "user007@example.com" ||
		got.DisplayName != "User user007" || got.MFAState != model.MFAEnabled || fmt.Sprint(got.Groups) != want ||
		got.BlockedReason != "disabled in the imported file" {
		t.Errorf("stored user: %+v", got)
	}
	sameTime(t, "BlockedAt", got.BlockedAt, ms(base()))
	sameTime(t, "CreatedAt", got.CreatedAt, us[7].CreatedAt)
	if fmt.Sprint(us[7].Groups) != want {
		t.Errorf("groups set on the argument: %v", us[7].Groups)
	}
	other, err := s.UserByID(ctx, us[449].ID)
	noErr(t, "UserByID", err)
	if other.Username != "user449" || !other.BlockedAt.IsZero() || other.BlockedReason != "" {
		t.Errorf("last user: %+v", other)
	}
	list, err := s.ListUsers(ctx)
	noErr(t, "ListUsers", err)
	if len(list) != n {
		t.Errorf("%d users listed, want %d", len(list), n)
	}
}

// testCreateUsersAllOrNothing: a name taken already (in the middle of the
// batch, past its first statement) or given twice fails with
// model.ErrConflict naming it, and none of the batch is stored.
func testCreateUsersAllOrNothing(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "taken")
	batch := func(middle string) []*model.User {
		var us []*model.User
		for i := range 300 {
			name := fmt.Sprintf("new%03d", i)
			if i == 250 {
				name = middle
			}
			us = append(us, newUser(name, "g"))
		}
		return us
	}
	for _, tc := range []struct{ middle, why string }{{"taken", "exists"}, {"new010", "given twice"}} {
		err := s.CreateUsers(ctx, batch(tc.middle))
		wantErr(t, "CreateUsers("+tc.why+")", err, model.ErrConflict)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.middle)) {
			t.Errorf("%s: the error does not name %q: %v", tc.why, tc.middle, err)
		}
		list, err := s.ListUsers(ctx)
		noErr(t, "ListUsers", err)
		if len(list) != 1 || list[0].Username != "taken" {
			t.Fatalf("%s: users after a refused batch: %d", tc.why, len(list))
		}
		if _, err := s.UserByName(ctx, "new000"); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s: the batch's first user was kept: %v", tc.why, err)
		}
	}
	// A conflict the check cannot see coming (the unique index) rolls
	// back as well: two batches at once, sharing a name.
	a, b := batch("shared"), batch("shared")
	for i, u := range b {
		u.Username = strings.Replace(u.Username, "new", "other", 1)
		b[i] = u
	}
	var errs [2]error
	parallel(2, func(i int) { errs[i] = s.CreateUsers(ctx, [][]*model.User{a, b}[i]) })
	ok, conflicts := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, model.ErrConflict):
			conflicts++
		default:
			t.Errorf("concurrent batch: %v", err)
		}
	}
	if ok != 1 || conflicts != 1 {
		t.Fatalf("concurrent batches sharing a name: %v / %v, want one nil and one ErrConflict", errs[0], errs[1])
	}
	list, err := s.ListUsers(ctx)
	noErr(t, "ListUsers", err)
	if len(list) != 1+300 {
		t.Fatalf("%d users after two concurrent batches, want 301 (one batch and taken)", len(list))
	}
}
