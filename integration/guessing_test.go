package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/postgres"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// accountLimit is the default per-account failure limit.
const accountLimit = 10

// TestParallelCodeGuessesSQLite: after the password step, 100 wrong codes
// sent at once on pre-opened connections get at most the account limit
// checked; the right code sent after them is refused and the account is
// locked.
func TestParallelCodeGuessesSQLite(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	parallelCodeGuesses(t, []*gatewayInstance{g}, func(ctx context.Context) (store.Store, func()) {
		st, err := sqlite.Open(ctx, filepath.Join(g.dir, "mfagate.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st, func() { st.Close() }
	})
}

// TestParallelCodeGuessesTwoNodes: the same, split over two Caddy nodes
// sharing one PostgreSQL database.
func TestParallelCodeGuessesTwoNodes(t *testing.T) {
	dsn := freshPostgresDB(t)
	up := newUpstream(t)
	nodeA := startPostgresGateway(t, up, dsn)
	nodeB := startPostgresGateway(t, up, dsn)
	parallelCodeGuesses(t, []*gatewayInstance{nodeA, nodeB}, func(ctx context.Context) (store.Store, func()) {
		st, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st, func() { st.Close() }
	})
}

func parallelCodeGuesses(t *testing.T, nodes []*gatewayInstance, openStore func(context.Context) (store.Store, func())) {
	const user, pw, guesses = "gus", "gus password 1", 100
	nodes[0].addUser(user, pw)
	secret, _ := newBrowser(t, nodes[0]).enrolled(user, pw)

	// The attacker knows the password and stands at the code page.
	attacker := newBrowser(t, nodes[0])
	if p := attacker.login(user, pw, "/"); p.status != http.StatusSeeOther || p.location != "/.mfa/verify" {
		t.Fatalf("password step: %d %q", p.status, p.location)
	}
	cookies := attacker.client.Jar.Cookies(mustURL(nodes[0].url("/")))

	// One client with a connection per guess, opened before the burst.
	transport := &http.Transport{MaxIdleConnsPerHost: guesses, MaxConnsPerHost: 0}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	warm := make([]*gatewayInstance, guesses)
	for i := range warm {
		warm[i] = nodes[i%len(nodes)]
	}
	send := func(g *gatewayInstance, method, path string, form url.Values) (int, string, error) {
		req, _ := http.NewRequest(method, g.url(path), strings.NewReader(form.Encode()))
		// One site behind a load balancer: every node sees the first
		// node's origin, the one the session is bound to.
		req.Host = strings.TrimPrefix(strings.TrimSuffix(nodes[0].url("/"), "/"), "http://")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	var wg sync.WaitGroup
	for _, g := range warm {
		// Warming only (a connection per guess); the guesses below are judged.
		wg.Go(func() { _, _, _ = send(g, "GET", "/.mfa/verify", nil) })
	}
	wg.Wait()

	wrong := wrongCodesFor(t, secret, guesses)
	start := make(chan struct{})
	statuses := make([]int, guesses)
	for i, g := range warm {
		wg.Go(func() {
			<-start
			status, _, err := send(g, "POST", "/.mfa/verify", url.Values{"code": {wrong[i]}})
			if err != nil {
				t.Errorf("guess %d: %v", i, err)
			}
			statuses[i] = status
		})
	}
	close(start)
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("guess %d answered %d, want 200 (the code page again)", i, s)
		}
	}

	// Then the right code, on the last node: refused.
	status, body, err := send(nodes[len(nodes)-1], "POST", "/.mfa/verify", url.Values{"code": {codeAt(t, secret, currentStep())}})
	if err != nil || status != http.StatusOK || !strings.Contains(body, "didn&#39;t work") {
		t.Fatalf("right code after the burst: %d %v\n%s", status, err, body)
	}
	// The account is locked: the right password no longer passes either.
	if p := newBrowser(t, nodes[0]).login(user, pw, "/"); p.status != http.StatusOK {
		t.Fatalf("right password on the locked account: %d %q", p.status, p.location)
	}

	ctx := t.Context()
	st, closeStore := openStore(ctx)
	defer closeStore()
	events, err := st.AuditEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	checked, refused := 0, 0
	for _, e := range events {
		if e.Username != user || e.Event != "signin.code.fail" {
			continue
		}
		switch e.Detail {
		case "wrong code", "code already used":
			checked++
		case "account locked", "ip locked":
			refused++
		}
	}
	if checked > accountLimit {
		t.Fatalf("%d codes were checked, the account limit is %d", checked, accountLimit)
	}
	if checked+refused != guesses+1 {
		t.Fatalf("%d checked + %d refused, want %d code attempts in the audit log", checked, refused, guesses+1)
	}
	t.Logf("%d parallel wrong codes over %d node(s): %d checked, %d refused; the right code after them refused", guesses, len(nodes), checked, refused)
}

// wrongCodesFor returns n distinct codes no step near now accepts.
func wrongCodesFor(t *testing.T, secret string, n int) []string {
	t.Helper()
	valid := map[string]bool{}
	for s := currentStep() - 3; s <= currentStep()+3; s++ {
		valid[codeAt(t, secret, s)] = true
	}
	var out []string
	for i := 0; len(out) < n; i++ {
		if c := fmt.Sprintf("%06d", 100000+i*7919); !valid[c] {
			out = append(out, c)
		}
	}
	return out
}

// TestForgottenDeviceDoesNotLockItsOwnerOut: a device still sending a
// deleted app password (rclone retries: 370 failures in one run) through
// the real gateway gets 401 each time, and its owner, on the same address,
// still signs in in the browser with the right password: where basic auth
// takes app passwords only its failures never count against the account,
// and the same wrong secret again counts once.
func TestForgottenDeviceDoesNotLockItsOwnerOut(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	const user = "rita"
	b := signedIn(t, g, user) // enrolled: Enforced, basic auth takes app passwords only
	pw, p := b.createAppPassword("old phone")
	if pw == "" {
		t.Fatalf("no app password shown: %d", p.status)
	}
	wantStatus(t, basicGet(t, g, "/dav/", user, pw), 200, "app password before deletion")
	p = b.get("/.mfa/security")
	id := regexp.MustCompile(`security/delete\?kind=app-password&amp;id=(\d+)"`).FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no delete form:\n%s", p.body)
	}
	if p := b.post("/.mfa/security/app-password/delete", url.Values{"id": {id[1]}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	for i := range 370 {
		if resp := basicGet(t, g, "/dav/", user, pw); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("deleted app password, attempt %d: %d", i, resp.StatusCode)
		}
	}
	if p := newBrowser(t, g).login(user, user+" password 1", "/"); p.status != http.StatusSeeOther || p.location != "/.mfa/verify" {
		t.Fatalf("the owner's password after 370 failures of a forgotten device: %d %q", p.status, p.location)
	}
}

// TestRightCodeAmidParallelGuesses: an attacker who knows the password
// sends 99 wrong codes while the user signs in with the right one (from
// their own session; every request on a pre-opened connection). The right
// code gives back only its own slot, so at most the account limit of wrong
// codes is checked in all: a completed sign-in does not clear the counter
// under the guesses of the burst. Twice: all 100 at once, and with the
// right code between two waves of the burst (5 guesses judged before it,
// 94 after; before the fix 15 were checked).
func TestRightCodeAmidParallelGuesses(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	for _, tc := range []struct {
		user   string
		before int // wrong codes judged before the right one is sent; 0: all at once
	}{{"hal", 0}, {"ivy", 5}} {
		checked, rightStatus := rightCodeAmidGuesses(t, g, tc.user, tc.before)
		if checked > accountLimit {
			t.Fatalf("%s: %d of 99 wrong codes were checked around the right one, the account limit is %d", tc.user, checked, accountLimit)
		}
		t.Logf("%s: 99 wrong codes around the right one (%d before it): %d wrong checked; the right one answered %d", tc.user, tc.before, checked, rightStatus)
	}
}

// rightCodeAmidGuesses runs the burst of TestRightCodeAmidParallelGuesses
// for a new user and returns how many wrong codes were checked and the
// status the right code got.
func rightCodeAmidGuesses(t *testing.T, g *gatewayInstance, user string, before int) (checked, rightStatus int) {
	t.Helper()
	const wrongN = 99
	pw := user + " password 1"
	g.addUser(user, pw)
	secret, step := newBrowser(t, g).enrolled(user, pw)
	attacker, owner := newBrowser(t, g), newBrowser(t, g)
	for _, b := range []*browser{attacker, owner} {
		if p := b.login(user, pw, "/"); p.status != http.StatusSeeOther || p.location != "/.mfa/verify" {
			t.Fatalf("password step: %d %q", p.status, p.location)
		}
	}
	transport := &http.Transport{MaxIdleConnsPerHost: wrongN + 1}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(b *browser, method string, form url.Values) int {
		req, _ := http.NewRequest(method, g.url("/.mfa/verify"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		for _, c := range b.client.Jar.Cookies(mustURL(g.url("/"))) {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused; the answer is judged already
		resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	for range wrongN + 1 {
		wg.Go(func() { send(attacker, "GET", nil) })
	}
	wg.Wait()

	wrong := wrongCodesFor(t, secret, wrongN)
	for _, code := range wrong[:before] {
		wg.Go(func() { send(attacker, "POST", url.Values{"code": {code}}) })
	}
	wg.Wait()
	right := codeAt(t, secret, max(step+1, currentStep())) // the enrolment used step
	start := make(chan struct{})
	rightDone := make(chan struct{})
	wg.Go(func() {
		<-start
		rightStatus = send(owner, "POST", url.Values{"code": {right}})
		close(rightDone)
	})
	for _, code := range wrong[before:] {
		wg.Go(func() {
			<-start
			if before > 0 {
				<-rightDone
			}
			send(attacker, "POST", url.Values{"code": {code}})
		})
	}
	close(start)
	wg.Wait()

	st, err := sqlite.Open(t.Context(), filepath.Join(g.dir, "mfagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.AuditEvents(t.Context(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Username == user && e.Event == "signin.code.fail" && e.Detail == "wrong code" {
			checked++
		}
	}
	return checked, rightStatus
}
