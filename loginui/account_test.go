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
		`<input id="current-password" name="current" type="password" autocomplete="current-password" required aria-invalid="true" aria-describedby="current-password-error" autofocus>` + "\n" +
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
	// Focus moves to the first invalid field, and only there.
	if n := strings.Count(body, "autofocus"); n != 1 {
		t.Errorf("%d autofocus attributes, want 1 (on the current password)", n)
	}
}

// After a refused new password (the current one was right), no field
// holds a password; focus moves to the new password, whose error is tied
// to it, and the summary says which field to fix and to type every
// password again.
func TestChangePasswordRefusedNewPassword(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, ChangePasswordPage{Common: common(""), MinLength: 8,
		NewError: "The password is too short: use at least 8 characters."})
	fields := map[string]string{}
	for _, id := range []string{"current-password", "new-password", "repeat-password"} {
		fields[id] = findTag(t, body, `id="`+id+`"`)
		if strings.Contains(fields[id], "value=") {
			t.Errorf("a password is echoed back: %s", fields[id])
		}
	}
	newTag := fields["new-password"]
	for _, a := range []string{`aria-invalid="true"`, `aria-describedby="new-password-hint new-password-error"`, "autofocus"} {
		if !strings.Contains(newTag, a) {
			t.Errorf("new password lacks %s: %s", a, newTag)
		}
	}
	if strings.Contains(fields["current-password"], "autofocus") || strings.Contains(fields["current-password"], "aria-invalid") {
		t.Errorf("the current password (not wrong) is marked or focused: %s", fields["current-password"])
	}
	if n := strings.Count(body, "autofocus"); n != 1 {
		t.Errorf("%d autofocus attributes, want 1", n)
	}
	for _, s := range []string{
		`<p class="field-error" id="new-password-error">The password is too short: use at least 8 characters.</p>`,
		`<div class="alert" role="alert" id="form-error">Password not changed. Fix the field marked below: New password. Passwords are never kept in the form: type each one again.</div>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}

	// Two new passwords that differ: both are typed again, so both are
	// marked, tied to the one error, and focus starts at the first.
	_, body = render(t, r, 200, ChangePasswordPage{Common: common(""), MinLength: 8, RepeatError: "The two new passwords are not the same."})
	newTag, repeatTag := findTag(t, body, `id="new-password"`), findTag(t, body, `id="repeat-password"`)
	for tag, want := range map[string][]string{
		newTag:    {`aria-invalid="true"`, `aria-describedby="new-password-hint repeat-password-error"`, "autofocus"},
		repeatTag: {`aria-invalid="true"`, `aria-describedby="repeat-password-error"`},
	} {
		for _, a := range want {
			if !strings.Contains(tag, a) {
				t.Errorf("%s lacks %s", tag, a)
			}
		}
	}
	if !strings.Contains(body, "Fix the fields marked below: New password and New password again.") {
		t.Errorf("summary does not name both fields:\n%s", body)
	}
}

// The choose-a-new-password page shares the fields: focus on the first
// field, or the first invalid one, with the summary.
func TestChooseNewPasswordFocus(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, ChooseNewPasswordPage{Common: common(""), MinLength: 8})
	if !strings.Contains(findTag(t, body, `id="new-password"`), "autofocus") || strings.Contains(body, "form-error") {
		t.Errorf("fresh page: focus not on the new password, or a summary shown:\n%s", body)
	}
	_, body = render(t, r, 200, ChooseNewPasswordPage{Common: common(""), MinLength: 8, NewError: "Choose a password other than the temporary one."})
	tag := findTag(t, body, `id="new-password"`)
	for _, a := range []string{`aria-invalid="true"`, `new-password-error`, "autofocus"} {
		if !strings.Contains(tag, a) {
			t.Errorf("new password lacks %s: %s", a, tag)
		}
	}
	if !strings.Contains(body, `id="form-error">Password not saved. Fix the field marked below: New password.`) {
		t.Errorf("no summary naming the field:\n%s", body)
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
