package signin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// enrolledAlice gives alice an authenticator and returns its base32 secret
// and the cookie of a session that has passed the password step.
func enrolledAlice(t *testing.T, p *Portal, st store.Store) (string, *http.Cookie) {
	t.Helper()
	u, err := st.UserByName(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("0123456789abcdefghij")
	sealed, _ := p.Codes.Seal(u.ID, raw)
	teststore.AddTOTP(t, st, &model.TOTPAuthenticator{UserID: u.ID, Name: core.AuthenticatorName, SealedSecret: sealed})
	login := postLogin(p, "alice", "right password", "192.0.2.9")
	if loc := login.Header().Get("Location"); loc != "/.mfa/verify" {
		t.Fatalf("login went to %q, want the code page", loc)
	}
	return totp.EncodeSecret(raw), login.Result().Cookies()[0]
}

func postCode(p *Portal, cookie *http.Cookie, code, ip string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/.mfa/verify", strings.NewReader(url.Values{"code": {code}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = ip + ":1234"
	r.AddCookie(cookie)
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	return w
}

// wrongCodes returns n distinct codes that no step near now accepts.
func wrongCodes(t *testing.T, secret string, n int) []string {
	t.Helper()
	valid := map[string]bool{}
	step := time.Now().Unix() / 30
	for s := step - 3; s <= step+3; s++ {
		c, err := totp.CodeAt(secret, s)
		if err != nil {
			t.Fatal(err)
		}
		valid[c] = true
	}
	var out []string
	for i := 0; len(out) < n; i++ {
		if c := fmt.Sprintf("%06d", 100000+i*7919); !valid[c] {
			out = append(out, c)
		}
	}
	return out
}

// countEvents counts audit events of one kind and detail.
func countEvents(t *testing.T, st store.Store, event, detail string) int {
	t.Helper()
	events, err := st.AuditEvents(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Event == event && strings.HasSuffix(e.Detail, detail) {
			n++
		}
	}
	return n
}

// TestParallelCodeGuessesStopAtTheLimit: 100 wrong codes sent at once
// after the password step get at most AccountLimit of them checked; the
// right code sent after them is refused, and so is the right password.
func TestParallelCodeGuessesStopAtTheLimit(t *testing.T) {
	p, st := newPortal(t)
	secret, cookie := enrolledAlice(t, p, st)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, code := range wrongCodes(t, secret, 100) {
		wg.Go(func() {
			<-start
			postCode(p, cookie, code, fmt.Sprintf("198.51.100.%d", i%50))
		})
	}
	close(start)
	wg.Wait()
	checked := countEvents(t, st, audit.SignInCodeFail, "wrong code")
	if checked > bruteforce.DefaultAccountLimit {
		t.Fatalf("%d wrong codes were checked, limit %d", checked, bruteforce.DefaultAccountLimit)
	}
	if locked := countEvents(t, st, audit.SignInCodeFail, "account locked"); checked+locked != 100 {
		t.Fatalf("%d checked + %d refused as locked, want 100 in all", checked, locked)
	}
	right, err := totp.CodeAt(secret, time.Now().Unix()/30)
	if err != nil {
		t.Fatal(err)
	}
	if w := postCode(p, cookie, right, "203.0.113.1"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "didn&#39;t work") {
		t.Fatalf("right code on a locked account: %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := postLogin(p, "alice", "right password", "203.0.113.2"); w.Code != http.StatusOK {
		t.Fatalf("right password on a locked account: %d %q", w.Code, w.Header().Get("Location"))
	}
	t.Logf("100 parallel wrong codes: %d checked, the rest refused", checked)
}

// TestRightSecretsNeverCountAsFailures: a right password or code gives its
// slot back, so a user who signs in more often than the limit is never
// locked out by their own successes.
func TestRightSecretsNeverCountAsFailures(t *testing.T) {
	p, st := newPortal(t)
	for range 2 * bruteforce.DefaultAccountLimit {
		if w := postLogin(p, "alice", "right password", "192.0.2.1"); w.Code != http.StatusSeeOther {
			t.Fatalf("right password refused: %d", w.Code)
		}
	}
	f, err := st.FailuresFor(t.Context(), "acct:alice")
	if err != nil || f.Count != 0 {
		t.Fatalf("account counter after right passwords = %+v, %v", f, err)
	}
}

// TestMalformedNamesDoNotShareABucket: failures under impossible names,
// from many IPs, never lock a real account, whatever its name.
func TestMalformedNamesDoNotShareABucket(t *testing.T) {
	p, st := newPortal(t)
	if _, err := core.NewAccounts(st, p.Hasher).Add(t.Context(), core.NewUser{Username: "invalid", Password: "invalid's password"}); err != nil {
		t.Fatal(err)
	}
	for i := range bruteforce.DefaultAccountLimit {
		postLogin(p, fmt.Sprintf("Bad User %d!", i), "x", fmt.Sprintf("198.51.100.%d", i))
	}
	if w := postLogin(p, "invalid", "invalid's password", "203.0.113.5"); w.Code != http.StatusSeeOther {
		t.Fatalf("user 'invalid' locked by failures under other names: %d", w.Code)
	}
	// The same impossible name repeated is still counted and locks itself
	// (distinct passwords: a repeat of the same wrong one counts once).
	for i := range bruteforce.DefaultAccountLimit {
		postLogin(p, "Bad User!", fmt.Sprintf("x%d", i), "192.0.2.77")
	}
	if n := countEvents(t, st, audit.SignInPasswordFail, "account locked"); n != 0 {
		t.Fatalf("%d refusals before the limit", n)
	}
	postLogin(p, "Bad User!", "x", "192.0.2.78")
	if n := countEvents(t, st, audit.SignInPasswordFail, "account locked"); n != 1 {
		t.Fatalf("the 11th attempt under one impossible name was not refused as locked (%d)", n)
	}
}

// TestTypedNamesAreNotLogged: a password typed into the username field
// must not reach the audit log (and so the server log); unknown names are
// logged as "unknown:" and a keyed hash that still correlates attempts.
func TestTypedNamesAreNotLogged(t *testing.T) {
	p, st := newPortal(t)
	const secret = "Tr0ub4dor&3 horse"
	postLogin(p, secret, "x", "192.0.2.1")
	postLogin(p, secret, "y", "192.0.2.1")
	postLogin(p, "nobody", "z", "192.0.2.1")
	postLogin(p, "alice", "wrong", "192.0.2.1")
	all, err := st.AuditEvents(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var events []model.AuditEvent
	for _, e := range all {
		if e.Event == audit.SignInPasswordFail {
			events = append(events, e)
		}
	}
	if len(events) != 4 {
		t.Fatalf("%d failed sign-ins in the audit log, want 4: %+v", len(events), all)
	}
	// Newest first: alice, nobody, secret, secret.
	if events[0].Username != "alice" {
		t.Errorf("known user logged as %q", events[0].Username)
	}
	for _, e := range events[1:] {
		if !strings.HasPrefix(e.Username, "unknown:") || strings.Contains(e.Username, "nobody") || strings.Contains(e.Username, "horse") {
			t.Errorf("unknown name logged as %q", e.Username)
		}
	}
	if events[2].Username != events[3].Username || events[1].Username == events[2].Username {
		t.Errorf("labels do not correlate attempts: %q %q %q", events[1].Username, events[2].Username, events[3].Username)
	}
}

// TestRightCodeKeepsTheBurstCounted: an attacker who knows the password
// sends 99 wrong codes while the user signs in with the right one. The
// user's success gives back only its own slot: the attacker's guesses of
// the same burst stay counted, so at most AccountLimit wrong codes are
// checked in all. (Before, the completed sign-in cleared the counter and
// the burst got a fresh set of guesses.) The burst is ordered so that some
// guesses are judged before the right code and the rest after it.
func TestRightCodeKeepsTheBurstCounted(t *testing.T) {
	p, st := newPortal(t)
	secret, attacker := enrolledAlice(t, p, st)
	user := postLogin(p, "alice", "right password", "192.0.2.10").Result().Cookies()[0]
	wrong := wrongCodes(t, secret, 99)
	const before = 5 // guesses judged before the right code
	var first, rest sync.WaitGroup
	rightDone := make(chan struct{})
	for i, code := range wrong {
		send := func() { postCode(p, attacker, code, fmt.Sprintf("198.51.100.%d", i%50)) }
		if i < before {
			first.Go(send)
			continue
		}
		rest.Go(func() { <-rightDone; send() })
	}
	first.Wait()
	right, err := totp.CodeAt(secret, time.Now().Unix()/30)
	if err != nil {
		t.Fatal(err)
	}
	if w := postCode(p, user, right, "192.0.2.10"); w.Code != http.StatusSeeOther {
		t.Fatalf("the user's right code: %d %q", w.Code, w.Header().Get("Location"))
	}
	close(rightDone)
	rest.Wait()
	if checked := countEvents(t, st, audit.SignInCodeFail, "wrong code"); checked > bruteforce.DefaultAccountLimit {
		t.Fatalf("%d of 99 wrong codes were checked around one right code, limit %d", checked, bruteforce.DefaultAccountLimit)
	}
}
