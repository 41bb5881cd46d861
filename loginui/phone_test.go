package loginui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func phonePages() map[string]Page {
	c := Common{Issuer: "Example Corp", Prefix: "/phone/"}
	return map[string]Page{"phone-pair": PhonePairPage{Common: c}, "phone-app": PhoneAppPage{Common: c}}
}

func TestPhonePagesRender(t *testing.T) {
	r := newRenderer(t)
	for name, p := range phonePages() {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r.RenderPhone(rec, http.StatusOK, p)
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, body)
			}
			h := rec.Header()
			if got := h.Get("Content-Security-Policy"); got != PhoneContentSecurityPolicy {
				t.Errorf("CSP %q", got)
			}
			if PhoneContentSecurityPolicy != ContentSecurityPolicy+"; connect-src 'self'; manifest-src 'self'; worker-src 'self'" {
				t.Errorf("phone CSP %q", PhoneContentSecurityPolicy)
			}
			for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY",
				"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, s := range []string{
				"<!doctype html>", "Example Corp", "This page needs JavaScript",
				`<link rel="stylesheet" href="/phone/static/app.css?v=` + AssetVersion() + `">`,
				`<script src="/phone/static/phone.js?v=` + AssetVersion() + `" defer></script>`,
				`<div class="alert" role="alert" id="error" hidden></div>`,
			} {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
			checkNoInlineOrExternal(t, body)
			checkLabels(t, body)
			// The script's forms never submit (no method or action): without
			// JavaScript they stay hidden.
			for _, f := range formTagRe.FindAllString(body, -1) {
				if strings.Contains(f, "action=") || strings.Contains(f, "method=") || !strings.Contains(f, " hidden") {
					t.Errorf("form %s", f)
				}
			}
		})
	}
	// The ids phone.js looks up are on the pages.
	js := string(assets["phone.js"].data)
	for name, ids := range map[string][]string{
		"phone-pair": {"phone-pair", "needs-js", "loading", "error", "no-link", "ios-install", "pair-in-tab", "name-step",
			"device-name", "working", "code-step", "pair-code", "push-off", "paired"},
		"phone-app": {"phone-app", "needs-js", "loading", "error", "unpaired", "paired-account", "idle", "idle-hint", "request",
			"request-details", "number", "approve", "deny", "report-offer", "report-skip", "report", "result", "result-text",
			"result-done", "push-off", "push-actions", "push-on"},
	} {
		rec := httptest.NewRecorder()
		r.RenderPhone(rec, http.StatusOK, phonePages()[name])
		for _, id := range ids {
			if !strings.Contains(rec.Body.String(), `id="`+id+`"`) {
				t.Errorf("%s: no element #%s", name, id)
			}
			if !strings.Contains(js, "'"+id+"'") {
				t.Errorf("phone.js does not use #%s", id)
			}
		}
	}
}

func TestPhoneRenderErrorKeepsPlain500(t *testing.T) {
	r := newRenderer(t)
	rec := httptest.NewRecorder()
	r.RenderPhone(rec, 0, (*PhoneAppPage)(nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
	}
}

// TestPhoneJSSigningInput checks that phone.js signs as the page must
// (the signing inputs themselves come from signing-input.js, which
// internal/devicekey checks against Go).
func TestPhoneJSSigningInput(t *testing.T) {
	js := string(assets["phone.js"].data)
	for _, s := range []string{
		"generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])",
		"exportKey('spki'",
		"{ name: 'ECDSA', hash: 'SHA-256' }",
		"history.replaceState(",
		"url.pathname + url.search",
		"userVisibleOnly: true",
		"navigator.standalone === true",
		"matchMedia('(display-mode: standalone)')",
		"toLocaleTimeString()",
		"'This phone is no longer paired: remove it in Security info and pair again'",
		"'Notifications are off: keep this page open to see requests'",
		"'Wrong number: the request was cancelled'",
	} {
		if !strings.Contains(js, s) {
			t.Errorf("phone.js lacks %q", s)
		}
	}
	if strings.Contains(js, "innerHTML") || strings.Contains(js, "eval(") {
		t.Error("phone.js builds markup from strings")
	}
}

func TestPhoneStatic(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/phone/static/", Static()))
	defer srv.Close()
	for _, f := range []string{"phone.js", "phone-sw.js"} {
		res, err := http.Get(srv.URL + "/phone/static/" + f + "?v=" + AssetVersion())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: %d %q", f, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	sw := string(PhoneServiceWorker())
	for _, s := range []string{"addEventListener('push'", "showNotification", "tag: 'signin'", "data: { request: request }",
		"addEventListener('notificationclick'", "openWindow('/phone/')", "self.MFAGATE_ISSUER"} {
		if !strings.Contains(sw, s) {
			t.Errorf("phone-sw.js lacks %q", s)
		}
	}
}

// TestPhoneAsksAsTheSeedDoes: the request asks "Are you trying to sign
// in?" and answers "No, it's not me" or "Yes" (with the number typed);
// only after "No, it's not me" does it offer to report. The address is
// labelled as one, and the page names the account it answers for.
func TestPhoneAsksAsTheSeedDoes(t *testing.T) {
	r := newRenderer(t)
	rec := httptest.NewRecorder()
	r.RenderPhone(rec, http.StatusOK, phonePages()["phone-app"])
	body := rec.Body.String()
	form := body[strings.Index(body, `<form id="request"`):]
	form = form[:strings.Index(form, "</form>")]
	for _, s := range []string{
		`<h2 id="request-question" class="phone-question">Are you trying to sign in?</h2>`,
		`<button type="button" class="btn secondary" id="deny">No, it's not me</button>`,
		`<button type="submit" class="btn primary" id="approve">Yes</button>`,
		`<label for="number">Enter the number shown on the sign-in screen</label>`,
	} {
		if !strings.Contains(form, s) {
			t.Errorf("the request form lacks %s", s)
		}
	}
	for _, s := range []string{"Deny", "Report", "Approve", "Did you try"} {
		if strings.Contains(form, s) {
			t.Errorf("the request form still says %q", s)
		}
	}
	offer := body[strings.Index(body, `<section id="report-offer"`):]
	offer = offer[:strings.Index(offer, "</section>")]
	for _, s := range []string{"Denied: nobody was signed in.", "Report suspicious activity?", `id="report-skip">Don't report</button>`, `id="report">Report</button>`} {
		if !strings.Contains(offer, s) {
			t.Errorf("the report offer lacks %s", s)
		}
	}
	js := string(assets["phone.js"].data)
	for _, s := range []string{"['IP address', req.ip]", "'Paired with ' + account", "offerReport(req)"} {
		if !strings.Contains(js, s) {
			t.Errorf("phone.js lacks %s", s)
		}
	}
	if strings.Contains(js, "'from ' +") {
		t.Error("phone.js still shows the address as an unlabelled \"from …\"")
	}
}
