package securityinfo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture"
)

// TestPhoneOnlyUserReverifies: a user whose only second factor is a
// paired phone re-verifies before a change by approving a request on the
// phone (the sign-in's waiting page, number matching), and then reaches
// the change; the session continues under a new identifier. Before, such
// a user was told to sign out and in again.
func TestPhoneOnlyUserReverifies(t *testing.T) {
	ctx := context.Background()
	svc, counted := testfixture.CountingServices(t)
	u := &model.User{Username: "pia", PasswordHash: "x", MFAState: model.MFAEnforced}
	if err := svc.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	pairing := []byte("pairing-session-hash-0123456789ab")
	token, err := svc.Core.Phones.StartPairing(ctx, u, pairing)
	if err != nil {
		t.Fatal(err)
	}
	code := registerPhone(t, svc.Core, token)
	if _, err := svc.Core.Phones.Confirm(ctx, u, pairing, code, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	pages := New(Deps{Deps: svc.Web(nil, func(*http.Request) string { return "192.0.2.1" })}, Config{Prefix: "/.mfa/", Issuer: "T"})
	mux := http.NewServeMux()
	for pattern, h := range pages.Routes() {
		mux.Handle(pattern, h)
	}
	// A session whose second factor passed 11 minutes ago: too long for
	// a change.
	w := httptest.NewRecorder()
	ago := time.Now().Add(-11 * time.Minute)
	if err := svc.Sessions.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{
		UserID: u.ID, Stage: model.StageComplete, CreatedAt: ago, MFAAt: ago}); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	send := func(method, target string, form url.Values) *httptest.ResponseRecorder {
		var r *http.Request
		if form != nil {
			r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(method, target, nil)
		}
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if cs := w.Result().Cookies(); len(cs) == 1 {
			cookie = cs[0]
		}
		return w
	}
	next := "/.mfa/security/add?method=app-password"

	// The change asks for the phone (there is no code to enter).
	w = send("GET", next, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "Send a request to my phone") || strings.Contains(body, `name="code"`) {
		t.Fatalf("re-verification of a phone-only user: %d\n%s", w.Code, body)
	}

	// The request goes to the phone; the page waits with its number.
	w = send("POST", "/.mfa/security/reverify/push", url.Values{"next": {next}})
	check := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(check, "/.mfa/security/reverify/push?next=") {
		t.Fatalf("request: %d %s\n%s", w.Code, check, w.Body)
	}
	w = send("GET", check, nil)
	m := regexp.MustCompile(`class="approval-number"[^>]*>(\d+)<`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil || !strings.Contains(w.Body.String(), `data-approval-wait="/.mfa/push/wait?id=`) {
		t.Fatalf("waiting page: %d\n%s", w.Code, w.Body)
	}
	old := cookie.Value

	// Not yet answered: nothing changes.
	if w = send("GET", check, nil); w.Code != http.StatusOK || cookie.Value != old {
		t.Fatalf("check before the answer: %d", w.Code)
	}

	// The phone approves with the number shown.
	devices, err := svc.Store.Devices(ctx, u.ID)
	if err != nil || len(devices) != 1 {
		t.Fatalf("devices: %v %v", devices, err)
	}
	ap, err := svc.Core.Approvals.Pending(ctx, &devices[0])
	if err != nil || ap == nil {
		t.Fatalf("no pending request: %v", err)
	}
	if _, err := svc.Core.Approvals.Answer(ctx, &devices[0], ap.ID, core.DecisionApprove, m[1]); err != nil {
		t.Fatal(err)
	}
	counted.Reset()
	w = send("GET", check, nil)
	if writes := counted.Writes(); !slices.Equal(writes, []string{"Update"}) {
		t.Errorf("re-verification with the phone: writes %v, want one transaction", writes)
	}
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != next || cookie.Value == old {
		t.Fatalf("check after the approval: %d %s (new cookie: %t)\n%s", w.Code, w.Header().Get("Location"), cookie.Value != old, w.Body)
	}
	w = send("GET", next, nil)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "Verify your identity") {
		t.Fatalf("the change after re-verification: %d\n%s", w.Code, w.Body)
	}
	// The request is used up: checking again re-verifies nothing more.
	old = cookie.Value
	if w = send("GET", check, nil); w.Code != http.StatusSeeOther || cookie.Value != old {
		t.Fatalf("a used request: %d (new cookie: %t)\n%s", w.Code, cookie.Value != old, w.Body)
	}
}

// TestCodeReverificationIsTwoTransactions: re-verifying with a code on
// Security info is the failure-slot claim and one apply (the step, the
// slots, the session's new identifier); a wrong code at most the same.
func TestCodeReverificationIsTwoTransactions(t *testing.T) {
	ctx := context.Background()
	svc, counted := testfixture.CountingServices(t)
	u := &model.User{Username: "ann", PasswordHash: "x", MFAState: model.MFAEnforced}
	if err := svc.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sealed, _ := svc.Core.Codes.Seal(u.ID, make([]byte, 20))
	if err := svc.Core.Methods.AddAuthenticator(ctx, u, sealed, "192.0.2.1", false); err != nil {
		t.Fatal(err)
	}
	pages := New(Deps{Deps: svc.Web(nil, func(*http.Request) string { return "192.0.2.1" })}, Config{Prefix: "/.mfa/", Issuer: "T"})
	mux := http.NewServeMux()
	for pattern, h := range pages.Routes() {
		mux.Handle(pattern, h)
	}
	w := httptest.NewRecorder()
	ago := time.Now().Add(-11 * time.Minute)
	if err := svc.Sessions.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{
		UserID: u.ID, Stage: model.StageComplete, CreatedAt: ago, MFAAt: ago}); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	post := func(code string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/.mfa/security/reverify", strings.NewReader(url.Values{"code": {code}, "next": {"/.mfa/security"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	counted.Reset()
	if w := post("000000"); w.Code != http.StatusOK {
		t.Fatalf("wrong code: %d", w.Code)
	}
	if writes := counted.Writes(); len(writes) > 2 {
		t.Errorf("wrong code: writes %v", writes)
	}
	code, err := totp.CodeAt(totp.EncodeSecret(make([]byte, 20)), time.Now().Unix()/30)
	if err != nil {
		t.Fatal(err)
	}
	counted.Reset()
	if w := post(code); w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		t.Fatalf("right code: %d\n%s", w.Code, w.Body)
	}
	if writes := counted.Writes(); !slices.Equal(writes, []string{"Update", "Update"}) {
		t.Errorf("re-verification with a code: writes %v, want the claim and one apply", writes)
	}
}
