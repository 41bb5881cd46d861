package policy

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestIsPublic(t *testing.T) {
	s := Site{PublicPaths: []string{"/public/*", "/healthz"}}
	public := []string{"/public/", "/public/logo.png", "/public/a/b.css?v=1", "/healthz", "/public"}
	protected := []string{"/", "/secret", "/publicx", "/PUBLIC/x", "/public/../secret", "/public/..%2fsecret",
		"/public/%2e%2e/secret", "/public/..;/secret", "/public/..%5csecret", "/public/..\\secret",
		"//public/x", "/public//x", "/public/./x", "/public/%00", "/public/%252e%252e/x", "/public/x;y",
		"/public/...", "/healthzx", "/public%2fsecret"}
	for _, p := range public {
		if !s.IsPublic(httptest.NewRequest("GET", p, nil)) {
			t.Errorf("%s should be public", p)
		}
	}
	for _, p := range protected {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = &url.URL{Path: p, RawPath: p}
		if u, err := url.Parse(p); err == nil {
			r.URL = u
		}
		if s.IsPublic(r) {
			t.Errorf("%s must not be public", p)
		}
	}
	if (Site{}).IsPublic(httptest.NewRequest("GET", "/public/x", nil)) {
		t.Error("no public paths configured, yet public")
	}
}
