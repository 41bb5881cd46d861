package session

import (
	"net/http/httptest"
	"testing"
)

// FuzzLoadCookie: any cookie value an attacker can send is either rejected
// or (never, without the keys) a valid session; it must not panic or error.
func FuzzLoadCookie(f *testing.F) {
	fx := newFixture(f)
	valid := fx.start(f, httptest.NewRequest("GET", "/", nil)).Value
	f.Add(valid[:len(valid)/2])
	f.Add("")
	f.Add("MTcwMDAwMDAwMHxabc|def")
	f.Add(valid + "A")
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", CookieName+"="+value)
		cur, err := fx.m.Load(r)
		if err != nil {
			t.Fatalf("Load(%q) error: %v", value, err)
		}
		// Compare what net/http parses out of the header (it trims spaces,
		// cuts at ';' and unquotes), not the raw bytes sent.
		if cur != nil {
			if c, _ := r.Cookie(CookieName); c == nil || c.Value != valid {
				t.Fatalf("forged cookie %q accepted", value)
			}
		}
	})
}
