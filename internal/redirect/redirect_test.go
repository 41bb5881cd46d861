package redirect

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestSafe(t *testing.T) {
	const host = "app.example.com"
	cases := map[string]string{
		"":                                      "/",
		"/":                                     "/",
		"/docs/page?x=1&y=2":                    "/docs/page?x=1&y=2",
		"/a%20b":                                "/a%20b",
		"https://app.example.com/x?q=1":         "/x?q=1",
		"http://APP.example.com":                "/",
		"//evil.example":                        "/",
		"///evil.example":                       "/",
		"/\\evil.example":                       "/",
		"\\\\evil.example":                      "/",
		"/%5cevil.example":                      "/",
		"/%5Cevil.example":                      "/",
		"/%2f%2fevil.example":                   "/",
		"/%252f%252fevil.example":               "/",
		"/%25252f%25252fevil.example":           "/",
		"/%09/evil.example":                     "/",
		"/\t/evil.example":                      "/",
		"/\r\n/evil.example":                    "/",
		"https:evil.example":                    "/",
		"https:/evil.example":                   "/",
		"https://evil.example":                  "/",
		"https://app.example.com@evil.example/": "/",
		"https://user@app.example.com/":         "/",
		"@evil.example":                         "/",
		"evil.example":                          "/",
		"javascript:alert(1)":                   "/",
		"JaVaScRiPt:alert(1)":                   "/",
		"data:text/html,hi":                     "/",
		"/%00/evil":                             "/",
		"/\x00":                                 "/",
		"ftp://app.example.com/":                "/",
		"/" + strings.Repeat("a", 3000):         "/",
	}
	for in, want := range cases {
		if got := Safe(in, host); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafe(f *testing.F) {
	for _, s := range []string{"/", "//evil", "/\\evil", "/%5cevil", "/%09/evil", "https:evil", "@evil",
		"https://h.example/x", "/%252f%252fx", "javascript:x", "/ok?next=//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := Safe(in, "h.example")
		if got == Fallback {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.Contains(got, "\\") {
			t.Fatalf("Safe(%q) = %q: leaves the host", in, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("Safe(%q) = %q: control character", in, got)
			}
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" {
			t.Fatalf("Safe(%q) = %q: parses with scheme/host (%v)", in, got, err)
		}
		dec, _ := url.PathUnescape(got)
		if strings.HasPrefix(dec, "//") || strings.Contains(dec, "\\") {
			t.Fatalf("Safe(%q) = %q: decodes to %q", in, got, dec)
		}
	})
}
