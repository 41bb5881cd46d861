// Package policy decides what a user must present, from the user's MFA
// state (Disabled / Enabled / Enforced, as in Microsoft Entra per-user MFA)
// and the site's options. It only decides; the flows carry it out.
package policy

import "github.com/mfagate/mfagate/internal/model"

// Site holds one protected site's options.
type Site struct {
	// RequireMFA treats Disabled users as Enabled: everyone needs a
	// second factor in the browser, and basic auth takes app passwords
	// only.
	RequireMFA bool
	// RefuseAccountPassword refuses account passwords in HTTP basic auth
	// for everyone: only app passwords pass.
	RefuseAccountPassword bool
	// PublicPaths are path prefixes (e.g. "/public/") served without
	// sign-in; see IsPublic for the strict matching.
	PublicPaths []string
	// PasskeyNeedsPassword turns passwordless sign-in with a passkey off
	// (Caddyfile `passkeys_passwordless off`): the login page offers no
	// passkey and a passkey never stands in for the password here.
	PasskeyNeedsPassword bool
}

// PasswordlessPasskeys: a discoverable passkey verified with user
// verification (something the user has, unlocked by something they know
// or are) satisfies both factors, unless the site requires the password
// too.
func (s Site) PasswordlessPasskeys() bool { return !s.PasskeyNeedsPassword }

// EffectiveState is the user's state after the site's options.
func (s Site) EffectiveState(u *model.User) model.MFAState {
	if u.MFAState == model.MFADisabled && s.RequireMFA {
		return model.MFAEnabled
	}
	return u.MFAState
}

// BrowserNeedsSecondFactor: Enabled users must register (and then use) a
// method; Enforced users must use one; Disabled users sign in with the
// password alone.
func (s Site) BrowserNeedsSecondFactor(u *model.User) bool {
	return s.EffectiveState(u) != model.MFADisabled
}

// AccountPasswordInBasicAuth: the account password passes basic auth only
// for users not (yet) Enforced, and only where the site allows it. A site
// with RequireMFA takes app passwords only: basic auth cannot carry a
// second factor, so an account password there would be a password-only
// sign-in on a site that promises MFA for everyone.
func (s Site) AccountPasswordInBasicAuth(u *model.User) bool {
	return !s.RefuseAccountPassword && !s.RequireMFA && s.EffectiveState(u) != model.MFAEnforced
}

// CanCreateAppPasswords: only users whose effective state on the site is
// Enforced create app passwords, as in Microsoft 365: Enforced by the
// admin, or, on a site with RequireMFA, holding a registered second factor
// (which every sign-in there then demands). hasSecondFactor is whether the
// user has one (today: at least one authenticator app). Counting RequireMFA
// sites keeps basic auth open there to Disabled users, whom the admin never
// raises to Enforced and whose account password such a site refuses.
func (s Site) CanCreateAppPasswords(u *model.User, hasSecondFactor bool) bool {
	return u.MFAState == model.MFAEnforced || (s.RequireMFA && hasSecondFactor)
}

// MustKeepOneMethod: a user who must present a second factor on this site
// (Enforced by the admin, or anyone where the site requires MFA) may not
// delete their last authenticator, which would let the next sign-in enrol
// a new one with the password alone.
func (s Site) MustKeepOneMethod(u *model.User) bool {
	return u.MFAState == model.MFAEnforced || s.RequireMFA
}

// Explanations of the missing app-password option (see WhyNoAppPasswords).
const (
	whyNoAppPasswordsAdmin    = "App passwords become available once your administrator enforces multi-factor sign-in for your account."
	whyNoAppPasswordsRegister = "To create app passwords, register an authenticator app first."
)

// WhyNoAppPasswords explains the missing option to a user for whom
// CanCreateAppPasswords is false: on a RequireMFA site registering an
// authenticator app is enough; elsewhere only the admin can enforce MFA.
func (s Site) WhyNoAppPasswords() string {
	if s.RequireMFA {
		return whyNoAppPasswordsRegister
	}
	return whyNoAppPasswordsAdmin
}

// SessionSatisfies reports whether a browser session may pass on this site
// now. It must be complete and, where a second factor is needed, must have
// passed one: a password-only session (made while the user was Disabled, or
// on another site of the same host without RequireMFA) is not enough once
// the user's state is raised or on a site that requires MFA.
func (s Site) SessionSatisfies(sess *model.Session, u *model.User) bool {
	if sess.Stage != model.StageComplete {
		return false
	}
	return !s.BrowserNeedsSecondFactor(u) || !sess.MFAAt.IsZero()
}
