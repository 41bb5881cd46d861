package admin

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/devicekey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture/phoneclient"
)

// TestPhoneOnlyAdminReverifiesWithThePhone: an admin whose only second
// factor is a paired phone re-verifies on a change's confirmation step by
// approving a request on the phone (number matching); the same step comes
// back with its Confirm button, under a new session identifier, and the
// change applies on that click. Before, such an admin had to sign out and
// in again.
func TestPhoneOnlyAdminReverifiesWithThePhone(t *testing.T) {
	f := newFixture(t)
	f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	pia := f.user("pia", false, core.AdminGroup)
	pairWithPhoneClient(t, f.svc.Core, pia)
	cookie := f.session(pia, 11*time.Minute)

	w := f.act(cookie, "block", false, []*model.User{amy}, "back", "/admin/users/2")
	wantPage(t, "confirmation", w, http.StatusOK, "Block sign-in?", `id="verify-phone-form"`, "Send a request to my phone")
	if strings.Contains(w.Body.String(), `id="verify-form"`) || strings.Contains(w.Body.String(), `name="confirmed"`) {
		t.Fatal("a phone-only admin is offered a code or the Confirm button")
	}
	form := formFields(t, w.Body.String(), `id="verify-phone-form"`)
	if form.Get("method") != "phone" || form.Get("op") != "block" || form.Get("id") != "2" {
		t.Fatalf("phone form posts %v", form)
	}

	// The request goes to the phone; the waiting page shows its number
	// and posts the step's fields back once answered.
	w = f.post("/admin/reverify", form, cookie)
	m := regexp.MustCompile(`class="approval-number"[^>]*>(\d+)<`).FindStringSubmatch(w.Body.String())
	wantPage(t, "waiting", w, http.StatusOK, `data-approval-wait="/.mfa/push/wait?id=`, "data-approval-check")
	if m == nil {
		t.Fatalf("no number on the waiting page:\n%s", w.Body)
	}
	check := formFields(t, w.Body.String(), "data-approval-check")
	if check.Get("then") != "action" || check.Get("op") != "block" || check.Has("again") {
		t.Fatalf("check form posts %v", check)
	}
	// Not answered yet: the same waiting page, nothing applied.
	wantPage(t, "check before the answer", f.post("/admin/reverify", check, cookie), http.StatusOK, "Waiting for your answer")

	devices, err := f.st.Devices(f.ctx, pia.ID)
	if err != nil || len(devices) != 1 {
		t.Fatalf("devices %v %v", devices, err)
	}
	ap, err := f.svc.Core.Approvals.Pending(f.ctx, &devices[0])
	if err != nil || ap == nil {
		t.Fatalf("no pending request: %v", err)
	}
	if _, err := f.svc.Core.Approvals.Answer(f.ctx, &devices[0], ap.ID, core.DecisionApprove, m[1]); err != nil {
		t.Fatal(err)
	}
	w = f.post("/admin/reverify", check, cookie)
	wantPage(t, "approved", w, http.StatusOK, "Block sign-in?", `id="confirm-form"`, `name="confirmed" value="yes"`)
	if !f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("applied before the confirmation")
	}
	cookies := w.Result().Cookies()
	if len(cookies) == 0 || cookies[0].Value == cookie.Value {
		t.Fatal("the session was not renewed")
	}
	wantPage(t, "confirmed", f.act(cookies[0], "block", true, []*model.User{amy}), http.StatusOK, "Sign-in blocked")
	if f.fresh(amy.ID).BlockedAt.IsZero() {
		t.Fatal("not applied after re-verification by phone and confirmation")
	}
}

// formFields returns the hidden fields of the form whose opening tag has
// marker.
func formFields(t *testing.T, body, marker string) url.Values {
	t.Helper()
	m := regexp.MustCompile(`(?s)<form [^>]*` + regexp.QuoteMeta(marker) + `[^>]*>(.*?)</form>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form with %s in\n%s", marker, body)
	}
	v := url.Values{}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(m[1], -1) {
		v.Add(f[1], htmlUnescape(f[2]))
	}
	return v
}

// pairWithPhoneClient pairs a phone (the test phone's key, signing its
// registration as the phone page does) with u.
func pairWithPhoneClient(t *testing.T, c *core.Core, u *model.User) {
	t.Helper()
	ctx := context.Background()
	pairing := []byte("pairing-session-hash-0123456789ab")
	token, err := c.Phones.StartPairing(ctx, u, pairing)
	if err != nil {
		t.Fatal(err)
	}
	p, err := phoneclient.New()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := base64.RawURLEncoding.DecodeString(p.PublicKeySPKI())
	call := devicekey.Request{Method: "POST", Host: "portal.example", Path: "/phone/api/register",
		DeviceID: core.ProofDeviceID, Nonce: token.ProofNonce(), Body: []byte("{}")}
	input, err := call.SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := p.SignInput(input)
	if err != nil {
		t.Fatal(err)
	}
	_, code, err := c.Phones.Register(ctx, core.Registration{Token: token, PublicKey: pub, Name: "Phone", Call: call, Sig: sig})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Phones.Confirm(ctx, u, pairing, code, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
}
