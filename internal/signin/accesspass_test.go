package signin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/testfixture"
)

// Where Security info lives on the portal origin, a protected site's
// login form leads to the portal's access-pass page, the site's own
// sends the browser there, and a pass posted to the site is refused
// unchecked: a pass session made on the site could not reach Security
// info.
func TestAccessPassIsUsedWhereSecurityInfoIs(t *testing.T) {
	svc := testfixture.Services(t)
	const there = "https://mfa.example/.mfa/access-pass"
	p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test", AccessPassAt: there})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	if w := get("/.mfa/login"); !strings.Contains(w.Body.String(), `href="`+there+`" id="use-access-pass"`) {
		t.Fatalf("the login form's pass link:\n%s", w.Body)
	}
	if w := get("/.mfa/access-pass"); w.Code != http.StatusFound || w.Header().Get("Location") != there {
		t.Fatalf("the site's pass page: %d %q", w.Code, w.Header().Get("Location"))
	}
	r := httptest.NewRequest("POST", "/.mfa/access-pass", strings.NewReader(url.Values{"username": {"a"}, "pass": {"b"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Fatalf("a pass posted to the site: %d", w.Code)
	}

	own := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test"})
	w = httptest.NewRecorder()
	own.ServeHTTP(w, httptest.NewRequest("GET", "/.mfa/login", nil))
	if !strings.Contains(w.Body.String(), `href="/.mfa/access-pass" id="use-access-pass"`) {
		t.Fatalf("the pass link without a portal:\n%s", w.Body)
	}
}
