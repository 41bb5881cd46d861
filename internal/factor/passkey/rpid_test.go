package passkey

import (
	"errors"
	"testing"
)

// TestDefaultRPID: the portal's host without its first label when it has
// three or more, else the host itself; never a public suffix or a part of
// an IP address; "" without a portal.
func TestDefaultRPID(t *testing.T) {
	for portal, want := range map[string]string{
		"mfa.example.com":       "example.com",
		"MFA.Example.COM:8443":  "example.com",
		"a.b.example.com":       "b.example.com",
		"example.com":           "example.com",
		"localhost":             "localhost",
		"localhost:8443":        "localhost",
		"mfa.localhost":         "mfa.localhost",
		"mfa.example.co.uk":     "example.co.uk",
		"example.co.uk":         "example.co.uk", // co.uk is a public suffix
		"mfa.github.io":         "mfa.github.io", // so is github.io (private section)
		"192.168.1.10":          "192.168.1.10",
		"[::1]:8443":            "::1",
		"":                      "",
		"portal.internal.corp.": "internal.corp",
	} {
		if got := DefaultRPID(portal); got != want {
			t.Errorf("DefaultRPID(%q) = %q, want %q", portal, got, want)
		}
	}
}

// TestForHost: without an RP ID (no portal, no rp_id) each request's own
// host is the RP ID; with one, it is used everywhere.
func TestForHost(t *testing.T) {
	for _, c := range []struct{ rpID, host, want string }{
		{"", "app.example.com:8443", "app.example.com"},
		{"", "LOCALHOST", "localhost"},
		{"example.com", "app.example.com", "example.com"},
		{"example.com", "elsewhere.org", "example.com"},
	} {
		if got := ForHost(c.rpID, c.host); got != c.want {
			t.Errorf("ForHost(%q, %q) = %q, want %q", c.rpID, c.host, got, c.want)
		}
	}
}

// TestHostUnder: the RP ID itself and its subdomains, at any port and in
// any case; not a look-alike that merely ends in the same letters.
func TestHostUnder(t *testing.T) {
	for _, c := range []struct {
		host, rpID string
		want       bool
	}{
		{"example.com", "example.com", true},
		{"app.example.com", "example.com", true},
		{"a.b.example.com:8443", "example.com", true},
		{"APP.Example.com", "example.com", true},
		{"badexample.com", "example.com", false},
		{"example.com.evil.org", "example.com", false},
		{"example.org", "example.com", false},
		{"localhost:8080", "localhost", true},
		{"", "example.com", false},
		{"example.com", "", false},
	} {
		if got := HostUnder(c.host, c.rpID); got != c.want {
			t.Errorf("HostUnder(%q, %q) = %v, want %v", c.host, c.rpID, got, c.want)
		}
	}
}

// TestExpectedOrigin: the request's own scheme://host[:port] as a browser
// writes it (default ports dropped, lower case), https under the RP ID or
// http on localhost; anything else is refused with its reason.
func TestExpectedOrigin(t *testing.T) {
	for _, c := range []struct {
		scheme, hostport, rpID, want string
		err                          error
	}{
		{"https", "app.example.com", "example.com", "https://app.example.com", nil},
		{"https", "app.example.com:443", "example.com", "https://app.example.com", nil},
		{"https", "App.Example.com:8443", "example.com", "https://app.example.com:8443", nil},
		{"https", "example.com", "example.com", "https://example.com", nil},
		{"http", "localhost:8080", "localhost", "http://localhost:8080", nil},
		{"http", "localhost:80", "localhost", "http://localhost", nil},
		{"https", "localhost:8443", "localhost", "https://localhost:8443", nil},
		{"http", "app.example.com", "example.com", "", ErrInsecureOrigin},
		{"http", "app.localhost:8080", "localhost", "", ErrInsecureOrigin},
		{"https", "example.org", "example.com", "", ErrNotUnderRPID},
		{"https", "notexample.com", "example.com", "", ErrNotUnderRPID},
	} {
		got, err := ExpectedOrigin(c.scheme, c.hostport, c.rpID)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ExpectedOrigin(%q, %q, %q) = %q, %v; want %q, %v", c.scheme, c.hostport, c.rpID, got, err, c.want, c.err)
		}
	}
}

// TestValidateRPID: domain names pass; a URL, a port, upper case, an IP
// address or a public suffix is refused.
func TestValidateRPID(t *testing.T) {
	for _, ok := range []string{"example.com", "localhost", "mfa.example.co.uk", "example.co.uk", "intranet.lan"} {
		if err := ValidateRPID(ok); err != nil {
			t.Errorf("ValidateRPID(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "https://example.com", "example.com:443", "Example.com", "192.168.1.1",
		"::1", "com", "co.uk", "github.io", "exa_mple.com", "-example.com", "example..com", "example.com/path"} {
		if err := ValidateRPID(bad); err == nil {
			t.Errorf("ValidateRPID(%q) = nil, want an error", bad)
		}
	}
}
