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
)

const qrPNG = template.URL("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

func common(title string) Common {
	return Common{Title: title, Issuer: "Example Corp", Prefix: "/.mfa/", User: "alice@example.com"}
}

func allPages() map[string]Page {
	return map[string]Page{
		"login":   LoginPage{Common: Common{Title: "Sign in", Issuer: "Example Corp", Prefix: "/.mfa/"}, RD: "https://app.example.com/x"},
		"verify":  VerifyCodePage{Common: common("Enter code")},
		"enrol":   &EnrolTOTPPage{Common: common("Set up"), QRDataURI: qrPNG, Secret: "JBSWY3DPEHPK3PXPJBSWY3DP", Account: "alice@example.com"},
		"logout":  LogoutPage{Common: common("Sign out")},
		"message": MessagePage{Common: common("Signed out"), Heading: "Signed out", Message: "You have been signed out.", LinkText: "Sign in again", LinkHref: "/.mfa/login"},
	}
}

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.OnError = func(error) {} // keep test output quiet
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
	inputIDRe    = regexp.MustCompile(`<input [^>]*\bid="([^"]+)"`)
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
		if strings.HasPrefix(tag, "<input ") && !strings.Contains(tag, `type="hidden"`) && !strings.Contains(tag, ` id="`) {
			t.Errorf("input without id/label: %s", tag)
		}
	}
}

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
	r := newRenderer(t)
	var logged []error
	var mu sync.Mutex
	r.OnError = func(err error) { mu.Lock(); logged = append(logged, err); mu.Unlock() }
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
	if len(logged) != 4 {
		t.Errorf("logged %d errors, want 4", len(logged))
	}
	// A zero Renderer fails cleanly too.
	rec := httptest.NewRecorder()
	(&Renderer{OnError: func(error) {}}).Render(rec, 200, LogoutPage{})
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
