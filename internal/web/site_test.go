package web

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The site shown to people is the configured name, or a Host that is a
// plain DNS name (with a numeric port), or "this site (port N)" with the
// port the connection came in on: never other text the client chose.
func TestSiteLabel(t *testing.T) {
	long := strings.Repeat("a", 63)
	name254 := strings.Join([]string{long, long, long, strings.Repeat("b", 62)}, ".") // 254 characters
	name253 := name254[1:]
	for host, want := range map[string]string{
		"files.example.com":                     "files.example.com",
		"Files.Example.COM.":                    "files.example.com",
		"files.example.com:8443":                "files.example.com:8443",
		"localhost":                             "localhost",
		"xn--bcher-kva.example":                 "xn--bcher-kva.example",
		name253:                                 name253,
		name254:                                 "this site (port 8080)",
		"":                                      "this site (port 8080)",
		"IT desk: type 47 to keep your account": "this site (port 8080)",
		"type-47-to-keep-your-account-safe.example.com": "type-47-to-keep-your-account-safe.example.com",
		"files.example.com:08443":                       "this site (port 8080)",
		"files.example.com:65536":                       "this site (port 8080)",
		"files.example.com:0":                           "this site (port 8080)",
		"files.example.com:":                            "this site (port 8080)",
		"files.example.com:+443":                        "this site (port 8080)",
		"files.example.com:443:443":                     "this site (port 8080)",
		"files.example.com:443 type 47":                 "this site (port 8080)",
		"user@files.example.com":                        "this site (port 8080)",
		"files.example.com/login":                       "this site (port 8080)",
		"files..example.com":                            "this site (port 8080)",
		"-files.example.com":                            "this site (port 8080)",
		"files-.example.com":                            "this site (port 8080)",
		"files_1.example.com":                           "this site (port 8080)",
		"fïles.example.com":                             "this site (port 8080)",
		"files.example.com%00":                          "this site (port 8080)",
		strings.Repeat("a", 64) + ".example.com":        "this site (port 8080)",
		"127.0.0.1":                                     "this site (port 8080)",
		"127.0.0.1:8080":                                "this site (port 8080)",
		"127.1":                                         "this site (port 8080)",
		"0x7f.1":                                        "this site (port 8080)",
		"[::1]:8080":                                    "this site (port 8080)",
		"[::1%25x.example.com]:8080":                    "this site (port 8080)",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}))
		if got := SiteLabel("", r); got != want {
			t.Errorf("SiteLabel(Host %q) = %q, want %q", host, got, want)
		}
		if got := SiteLabel("Example Files", r); got != "Example Files" {
			t.Errorf("SiteLabel(name, Host %q) = %q, want the name", host, got)
		}
	}
	// Without a known listener port.
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "bad host"
	if got := SiteLabel("", r); got != "this site" {
		t.Errorf("SiteLabel without a listener = %q", got)
	}
}
