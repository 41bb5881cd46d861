package redirect

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeWithDomains(t *testing.T) {
	domains := []string{"wiki.example.com", "*.apps.example.com"}
	cases := map[string]string{
		"https://wiki.example.com/page?x=1":        "https://wiki.example.com/page?x=1",
		"https://WIKI.example.com/":                "https://WIKI.example.com/",
		"https://git.apps.example.com/repo":        "https://git.apps.example.com/repo",
		"https://apps.example.com/":                "/",
		"http://wiki.example.com/":                 "/",
		"https://wiki.example.com.evil.example/":   "/",
		"https://evilwiki.example.com/":            "/",
		"https://wiki.example.com@evil.example/":   "/",
		"https://user@wiki.example.com/":           "/",
		"https://wiki.example.com\\@evil.example/": "/",
		"https://wiki.example.com/%2f%2fevil":      "/",
		"https://wiki.example.com:8443/x":          "https://wiki.example.com:8443/x",
		"https://wiki.eXAmple.Com.#":               "/",
		"https://wiki.example.com./x":              "/",
		"https://a..apps.example.com/":             "/",
		"https://w\u0130ki.example.com/x":          "/",
		"https://wiki.example.com%2e/x":            "/",
		"/local":                                   "/local",
		"//wiki.example.com/":                      "/",
	}
	for in, want := range cases {
		if got := SafeWithDomains(in, "app.example.com", domains); got != want {
			t.Errorf("SafeWithDomains(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SafeWithDomains("https://wiki.example.com/", "h", nil); got != "/" {
		t.Errorf("no allow-list: %q", got)
	}
}

func FuzzSafeWithDomains(f *testing.F) {
	for _, s := range []string{"https://wiki.example.com/x", "https://a.apps.example.com", "https://wiki.example.com@evil/",
		"https://evil.example/", "/x", "//evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SafeWithDomains(in, "h.example", []string{"wiki.example.com", "*.apps.example.com"})
		if strings.HasPrefix(got, "/") {
			if strings.HasPrefix(got, "//") || strings.Contains(got, "\\") {
				t.Fatalf("%q -> %q", in, got)
			}
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "https" || u.User != nil {
			t.Fatalf("%q -> %q", in, got)
		}
		h := strings.ToLower(u.Hostname())
		if h != "wiki.example.com" && !strings.HasSuffix(h, ".apps.example.com") {
			t.Fatalf("%q -> %q: host %q not allowed", in, got, h)
		}
		if strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("%q -> %q", in, got)
		}
	})
}
