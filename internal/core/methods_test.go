package core

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
)

func TestNextAuthenticatorNameSkipsNumbersInUse(t *testing.T) {
	names := func(ns ...string) []model.TOTPAuthenticator {
		var out []model.TOTPAuthenticator
		for _, n := range ns {
			out = append(out, model.TOTPAuthenticator{Name: n})
		}
		return out
	}
	cases := []struct {
		existing []model.TOTPAuthenticator
		want     string
	}{
		{nil, "Authenticator app"},
		{names("Authenticator app"), "Authenticator app 2"},
		{names("Authenticator app", "Authenticator app 3"), "Authenticator app 4"},
		{names("Authenticator app 3"), "Authenticator app 4"},
	}
	for _, c := range cases {
		if got := nextAuthenticatorName(c.existing); got != c.want {
			t.Errorf("after %v: %q, want %q", c.existing, got, c.want)
		}
	}
}

// TestAddingTheSameAuthenticatorTwiceAddsOne: the check that the secret
// is not on the account yet and the insert are one transaction, so the
// same pending form posted several times at once adds it once
// (ErrAlreadyEnrolled for the others).
func TestAddingTheSameAuthenticatorTwiceAddsOne(t *testing.T) {
	ctx := context.Background()
	f := newApprovalFixture(t)
	sealed, err := f.c.Codes.Seal(f.user.ID, []byte("the same secret, 20b"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f.c.Methods.AddAuthenticator(ctx, f.user, sealed, "192.0.2.1", false) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrAlreadyEnrolled):
			t.Errorf("add: %v", err)
		}
	}
	auths, err := f.st.TOTPAuthenticators(ctx, f.user.ID)
	if err != nil || ok != 1 || len(auths) != 1 {
		t.Errorf("%d adds succeeded, %d stored (%v); want exactly 1", ok, len(auths), err)
	}
}

// TestDefaultMethodNeedsTheMethod: the default is only a method the user
// has, as counted in the change's transaction.
func TestDefaultMethodNeedsTheMethod(t *testing.T) {
	ctx := context.Background()
	f := newApprovalFixture(t) // alice has a phone, no authenticator
	if err := f.c.Methods.SetDefaultMethod(ctx, f.user, model.MethodCode, ""); !errors.Is(err, ErrNoSuchMethod) {
		t.Errorf("code without an authenticator: %v", err)
	}
	if err := f.c.Methods.SetDefaultMethod(ctx, f.user, model.MethodPush, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Phones.Remove(ctx, f.user, f.device.ID, false, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Methods.SetDefaultMethod(ctx, f.user, model.MethodPush, ""); !errors.Is(err, ErrNoSuchMethod) {
		t.Errorf("push after the phone went: %v", err)
	}
}
