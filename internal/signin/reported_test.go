package signin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/web"
)

// "No, it's not me" denies the request at once and the phone then offers
// to report it. The laptop's denied page keeps listening, so a report
// that follows reaches it; and once the report has blocked the account and
// ended the session, the pages that would lead on ("Use a verification
// code instead", "Send another request") say the sign-in is blocked
// instead of landing on an empty login form.
func TestReportAfterDenyReachesTheBlockedSignIn(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password"})
	if err != nil {
		t.Fatal(err)
	}
	pairPhone(t, svc.Store, u.ID)
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	t.Cleanup(p.Close)
	var cookies []*http.Cookie
	serve := func(method, target string, form url.Values) *httptest.ResponseRecorder {
		var r *http.Request
		if form != nil {
			r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(method, target, nil)
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		return w
	}
	w := serve("POST", "/.mfa/login", url.Values{"username": {"alice"}, "password": {"right password"}})
	if w.Header().Get("Location") != "/.mfa/push" {
		t.Fatalf("login: %d %s", w.Code, w.Header().Get("Location"))
	}
	cookies = w.Result().Cookies()
	serve("GET", "/.mfa/push", nil)
	devices, _ := svc.Store.Devices(ctx, u.ID)
	phone := &devices[0]
	ap, err := svc.Core.Approvals.Pending(ctx, phone)
	if err != nil || ap == nil {
		t.Fatalf("no pending request: %v", err)
	}

	// "No, it's not me": the page says it was denied, and listens on.
	if _, err := svc.Core.Approvals.Answer(ctx, phone, ap.ID, core.DecisionDeny, ""); err != nil {
		t.Fatal(err)
	}
	page := serve("GET", "/.mfa/push", nil).Body.String()
	if !strings.Contains(page, "The sign-in request was denied on your phone.") ||
		!strings.Contains(page, `data-approval-wait="/.mfa/push/wait?id=`+ap.ID+`&amp;while=denied" data-approval-while="denied"`) {
		t.Fatalf("denied page does not listen for a report:\n%s", page)
	}

	// The report arrives while the page waits.
	type answer struct {
		Status, Message string
	}
	got := make(chan answer, 1)
	go func() {
		w := serve("GET", "/.mfa/push/wait?id="+ap.ID+"&while=denied", nil)
		var a answer
		_ = json.Unmarshal(w.Body.Bytes(), &a)
		got <- a
	}()
	select {
	case a := <-got:
		t.Fatalf("the denied page's wait answered %+v before any report", a)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := svc.Core.Approvals.Answer(ctx, phone, ap.ID, core.DecisionReport, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.Status != string(model.ApprovalReported) || a.Message != web.ApprovalProblem(model.ApprovalReported) {
			t.Fatalf("wait after the report: %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the denied page's wait did not hear the report")
	}

	// The ways on say the sign-in is blocked.
	for _, c := range []struct{ method, target string }{{"GET", "/.mfa/verify"}, {"POST", "/.mfa/push/new"}, {"GET", "/.mfa/push"}} {
		var form url.Values
		if c.method == "POST" {
			form = url.Values{}
		}
		w := serve(c.method, c.target, form)
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, "<h1>Sign-in blocked</h1>") || strings.Contains(body, "Use a verification code") ||
			strings.Contains(body, `action="/.mfa/login"`) {
			t.Errorf("%s %s after the report: %d %s\n%s", c.method, c.target, w.Code, w.Header().Get("Location"), body)
		}
	}
	// Once unblocked, the old cookie just signs in again.
	if _, err := svc.Core.Accounts.Unblock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if w := serve("GET", "/.mfa/verify", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/login" {
		t.Errorf("verify after the unblock: %d %s", w.Code, w.Header().Get("Location"))
	}
}
