package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// A session found by its cookie in this node's cache still obeys every
// revocation: ended here (logout, rotation, ForgetUser on a user event) it
// is refused at once; ended by another node, once the cache TTL has passed.
func TestCachedSessionHonoursRevocation(t *testing.T) {
	f := newFixtureTTL(t, 4*time.Second)
	ctx := context.Background()
	load := func(c *http.Cookie) bool {
		cur, err := f.m.Load(requestWith(c))
		if err != nil {
			t.Fatal(err)
		}
		_, ok, err := f.m.LoadSigned(requestWith(c))
		if err != nil || ok != (cur != nil) {
			t.Fatalf("LoadSigned says %v (%v), Load %v", ok, err, cur != nil)
		}
		return cur != nil
	}

	// Another node ends the record: trusted here until the TTL passes.
	other := f.start(t, httptest.NewRequest("GET", "/", nil))
	if !load(other) {
		t.Fatal("new session not valid")
	}
	cur, _ := f.m.Load(requestWith(other))
	if err := core.NewSessions(f.st).End(ctx, cur.IDHash(), 0); err != nil {
		t.Fatal(err)
	}
	if !load(other) {
		t.Fatal("cached session refused within the TTL")
	}
	f.clock = f.clock.Add(4 * time.Second)
	if load(other) {
		t.Fatal("a session ended elsewhere passed after the cache TTL")
	}

	// Ended on this node: at once, whatever the TTL.
	for name, end := range map[string]func(*Current) error{
		"End": func(cur *Current) error { return f.m.End(httptest.NewRecorder(), requestWith(nil), cur) },
		"ForgetUser": func(cur *Current) error {
			err := core.NewSessions(f.st).End(ctx, cur.IDHash(), 0)
			f.m.ForgetUser(f.user.ID)
			return err
		},
		"Rotate": func(cur *Current) error {
			return f.m.Rotate(httptest.NewRecorder(), requestWith(nil), cur, cur.Session)
		},
	} {
		c := f.start(t, httptest.NewRequest("GET", "/", nil))
		// Twice: the second is served from the cache.
		if first, cached := load(c), load(c); !first || !cached {
			t.Fatalf("%s: new session not valid", name)
		}
		cur, _ := f.m.Load(requestWith(c))
		if err := end(cur); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if load(c) {
			t.Fatalf("%s: the cached cookie still passes", name)
		}
	}
}

// A cached session is still bound to its origin: its cookie sent to
// another port of the host proves nothing there.
func TestCachedSessionKeepsItsOrigin(t *testing.T) {
	f := newFixtureTTL(t, time.Hour)
	c := f.start(t, httptest.NewRequest("GET", "http://app.example.com/", nil))
	here := requestWith(c)
	here.Host = "app.example.com"
	if _, ok, _ := f.m.LoadSigned(here); !ok {
		t.Fatal("session not valid on its origin")
	}
	there := requestWith(c)
	there.Host = "app.example.com:8443"
	if _, ok, _ := f.m.LoadSigned(there); ok {
		t.Fatal("cached session accepted on another origin")
	}
}

// The identity header values are built once per cached session, and built
// again when the user's change drops the cached entry.
func TestCachedIdentityHeadersFollowTheUser(t *testing.T) {
	f := newFixtureTTL(t, time.Hour)
	c := f.start(t, httptest.NewRequest("GET", "/", nil))
	s, ok, _ := f.m.LoadSigned(requestWith(c))
	h := http.Header{}
	if !ok {
		t.Fatal("no session")
	}
	v := s.IdentityHeaders()
	v.Set(h)
	if h.Get("Remote-User") != "u" || h.Get("Remote-Name") != "" {
		t.Fatalf("headers %v", h)
	}
	u := *f.user
	u.DisplayName, u.Groups = "Una\r\nX", []string{"a", "b"}
	teststore.Update(t, f.st, func(ctx context.Context, tx store.Tx) error {
		return tx.SetProfile(ctx, u.ID, u.DisplayName, u.Email, u.Groups)
	})
	f.m.ForgetUser(u.ID)
	s, _, _ = f.m.LoadSigned(requestWith(c))
	v = s.IdentityHeaders()
	v.Set(h)
	if h.Get("Remote-Name") != "UnaX" || h.Get("Remote-Groups") != "a,b" {
		t.Fatalf("headers after the change %v", h)
	}
}

// A signed-in request whose session is cached costs no allocation in the
// session layer: no cookie parsing into *http.Cookie, no SHA-256 of the
// token, no copy of the session and user.
func TestCachedLoadAllocatesNothing(t *testing.T) {
	f := newFixtureTTL(t, time.Hour)
	c := f.start(t, httptest.NewRequest("GET", "/", nil))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "theme=dark; "+c.Name+"="+c.Value+"; lang=en")
	if _, ok, _ := f.m.LoadSigned(r); !ok {
		t.Fatal("no session")
	}
	if n := testing.AllocsPerRun(200, func() { _, _, _ = f.m.LoadSigned(r) }); n != 0 {
		t.Fatalf("%v allocations per cached LoadSigned, want 0", n)
	}
}

// cookieValue finds the same value as (*http.Request).Cookie.
func TestCookieValueAsNetHTTP(t *testing.T) {
	for _, lines := range [][]string{
		{"mfagate=abc"},
		{"a=1; mfagate=abc; b=2"},
		{"a=1;mfagate=abc;b=2"},
		{`mfagate="abc"`},
		{"mfagate-portal=zzz; mfagate=abc"},
		{"xmfagate=zzz; mfagate=abc"},
		{"a=mfagate; b=2"},
		{"a=1", "mfagate=abc"},
		{"mfagate=abc; mfagate=def"},
		{"  mfagate=abc  ; b=2"},
		{"mfagate="},
		{"mfagate =abc"},
		{"mfagate"},
		{""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = lines
		got, ok := cookieValue(r.Header, CookieName)
		c, err := r.Cookie(CookieName)
		if want := err == nil; ok != want || (ok && got != c.Value) {
			t.Errorf("%q: cookieValue = %q, %v; net/http: %v %v", lines, got, ok, c, err)
		}
	}
}
