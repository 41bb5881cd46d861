package signin

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// A sign-in that knew only the password and stopped at "More information
// required" must not add an authenticator once the user has enrolled their
// own elsewhere: it has to continue with a code from that one.
func TestStaleEnrolmentCannotAddASecondMethod(t *testing.T) {
	p, st := newPortal(t)
	ctx := t.Context()
	login := postLogin(p, "alice", "right password", "192.0.2.9")
	if loc := login.Header().Get("Location"); loc != "/.mfa/enrol" {
		t.Fatalf("login went to %q, want enrolment", loc)
	}
	cookie := login.Result().Cookies()[0]

	// The attacker's pending secret, as shown on their enrolment page.
	r := httptest.NewRequest("GET", "/.mfa/enrol", nil)
	r.AddCookie(cookie)
	cur, err := p.Sessions.Load(r)
	if err != nil || cur == nil {
		t.Fatalf("loading session: %v", err)
	}
	secret, err := p.Codes.Open(cur.User.ID, cur.Session.PendingTOTP)
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile the real user enrols their own authenticator.
	own, _ := p.Codes.Seal(cur.User.ID, []byte("0123456789abcdefghij"))
	teststore.AddTOTP(t, st, &model.TOTPAuthenticator{UserID: cur.User.ID, Name: core.AuthenticatorName, SealedSecret: own})

	code, err := totp.CodeAt(totp.EncodeSecret(secret), time.Now().Unix()/30)
	if err != nil {
		t.Fatal(err)
	}
	post := httptest.NewRequest("POST", "/.mfa/enrol", strings.NewReader(url.Values{"code": {code}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(cookie)
	w := httptest.NewRecorder()
	p.ServeHTTP(w, post)
	if loc := w.Header().Get("Location"); loc != "/.mfa/verify" {
		t.Fatalf("stale enrolment: %d to %q, want /.mfa/verify", w.Code, loc)
	}
	auths, _ := st.TOTPAuthenticators(ctx, cur.User.ID)
	if len(auths) != 1 {
		t.Fatalf("%d authenticators, want only the user's own", len(auths))
	}
	// The session was not completed by the refused enrolment.
	next := httptest.NewRequest("GET", "/", nil)
	for _, c := range w.Result().Cookies() {
		next.AddCookie(c)
	}
	if cur, _ := p.Sessions.Load(next); cur == nil || cur.Session.Stage == model.StageComplete || cur.Session.PendingTOTP != nil {
		t.Fatalf("session after refused enrolment: %+v", cur)
	}
}
