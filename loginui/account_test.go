package loginui

import (
	"regexp"
	"slices"
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
	p := securityPage()
	p.Activity = []ActivityRow{{When: "2026-11-25 12:00 UTC", Site: "app.example.com", From: "192.0.2.1", Method: "password + code", Success: true}}
	_, body := render(t, r, 200, p)
	// The seed's order: default method, Add, the methods, then the
	// Account actions, then the recent activity.
	order := []string{"Default sign-in method:", "+ Add sign-in method", `<ul class="methods"`,
		`<h2 id="account-heading" class="section-heading">Account</h2>`, `<h2 class="section-heading" id="activity-heading">Recent activity</h2>`}
	last := -1
	for _, s := range order {
		i := strings.Index(body, s)
		if i < 0 || i < last {
			t.Fatalf("page order wrong at %q (want %q):\n%s", s, order, body)
		}
		last = i
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

// TestSecurityPageDefaultChangeOnlyWithAChoice: with one method there is
// nothing to change to: the default is shown, without a selector.
func TestSecurityPageDefaultChangeOnlyWithAChoice(t *testing.T) {
	r := newRenderer(t)
	p := securityPage()
	p.DefaultMethod = "code"
	p.DefaultChoices = []MethodChoice{{"code", "Authenticator app – code"}}
	_, body := render(t, r, 200, p)
	if !strings.Contains(body, "Default sign-in method: <strong>Authenticator app – code</strong>") {
		t.Error("default method line missing")
	}
	for _, s := range []string{`id="default-method"`, "security/default", ">Change</button>"} {
		if strings.Contains(body, s) {
			t.Errorf("one choice, yet the page offers a change: %q", s)
		}
	}
}

// TestSecurityActivityRestacksOnAPhone: the activity table sits in a
// named, focusable box that may scroll sideways, and on a phone its rows
// restack (a stack-table): every cell carries its column's name in
// data-label, which app.css shows before the value at narrow widths, and
// explicit roles keep it a table for screen readers.
func TestSecurityActivityRestacksOnAPhone(t *testing.T) {
	r := newRenderer(t)
	p := securityPage()
	p.Activity = []ActivityRow{{When: "2026-11-25 12:00 UTC", Site: "app.example.com", From: "2001:db8::1", Method: "password + code", Reason: "wrong code"}}
	_, body := render(t, r, 200, p)
	wrap := `<div class="table-scroll" role="region" aria-labelledby="activity-heading" tabindex="0">` + "\n" + `<table class="activity stack-table" role="table">`
	if !strings.Contains(body, wrap) {
		t.Errorf("activity table not a stack-table inside a scrolling box:\n%s", body)
	}
	wantStackTable(t, body, "table.activity", []string{"When", "Site", "From", "How", "Result"})
	rule := cssRule(t, ".table-scroll")
	if !strings.Contains(rule, "overflow-x: auto") {
		t.Errorf(".table-scroll = %q, want overflow-x: auto", rule)
	}
	wantStackTableCSS(t)
}

// wantStackTable checks the restackable table whose start tag begins
// with class (e.g. "table.activity" for <table class="activity …">): a
// header cell per column with role columnheader, and in every row one
// cell per column labelled with that column's name.
func wantStackTable(t *testing.T, body, class string, cols []string) {
	t.Helper()
	start := strings.Index(body, `<table class="`+strings.TrimPrefix(class, "table.")+` stack-table`)
	if start < 0 {
		t.Fatalf("no %s stack-table", class)
	}
	table := body[start : start+strings.Index(body[start:], "</table>")]
	var heads []string
	for _, m := range regexp.MustCompile(`<th scope="col" role="columnheader">([^<]*)</th>`).FindAllStringSubmatch(table, -1) {
		heads = append(heads, m[1])
	}
	if !slices.Equal(heads, cols) {
		t.Errorf("%s headers %q, want %q", class, heads, cols)
	}
	rows := regexp.MustCompile(`(?s)<tr role="row"[^>]*>(.*?)</tr>`).FindAllStringSubmatch(table, -1)
	if len(rows) < 2 {
		t.Fatalf("%s has %d rows with role row, want a header row and data rows", class, len(rows))
	}
	for _, row := range rows[1:] {
		var labels []string
		for _, m := range regexp.MustCompile(`<td role="cell" data-label="([^"]*)">`).FindAllStringSubmatch(row[1], -1) {
			labels = append(labels, m[1])
		}
		if !slices.Equal(labels, cols) || strings.Count(row[1], "<td") != len(cols) {
			t.Errorf("%s row cells labelled %q, want %q: %s", class, labels, cols, row[1])
		}
	}
}

// wantStackTableCSS: at phone widths app.css turns a stack-table's rows
// into blocks, hides its header row from sight only, and shows each
// cell's data-label.
func wantStackTableCSS(t *testing.T) {
	t.Helper()
	css, err := staticFS.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	s := string(css)
	i := strings.Index(s, "@media (max-width: 599px) {\n  table.stack-table")
	if i < 0 {
		t.Fatal("app.css restacks no stack-table at phone widths")
	}
	block := s[i:]
	block = block[:strings.Index(block, "\n}\n")]
	for _, want := range []string{
		"table.stack-table, table.stack-table tbody, table.stack-table tr, table.stack-table td { display: block;",
		"table.stack-table thead {", "clip: rect(0 0 0 0);",
		"table.stack-table td::before {", "content: attr(data-label);",
	} {
		if !strings.Contains(block, want) {
			t.Errorf("the phone rules of stack-table lack %q", want)
		}
	}
}

// TestDisabledButtonLooksDisabled: a disabled button is not the grey fill
// of the enabled small buttons but an outline without fill.
func TestDisabledButtonLooksDisabled(t *testing.T) {
	rule := cssRule(t, ".btn:disabled, .btn:disabled:hover")
	enabled := cssRule(t, ".btn.secondary, .btn.small")
	if strings.Contains(rule, "var(--secondary)") || !strings.Contains(enabled, "var(--secondary)") {
		t.Errorf("disabled buttons share the enabled fill: %q vs %q", rule, enabled)
	}
	for _, s := range []string{"background: transparent", "dashed", "color: var(--muted)", "cursor: not-allowed"} {
		if !strings.Contains(rule, s) {
			t.Errorf(".btn:disabled lacks %q: %q", s, rule)
		}
	}
}

// cssRule returns the declarations of the first rule of app.css whose
// selector is exactly selector.
func cssRule(t *testing.T, selector string) string {
	t.Helper()
	css, err := staticFS.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	s := string(css)
	for {
		i := strings.Index(s, selector+" {")
		if i < 0 {
			t.Fatalf("app.css has no rule %q", selector)
		}
		if i == 0 || s[i-1] == '\n' {
			rest := s[i+len(selector)+2:]
			return rest[:strings.Index(rest, "}")]
		}
		s = s[i+1:]
	}
}

// TestRenameAndDeletePages: rename posts kind, id and the name (a refused
// name stays in the field, marked invalid, its reason linked); delete
// names the method and what deleting it does, and deletes only through
// its POST form.
func TestRenameAndDeletePages(t *testing.T) {
	r := newRenderer(t)
	pages := allPages()
	_, body := render(t, r, 200, pages["security-rename"])
	for _, s := range []string{
		"<h1>Rename sign-in method</h1>", "Give your phone a name",
		`<form method="post" action="/.mfa/security/rename">`,
		`<input type="hidden" name="kind" value="phone">`, `<input type="hidden" name="id" value="3">`,
		`<label for="name">Name</label>`,
		`maxlength="64"`, `aria-invalid="true" aria-describedby="error"`,
		`<div class="alert" role="alert" id="error">The name contains an invisible character.</div>`,
		`<a class="btn secondary" href="/.mfa/security">Cancel</a>`, `<button type="submit" class="btn primary">Save</button>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("rename page lacks %q", s)
		}
	}
	if tag := findTag(t, body, `id="name"`); !strings.Contains(tag, `value="Pixel&#8203;"`) && !strings.Contains(tag, "value=\"Pixel\u200b\"") {
		t.Errorf("refused name not kept in the field: %s", tag)
	}
	_, body = render(t, r, 200, pages["security-delete"])
	for _, s := range []string{
		"<h1>Delete sign-in method</h1>",
		"Delete the app password <strong>Laptop mail</strong> from your account?",
		"<p>Apps that use it can no longer sign in.</p>",
		`<form method="post" action="/.mfa/security/app-password/delete">` + "\n" + `<input type="hidden" name="id" value="21">`,
		`<a class="btn secondary" href="/.mfa/security">Cancel</a>`, `<button type="submit" class="btn primary">Delete</button>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("delete page lacks %q", s)
		}
	}
}

// TestSecurityPagePhoneRows: a paired phone is a row of the same list,
// with Rename and a Delete that leads to the confirmation step; the last
// one an account must keep has a disabled Delete and the reason.
func TestSecurityPagePhoneRows(t *testing.T) {
	r := newRenderer(t)
	p := SecurityPage{Common: common(""), DefaultMethod: "push", Devices: []DeviceRow{
		{ID: 7, Name: "Pixel", Paired: "2026-11-20", LastUsed: "Never", CanDelete: true},
		{ID: 8, Name: "iPhone", Paired: "2026-11-21", LastUsed: "Never", WhyNotDelete: "This is the only sign-in method on your account."},
	}}
	_, body := render(t, r, 200, p)
	for _, s := range []string{
		`<a class="btn small" href="/.mfa/security/rename?kind=phone&amp;id=7">Rename<span class="visually-hidden"> phone Pixel</span></a>`,
		`<a class="btn small" href="/.mfa/security/delete?kind=phone&amp;id=7">Delete<span class="visually-hidden"> phone Pixel</span></a>`,
		`<a class="btn small" href="/.mfa/security/rename?kind=phone&amp;id=8">Rename`,
		`<button type="button" class="btn small" disabled aria-describedby="device-8-why">Delete`,
		`<span class="method-why" id="device-8-why">This is the only sign-in method on your account.</span>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if strings.Contains(body, "delete?kind=phone&amp;id=8") || strings.Contains(body, ">Remove") {
		t.Error("the phone that must stay has a Delete link, or a row says Remove")
	}
}

// TestAddMethodPage: the chooser behind "+ Add sign-in method" lists each
// method it offers with its line of description and its own link to the
// add flow (links only: no form, so a GET changes nothing), says why a
// method is missing, and leads back to Security info.
func TestAddMethodPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, addMethodPage())
	for _, s := range []string{
		"<title>Add a sign-in method · Example Corp</title>",
		"<h1>Add a sign-in method</h1>",
		`<ul class="methods add-options" aria-label="Sign-in methods you can add">`,
		`<span class="method-type">Authenticator app</span>`,
		`<span class="method-meta" id="add-authenticator-about">A 6-digit code from an app.</span>`,
		`<a class="btn small" id="add-authenticator" href="/.mfa/security/add?method=authenticator" aria-describedby="add-authenticator-about">Add<span class="visually-hidden"> Authenticator app</span></a>`,
		`<a class="btn small" id="add-phone" href="/.mfa/security/add?method=phone" aria-describedby="add-phone-about">Add<span class="visually-hidden"> Phone (sign-in approval)</span></a>`,
		`<p class="hint add-missing">App passwords are available once your administrator enforces multi-factor sign-in for your account.</p>`,
		`<a href="/.mfa/security">Back to Security info</a>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("add-method page lacks %q", s)
		}
	}
	if n := strings.Count(body, `<li class="method">`); n != 2 {
		t.Errorf("%d options, want 2", n)
	}
	if strings.Contains(body, "<form") || strings.Contains(body, "method=app-password") {
		t.Error("the chooser has a form or offers the missing app password")
	}
}
