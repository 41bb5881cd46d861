package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// testSignIns: rows round-trip, filters select, paging walks backwards
// without gaps or repeats.
func testSignIns(t *testing.T, s store.Store) {
	ctx := t.Context()
	t0 := ms(base())
	var ids []int64
	for i := range 10 {
		e := &model.SignIn{At: t0.Add(time.Duration(i) * time.Minute), UserID: int64(1 + i%2), Username: fmt.Sprintf("user%d", 1+i%2),
			Site: "files.example.com", RemoteIP: "192.0.2.1", UserAgent: "ua", Client: model.ClientBrowser,
			FirstFactor: "password", SecondFactor: "code", Result: model.SignInSuccess}
		if i%3 == 0 {
			e.Result, e.Reason, e.Site = model.SignInFailure, "wrong password", "wiki.example.com"
		}
		noErr(t, "AppendSignIn", s.AppendSignIn(ctx, e))
		if e.ID == 0 {
			t.Fatal("AppendSignIn set no ID")
		}
		ids = append(ids, e.ID)
	}
	unknown := &model.SignIn{Username: "unknown:abcd", Result: model.SignInFailure, Reason: "unknown user", Client: model.ClientNonBrowser}
	noErr(t, "AppendSignIn(unknown, zero At)", s.AppendSignIn(ctx, unknown))
	if time.Since(unknown.At) > time.Minute {
		t.Errorf("zero At stored as %v", unknown.At)
	}

	all, err := s.SignIns(ctx, model.SignInFilter{})
	noErr(t, "SignIns", err)
	if len(all) != 11 || all[0].ID != unknown.ID || all[0].UserID != 0 || all[10].ID != ids[0] {
		t.Fatalf("SignIns() = %d rows, newest %+v", len(all), all[0])
	}
	if got := all[10]; !got.At.Equal(t0) || got.Site != "wiki.example.com" || got.Reason != "wrong password" || got.Client != model.ClientBrowser || got.SecondFactor != "code" {
		t.Errorf("oldest row = %+v", got)
	}
	count := func(f model.SignInFilter) int {
		t.Helper()
		rows, err := s.SignIns(ctx, f)
		noErr(t, "SignIns(filter)", err)
		return len(rows)
	}
	cases := []struct {
		name string
		f    model.SignInFilter
		want int
	}{
		{"user", model.SignInFilter{UserID: 1}, 5},
		{"failures", model.SignInFilter{Result: model.SignInFailure}, 5},
		{"site", model.SignInFilter{Site: "wiki.example.com"}, 4},
		{"since", model.SignInFilter{Since: t0.Add(5 * time.Minute), Until: t0.Add(time.Hour)}, 5},
		{"until", model.SignInFilter{Until: t0.Add(2 * time.Minute)}, 2},
		{"limit", model.SignInFilter{Limit: 3}, 3},
	}
	for _, c := range cases {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d rows, want %d", c.name, got, c.want)
		}
	}
	// Paging by BeforeID visits every row once.
	seen := map[int64]bool{}
	f := model.SignInFilter{Limit: 4}
	for {
		page, err := s.SignIns(ctx, f)
		noErr(t, "SignIns(page)", err)
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if seen[r.ID] {
				t.Fatalf("row %d on two pages", r.ID)
			}
			seen[r.ID] = true
		}
		f.BeforeID = page[len(page)-1].ID
	}
	if len(seen) != 11 {
		t.Errorf("paging visited %d rows, want 11", len(seen))
	}

	// Retention: old rows go in batches, oldest first.
	n, err := s.DeleteSignInsBefore(ctx, t0.Add(5*time.Minute), 3)
	noErr(t, "DeleteSignInsBefore", err)
	if n != 3 {
		t.Errorf("first batch deleted %d, want 3", n)
	}
	n, err = s.DeleteSignInsBefore(ctx, t0.Add(5*time.Minute), 3)
	noErr(t, "DeleteSignInsBefore", err)
	if n != 2 {
		t.Errorf("second batch deleted %d, want 2", n)
	}
	if got := count(model.SignInFilter{}); got != 6 {
		t.Errorf("%d rows left, want 6", got)
	}
}
