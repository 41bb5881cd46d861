package policy

import (
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
)

func TestDecisions(t *testing.T) {
	type want struct{ second, accountPW, appPW bool }
	cases := []struct {
		site  Site
		state model.MFAState
		want  want
	}{
		{Site{}, model.MFADisabled, want{false, true, false}},
		{Site{}, model.MFAEnabled, want{true, true, false}},
		{Site{}, model.MFAEnforced, want{true, false, true}},
		{Site{RequireMFA: true}, model.MFADisabled, want{true, false, false}},
		{Site{RequireMFA: true}, model.MFAEnabled, want{true, false, false}},
		{Site{RequireMFA: true}, model.MFAEnforced, want{true, false, true}},
		{Site{RefuseAccountPassword: true}, model.MFADisabled, want{false, false, false}},
		{Site{RefuseAccountPassword: true}, model.MFAEnabled, want{true, false, false}},
	}
	for _, c := range cases {
		u := &model.User{MFAState: c.state}
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
	for _, state := range []model.MFAState{model.MFADisabled, model.MFAEnabled, model.MFAEnforced} {
		if site.AccountPasswordInBasicAuth(&model.User{MFAState: state}) {
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
		state     model.MFAState
		hasFactor bool
		want      bool
	}{
		{Site{RequireMFA: true}, model.MFADisabled, true, true},
		{Site{RequireMFA: true}, model.MFAEnabled, true, true},
		{Site{RequireMFA: true}, model.MFADisabled, false, false},
		{Site{RequireMFA: true}, model.MFAEnforced, false, true},
		{Site{}, model.MFADisabled, true, false},
		{Site{}, model.MFAEnabled, true, false},
		{Site{}, model.MFAEnforced, true, true},
		{Site{RefuseAccountPassword: true}, model.MFADisabled, true, false},
	}
	for _, c := range cases {
		if got := c.site.CanCreateAppPasswords(&model.User{MFAState: c.state}, c.hasFactor); got != c.want {
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
