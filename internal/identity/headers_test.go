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

// CGI-style upstreams read "Remote_User" as HTTP_REMOTE_USER, the same
// variable as Remote-User, so underscore spellings are forged identity too.
func TestStripRemovesUnderscoreSpellings(t *testing.T) {
	h := http.Header{}
	h["Remote_user"] = []string{"admin"}
	h["REMOTE_GROUPS"] = []string{"admins"}
	h["X_extra_user"] = []string{"x"}
	h["X_unrelated"] = []string{"kept"}
	h.Add("Connection", "Remote_User, keep-alive")
	Strip(h, "X-Extra-User")
	for _, k := range []string{"Remote_user", "REMOTE_GROUPS", "X_extra_user"} {
		if _, ok := h[k]; ok {
			t.Errorf("%s survived", k)
		}
	}
	if h.Get("X_unrelated") != "kept" {
		t.Error("an unrelated underscore header was removed")
	}
	if got := h.Get("Connection"); got != "keep-alive" {
		t.Errorf("Connection = %q, want keep-alive", got)
	}
}

// Cookies the gateway does not own reach the upstream exactly as sent.
func TestRemoveCookiesKeepsOthersVerbatim(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("Cookie", `mfagate=x; app="q v"; json={"a":1}; utf=é`)
	r.Header.Add("Cookie", "__Host-mfagate=y; last=1")
	RemoveCookies(r, "mfagate", "__Host-mfagate")
	want := `app="q v"; json={"a":1}; utf=é; last=1`
	if got := r.Header.Values("Cookie"); len(got) != 1 || got[0] != want {
		t.Fatalf("Cookie = %q, want %q", got, want)
	}
}

// A Cookie header that holds none of our cookies is left exactly as sent,
// even when a value or a longer name mentions ours.
func TestRemoveCookiesLeavesOthersUntouched(t *testing.T) {
	for _, v := range []string{"a=1;b=mfagate", "mfagate-other=1;x=2", "x=1 ;  y=2"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", v)
		RemoveCookies(r, "mfagate", "__Host-mfagate")
		if got := r.Header.Values("Cookie"); len(got) != 1 || got[0] != v {
			t.Errorf("Cookie %q became %q", v, got)
		}
	}
}

// Removing our cookie allocates nothing when it was alone or beside one
// other cookie.
func TestRemoveCookiesCommonCasesAllocateNothing(t *testing.T) {
	for _, v := range []string{"mfagate=secret", "theme=dark; mfagate=secret", "mfagate=secret; theme=dark"} {
		r := httptest.NewRequest("GET", "/", nil)
		line := make([]string, 1)
		n := testing.AllocsPerRun(100, func() {
			line[0] = v
			r.Header["Cookie"] = line[:1]
			RemoveCookies(r, "mfagate", "__Host-mfagate")
		})
		if n != 0 {
			t.Errorf("%q: %v allocations", v, n)
		}
	}
}

// Values are built once and set with the request's own copy.
func TestValuesSetCopies(t *testing.T) {
	v := NewValues(Identity{Username: "alice", DisplayName: "Alice\n", Email: "a@x", Groups: []string{"a", "b"}})
	h1, h2 := http.Header{}, http.Header{}
	v.Set(h1)
	h1[HeaderUser][0] = "mallory"
	v.Set(h2)
	if h2.Get(HeaderUser) != "alice" || h2.Get(HeaderName) != "Alice" || h2.Get(HeaderGroups) != "a,b" {
		t.Fatalf("headers %v", h2)
	}
	var zero Values
	if !zero.IsZero() || v.IsZero() {
		t.Fatal("IsZero")
	}
}

// Matching identity header names folds case and "_" without allocating.
func TestIsIdentityHeaderAllocatesNothing(t *testing.T) {
	for name, want := range map[string]bool{"keep-alive": false, "remote_user": true, "REMOTE-GROUPS": true, "x-extra-user": true, "Remote-Users": false} {
		if got := isIdentityHeader(name, []string{"X-Extra-User"}); got != want {
			t.Errorf("%q: %v", name, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { isIdentityHeader("keep-alive", []string{"X-Extra-User"}) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// Several Cookie lines with ours among them become one line of the others.
func TestRemoveCookiesJoinsLines(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Cookie"] = []string{"a=1;b=2; ", "mfagate=x; c=3", "d=4"}
	RemoveCookies(r, "mfagate")
	if got := r.Header.Values("Cookie"); len(got) != 1 || got[0] != "a=1;b=2; c=3; d=4" {
		t.Fatalf("Cookie = %q", got)
	}
	r.Header["Cookie"] = []string{"a=1", "b=2"}
	RemoveCookies(r, "mfagate")
	if got := r.Header.Values("Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Fatalf("lines without ours changed: %q", got)
	}
}
