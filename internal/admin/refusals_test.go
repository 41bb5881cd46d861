package admin

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRefusalsAreThePagesWords: a refused new user or profile is
// explained in the admin center's own sentences, never with an error's
// text ("username taken", "invalid profile: …").
func TestRefusalsAreThePagesWords(t *testing.T) {
	f, _, cookie, amy := admins(t)
	for _, c := range []struct {
		what, path string
		form       url.Values
		want       string
	}{
		{"taken", "/admin/users/new", url.Values{"username": {"amy"}}, msgUserExists},
		{"bad name", "/admin/users/new", url.Values{"username": {"amy kim"}}, msgInvalidUsername},
		{"bad group", "/admin/users/new", url.Values{"username": {"nina"}, "groups": {"a\u202eb"}}, msgInvalidGroup},
		{"bad email", "/admin/users/new", url.Values{"username": {"nina"}, "email": {"not an address"}}, msgInvalidEmail},
		{"edit: bad email", "/admin/action", url.Values{"op": {"edit"}, "id": idv(amy), "email": {"not an address"}, "confirmed": {"yes"}}, msgInvalidEmail},
		{"edit: long name", "/admin/action", url.Values{"op": {"edit"}, "id": idv(amy), "display_name": {strings.Repeat("n", 500)}, "confirmed": {"yes"}}, msgDisplayNameTooLong},
	} {
		w := f.post(c.path, c.form, cookie)
		body := html.UnescapeString(w.Body.String())
		if w.Code != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want %q\n%s", c.what, w.Code, c.want, body)
		}
		for _, errorText := range []string{"username taken", "invalid profile", "username must be", "group names must be", "is not an address like name@example.com\"", "display name: name is too long"} {
			if strings.Contains(body, errorText) {
				t.Errorf("%s: the page shows an error's text %q", c.what, errorText)
			}
		}
	}
}
