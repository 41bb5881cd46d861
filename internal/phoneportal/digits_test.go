package phoneportal

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
)

// With push_number_digits 6 the phone learns that the number has six
// digits, never the number; it approves with the number typed as the
// sign-in screen groups it ("123 456") or without the space; a number
// that is not six digits is refused and leaves the request pending; a
// wrong six-digit number voids the request and counts against the
// account.
func TestSixDigitNumbers(t *testing.T) {
	e := newEnvDigits(t, 6)
	p := e.paired()

	for i, typed := range []func(string) string{
		func(n string) string { return n },
		func(n string) string { return n[:3] + " " + n[3:] },
	} {
		site := "app" + strconv.Itoa(i) + ".example.com"
		ap := e.request(site)
		number := strconv.Itoa(ap.Number)
		if len(number) != 6 {
			t.Fatalf("push_number_digits 6: request number %s", number)
		}
		r := e.signed(p, "pending", `{}`)
		wantStatus(t, "pending", r, http.StatusOK)
		req, _ := r.body["request"].(map[string]any)
		if req == nil || req["id"] != ap.ID || req["digits"] != float64(6) {
			t.Fatalf("pending: %s, want the request with digits 6", r.raw)
		}
		if containsValue(r.body, number) || strings.Contains(r.raw, number) || strings.Contains(r.raw, number[:3]+" "+number[3:]) {
			t.Fatalf("pending shows the number %s: %s", number, r.raw)
		}
		r = e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "approve", "number": typed(number)}))
		wantStatus(t, "answer "+typed(number), r, http.StatusOK)
		if r.body["status"] != "approved" {
			t.Fatalf("answer %q: %s", typed(number), r.raw)
		}
		if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-"+site)); got == nil || got.Status != model.ApprovalApproved {
			t.Fatalf("request after approval with %q: %+v", typed(number), got)
		}
	}

	ap := e.request("wrong.example.com")
	number := strconv.Itoa(ap.Number)
	for _, bad := range []string{number[:2], number[:5], number + "1", number[:5] + "a", "1234567890123456789"} {
		r := e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "approve", "number": bad}))
		wantStatus(t, "answer "+bad, r, http.StatusBadRequest)
		if msg, _ := r.body["error"].(string); !strings.HasPrefix(msg, "Enter the") {
			t.Errorf("answer %q: error %q", bad, msg)
		}
	}
	if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-wrong.example.com")); got.Status != model.ApprovalPending {
		t.Fatalf("request after malformed numbers: %s, want pending", got.Status)
	}
	r := e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "approve", "number": number[:5]}))
	if msg := r.body["error"]; msg != "Enter the six-digit number shown on the sign-in screen." {
		t.Errorf("five digits for a six-digit request: error %q", msg)
	}
	wrong := number[:5] + strconv.Itoa((int(number[5]-'0')+1)%10)
	r = e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "approve", "number": wrong[:3] + " " + wrong[3:]}))
	wantStatus(t, "wrong number", r, http.StatusOK)
	if r.body["status"] != string(model.ApprovalWrongNumber) {
		t.Fatalf("wrong number: %s", r.raw)
	}
	fl, err := e.svc.Store.FailuresFor(e.ctx, "acct:alice")
	if err != nil || fl.Count != 1 {
		t.Errorf("account failures after a wrong six-digit number = %+v, %v; want 1", fl, err)
	}
}
