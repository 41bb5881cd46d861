package loginui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func adminCommon() Common {
	return Common{Title: "Users", Issuer: "Example Corp", Prefix: "/.mfa/", User: "Administrator"}
}

func adminNav(section string) AdminNav { return AdminNav{Base: "/admin/", Section: section} }

func adminRow() AdminUserRow {
	return AdminUserRow{ID: 7, Username: "amy", DisplayName: "Amy <Pond>", Email: "amy@example.com", Href: "/admin/users/7",
		Groups: "ops, staff", MFAState: "Enforced", Authenticators: 2, Phones: 1, AppPasswords: 3,
		LastSignIn: "2026-11-25 12:00 UTC", State: "Locked until 12:15 UTC", StateClass: "locked"}
}

func adminPages() map[string]Page {
	signIns := []AdminSignInRow{{When: "2026-11-25 12:00 UTC", Username: "amy", UserHref: "/admin/users/7", Site: "files.example.com",
		From: "192.0.2.1", Client: "non-browser", Method: "app password", Reason: "wrong password", Browser: "curl/8", Agent: "curl/8"},
		{When: "2026-11-25 12:01 UTC", Username: "amy", Site: "files.example.com", From: "192.0.2.1", Client: "browser", Method: "password", Success: true,
			Browser: "Chrome on Linux", Agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}}
	return map[string]Page{
		"users": AdminUsersPage{Common: adminCommon(), AdminNav: adminNav("users"), Search: `a"b`, MFA: "enforced", Status: "locked",
			Sort: "name", Desc: true, Columns: []AdminColumn{{Label: "User", Href: "/admin/?sort=username"}, {Label: "Display name", Href: "/admin/?sort=name", Current: true, Desc: true}, {Label: "Groups"}},
			Rows:  []AdminUserRow{adminRow(), {ID: 1, Username: "admin", Self: true, Admin: true, MFAState: "Enabled", LastSignIn: "Never", State: "Active", StateClass: "ok"}},
			Total: 120, From: 51, To: 100, PrevHref: "/admin/?page=1", NextHref: "/admin/?page=3", Back: "/admin/?page=2",
			Ops: []AdminOp{{Value: "enforce", Label: "Enforce"}, {Value: "remove", Label: "Remove", Danger: true}}},
		"users-empty": AdminUsersPage{Common: adminCommon(), AdminNav: adminNav("users"), Back: "/admin/"},
		"user": AdminUserPage{Common: adminCommon(), AdminNav: adminNav("users"), Row: adminRow(), Created: "2026-01-01",
			Authenticators: []AdminMethodRow{{Name: "Authenticator app", Added: "2026-01-02"}},
			Phones:         []AdminMethodRow{{Name: "Pixel", Added: "2026-01-03", LastUsed: "2026-11-25"}},
			AppPasswords:   []AdminMethodRow{{Name: "Mail", Added: "2026-01-04", LastUsed: "Never"}},
			SignIns:        signIns, SignInsHref: "/admin/sign-ins?user=amy", Back: "/admin/", Here: "/admin/users/7", GroupsInput: "ops, staff"},
		"user-self": AdminUserPage{Common: adminCommon(), AdminNav: adminNav("users"), Row: AdminUserRow{ID: 1, Username: "admin", Self: true, MFAState: "Enabled"},
			Blocked: true, Back: "/admin/", Here: "/admin/users/1"},
		"confirm": AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Enforce multi-factor sign-in?",
			What: []string{"They must use a second factor."}, Users: []AdminConfirmUser{{Username: "amy", DisplayName: "Amy"}, {Username: "admin", Note: "skipped: your own account"}},
			Fields: []AdminField{{"op", "enforce"}, {"id", "7"}, {"id", "1"}, {"back", "/admin/?q=a&b"}}, Confirm: "Enforce", Cancel: "/admin/"},
		"result": AdminResultPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Multi-factor sign-in enforced", Summary: "1 changed, 1 skipped",
			Rows: []AdminResultRow{{Username: "amy", Href: "/admin/users/7", Outcome: "Changed", Class: "ok", Detail: "Enabled → Enforced"}}, Back: "/admin/", BackText: "Back to the users"},
		"signins": AdminSignInsPage{Common: adminCommon(), AdminNav: adminNav("sign-ins"), User: "amy", Result: "failure", Since: "2026-11-25",
			Rows: signIns, OlderHref: "/admin/sign-ins?before=5", NewestHref: "/admin/sign-ins"},
		"signins-empty": AdminSignInsPage{Common: adminCommon(), AdminNav: adminNav("sign-ins"), Error: "No user named bob."},
		"confirm-verify": AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Block sign-in?",
			What: []string{"Sign-in is blocked."}, Users: []AdminConfirmUser{{Username: "amy"}}, Confirm: "Block sign-in", Cancel: "/admin/users/7",
			Verify: &AdminVerify{CanCode: true, Fresh: "10 minutes", Then: "action", Fields: []AdminField{{"op", "block"}, {"id", "7"}}, Cancel: "/admin/users/7", Error: "That code didn't work."}},
		"confirm-code-or-phone": AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Block sign-in?",
			Users: []AdminConfirmUser{{Username: "amy"}}, Confirm: "Block sign-in", Cancel: "/admin/",
			Verify: &AdminVerify{CanCode: true, CanPhone: true, Fresh: "10 minutes", Then: "action", Fields: []AdminField{{"op", "block"}, {"id", "7"}}, Cancel: "/admin/"}},
		"confirm-phone": AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Block sign-in?",
			Users: []AdminConfirmUser{{Username: "amy"}}, Confirm: "Block sign-in", Cancel: "/admin/",
			Verify: &AdminVerify{CanPhone: true, Fresh: "10 minutes", Then: "action", Fields: []AdminField{{"op", "block"}, {"id", "7"}}, Cancel: "/admin/", Error: "Send another request."}},
		"confirm-phone-only": AdminConfirmPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Block sign-in?",
			Users: []AdminConfirmUser{{Username: "amy"}}, Confirm: "Block sign-in", Cancel: "/admin/",
			Verify: &AdminVerify{Fresh: "10 minutes", Then: "action", Cancel: "/admin/"}},
		"result-unchanged": AdminResultPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Nothing was changed", Summary: "1 no change", Unchanged: true,
			Rows: []AdminResultRow{{Username: "amy", Outcome: "No change", Class: "same", Detail: "already Enforced"}}, Back: "/admin/"},
		"result-passwords": AdminResultPage{Common: adminCommon(), AdminNav: adminNav("users"), Heading: "Passwords reset", Summary: "2 changed",
			Rows: []AdminResultRow{{Username: "amy", Outcome: "Changed", Class: "ok", Detail: "temporary password set", Secret: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
				{Username: "bob", Outcome: "Changed", Class: "ok", Detail: "temporary password set", Secret: "BCDEFGHIJKLMNOPQRSTUVWXYZA"}}, Back: "/admin/"},
		"add-user": AdminAddUserPage{Common: adminCommon(), AdminNav: adminNav("users"), ValidFor: 24 * time.Hour},
		"add-user-verify": AdminAddUserPage{Common: adminCommon(), AdminNav: adminNav("users"), Username: "nina", Email: "nina@example.com", ValidFor: 24 * time.Hour,
			Verify: &AdminVerify{CanCode: true, Fresh: "10 minutes", Then: "add-user", Fields: []AdminField{{"username", "nina"}}, Cancel: "/admin/"}},
	}
}

// Admin pages: no inline script or style, labelled inputs, forms that
// POST to the admin center (or GET its own filters), the admin stylesheet.
func TestAdminPagesRender(t *testing.T) {
	r := newRenderer(t)
	for name, p := range adminPages() {
		t.Run(name, func(t *testing.T) {
			rec, body := render(t, r, 200, p)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, body)
			}
			checkSecurityHeaders(t, rec.Header())
			checkNoInlineOrExternal(t, body)
			checkLabels(t, body)
			if !strings.Contains(body, `<link rel="stylesheet" href="/.mfa/static/admin.css?v=`+AssetVersion()+`">`) {
				t.Error("no admin stylesheet")
			}
			for _, f := range formTagRe.FindAllString(body, -1) {
				switch {
				case strings.Contains(f, `method="post"`) && (strings.Contains(f, `action="/admin/`) || strings.Contains(f, `action="/.mfa/logout"`)):
				case strings.Contains(f, `method="get"`) && (strings.Contains(f, `action="/admin/"`) || strings.Contains(f, `action="/admin/sign-ins"`)):
				default:
					t.Errorf("unexpected form: %s", f)
				}
			}
		})
	}
}

// The admin filters say what a field is in its label; a placeholder (which
// looks like a filled-in value) is no label, and dates are date inputs.
func TestAdminFiltersHaveNoPlaceholders(t *testing.T) {
	r := newRenderer(t)
	for _, name := range []string{"users", "signins", "signins-empty", "user", "add-user"} {
		_, body := render(t, r, 200, adminPages()[name])
		if strings.Contains(body, "placeholder=") {
			t.Errorf("%s has a placeholder", name)
		}
	}
	_, body := render(t, r, 400, AdminSignInsPage{Common: adminCommon(), AdminNav: adminNav("sign-ins"), Since: "yesterday", BadSince: true, Error: "The From date is not a date like 2026-11-25."})
	if !strings.Contains(body, `<input id="since" name="since" type="date" value="yesterday" aria-invalid="true" aria-describedby="error">`) {
		t.Errorf("a bad date is not marked:\n%s", body)
	}
}

func TestAdminPagesContent(t *testing.T) {
	r := newRenderer(t)
	pages := adminPages()
	for name, want := range map[string][]string{
		"users": {`value="a&#34;b"`, `<option value="enforced" selected>`, `<option value="locked" selected>`,
			`<input type="hidden" name="dir" value="desc">`, `aria-sort="descending"`, `51–100 of 120 users`,
			`<input type="checkbox" name="id" value="7" id="sel-7"><label for="sel-7" class="visually-hidden">Select amy</label>`,
			`Amy &lt;Pond&gt;`, `2 authenticator apps`, `1 phone`, `3 app passwords`, `class="state-locked">Locked until 12:15 UTC`,
			`<span class="badge">you</span>`, `<button type="submit" name="op" value="remove" class="btn small danger">Remove</button>`,
			`<input type="hidden" name="back" value="/admin/?page=2">`, `href="/admin/?page=3" rel="next"`},
		"users-empty": {"No users match."},
		"user": {`<h1>amy</h1>`, `name="do" value="delete-app-passwords"`, `value="settings"`, `name="op" value="block"`,
			`<button type="submit" name="op" value="unblock" class="btn small">Clear the lockout</button>`,
			`<input id="groups" name="groups" type="text" value="ops, staff"`, `<input type="hidden" name="back" value="/admin/users/7">`,
			`<tr role="row" class="app-password"><td role="cell" data-label="Method">App password</td><td role="cell" data-label="Name">Mail</td>`, `curl/8`, `(app)`, `href="/admin/sign-ins?user=amy"`,
			`<button type="submit" name="op" value="enforce" class="btn small" disabled>Enforce</button>`},
		"user-self": {`This is your own account`, `value="unblock"`, ` readonly>`, "No sign-in methods."},
		"confirm": {`<input type="hidden" name="id" value="7">`, `<input type="hidden" name="id" value="1">`,
			`<input type="hidden" name="back" value="/admin/?q=a&amp;b">`, `<input type="hidden" name="confirmed" value="yes">`,
			`— <em>skipped: your own account</em>`, `2 users`, `id="confirm">Enforce</button>`},
		"result": {`<div class="notice" role="status" id="result-summary">1 changed, 1 skipped</div>`, `Enabled → Enforced`, `href="/admin/" id="result-back">Back to the users</a>`},
		"signins": {`<input id="user" name="user" type="text" value="amy"`, `<option value="failure" selected>`, `Failed</strong>: wrong password`, `id="older-page"`,
			`<td class="admin-agent">curl/8</td>`,
			`<td class="admin-agent"><details><summary>Chrome on Linux</summary><span class="admin-agent-full">Mozilla/5.0 (X11; Linux x86_64)`,
			`<input id="since" name="since" type="date" value="2026-11-25">`, `<input id="until" name="until" type="date" value="">`},
		"signins-empty": {"No sign-ins match.", "No user named bob."},
		"confirm-verify": {`<form method="post" action="/admin/reverify" class="code-form" id="verify-form">`, `<input type="hidden" name="then" value="action">`,
			`<input type="hidden" name="op" value="block">`, `That code didn&#39;t work.`, `aria-invalid="true"`, "second factor from the last 10 minutes"},
		"confirm-phone-only": {`id="verify-sign-in"`, `id="verify-sign-in-again"`},
		"result-unchanged":   {`<div class="notice notice-neutral" role="status" id="result-summary">1 no change</div>`},
		"result-passwords": {`<code class="temp-password" id="temp-password-0"><span>ABCD</span><wbr><span>EFGH</span>`, `<wbr><span>YZ</span></code>`,
			`data-copy="ABCDEFGHIJKLMNOPQRSTUVWXYZ" data-copy-what="password" aria-describedby="copy-status-0"`,
			`data-copy="BCDEFGHIJKLMNOPQRSTUVWXYZA" data-copy-what="password" aria-describedby="copy-status-1"`,
			`<p class="copy-status" id="copy-status-1" role="status"></p>`, `Temporary password of <strong>bob</strong>`},
		"add-user":        {"It works for 24 hours,", `<input id="email" name="email" type="email"`},
		"add-user-verify": {`id="add-user-summary"`, `<input type="hidden" name="then" value="add-user">`},
	} {
		_, body := render(t, r, 200, pages[name])
		for _, s := range want {
			if !strings.Contains(body, s) {
				t.Errorf("%s lacks %q", name, s)
			}
		}
	}
}

// Every kind of text input the admin pages use is styled (app.css styles
// text and password fields; a type="email" field was left with the
// browser's look, unlike the fields around it).
func TestAdminInputTypesStyled(t *testing.T) {
	css := readFile(t, "static/app.css") + readFile(t, "static/admin.css")
	inputRe := regexp.MustCompile(`<input [^>]*type="([a-z]+)"`)
	names, err := filepath.Glob("templates/admin-*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("no admin templates: %v", err)
	}
	for _, name := range names {
		for _, m := range inputRe.FindAllStringSubmatch(readFile(t, name), -1) {
			switch m[1] {
			case "hidden", "checkbox", "radio", "submit":
				continue
			}
			if !strings.Contains(css, `input[type="`+m[1]+`"] {`) && !strings.Contains(css, `input[type="`+m[1]+`"],`) {
				t.Errorf("%s: input type %q has no style", name, m[1])
			}
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAdminUserMethodsRestack: the user page's methods table restacks on
// a phone as Security info's activity does (a stack-table whose cells name
// their column).
func TestAdminUserMethodsRestack(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, adminPages()["user"])
	if !strings.Contains(body, `<table class="admin-table stack-table" id="methods-table" role="table">`) {
		t.Error("the methods table is no stack-table")
	}
	wantStackTable(t, body, "table.admin-table", []string{"Method", "Name", "Added", "Last used"})
	wantStackTableCSS(t)
}
