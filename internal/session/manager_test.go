package session

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

type fixture struct {
	m     *Manager
	st    store.Store
	clock time.Time
	user  *model.User
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureTTL(t, time.Nanosecond)
}

// newFixtureTTL is newFixture with the session cache trusting an entry for
// ttl of the fixture's clock.
func newFixtureTTL(t testing.TB, ttl time.Duration) *fixture {
	t.Helper()
	st := teststore.Open(t)
	m, err := NewManager(core.NewSessions(st), Config{HashKey: make([]byte, 64), BlockKey: make([]byte, 32), CacheTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{m: m, st: st, clock: time.Now()}
	m.now = func() time.Time { return f.clock }
	f.user = &model.User{Username: "u", PasswordHash: "x", MFAState: model.MFAEnabled}
	if err := st.CreateUser(context.Background(), f.user); err != nil {
		t.Fatal(err)
	}
	return f
}

// rec is a complete session record of the fixture's user.
func (f *fixture) rec() model.Session {
	return model.Session{UserID: f.user.ID, Stage: model.StageComplete}
}

// start creates a session and returns the cookie the browser got.
func (f *fixture) start(t testing.TB, r *http.Request) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := f.m.Start(w, r, f.rec()); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}

func requestWith(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

func TestCookieAttributes(t *testing.T) {
	f := newFixture(t)
	plain := f.start(t, httptest.NewRequest("GET", "/", nil))
	if plain.Name != CookieName || !plain.HttpOnly || plain.SameSite != http.SameSiteLaxMode || plain.Path != "/" || plain.Domain != "" {
		t.Fatalf("plain-HTTP cookie: %+v", plain)
	}
	r := httptest.NewRequest("GET", "https://x/", nil)
	r.TLS = &tls.ConnectionState{}
	c := f.start(t, r)
	if c.Name != TLSCookieName || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("TLS cookie: %+v", c)
	}
	if strings.Contains(c.Value, "u") && len(c.Value) < 40 {
		t.Fatalf("cookie value looks unprotected: %q", c.Value)
	}
}

func TestLoadValidForgedAndMissing(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, httptest.NewRequest("GET", "/", nil))
	cur, err := f.m.Load(requestWith(c))
	if err != nil || cur == nil || cur.User.Username != "u" {
		t.Fatalf("valid cookie: %v %v", cur, err)
	}
	forged := *c
	forged.Value = c.Value[:len(c.Value)-2] + "AA"
	if cur, _ := f.m.Load(requestWith(&forged)); cur != nil {
		t.Fatal("forged cookie accepted")
	}
	if cur, _ := f.m.Load(requestWith(nil)); cur != nil {
		t.Fatal("no cookie, yet a session")
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	f := newFixture(t)
	c := f.start(t, httptest.NewRequest("GET", "/", nil))
	// Activity every 50 minutes keeps it alive past the idle timeout...
	for range 5 {
		f.clock = f.clock.Add(50 * time.Minute)
		if cur, err := f.m.Load(requestWith(c)); err != nil || cur == nil {
			t.Fatalf("active session ended early at %v: %v", f.clock, err)
		}
	}
	// ...but never past the absolute lifetime.
	f.clock = f.clock.Add(DefaultLifetime)
	if cur, _ := f.m.Load(requestWith(c)); cur != nil {
		t.Fatal("session outlived its lifetime")
	}

	c2 := f.start(t, httptest.NewRequest("GET", "/", nil))
	f.clock = f.clock.Add(DefaultIdleTimeout + time.Second)
	if cur, _ := f.m.Load(requestWith(c2)); cur != nil {
		t.Fatal("idle session still valid")
	}
	if _, err := f.st.SessionByHash(context.Background(), mustHash(t, f, c2)); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("expired record left in store: %v", err)
	}
}

func mustHash(t *testing.T, f *fixture, c *http.Cookie) []byte {
	token, ok := f.m.tokenFromCookie(requestWith(c))
	if !ok {
		t.Fatal("cookie does not decode")
	}
	return hashToken(token)
}

func TestRotateInvalidatesOldAndEndDeletes(t *testing.T) {
	f := newFixture(t)
	old := f.start(t, httptest.NewRequest("GET", "/", nil))
	cur, _ := f.m.Load(requestWith(old))
	w := httptest.NewRecorder()
	if err := f.m.Rotate(w, requestWith(old), cur, cur.Session); err != nil {
		t.Fatal(err)
	}
	fresh := w.Result().Cookies()[0]
	if fresh.Value == old.Value {
		t.Fatal("identifier not rotated")
	}
	if c, _ := f.m.Load(requestWith(old)); c != nil {
		t.Fatal("old identifier still valid after rotation")
	}
	cur, _ = f.m.Load(requestWith(fresh))
	if cur == nil {
		t.Fatal("rotated session not valid")
	}
	w = httptest.NewRecorder()
	if err := f.m.End(w, requestWith(fresh), cur); err != nil {
		t.Fatal(err)
	}
	if c := w.Result().Cookies()[0]; c.MaxAge >= 0 {
		t.Fatalf("cookie not expired: %+v", c)
	}
	if c, _ := f.m.Load(requestWith(fresh)); c != nil {
		t.Fatal("ended session still valid")
	}
}

func TestEndAllForUser(t *testing.T) {
	f := newFixture(t)
	a := f.start(t, httptest.NewRequest("GET", "/", nil))
	b := f.start(t, httptest.NewRequest("GET", "/", nil))
	if err := f.m.EndAllForUser(context.Background(), f.user.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*http.Cookie{a, b} {
		if cur, _ := f.m.Load(requestWith(c)); cur != nil {
			t.Fatal("session survived EndAllForUser")
		}
	}
}
