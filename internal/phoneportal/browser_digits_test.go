package phoneportal

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/internal/model"
)

// emulateWidth sets the tab's viewport: a phone's (mobile, touch, 3x) or a
// laptop's.
func emulateWidth(width, height int64, mobile bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var opts []chromedp.EmulateViewportOption
		if mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(3))
		}
		_, err := chromedp.EmulateViewport(width, height, opts...)(ctx, tg)
		return err
	})
}

// With push_number_digits 6 the phone's page asks for the six-digit
// number: its prompt says so, the input takes six digits and the one
// space the sign-in screen groups them with (numeric keyboard), and
// fits a 390 px phone and a 1280 px window without overflow. Typed as
// shown ("123 456") or without the space, the number approves; five
// digits are stopped on the phone; a wrong six-digit number is refused
// and counts against the account.
func TestBrowserSixDigitNumber(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnvDigits(t, 6)
	origin := e.srv.URL

	step(t, ctx, "deny notifications", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"},
			Setting:    cdpbrowser.PermissionSettingDenied,
			Origin:     origin,
		})
		return err
	}))
	token, err := e.svc.Core.Phones.StartPairing(e.ctx, e.user, sessionHash("browser"))
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "pair",
		chromedp.Navigate(origin+"/phone/pair#t="+string(token)),
		chromedp.WaitVisible(chromedp.ID("name-step")),
		chromedp.SetValue(chromedp.ID("device-name"), "Six-digit phone"),
		chromedp.Click(chromedp.ID("pair-button")),
		chromedp.WaitVisible(chromedp.ID("code-step")))
	if _, err := e.svc.Core.Phones.Confirm(e.ctx, e.user, sessionHash("browser"), text(t, ctx, "pair-code"), "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, origin+"/phone/")
	step(t, ctx, "no request yet", chromedp.WaitVisible(chromedp.ID("idle")))

	// answerWith shows a new request, checks the input, types the number
	// as typed(number) and approves.
	answerWith := func(site string, typed func(string) string) {
		t.Helper()
		number := strconv.Itoa(e.request(site).Number)
		step(t, ctx, "request shown for "+site, chromedp.WaitVisible(chromedp.ID("request")))
		value(t, ctx, "the request of "+site, chromedp.Poll[bool](`document.getElementById('request-details').textContent.includes(`+strconv.Quote(site)+`)`))
		step(t, ctx, "type "+typed(number),
			chromedp.SendKeys(chromedp.ID("number"), typed(number)),
			chromedp.Click(chromedp.ID("approve")))
	}

	ap := e.request("first.example.com")
	number := strconv.Itoa(ap.Number)
	step(t, ctx, "request shown", chromedp.WaitVisible(chromedp.ID("request")))
	input := value(t, ctx, "the number input", chromedp.Evaluate[map[string]string](`(() => {
		const n = document.getElementById('number');
		return {maxLength: String(n.maxLength), minLength: String(n.minLength), inputMode: n.inputMode, pattern: n.pattern,
			label: document.querySelector('label[for="number"]').textContent};
	})()`))
	want := map[string]string{"maxLength": "7", "minLength": "6", "inputMode": "numeric", "pattern": "[0-9]{3} ?[0-9]{3}",
		"label": "Enter the six-digit number shown on the sign-in screen"}
	for k, v := range want {
		if input[k] != v {
			t.Errorf("number input %s = %q, want %q", k, input[k], v)
		}
	}
	if page := value(t, ctx, "page text", chromedp.Text(chromedp.ID("phone-app"))); strings.Contains(page, number) {
		t.Fatalf("the phone's page shows the number %s", number)
	}
	step(t, ctx, "type the number as shown", chromedp.SendKeys(chromedp.ID("number"), number[:3]+" "+number[3:]))
	for _, c := range []struct {
		width, height int64
		mobile        bool
	}{{390, 844, true}, {1280, 800, false}} {
		t.Run(fmt.Sprint(c.width), func(t *testing.T) {
			step(t, ctx, "emulate", emulateWidth(c.width, c.height, c.mobile))
			screenshot(t, ctx, fmt.Sprintf("six-digit-request-%d", c.width))
			got := value(t, ctx, "measure", chromedp.Evaluate[map[string]float64](`(() => {
				const n = document.getElementById('number');
				const b = n.getBoundingClientRect();
				const buttons = Array.from(document.querySelectorAll('#request button')).map(x => x.getBoundingClientRect().right);
				return {left: b.left, right: b.right, width: b.width, scroll: n.scrollWidth, client: n.clientWidth,
					page: document.documentElement.scrollWidth, buttons: Math.max(...buttons)};
			})()`))
			if got["left"] < 0 || got["right"] > float64(c.width) || got["buttons"] > float64(c.width) || got["page"] > float64(c.width) {
				t.Errorf("on a %d px screen: input %.0f–%.0f, buttons to %.0f, page %.0f px wide", c.width, got["left"], got["right"], got["buttons"], got["page"])
			}
			if got["scroll"] > got["client"]+1 {
				t.Errorf("on a %d px screen the typed \"%s %s\" does not fit the input (%.0f px of text in %.0f px)", c.width, number[:3], number[3:], got["scroll"], got["client"])
			}
		})
	}
	if v := value(t, ctx, "typed", chromedp.Value(chromedp.ID("number"))); v != number[:3]+" "+number[3:] {
		t.Fatalf("the input holds %q after typing the grouped number", v)
	}
	step(t, ctx, "approve with the space", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("result")))
	if r := text(t, ctx, "result-text"); !strings.HasPrefix(r, "Approved") {
		t.Fatalf("result %q", r)
	}
	if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-first.example.com")); got == nil || got.Status != model.ApprovalApproved {
		t.Fatalf("request after approval with the space: %+v", got)
	}
	step(t, ctx, "back to idle", chromedp.Click(chromedp.ID("result-done")), chromedp.WaitVisible(chromedp.ID("idle")))

	// Without the space.
	answerWith("second.example.com", func(n string) string { return n })
	step(t, ctx, "approved without the space", chromedp.WaitVisible(chromedp.ID("result")))
	if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-second.example.com")); got == nil || got.Status != model.ApprovalApproved {
		t.Fatalf("request after approval without the space: %+v", got)
	}
	step(t, ctx, "back to idle", chromedp.Click(chromedp.ID("result-done")), chromedp.WaitVisible(chromedp.ID("idle")))

	// Five digits are stopped on the phone; the request stays pending.
	answerWith("short.example.com", func(n string) string { return n[:5] })
	step(t, ctx, "five digits", chromedp.WaitVisible(chromedp.ID("error")))
	screenshot(t, ctx, "six-digit-short")
	if msg := text(t, ctx, "error"); msg != "Enter the six-digit number shown on the sign-in screen" {
		t.Errorf("error %q", msg)
	}
	if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-short.example.com")); got == nil || got.Status != model.ApprovalPending {
		t.Fatalf("request after five digits: %+v", got)
	}

	// A wrong six-digit number cancels the request and counts.
	answerWith("wrong.example.com", func(n string) string { return n[:5] + strconv.Itoa((int(n[5]-'0')+1)%10) })
	step(t, ctx, "wrong number", chromedp.WaitVisible(chromedp.ID("result")))
	if r := text(t, ctx, "result-text"); r != "Wrong number: the request was cancelled" {
		t.Errorf("result %q", r)
	}
	fl, err := e.svc.Store.FailuresFor(e.ctx, "acct:alice")
	if err != nil || fl.Count != 1 {
		t.Errorf("account failures after a wrong six-digit number = %+v, %v; want 1", fl, err)
	}
}
