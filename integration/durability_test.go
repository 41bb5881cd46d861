package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/postgres"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// TestCrashDurabilitySQLite: what a client was told survives SIGKILL.
func TestCrashDurabilitySQLite(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, up)
	crashDurability(t, g, func(ctx context.Context) (store.Store, func()) {
		st, err := sqlite.Open(ctx, filepath.Join(g.dir, "mfagate.db"))
		if err != nil {
			t.Fatalf("opening the database after the crash: %v", err)
		}
		if err := st.IntegrityCheck(ctx); err != nil {
			t.Fatalf("after the crash: %v", err)
		}
		t.Log("sqlite integrity check: ok")
		return st, func() { st.Close() }
	})
}

// TestCrashDurabilityPostgres: the same on PostgreSQL.
func TestCrashDurabilityPostgres(t *testing.T) {
	dsn := freshPostgresDB(t)
	up := newUpstream(t)
	g := startPostgresGateway(t, up, dsn)
	crashDurability(t, g, func(ctx context.Context) (store.Store, func()) {
		st, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatalf("opening the database after the crash: %v", err)
		}
		return st, func() { st.Close() }
	})
}

// ackedAppPassword is an app password whose page the client received.
type ackedAppPassword struct{ user, name, password string }

// ackedSession is a session cookie the client received with its 303.
type ackedSession struct {
	user   string
	cookie *http.Cookie
}

// durabilityRequest sends one request without failing the test: during the
// crash, errors are expected. It returns the status, headers and the whole
// body (err != nil when any of it did not arrive).
func durabilityRequest(ctx context.Context, client *http.Client, g *gatewayInstance, method, path string, form url.Values) (int, http.Header, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, g.url(path), body)
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("Accept", "text/html")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", g.url(""))
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

func noRedirectClient() *http.Client {
	return &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// crashDurability signs users in and creates app passwords concurrently,
// kills Caddy with SIGKILL mid-flight, restarts it on the same config and
// checks that everything acknowledged before the kill is still there.
// openStore opens the database once Caddy is stopped (and checks it).
func crashDurability(t *testing.T, g *gatewayInstance, openStore func(context.Context) (store.Store, func())) {
	enforced := []string{"ada", "ben", "cyd"}
	browsers := make([]*browser, len(enforced))
	for i, u := range enforced {
		browsers[i] = signedIn(t, g, u)
	}
	var disabled []string
	var eg errgroup.Group
	eg.SetLimit(4)
	for i := range 20 {
		u := fmt.Sprintf("plain%02d", i)
		disabled = append(disabled, u)
		eg.Go(func() error {
			out, err := g.caddy(strings.NewReader(u+" password 1\n"),
				"mfa", "user", "add", u, "--config", "Caddyfile", "--password-stdin", "--mfa", "disabled")
			if err != nil {
				return fmt.Errorf("adding %s: %v\n%s", u, err, out)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}

	var (
		mu          sync.Mutex
		apps        []ackedAppPassword
		sessions    []ackedSession
		stop        atomic.Bool
		wg          sync.WaitGroup
		limitPages  atomic.Int64
		otherErrors atomic.Int64
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w := range 6 {
		b := browsers[w%len(browsers)]
		user := enforced[w%len(enforced)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				name := fmt.Sprintf("crash-w%d-n%03d", w, n)
				status, _, body, err := durabilityRequest(ctx, b.client, g, http.MethodPost,
					"/.mfa/security/app-password", url.Values{"name": {name}})
				if err != nil {
					return // the crash
				}
				m := appPasswordRE.FindStringSubmatch(body)
				switch {
				case status == http.StatusOK && m != nil && strings.Contains(body, "</html>"):
					mu.Lock()
					apps = append(apps, ackedAppPassword{user, name, m[1]})
					mu.Unlock()
				case strings.Contains(body, "the most allowed"):
					limitPages.Add(1)
				default:
					otherErrors.Add(1)
				}
			}
		}()
	}
	for w := range 6 {
		client := noRedirectClient()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				user := disabled[(w+6*n)%len(disabled)]
				status, header, _, err := durabilityRequest(ctx, client, g, http.MethodPost, "/.mfa/login",
					url.Values{"username": {user}, "password": {user + " password 1"}, "rd": {"/"}})
				if err != nil {
					return // the crash
				}
				var cookie *http.Cookie
				for _, c := range (&http.Response{Header: header}).Cookies() {
					if c.Name == "mfagate" && c.Value != "" {
						cookie = c
					}
				}
				if status != http.StatusSeeOther || cookie == nil {
					otherErrors.Add(1) // e.g. 503 when every bcrypt slot is busy
					time.Sleep(50 * time.Millisecond)
					continue
				}
				mu.Lock()
				sessions = append(sessions, ackedSession{user, cookie})
				mu.Unlock()
			}
		}()
	}
	// About 1.5 s of traffic; on a slow machine keep going (up to 8 s)
	// until both kinds have been acknowledged at least once.
	started := time.Now()
	for {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		both := len(apps) > 0 && len(sessions) > 0
		mu.Unlock()
		if elapsed := time.Since(started); elapsed >= 8*time.Second || both && elapsed >= 1500*time.Millisecond {
			break
		}
	}
	if err := g.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	<-g.done
	stop.Store(true)
	killed := time.Now()
	wg.Wait()
	mu.Lock()
	ackedApps, ackedSessions := append([]ackedAppPassword(nil), apps...), append([]ackedSession(nil), sessions...)
	mu.Unlock()
	t.Logf("acknowledged in the %v before SIGKILL: %d app passwords, %d sign-ins (limit pages %d, other answers %d)",
		killed.Sub(started).Round(time.Millisecond), len(ackedApps), len(ackedSessions), limitPages.Load(), otherErrors.Load())
	if len(ackedApps) == 0 || len(ackedSessions) == 0 {
		t.Fatalf("nothing acknowledged before the kill (%d app passwords, %d sign-ins): the test proves nothing\n%s",
			len(ackedApps), len(ackedSessions), g.logs.String())
	}

	// Restart on the same config and ports.
	firstLogs := g.logs.String()
	defer func() {
		if t.Failed() {
			t.Logf("caddy log before SIGKILL:\n%s", firstLogs)
		}
	}()
	g.start()
	t.Logf("restarted %v after SIGKILL", time.Since(killed).Round(time.Millisecond))

	// Every acknowledged app password still works.
	for _, a := range ackedApps {
		if resp := basicGet(t, g, "/dav/after-crash", a.user, a.password); resp.StatusCode != 200 {
			t.Errorf("app password %q of %s after the crash: status %d", a.name, a.user, resp.StatusCode)
		}
	}
	// Every acknowledged session still signs in.
	client := noRedirectClient()
	for _, s := range ackedSessions {
		req, _ := http.NewRequest("GET", g.url("/after-crash"), nil)
		req.Header.Set("Accept", "text/html")
		req.AddCookie(&http.Cookie{Name: s.cookie.Name, Value: s.cookie.Value})
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused; the answer is judged already
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("session of %s after the crash: status %d", s.user, resp.StatusCode)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The CLI lists every acknowledged app password by name, at most 40 each.
	names := make(map[string]map[string]bool) // user -> names acknowledged
	for _, a := range ackedApps {
		if names[a.user] == nil {
			names[a.user] = make(map[string]bool)
		}
		names[a.user][a.name] = true
	}
	for _, u := range enforced {
		out, err := g.caddy(nil, "mfa", "app-passwords", "list", u, "--config", "Caddyfile")
		if err != nil {
			t.Fatalf("app-passwords list %s: %v\n%s", u, err, out)
		}
		listed := make(map[string]bool)
		rows := 0
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			if _, err := strconv.ParseInt(f[0], 10, 64); err != nil {
				continue // header, log lines
			}
			rows++
			listed[f[1]] = true
		}
		for name := range names[u] {
			if !listed[name] {
				t.Errorf("app-passwords list %s lacks acknowledged %q", u, name)
			}
		}
		if rows > model.MaxAppPasswords {
			t.Errorf("%s has %d app passwords, more than %d", u, rows, model.MaxAppPasswords)
		}
		t.Logf("%s: %d app passwords listed, %d acknowledged", u, rows, len(names[u]))
	}

	// Stop Caddy, then look at the database itself.
	g.stop()
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	st, closeStore := openStore(sctx)
	defer closeStore()
	for _, u := range enforced {
		usr, err := st.UserByName(sctx, u)
		if err != nil {
			t.Fatalf("user %s: %v", u, err)
		}
		list, err := st.AppPasswords(sctx, usr.ID)
		if err != nil {
			t.Fatalf("app passwords of %s: %v", u, err)
		}
		if len(list) > model.MaxAppPasswords {
			t.Errorf("%s: %d app password rows, more than %d", u, len(list), model.MaxAppPasswords)
		}
		stored := make(map[string]bool)
		for _, a := range list {
			if a.Name == "" || a.Hash == "" || len(a.LookupTag) == 0 || a.CreatedAt.IsZero() {
				t.Errorf("%s: incomplete app password row %+v", u, a)
			}
			stored[a.Name] = true
		}
		for name := range names[u] {
			if !stored[name] {
				t.Errorf("%s: acknowledged app password %q not in the store", u, name)
			}
		}
	}
}
