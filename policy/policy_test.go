package policy

import (
	"testing"

	"github.com/mfagate/mfagate/store"
)

func TestDecisions(t *testing.T) {
	type want struct{ second, accountPW, appPW bool }
	cases := []struct {
		site  Site
		state store.MFAState
		want  want
	}{
		{Site{}, store.MFADisabled, want{false, true, false}},
		{Site{}, store.MFAEnabled, want{true, true, false}},
		{Site{}, store.MFAEnforced, want{true, false, true}},
		{Site{RequireMFA: true}, store.MFADisabled, want{true, true, false}},
		{Site{RefuseAccountPassword: true}, store.MFADisabled, want{false, false, false}},
		{Site{RefuseAccountPassword: true}, store.MFAEnabled, want{true, false, false}},
	}
	for _, c := range cases {
		u := &store.User{MFAState: c.state}
		got := want{c.site.BrowserNeedsSecondFactor(u), c.site.AccountPasswordInBasicAuth(u), CanCreateAppPasswords(u)}
		if got != c.want {
			t.Errorf("%+v %s: got %+v want %+v", c.site, c.state, got, c.want)
		}
	}
}
