package signin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/web"
)

func newPortal(t *testing.T) (*Portal, store.Store) {
	t.Helper()
	ctx := context.Background()
	svc := testfixture.Services(t)
	st := svc.Store
	if _, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password"}); err != nil {
		t.Fatal(err)
	}
	return New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"}), st
}

func postLogin(p *Portal, user, pw, ip string) *httptest.ResponseRecorder {
	form := url.Values{"username": {user}, "password": {pw}}
	r := httptest.NewRequest("POST", "/.mfa/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = ip + ":1234"
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	return w
}

func TestLoginOutcomesDoNotEnumerate(t *testing.T) {
	p, _ := newPortal(t)
	wrong := postLogin(p, "alice", "wrong", "192.0.2.1")
	unknown := postLogin(p, "nobody", "wrong", "192.0.2.1")
	invalid := postLogin(p, "<bad name>", "wrong", "192.0.2.1")
	for _, w := range []*httptest.ResponseRecorder{unknown, invalid} {
		if w.Code != wrong.Code || normalise(w.Body.String(), "nobody", "&lt;bad name&gt;") != normalise(wrong.Body.String(), "alice") {
			t.Fatalf("responses differ:\n%s\n---\n%s", wrong.Body, w.Body)
		}
	}
	if len(wrong.Result().Cookies()) != 0 || len(unknown.Result().Cookies()) != 0 {
		t.Fatal("a failed login set a cookie")
	}
}

// normalise removes the echoed username so only the rest is compared.
func normalise(body string, names ...string) string {
	for _, n := range names {
		body = strings.ReplaceAll(body, `value="`+n+`"`, `value=""`)
	}
	return body
}

func TestAccountLockoutLooksLikeWrongPassword(t *testing.T) {
	p, st := newPortal(t)
	for i := range bruteforce.DefaultAccountLimit {
		// Different IPs: the account counter alone must lock. Distinct
		// passwords: a repeat of the same wrong one counts once.
		postLogin(p, "alice", "wrong "+string(rune('a'+i)), "198.51.100."+string(rune('1'+i%9)))
	}
	locked := postLogin(p, "alice", "right password", "203.0.113.9")
	if locked.Code != http.StatusOK || !strings.Contains(locked.Body.String(), msgBadLogin) {
		t.Fatalf("locked account with right password: %d %q", locked.Code, locked.Header().Get("Location"))
	}
	events, _ := st.AuditEvents(context.Background(), 0, 1)
	if len(events) != 1 || events[0].Detail != "account locked" {
		t.Fatalf("audit does not say locked: %+v", events)
	}
	// Another account from another IP is unaffected.
	if _, err := core.NewAccounts(st, p.Hasher).Add(context.Background(), core.NewUser{Username: "bob", Password: "bob rides a violet tractor"}); err != nil {
		t.Fatal(err)
	}
	if w := postLogin(p, "bob", "bob rides a violet tractor", "203.0.113.10"); w.Code != http.StatusSeeOther {
		t.Fatalf("other account: %d", w.Code)
	}
}

func TestIPLockout(t *testing.T) {
	p, _ := newPortal(t)
	for i := range bruteforce.DefaultIPLimit {
		postLogin(p, "user"+string(rune('a'+i%26))+string(rune('a'+i/26)), "x", "192.0.2.50")
	}
	if w := postLogin(p, "alice", "right password", "192.0.2.50"); w.Code != http.StatusOK {
		t.Fatalf("refused IP signed in: %d", w.Code)
	}
	if w := postLogin(p, "alice", "right password", "192.0.2.51"); w.Code != http.StatusSeeOther {
		t.Fatalf("other IP refused: %d", w.Code)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	p, _ := newPortal(t)
	form := url.Values{"username": {"alice"}, "password": {"right password"}}
	r := httptest.NewRequest("POST", "http://app.example/.mfa/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://evil.example")
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 || !strings.Contains(w.Body.String(), "<html") {
		t.Fatalf("cross-origin login: %d", w.Code)
	}
}

func TestOversizedFormAndUnknownPaths(t *testing.T) {
	p, _ := newPortal(t)
	big := "username=" + strings.Repeat("a", web.MaxFormBytes*2)
	r := httptest.NewRequest("POST", "/.mfa/login", strings.NewReader(big))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("oversized form: %d", w.Code)
	}
	for path, want := range map[string]int{"/.mfa/nope": 404, "/.mfa/": 404, "/.mfa/static/app.css": 200} {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != want {
			t.Errorf("GET %s: %d, want %d", path, w.Code, want)
		}
	}
	w = httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("DELETE", "/.mfa/login", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", w.Code)
	}
}

func TestStepsNeedThePasswordFirst(t *testing.T) {
	p, _ := newPortal(t)
	for _, path := range []string{"/.mfa/verify", "/.mfa/enrol"} {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/login" {
			t.Errorf("GET %s without session: %d %q", path, w.Code, w.Header().Get("Location"))
		}
		w = httptest.NewRecorder()
		r := httptest.NewRequest("POST", path, strings.NewReader("code=123456"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p.ServeHTTP(w, r)
		if w.Code != http.StatusSeeOther {
			t.Errorf("POST %s without session: %d", path, w.Code)
		}
	}
}
