package session

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// at is a GET of url carrying c (TLS when url is https).
func at(url string, c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", url, nil)
	if r.URL.Scheme == "https" {
		r.TLS = &tls.ConnectionState{}
	}
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

// renamed is c under another name, as a script or a proxy could resend it.
func renamed(c *http.Cookie, name string) *http.Cookie {
	d := *c
	d.Name = name
	return &d
}

// A session made for one origin is refused on every other: another port of
// the same host (browsers send one cookie to every port), another host, the
// other scheme; also once cached by its own origin, and with the default
// port and case spelled otherwise it is still its own.
func TestSessionBoundToItsOrigin(t *testing.T) {
	for _, cached := range []bool{false, true} {
		f := newFixture(t)
		if cached {
			f.m.cache = newCache(time.Hour)
		}
		gw := f.start(t, at("http://localhost:8080/", nil))
		if cur, _ := f.m.Load(at("http://localhost:8080/app", gw)); cur == nil {
			t.Fatalf("cached=%v: own origin refused", cached)
		}
		for _, url := range []string{"http://localhost:8081/admin/", "http://other.example:8080/", "http://localhost/"} {
			if cur, _ := f.m.Load(at(url, gw)); cur != nil {
				t.Errorf("cached=%v: the session of http://localhost:8080 passed on %s", cached, url)
			}
		}
		if cur, _ := f.m.Load(at("https://localhost:8080/", renamed(gw, TLSCookieName))); cur != nil {
			t.Errorf("cached=%v: the http session passed over https", cached)
		}

		site := f.start(t, at("https://App.Example.com/", nil))
		for _, url := range []string{"https://app.example.com/", "https://app.example.com:443/", "https://APP.example.com/x"} {
			if cur, _ := f.m.Load(at(url, site)); cur == nil {
				t.Errorf("cached=%v: own origin spelled %s refused", cached, url)
			}
		}
		if cur, _ := f.m.Load(at("https://app.example.com:8443/", site)); cur != nil {
			t.Errorf("cached=%v: the session passed on another port", cached)
		}
		if cur, _ := f.m.Load(at("https://mfa.example.com/", site)); cur != nil {
			t.Errorf("cached=%v: the session passed on the portal's host", cached)
		}
	}
}

// The portal has cookie names of its own; each origin's cookie is refused
// on the other, whatever name it is sent under.
func TestPortalCookieIsItsOwn(t *testing.T) {
	f := newFixture(t)
	portal := f.m.ForPortal()
	gw := f.start(t, at("http://localhost:8080/", nil))
	w := httptest.NewRecorder()
	if err := portal.Start(w, at("http://localhost:8081/.mfa/login", nil), f.rec()); err != nil {
		t.Fatal(err)
	}
	pc := w.Result().Cookies()[0]
	if pc.Name != PortalCookieName || gw.Name != CookieName {
		t.Fatalf("cookie names: portal %q, gateway %q", pc.Name, gw.Name)
	}
	if cur, _ := portal.Load(at("http://localhost:8081/admin/", pc)); cur == nil {
		t.Fatal("the portal refused its own session")
	}
	// The gateway's session on the portal, under either name.
	for _, c := range []*http.Cookie{gw, renamed(gw, PortalCookieName)} {
		if cur, _ := portal.Load(at("http://localhost:8081/admin/", c)); cur != nil {
			t.Errorf("the portal accepted the gateway's session as %s", c.Name)
		}
	}
	// And the other way round.
	for _, c := range []*http.Cookie{pc, renamed(pc, CookieName)} {
		if cur, _ := f.m.Load(at("http://localhost:8080/app", c)); cur != nil {
			t.Errorf("the gateway accepted the portal's session as %s", c.Name)
		}
	}
	rt := httptest.NewRecorder()
	if err := portal.Start(rt, at("https://mfa.example.com/", nil), f.rec()); err != nil {
		t.Fatal(err)
	}
	if c := rt.Result().Cookies()[0]; c.Name != PortalTLSCookieName || !c.Secure {
		t.Errorf("portal cookie over TLS: %+v", c)
	}
}

func TestOriginSpelling(t *testing.T) {
	for url, want := range map[string]string{
		"http://Example.COM/":     "http://example.com:80",
		"https://example.com/":    "https://example.com:443",
		"http://localhost:8081/x": "http://localhost:8081",
		"http://[::1]:8080/":      "http://[::1]:8080",
		"https://[::1]/":          "https://[::1]:443",
	} {
		r := at(url, nil)
		if got := Origin(r); got != want {
			t.Errorf("Origin(%s) = %q, want %q", url, got, want)
		}
		if !fromOrigin(want, r) {
			t.Errorf("fromOrigin(%q, %s) = false", want, url)
		}
	}
	if fromOrigin("", at("http://example.com/", nil)) {
		t.Error("a session without origin passed")
	}
	if fromOrigin("http://example.com:80", at("http://example.co/", nil)) || fromOrigin("http://example.com:8", at("http://example.com/", nil)) {
		t.Error("a prefix of the origin passed")
	}
}
