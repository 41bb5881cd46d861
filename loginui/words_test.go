package loginui

import (
	"strings"
	"testing"
)

// A paired phone has one name wherever it appears: Security info's list
// and "Add sign-in method", the default-method line, the pairing page and
// the admin center's user page.
func TestPhoneMethodHasOneName(t *testing.T) {
	r := newRenderer(t)
	sec := securityPage()
	sec.DefaultChoices = []MethodChoice{{"push", PhoneMethod}, {"code", "Authenticator app or hardware token – code"}}
	sec.Devices = []DeviceRow{{ID: 5, Name: "Pixel", Paired: "2026-11-25", LastUsed: "Never", CanDelete: true}}
	pages := map[string]Page{
		"security":   sec,
		"add":        addMethodPage(),
		"pair-phone": PairPhonePage{Common: common("Add a phone"), QRDataURI: qrPNG, Link: pairingLink, Minutes: 10},
		"admin-user": AdminUserPage{Common: common("User"), Phones: []AdminMethodRow{{Name: "Pixel", Added: "2026-11-25", LastUsed: "Never"}}},
		"phone-pair": PhonePairPage{Common: common("Pair this phone")},
	}
	wants := map[string][]string{
		"security": {
			`<span class="method-type">Phone (sign-in approval)</span>`,
			`Default sign-in method: <strong>Phone (sign-in approval)</strong>`,
		},
		"add":        {`<span class="method-type">Phone (sign-in approval)</span>`, `<span class="visually-hidden"> Phone (sign-in approval)</span>`},
		"pair-phone": {`<h1>Phone (sign-in approval)</h1>`},
		"admin-user": {`<td role="cell" data-label="Method">Phone (sign-in approval)</td>`},
		// The phone's own page, opened without the link, says where to go.
		"phone-pair": {`choose <strong>Add sign-in method</strong>, then <strong>Phone (sign-in approval)</strong>`},
	}
	for name, page := range pages {
		_, body := render(t, r, 200, page)
		for _, s := range wants[name] {
			if !strings.Contains(body, s) {
				t.Errorf("%s lacks %s", name, s)
			}
		}
		for _, old := range []string{"Authenticator app – notification", "Phone (notifications)"} {
			if strings.Contains(body, old) {
				t.Errorf("%s still says %q", name, old)
			}
		}
	}
}

// The pairing page sizes the QR code on the image (the 176 px box on a
// wrapper let the 256 px image spill over the link) and lets the link wrap.
func TestPairPhoneQRSizedOnImage(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, PairPhonePage{Common: common(""), QRDataURI: qrPNG, Link: pairingLink, Minutes: 10})
	img := findTag(t, body, `alt="QR code of the pairing link"`)
	for _, a := range []string{`class="qr"`, `width="176"`, `height="176"`} {
		if !strings.Contains(img, a) {
			t.Errorf("QR image lacks %s: %s", a, img)
		}
	}
	if strings.Contains(body, `<p class="qr">`) {
		t.Error("the QR size is still set on a wrapper")
	}
	css := string(assets["app.css"].data)
	rule := css[strings.Index(css, ".pair-link {"):]
	rule = rule[:strings.Index(rule, "}")]
	if !strings.Contains(rule, "overflow-wrap: anywhere") {
		t.Errorf("the pairing link does not wrap: %s", rule)
	}
}

// The waiting page's button says what it is for; the ways on are marked
// for app.js to take away when a report blocks the sign-in.
func TestApprovalWaitWords(t *testing.T) {
	r := newRenderer(t)
	_, body := render(t, r, 200, ApprovalWaitPage{Common: common(""), Pending: true, Number: 42, RequestID: "r1", CanUseCode: true})
	for _, s := range []string{
		`<form method="get" action="/.mfa/push" class="actions" data-approval-next>` + "\n" +
			`<button type="submit" class="btn primary">I approved it on my phone</button>`,
		`<p data-approval-next><a href="/.mfa/verify">Use a verification code instead</a></p>`,
		"Open the notification on the phone you paired, or its Sign-in requests page",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
	if strings.Contains(body, ">Continue<") || strings.Contains(body, "Authenticator page") {
		t.Error("the waiting page still says Continue or \"Authenticator page\"")
	}
}
