package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
)

// putWithBody is an upload announcing a body the gateway may leave unread.
func putWithBody(path string) *http.Request {
	r := httptest.NewRequest("PUT", path, strings.NewReader(strings.Repeat("x", 1000)))
	r.Header.Set("Expect", "100-continue")
	return r
}

// Every answer the gateway writes without reading an announced body says
// Connection: close (a client waiting for "100 Continue" gets it at once);
// one that read the body, and the pass-through, do not.
func TestAnswersLeavingTheBodyUnreadClose(t *testing.T) {
	g, sm, u := newGateway(t, policy.Site{})
	withBasic := func(r *http.Request, user, pw string) *http.Request { r.SetBasicAuth(user, pw); return r }
	with := func(r *http.Request, headers ...string) *http.Request {
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		return r
	}
	form := func() *http.Request {
		r := httptest.NewRequest("POST", "/.mfa/login", strings.NewReader(url.Values{"username": {"gus"}, "password": {"wrong"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	for _, c := range []struct {
		name   string
		r      *http.Request
		status int
		close  bool
	}{
		{"no credentials", putWithBody("/dav/f"), 401, true},
		{"wrong password", withBasic(putWithBody("/dav/f"), "gus", "nope"), 401, true},
		{"unknown user", withBasic(putWithBody("/dav/f"), "nobody", "nope"), 401, true},
		{"malformed basic auth", with(putWithBody("/dav/f"), "Authorization", "Basic !!!"), 401, true},
		{"browser without a session", with(putWithBody("/form"), "Accept", "text/html"), 401, true},
		{"sign-in page, wrong method", putWithBody("/.mfa/login"), 405, true},
		{"sign-in page, cross-site form", with(form(), "Sec-Fetch-Site", "cross-site"), 403, true},
		{"sign-in page reads its form", form(), 200, false},
		{"without a body", httptest.NewRequest("GET", "/dav/f", nil), 401, false},
	} {
		res, w := serve(g, c.r)
		if !res.Handled || w.Code != c.status {
			t.Errorf("%s: handled %v, status %d, want %d", c.name, res.Handled, w.Code, c.status)
		}
		if got := w.Header().Get("Connection") == "close"; got != c.close {
			t.Errorf("%s: Connection: close %v, want %v", c.name, got, c.close)
		}
	}

	// A session with a temporary password is sent to choose a new one
	// (the reset ended the earlier session).
	if _, _, err := portalCore(g).Accounts.WithActor("test").ResetPassword(context.Background(), u.Username); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := sm.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{UserID: u.ID, Stage: model.StageComplete, MFAAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	if res, w := serve(g, withCookie(putWithBody("/dav/f"), cookie)); !res.Handled || w.Code != http.StatusForbidden || w.Header().Get("Connection") != "close" {
		t.Errorf("temporary password: %d, Connection %q", w.Code, w.Header().Get("Connection"))
	}

	// An error goes back to Caddy, which answers 503 with the header set
	// here (the store fails: the request's context is cancelled; a session
	// not yet looked up, so not in the node's cache).
	w = httptest.NewRecorder()
	if err := sm.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{UserID: u.ID, Stage: model.StageComplete, MFAAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	fresh := w.Result().Cookies()[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w = httptest.NewRecorder()
	res, err := g.Serve(w, withCookie(putWithBody("/dav/f"), fresh).WithContext(ctx))
	if err == nil || res.Handled || w.Header().Get("Connection") != "close" {
		t.Errorf("store error: %v, handled %v, Connection %q", err, res.Handled, w.Header().Get("Connection"))
	}
}

// The pass-through is left alone: no header, and the body the upstream
// reads is the client's own, unwrapped.
func TestPassThroughUploadIsUntouched(t *testing.T) {
	g, _, _ := newGateway(t, policy.Site{})
	r := putWithBody("/dav/f")
	r.SetBasicAuth("gus", "gus rides a violet tractor")
	body := r.Body
	res, w := serve(g, r)
	if res.Handled || res.User == nil {
		t.Fatalf("signed-in upload refused: %d", w.Code)
	}
	if r.Body != body || len(w.Header()) != 0 {
		t.Fatalf("pass-through touched: body replaced %v, headers %v", r.Body != body, w.Header())
	}
}
