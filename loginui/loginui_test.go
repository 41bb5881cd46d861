package loginui

import (
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const qrPNG = template.URL("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

func common(title string) Common {
	return Common{Title: title, Issuer: "Example Corp", Prefix: "/.mfa/", User: "alice@example.com"}
}

func allPages() map[string]Page {
	return map[string]Page{
		"login":    LoginPage{Common: Common{Title: "Sign in", Issuer: "Example Corp", Prefix: "/.mfa/"}, RD: "https://app.example.com/x"},
		"verify":   VerifyCodePage{Common: common("Enter code")},
		"enrol":    &EnrolTOTPPage{Common: common("Set up"), QRDataURI: qrPNG, Secret: "JBSWY3DPEHPK3PXPJBSWY3DP", Account: "alice@example.com"},
		"logout":   LogoutPage{Common: common("Sign out")},
		"message":  MessagePage{Common: common("Signed out"), Heading: "Signed out", Message: "You have been signed out.", LinkText: "Sign in again", LinkHref: "/.mfa/login"},
		"security": securityPage(),
		"security-limited": SecurityPage{Common: common(""), DefaultMethod: "code",
			Authenticators: []AuthenticatorRow{{ID: 1, Name: "Phone", Added: "2026-03-02", WhyNotDelete: "You need at least one authenticator app."}},
			MFAState:       "enabled"},
		"security-empty":       SecurityPage{Common: common("")},
		"security-add":         addMethodPage(),
		"app-password-new":     NewAppPasswordPage{Common: common(""), Name: "Laptop mail", Error: "That name is taken.", Count: 3, Limit: 40},
		"app-password-created": AppPasswordCreatedPage{Common: common(""), Name: "Laptop mail", Password: "abcdefghijklmnop"},
		"reverify":             ReverifyPage{Common: common(""), Next: "/.mfa/security/add?method=app-password"},
		"reverify-or-phone":    ReverifyPage{Common: common(""), Next: "/.mfa/security/add?method=app-password", CanPhone: true},
		"reverify-phone-only":  ReverifyPage{Common: common(""), Next: "/.mfa/security", NoCode: true, CanPhone: true, Error: "Send another request."},
		"change-password":      ChangePasswordPage{Common: common(""), MinLength: 8},
		"change-password-errors": ChangePasswordPage{Common: common(""), MinLength: 8, CurrentError: "That is not your current password.",
			NewError: "The password is too short: use at least 8 characters.", RepeatError: "The two new passwords are not the same.",
			AppPasswordCount: 2, DeleteAppPasswords: true},
		"security-rename": RenameMethodPage{Common: common(""), Method: MethodRef{Kind: KindPhone, ID: 3, Type: "phone", Name: "Pixel"},
			Name: "Pixel\u200b", MaxName: 64, Error: "The name contains an invisible character."},
		"security-delete": DeleteMethodPage{Common: common(""), Method: MethodRef{Kind: KindAppPassword, ID: 21, Type: "app password", Name: "Laptop mail"},
			Action: "/.mfa/security/app-password/delete", Consequence: "Apps that use it can no longer sign in."},
		"enrol-another": &EnrolAnotherTOTPPage{Common: common(""), QRDataURI: qrPNG, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", Account: "alice@example.com"},
	}
}

func securityPage() SecurityPage {
	return SecurityPage{
		Common:        common(""),
		AppHref:       "/",
		Notice:        "App password deleted.",
		DefaultMethod: "push",
		DefaultChoices: []MethodChoice{
			{"code", "Authenticator app – code"},
			{"push", PhoneMethod},
		},
		Authenticators: []AuthenticatorRow{
			{ID: 11, Name: "iPhone", Added: "2026-03-02", CanDelete: true},
			{ID: 12, Name: "Pixel", Added: "2026-11-20", CanDelete: true},
		},
		AppPasswords: []AppPasswordRow{
			{ID: 21, Name: "Laptop mail", Created: "2026-10-01", LastUsed: "2026-11-25 12:00 UTC from 192.0.2.1"},
			{ID: 22, Name: "git", Created: "2026-11-24", LastUsed: "Never"},
		},
		MFAState: "enforced",
	}
}

func addMethodPage() AddMethodPage {
	return AddMethodPage{Common: common(""),
		Options: []AddMethodOption{
			{Method: "authenticator", Label: "Authenticator app", Description: "A 6-digit code from an app."},
			{Method: "phone", Label: PhoneMethod, Description: "Approve sign-ins on your phone."},
		},
		Missing: []string{"App passwords are available once your administrator enforces multi-factor sign-in for your account."},
	}
}

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New(nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func render(t *testing.T, r *Renderer, status int, p Page) (*httptest.ResponseRecorder, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Render(rec, status, p)
	return rec, rec.Body.String()
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestEveryPageRenders(t *testing.T) {
	r := newRenderer(t)
	for name, p := range allPages() {
		t.Run(name, func(t *testing.T) {
			for _, status := range []int{http.StatusOK, http.StatusUnauthorized} {
				rec, body := render(t, r, status, p)
				if rec.Code != status {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, status, body)
				}
				checkSecurityHeaders(t, rec.Header())
				if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control = %q", cc)
				}
				for _, s := range []string{
					"<!doctype html>", `<html lang="en">`, `name="viewport"`, "</html>",
					`<link rel="stylesheet" href="/.mfa/static/app.css?v=` + AssetVersion() + `">`,
					`<script src="/.mfa/static/app.js?v=` + AssetVersion() + `" defer></script>`,
					`<link rel="icon" href="data:,">`,
					"Example Corp",
				} {
					if !strings.Contains(body, s) {
						t.Errorf("body lacks %q", s)
					}
				}
				checkNoInlineOrExternal(t, body)
				checkLabels(t, body)
				checkFormsPost(t, body)
			}
		})
	}
}

var (
	tagRe        = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	attrRe       = regexp.MustCompile(`\s(href|src|action)="([^"]*)"`)
	inputIDRe    = regexp.MustCompile(`<(?:input|select|textarea) [^>]*\bid="([^"]+)"`)
	labelForRe   = regexp.MustCompile(`<label for="([^"]+)"`)
	formTagRe    = regexp.MustCompile(`<form[^>]*>`)
	inlineEvents = regexp.MustCompile(`\son[a-z]+=`)
)

func checkNoInlineOrExternal(t *testing.T, body string) {
	t.Helper()
	if strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Error("inline style present")
	}
	if inlineEvents.MatchString(body) {
		t.Error("inline event handler present")
	}
	for _, tag := range tagRe.FindAllString(body, -1) {
		if strings.HasPrefix(tag, "<script") && !strings.Contains(tag, " src=") {
			t.Errorf("inline script: %s", tag)
		}
		for _, m := range attrRe.FindAllStringSubmatch(tag, -1) {
			u := m[2]
			if strings.HasPrefix(u, "//") || strings.Contains(u, "://") && m[1] != "href" {
				t.Errorf("external resource %s=%q", m[1], u)
			}
		}
	}
}

func checkLabels(t *testing.T, body string) {
	t.Helper()
	labels := map[string]bool{}
	for _, m := range labelForRe.FindAllStringSubmatch(body, -1) {
		labels[m[1]] = true
	}
	for _, m := range inputIDRe.FindAllStringSubmatch(body, -1) {
		if !labels[m[1]] {
			t.Errorf("input #%s has no <label for>", m[1])
		}
	}
	// Every visible input must have an id (and hence a label).
	for _, tag := range tagRe.FindAllString(body, -1) {
		visible := strings.HasPrefix(tag, "<input ") && !strings.Contains(tag, `type="hidden"`) ||
			strings.HasPrefix(tag, "<select") || strings.HasPrefix(tag, "<textarea")
		if visible && !strings.Contains(tag, ` id="`) {
			t.Errorf("input without id/label: %s", tag)
		}
	}
}

// checkFormsPost checks that every form POSTs to the portal ("Add
// sign-in method" is links, not a GET form).
func checkFormsPost(t *testing.T, body string) {
	t.Helper()
	for _, f := range formTagRe.FindAllString(body, -1) {
		if !strings.Contains(f, `method="post"`) || !strings.Contains(f, `action="/.mfa/`) {
			t.Errorf("form not POSTing to the portal: %s", f)
		}
	}
}

func TestLoginForm(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, LoginPage{Common: Common{Prefix: "/.mfa/", Issuer: "Example Corp"}, RD: "/after?a=1&b=2"})
	for _, s := range []string{
		`<form method="post" action="/.mfa/login">`,
		`<input type="hidden" name="rd" value="/after?a=1&amp;b=2">`,
		`<title>Sign in · Example Corp</title>`,
		`<label for="username">`, `<label for="password">`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	user := findTag(t, body, `name="username"`)
	for _, a := range []string{`id="username"`, `autocomplete="username"`, "autofocus", "required"} {
		if !strings.Contains(user, a) {
			t.Errorf("username input lacks %s: %s", a, user)
		}
	}
	pw := findTag(t, body, `name="password"`)
	for _, a := range []string{`id="password"`, `type="password"`, `autocomplete="current-password"`} {
		if !strings.Contains(pw, a) {
			t.Errorf("password input lacks %s: %s", a, pw)
		}
	}
	if strings.Contains(body, `role="alert"`) {
		t.Error("alert shown without error")
	}

	// With an error and a known username, the error is announced and focus moves to the password.
	_, body = render(t, r, 401, LoginPage{Common: Common{Prefix: "/.mfa/"}, Username: "bob", Error: "Your password is incorrect."})
	if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "Your password is incorrect.") {
		t.Error("error not shown in alert")
	}
	if !strings.Contains(findTag(t, body, `name="password"`), "autofocus") {
		t.Error("password not focused when username known")
	}
	if !strings.Contains(findTag(t, body, `name="username"`), `value="bob"`) {
		t.Error("username not pre-filled")
	}
}

func findTag(t *testing.T, body, marker string) string {
	t.Helper()
	for _, tag := range tagRe.FindAllString(body, -1) {
		if strings.Contains(tag, marker) {
			return tag
		}
	}
	t.Fatalf("no tag with %s", marker)
	return ""
}

func checkCodeField(t *testing.T, body, action string) {
	t.Helper()
	if !strings.Contains(body, `<form method="post" action="/.mfa/`+action+`"`) {
		t.Errorf("no form posting to %s", action)
	}
	code := findTag(t, body, `name="code"`)
	for _, a := range []string{`id="code"`, `autocomplete="one-time-code"`, `inputmode="numeric"`, `pattern="[0-9 ]*"`, `maxlength="7"`, "autofocus"} {
		if !strings.Contains(code, a) {
			t.Errorf("code input lacks %s: %s", a, code)
		}
	}
}

func TestVerifyPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, VerifyCodePage{Common: common(""), Error: "That code didn't work."})
	checkCodeField(t, body, "verify")
	for _, s := range []string{
		"<h1>Enter code</h1>", `role="alert"`, "That code didn&#39;t work.",
		`<form method="post" action="/.mfa/logout"`, "Sign in as someone else",
		"alice@example.com", "<title>Enter code · Example Corp</title>",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
}

func TestEnrolPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, EnrolTOTPPage{Common: common(""), QRDataURI: qrPNG, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPE", Account: "Example Corp:alice"})
	checkCodeField(t, body, "enrol")
	for _, s := range []string{
		"More information required",
		"Your organisation needs more information to keep your account secure",
		`src="` + string(qrPNG) + `"`,
		`alt="QR code`,
		"Can't scan? Enter this key",
		`<code class="secret" id="secret">JBSW Y3DP EHPK 3PXP JBSW Y3DP E</code>`,
		`data-copy="JBSWY3DPEHPK3PXPJBSWY3DPE"`,
		"Example Corp:alice",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if strings.Contains(body, `role="alert"`) {
		t.Error("alert without error")
	}
}

func TestLogoutAndMessagePages(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, LogoutPage{Common: common("")})
	for _, s := range []string{"Sign out?", `<form method="post" action="/.mfa/logout">`, `<button type="submit" class="btn primary">Sign out</button>`, `href="/">Cancel</a>`} {
		if !strings.Contains(body, s) {
			t.Errorf("logout body lacks %q", s)
		}
	}
	_, body = render(t, r, 400, MessagePage{Common: Common{Prefix: "/.mfa/"}, Heading: "Bad request", Message: "Try again."})
	if !strings.Contains(body, "<h1>Bad request</h1>") || !strings.Contains(body, "<title>Bad request</title>") || strings.Contains(body, "Continue") {
		t.Errorf("message page wrong: %s", body)
	}
	// A javascript: link is neutralised by html/template.
	_, body = render(t, r, 200, MessagePage{Common: Common{Prefix: "/.mfa/"}, Heading: "x", LinkHref: "javascript:alert(1)"})
	if strings.Contains(body, "javascript:") {
		t.Error("javascript: URL not neutralised")
	}
}

func TestEscaping(t *testing.T) {
	r := newRenderer(t)
	evil := `<script>alert("x")</script>`
	c := Common{Title: evil, Issuer: evil, Prefix: "/.mfa/", User: evil}
	pages := []Page{
		LoginPage{Common: c, Username: evil, RD: `"><script>`, Error: evil},
		VerifyCodePage{Common: c, Error: evil},
		EnrolTOTPPage{Common: c, Secret: evil, Account: evil, Error: evil, QRDataURI: qrPNG},
		LogoutPage{Common: c},
		MessagePage{Common: c, Heading: evil, Message: evil, LinkText: evil, LinkHref: `"><script>`},
		SecurityPage{Common: c, Notice: evil, Error: evil, DefaultMethod: evil,
			DefaultChoices: []MethodChoice{{evil, evil}},
			Authenticators: []AuthenticatorRow{{ID: 1, Name: evil, Added: evil, WhyNotDelete: evil}, {ID: 2, Name: evil, CanDelete: true}},
			AppPasswords:   []AppPasswordRow{{ID: 3, Name: evil, Created: evil, LastUsed: evil}},
			MFAState:       evil},
		AddMethodPage{Common: c, Options: []AddMethodOption{{Method: evil, Label: evil, Description: evil}}, Missing: []string{evil}},
		NewAppPasswordPage{Common: c, Name: evil, Error: evil},
		AppPasswordCreatedPage{Common: c, Name: evil, Password: evil},
		ReverifyPage{Common: c, Error: evil, Next: `"><script>`},
		EnrolAnotherTOTPPage{Common: c, Secret: evil, Account: evil, Error: evil, QRDataURI: qrPNG},
	}
	for _, p := range pages {
		_, body := render(t, r, 200, p)
		if n := strings.Count(body, "<script"); n != 1 { // only our own script tag
			t.Errorf("%T: %d <script occurrences, want 1", p, n)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%T: escaped text missing", p)
		}
		if strings.Contains(body, `"><script`) {
			t.Errorf("%T: attribute breakout", p)
		}
	}
}

type bogusPage struct{ Common }

func (bogusPage) pageName() string { return "bogus" }

// badFieldPage maps to a real template but lacks the fields it uses,
// so execution fails part way through the layout.
type badFieldPage struct{ X int }

func (badFieldPage) pageName() string { return "login" }

func TestTemplateErrorsGivePlain500(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	r, err := New(zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	var nilLogin *LoginPage
	for _, p := range []Page{bogusPage{}, badFieldPage{}, nil, nilLogin} {
		rec, body := render(t, r, 200, p)
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%T: status %d, want 500", p, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%T: Content-Type %q", p, ct)
		}
		if strings.Contains(body, "<") || strings.TrimSpace(body) != "Internal Server Error" {
			t.Errorf("%T: partial output %q", p, body)
		}
		checkSecurityHeaders(t, rec.Header())
	}
	if n := logs.FilterMessage("rendering page").Len(); n != 4 {
		t.Errorf("logged %d errors, want 4", n)
	}
	// A zero Renderer fails cleanly too.
	rec := httptest.NewRecorder()
	(&Renderer{}).Render(rec, 200, LogoutPage{})
	if rec.Code != 500 {
		t.Errorf("zero Renderer: status %d", rec.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := http.Header{}
	SecurityHeaders(h)
	checkSecurityHeaders(t, h)
}

func TestConcurrentRender(t *testing.T) {
	r := newRenderer(t)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Go(func() {
			for _, p := range allPages() {
				rec := httptest.NewRecorder()
				r.Render(rec, 200, p)
				if rec.Code != 200 {
					t.Errorf("status %d", rec.Code)
				}
			}
		})
	}
	wg.Wait()
}

func TestStatic(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/.mfa/static/", Static()))
	defer srv.Close()
	get := func(method, p string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+p, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for file, ct := range map[string]string{"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"} {
		res, body := get("GET", "/.mfa/static/"+file+"?v="+AssetVersion())
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", file, res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); got != ct {
			t.Errorf("%s: Content-Type %q, want %q", file, got, ct)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", file)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q", file, cc)
		}
		if len(body) < 100 {
			t.Errorf("%s: body too short", file)
		}
		// Conditional request.
		req, _ := http.NewRequest("GET", srv.URL+"/.mfa/static/"+file, nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		res2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res2.Body.Close()
		if res2.StatusCode != http.StatusNotModified {
			t.Errorf("%s: conditional GET status %d", file, res2.StatusCode)
		}
	}
	for _, p := range []string{"/.mfa/static/nope.css", "/.mfa/static/", "/.mfa/static/../loginui.go", "/.mfa/static/static/app.css"} {
		if res, _ := get("GET", p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
	}
	if res, _ := get("POST", "/.mfa/static/app.css"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", res.StatusCode)
	}
	if res, body := get("HEAD", "/.mfa/static/app.css"); res.StatusCode != 200 || body != "" {
		t.Errorf("HEAD: status %d body %d bytes", res.StatusCode, len(body))
	}
}

func TestGroup4(t *testing.T) {
	for in, want := range map[string]string{"": "", "ABC": "ABC", "ABCD": "ABCD", "ABCDE": "ABCD E", " AB CD EFGH I ": "ABCD EFGH I"} {
		if got := group4(in); got != want {
			t.Errorf("group4(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewParses(t *testing.T) {
	r := newRenderer(t)
	for _, n := range pageNames {
		if r.pages[n] == nil {
			t.Errorf("page %s missing", n)
		}
	}
	if _, ok := safePageName(nil); ok {
		t.Error("nil page accepted")
	}
}

// selectOptions returns the <select> with the given id and its <option> tags.
func selectOptions(t *testing.T, body, id string) (sel string, options []string) {
	t.Helper()
	start := strings.Index(body, `<select id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no select #%s", id)
	}
	end := strings.Index(body[start:], "</select>")
	if end < 0 {
		t.Fatalf("select #%s not closed", id)
	}
	part := body[start : start+end]
	for _, tag := range tagRe.FindAllString(part, -1) {
		if strings.HasPrefix(tag, "<option") {
			options = append(options, tag)
		}
	}
	return tagRe.FindString(part), options
}

func TestSecurityPage(t *testing.T) {
	r := newRenderer(t)
	onPortal := securityPage()
	onPortal.AppHref = ""
	if _, body := render(t, r, 200, onPortal); strings.Contains(body, "Back to the app") {
		t.Error("Security info without an app to go back to links to one")
	}
	_, body := render(t, r, 200, securityPage())
	for _, s := range []string{
		"<title>Security info · Example Corp</title>",
		`<div class="card card-wide">`,
		"<h1>Security info</h1>",
		"<p>These are the methods you use to sign in to your account.</p>",
		`<span class="badge badge-on">Multi-factor: Enforced</span>`,
		`<div class="notice" role="status">App password deleted.</div>`,
		"Default sign-in method: <strong>Phone (sign-in approval)</strong>",
		`<form method="post" action="/.mfa/security/default"`,
		`<button type="submit" class="btn small">Change</button>`,
		// "+ Add sign-in method" leads to the chooser (a link: a GET changes nothing).
		`<p class="add-method"><a class="btn small" id="add-method" href="/.mfa/security/add">+ Add sign-in method</a></p>`,
		// Authenticator rows: Rename, and Delete through a confirmation page.
		`<a class="btn small" href="/.mfa/security/rename?kind=authenticator&amp;id=11">Rename<span class="visually-hidden"> authenticator app iPhone</span></a>`,
		`<a class="btn small" href="/.mfa/security/delete?kind=authenticator&amp;id=11">Delete<span class="visually-hidden"> authenticator app iPhone</span></a>`,
		`<a class="btn small" href="/.mfa/security/delete?kind=authenticator&amp;id=12">Delete`,
		"Added 2026-03-02",
		// App passwords are rows of the same list: name, created, last used, Delete.
		`<a class="btn small" href="/.mfa/security/delete?kind=app-password&amp;id=21">Delete<span class="visually-hidden"> app password Laptop mail</span></a>`,
		`<a class="btn small" href="/.mfa/security/delete?kind=app-password&amp;id=22">Delete`,
		"Created 2026-10-01", "Last used: 2026-11-25 12:00 UTC from 192.0.2.1", "Last used: Never",
		// Footer.
		`<form method="post" action="/.mfa/logout">`, `>Sign out</button>`,
		`<a href="/">Back to the app</a>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	// No promise of a password reset that does not exist, and the app
	// password count is no line of its own: they are rows of the list.
	for _, s := range []string{"reset your password", "App passwords:", "of 40"} {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q", s)
		}
	}
	if strings.Contains(body, `role="alert"`) || strings.Contains(body, " disabled") {
		t.Error("alert or disabled button without reason")
	}
	// Nothing is deleted in one click from the list: no delete form here.
	if strings.Contains(body, "/delete\"") || strings.Contains(body, `name="id"`) {
		t.Error("the list posts a deletion without a confirmation step")
	}
	// ONE list holds every kind of method, app passwords included.
	list := body[strings.Index(body, `<ul class="methods"`):]
	list = list[:strings.Index(list, "</ul>")]
	if n := strings.Count(list, `<li class="method">`); n != 4 || !strings.Contains(list, `<span class="method-type">App password</span>`) {
		t.Errorf("methods list has %d rows, want 2 authenticators + 2 app passwords:\n%s", n, list)
	}
	if strings.Count(body, `<ul class="methods"`) != 1 {
		t.Error("more than one methods list")
	}

	sel, opts := selectOptions(t, body, "default-method")
	if !strings.Contains(sel, `name="method"`) || len(opts) != 2 ||
		opts[0] != `<option value="code">` || opts[1] != `<option value="push" selected>` {
		t.Errorf("default-method select wrong: %s %q", sel, opts)
	}
	if !strings.Contains(body, `<label for="default-method"`) {
		t.Error("default-method select not labelled")
	}
	if strings.Contains(body, `<select id="add-method"`) || strings.Contains(body, `<form method="get"`) {
		t.Error("Security info still has the add-method dropdown")
	}

	// Delete buttons need no JavaScript confirmation.
	if strings.Contains(body, "confirm(") || strings.Contains(body, "onclick") {
		t.Error("page relies on confirm()")
	}
}

func TestSecurityPageRestricted(t *testing.T) {
	r := newRenderer(t)
	p := SecurityPage{
		Common:         common(""),
		Error:          "That sign-in method could not be deleted.",
		DefaultMethod:  "code",
		Authenticators: []AuthenticatorRow{{ID: 5, Name: "Phone", Added: "2026-03-02", WhyNotDelete: "You need at least one authenticator app."}},
		AppPasswords:   []AppPasswordRow{{ID: 9, Name: "old", Created: "2026-01-01", LastUsed: "Never"}},
		MFAState:       "enabled",
	}
	_, body := render(t, r, 200, p)
	// No selector without choices, but the current default is still shown.
	if strings.Contains(body, `id="default-method"`) || strings.Contains(body, "security/default") {
		t.Error("default-method selector shown without choices")
	}
	if !strings.Contains(body, "Default sign-in method: <strong>Authenticator app – code</strong>") {
		t.Error("current default method not shown")
	}
	// The authenticator cannot be deleted: disabled button, reason, no form.
	if strings.Contains(body, "security/authenticator/delete") || strings.Contains(body, "delete?kind=authenticator") {
		t.Error("delete link or form for undeletable authenticator")
	}
	btn := findTag(t, body, "disabled")
	if !strings.HasPrefix(btn, "<button") || !strings.Contains(btn, `aria-describedby="authenticator-5-why"`) {
		t.Errorf("disabled delete button wrong: %s", btn)
	}
	if !strings.Contains(body, `id="authenticator-5-why">You need at least one authenticator app.</span>`) {
		t.Error("why-not-delete text missing")
	}
	// Existing app passwords can still be deleted.
	if !strings.Contains(body, `href="/.mfa/security/delete?kind=app-password&amp;id=9">Delete`) {
		t.Error("app password row missing")
	}
	// It can still be renamed.
	if !strings.Contains(body, `href="/.mfa/security/rename?kind=authenticator&amp;id=5">Rename`) {
		t.Error("no Rename for the only authenticator")
	}
	for _, s := range []string{`role="alert"`, "That sign-in method could not be deleted.", `<span class="badge badge-partial">Multi-factor: Enabled</span>`} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if strings.Contains(body, `role="status"`) {
		t.Error("notice box without notice")
	}

	// Nothing at all: no default line, no list, no count, no badge.
	_, body = render(t, r, 200, SecurityPage{Common: common("")})
	for _, s := range []string{"Default sign-in method", `class="methods"`, "of 40", "badge", "app-passwords-why"} {
		if strings.Contains(body, s) {
			t.Errorf("empty page contains %q", s)
		}
	}
	if !strings.Contains(body, "You have no sign-in methods yet.") {
		t.Error("empty state missing")
	}
}

func TestNewAppPasswordPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, NewAppPasswordPage{Common: common(""), Count: 3, Limit: 40})
	for _, s := range []string{
		"<title>App password · Example Corp</title>",
		`<form method="post" action="/.mfa/security/app-password">`,
		`<label for="name">Name</label>`,
		"You have 3 of 40 app passwords.",
		`<button type="submit" class="btn primary">Next</button>`,
		`<a class="btn secondary" href="/.mfa/security">Cancel</a>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	in := findTag(t, body, `name="name"`)
	for _, a := range []string{`id="name"`, `type="text"`, `placeholder="e.g. Laptop mail"`, `maxlength="64"`, "required", "autofocus"} {
		if !strings.Contains(in, a) {
			t.Errorf("name input lacks %s: %s", a, in)
		}
	}
	if strings.Contains(in, "aria-invalid") || strings.Contains(body, `role="alert"`) {
		t.Error("error state without error")
	}
	_, body = render(t, r, 200, NewAppPasswordPage{Common: common(""), Name: "Mail & more", Error: "That name is taken."})
	in = findTag(t, body, `name="name"`)
	if !strings.Contains(in, `value="Mail &amp; more"`) || !strings.Contains(in, `aria-invalid="true"`) || !strings.Contains(in, `aria-describedby="error"`) {
		t.Errorf("name input after error: %s", in)
	}
	if !strings.Contains(body, `role="alert" id="error">That name is taken.`) || strings.Contains(body, " of 0") {
		t.Error("error/limit rendering wrong")
	}
}

func TestAppPasswordCreatedPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, AppPasswordCreatedPage{Common: common(""), Name: "Laptop mail", Password: "abcdefghijklmnop"})
	for _, s := range []string{
		"<h1>App password</h1>",
		"Copy your password before you click Done. It will not be shown again.",
		"Name: <strong>Laptop mail</strong>",
		`<code id="app-password">abcd efgh ijkl mnop</code>`,
		`data-copy="abcdefghijklmnop"`,
		`data-copy-what="password"`,
		`aria-describedby="copy-status"`,
		`id="copy-status" role="status"`,
		"Use it instead of your account password in apps that cannot do multi-factor sign-in (mail, calendar, WebDAV, git). Spaces are optional.",
		`<a class="btn primary" href="/.mfa/security">Done</a>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if n := strings.Count(body, "abcdefghijklmnop"); n != 1 {
		t.Errorf("ungrouped password appears %d times, want 1 (data-copy)", n)
	}
	// Already grouped input is copied without spaces.
	_, body = render(t, r, 200, AppPasswordCreatedPage{Common: common(""), Password: "abcd efgh ijkl mnop"})
	if !strings.Contains(body, `data-copy="abcdefghijklmnop"`) || !strings.Contains(body, `<code id="app-password">abcd efgh ijkl mnop</code>`) {
		t.Error("grouped password input mishandled")
	}
}

func TestReverifyPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, ReverifyPage{Common: common(""), Next: "/.mfa/security/add?method=app-password&x=1"})
	checkCodeField(t, body, "security/reverify")
	for _, s := range []string{
		"<title>Verify your identity · Example Corp</title>",
		"<h1>Verify your identity</h1>",
		"For your security, enter a code from your authenticator app to continue.",
		`<input type="hidden" name="next" value="/.mfa/security/add?method=app-password&amp;x=1">`,
		`<a class="btn secondary" href="/.mfa/security">Cancel</a>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if strings.Contains(body, `role="alert"`) {
		t.Error("alert without error")
	}
	_, body = render(t, r, 401, ReverifyPage{Common: common(""), Error: "That code didn't work."})
	if !strings.Contains(body, `role="alert"`) || !strings.Contains(findTag(t, body, `name="code"`), `aria-invalid="true"`) {
		t.Error("error not shown")
	}
}

func TestEnrolAnotherPage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, EnrolAnotherTOTPPage{Common: common(""), QRDataURI: qrPNG, Secret: "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP", Account: "Example Corp:alice"})
	checkCodeField(t, body, "security/authenticator")
	for _, s := range []string{
		"<title>Add an authenticator app · Example Corp</title>",
		"<h1>Add an authenticator app</h1>",
		"Install an authenticator app", "Scan the QR code", "Enter the code",
		`src="` + string(qrPNG) + `"`,
		`<code class="secret" id="secret">JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP</code>`,
		`data-copy="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"`,
		"Example Corp:alice",
		`<a class="btn secondary" href="/.mfa/security">Cancel</a>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	for _, s := range []string{"More information required", "Your organisation needs", "Sign in as someone else", `action="/.mfa/enrol"`} {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q", s)
		}
	}
	if n := strings.Count(body, "<li>"); n != 3 {
		t.Errorf("%d steps, want 3", n)
	}
}

func TestHelpers(t *testing.T) {
	choices := []MethodChoice{{"code", "Code please"}}
	for _, c := range []struct{ value, want string }{
		{"code", "Code please"}, {"push", PhoneMethod}, {"", "None"}, {"other", "other"},
	} {
		if got := methodLabel(choices, c.value); got != c.want {
			t.Errorf("methodLabel(%q) = %q, want %q", c.value, got, c.want)
		}
	}
	if got := methodLabel(nil, "code"); got != "Authenticator app – code" {
		t.Errorf("methodLabel(nil, code) = %q", got)
	}
	for in, want := range map[string]string{"": "", "enforced": "Enforced", "disabled": "Disabled", "émis": "Émis"} {
		if got := stateLabel(in); got != want {
			t.Errorf("stateLabel(%q) = %q, want %q", in, got, want)
		}
	}
	if got := compact(" ab cd\tef "); got != "abcdef" {
		t.Errorf("compact = %q", got)
	}
}

// TestApprovalWaitForReverification: the sign-in's waiting page serves a
// re-verification too: it long-polls the same address, but once answered
// it submits its check form (the step's fields posted again) instead of
// opening the sign-in's page, and asks again there.
func TestApprovalWaitForReverification(t *testing.T) {
	r := newRenderer(t)
	rv := &ApprovalReverify{Check: "/admin/reverify", CheckMethod: "post", Cancel: "/admin/",
		Fields: []HiddenField{{Name: "then", Value: "action"}, {Name: "back", Value: `"><script>`}}}
	_, body := render(t, r, 200, ApprovalWaitPage{Common: common(""), Pending: true, Number: 42, RequestID: "r1", Reverify: rv})
	for _, want := range []string{`data-approval-wait="/.mfa/push/wait?id=r1"`, `<form method="post" action="/admin/reverify" class="actions" data-approval-next data-approval-check>`,
		`<input type="hidden" name="then" value="action">`, `value="&#34;&gt;&lt;script&gt;"`, `href="/admin/">Cancel`, "to verify it's you"} {
		if !strings.Contains(body, want) {
			t.Errorf("pending page lacks %s\n%s", want, body)
		}
	}
	for _, unwanted := range []string{"data-approval-done", `http-equiv="refresh"`, "/.mfa/push/new", `name="again"`} {
		if strings.Contains(body, unwanted) {
			t.Errorf("pending page has %s", unwanted)
		}
	}
	_, body = render(t, r, 200, ApprovalWaitPage{Common: common(""), Problem: "The sign-in request was denied on your phone.", Denied: true, RequestID: "r1", Reverify: rv})
	for _, want := range []string{`data-approval-while="denied"`, `<input type="hidden" name="again" value="1">`, "Send another request"} {
		if !strings.Contains(body, want) {
			t.Errorf("denied page lacks %s\n%s", want, body)
		}
	}
	if strings.Contains(body, "data-approval-done") {
		t.Error("denied page opens the sign-in's page")
	}
}
