package securityinfo

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A user-chosen name holding a format character (a bidi override, a
// zero-width space, a BOM) is refused on the page with a message naming
// the character, never a 500, and nothing is stored.
func TestAppPasswordNameWithFormatCharacterRefused(t *testing.T) {
	f := newFixture(t, time.Minute)
	for _, name := range []string{"Laptop\u202elim", "Lap\u200btop", "\u2066Laptop\u2069", "\ufeffLaptop"} {
		w := f.post("/.mfa/security/app-password", url.Values{"name": {name}})
		body := html.UnescapeString(w.Body.String())
		if w.Code != 200 && w.Code != 400 {
			t.Errorf("%q: status %d, want the form again (200) or 400", name, w.Code)
		}
		if strings.Contains(body, `id="app-password"`) || !strings.Contains(body, "invisible or control character (U+") {
			t.Errorf("%q: no refusal message on the page:\n%s", name, body)
		}
	}
	if aps, err := f.st.AppPasswords(context.Background(), f.user.ID); err != nil || len(aps) != 0 {
		t.Fatalf("app passwords stored: %v, %v", aps, err)
	}
	// The same name without the character is accepted.
	if w := f.post("/.mfa/security/app-password", url.Values{"name": {"Laptop mail"}}); !strings.Contains(w.Body.String(), `id="app-password"`) {
		t.Fatalf("plain name refused: %d\n%s", w.Code, w.Body.String())
	}
}
