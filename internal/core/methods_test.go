package core

import (
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
