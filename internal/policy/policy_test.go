package policy

import (
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/store"
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
		{Site{RequireMFA: true}, store.MFADisabled, want{true, false, false}},
		{Site{RequireMFA: true}, store.MFAEnabled, want{true, false, false}},
		{Site{RequireMFA: true}, store.MFAEnforced, want{true, false, true}},
		{Site{RefuseAccountPassword: true}, store.MFADisabled, want{false, false, false}},
		{Site{RefuseAccountPassword: true}, store.MFAEnabled, want{true, false, false}},
	}
	for _, c := range cases {
		u := &store.User{MFAState: c.state}
		got := want{c.site.BrowserNeedsSecondFactor(u), c.site.AccountPasswordInBasicAuth(u), c.site.CanCreateAppPasswords(u, false)}
		if got != c.want {
			t.Errorf("%+v %s: got %+v want %+v", c.site, c.state, got, c.want)
		}
	}
}

// TestRequireMFATakesAppPasswordsOnly: basic auth cannot carry a second
// factor, so a RequireMFA site refuses every account password there, for
// Disabled and new (Enabled, not enrolled) users alike.
func TestRequireMFATakesAppPasswordsOnly(t *testing.T) {
	site := Site{RequireMFA: true}
	for _, state := range []store.MFAState{store.MFADisabled, store.MFAEnabled, store.MFAEnforced} {
		if site.AccountPasswordInBasicAuth(&store.User{MFAState: state}) {
			t.Errorf("require_mfa site accepts the account password of a %s user", state)
		}
	}
}

// TestAppPasswordsFollowEffectiveState: on a RequireMFA site a registered
// second factor makes any user effectively Enforced (so Disabled users keep
// a way into basic auth); elsewhere only the admin's Enforced counts.
func TestAppPasswordsFollowEffectiveState(t *testing.T) {
	cases := []struct {
		site      Site
		state     store.MFAState
		hasFactor bool
		want      bool
	}{
		{Site{RequireMFA: true}, store.MFADisabled, true, true},
		{Site{RequireMFA: true}, store.MFAEnabled, true, true},
		{Site{RequireMFA: true}, store.MFADisabled, false, false},
		{Site{RequireMFA: true}, store.MFAEnforced, false, true},
		{Site{}, store.MFADisabled, true, false},
		{Site{}, store.MFAEnabled, true, false},
		{Site{}, store.MFAEnforced, true, true},
		{Site{RefuseAccountPassword: true}, store.MFADisabled, true, false},
	}
	for _, c := range cases {
		if got := c.site.CanCreateAppPasswords(&store.User{MFAState: c.state}, c.hasFactor); got != c.want {
			t.Errorf("%+v %s, second factor %v: got %v want %v", c.site, c.state, c.hasFactor, got, c.want)
		}
	}
}

// TestWhyNoAppPasswordsFitsTheSite: the explanation names what the user can
// do: register an authenticator app on a RequireMFA site, else wait for the
// admin.
func TestWhyNoAppPasswordsFitsTheSite(t *testing.T) {
	if why := (Site{RequireMFA: true}).WhyNoAppPasswords(); !strings.Contains(why, "register an authenticator app first") {
		t.Errorf("require_mfa site: %q", why)
	}
	if why := (Site{}).WhyNoAppPasswords(); !strings.Contains(why, "administrator enforces") {
		t.Errorf("plain site: %q", why)
	}
}
