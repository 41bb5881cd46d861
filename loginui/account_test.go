package loginui

import (
	"strings"
	"testing"
)

func TestChangePasswordPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, ChangePasswordPage{Common: common(""), MinLength: 8})
	for _, s := range []string{
		"<title>Change password · Example Corp</title>",
		"<h1>Change password</h1>",
		`<form method="post" action="/.mfa/security/password">`,
		`<label for="current-password">Current password</label>`,
		`<input id="current-password" name="current" type="password" autocomplete="current-password" required autofocus>`,
		`<input id="new-password" name="new" type="password" autocomplete="new-password" minlength="8" required aria-describedby="new-password-hint">`,
		`<p class="hint" id="new-password-hint">At least 8 characters.`,
		`<input id="repeat-password" name="repeat" type="password" autocomplete="new-password" required>`,
		`<a class="btn secondary" href="/.mfa/security">Cancel</a>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if strings.Contains(body, "delete-app-passwords") || strings.Contains(body, "field-error") || strings.Contains(body, "aria-invalid") {
		t.Error("app-password box or errors shown without app passwords or errors")
	}
}

// Each error sits next to its field and is tied to it; the box stays
// checked.
func TestChangePasswordPageErrors(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, ChangePasswordPage{Common: common(""), MinLength: 8,
		CurrentError: "That is not your current password.", NewError: "The password is too easy to guess: it is a very common password.",
		RepeatError: "The two new passwords are not the same.", AppPasswordCount: 3, DeleteAppPasswords: true})
	for _, s := range []string{
		`<input id="current-password" name="current" type="password" autocomplete="current-password" required aria-invalid="true" aria-describedby="current-password-error">` + "\n" +
			`<p class="field-error" id="current-password-error">That is not your current password.</p>`,
		`aria-describedby="new-password-hint new-password-error" aria-invalid="true">`,
		`<p class="field-error" id="new-password-error">The password is too easy to guess: it is a very common password.</p>`,
		`aria-invalid="true" aria-describedby="repeat-password-error">` + "\n" +
			`<p class="field-error" id="repeat-password-error">The two new passwords are not the same.</p>`,
		`<input id="delete-app-passwords" name="delete-app-passwords" type="checkbox" value="1" checked aria-describedby="delete-app-passwords-hint">`,
		`<label for="delete-app-passwords">Also delete my app passwords</label>`,
		"You have 3.",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if strings.Contains(body, "autofocus") {
		t.Error("autofocus with errors shown: focus stays where the reader expects")
	}
}

func TestSecurityPageAccountSection(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, securityPage())
	account := strings.Index(body, `<h2 id="account-heading">Account</h2>`)
	methods := strings.Index(body, `<ul class="methods"`)
	if account < 0 || methods < 0 || account > methods {
		t.Fatalf("no Account section above the methods:\n%s", body)
	}
	for _, s := range []string{
		`<a class="btn small" href="/.mfa/security/password">Change password</a>`,
		`<form method="post" action="/.mfa/security/sign-out-everywhere">`,
		`aria-describedby="sign-out-everywhere-hint">Sign out everywhere</button>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
}
