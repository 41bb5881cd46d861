package identity

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStripRemovesSpoofedHeadersAndConnectionTokens(t *testing.T) {
	h := http.Header{}
	h.Set("Remote-User", "admin")
	h.Add("remote-groups", "admins")
	h.Set("X-Extra-User", "x")
	h.Add("Connection", "keep-alive, Remote-User")
	h.Add("Connection", "remote-email,X-Extra-User")
	Strip(h, "X-Extra-User")
	for _, n := range append(Headers, "X-Extra-User") {
		if h.Get(n) != "" {
			t.Errorf("%s survived", n)
		}
	}
	if got := h.Get("Connection"); got != "keep-alive" {
		t.Errorf("Connection = %q, want keep-alive", got)
	}
}

func TestSetSanitizes(t *testing.T) {
	h := http.Header{}
	Set(h, Identity{Username: "alice", DisplayName: "Alice\r\nX-Evil: 1", Email: "a@x", Groups: []string{"a", "b"}})
	if h.Get(HeaderName) != "AliceX-Evil: 1" || h.Get(HeaderGroups) != "a,b" || h.Get(HeaderUser) != "alice" {
		t.Fatalf("headers: %v", h)
	}
}

func TestRemoveCookies(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "a=1; mfagate=secret; b=2")
	RemoveCookies(r, "mfagate", "__Host-mfagate")
	if got := r.Header.Get("Cookie"); got != "a=1; b=2" {
		t.Fatalf("Cookie = %q", got)
	}
	r.Header.Set("Cookie", "mfagate=secret")
	RemoveCookies(r, "mfagate")
	if _, ok := r.Header["Cookie"]; ok {
		t.Fatal("empty Cookie header left")
	}
}
