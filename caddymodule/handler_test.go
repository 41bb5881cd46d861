package caddymodule

import (
	"strconv"
	"strings"
	"testing"
)

func TestGatewayValidate(t *testing.T) {
	ok := []Gateway{
		{PortalPrefix: "/.mfa/"},
		{PortalPrefix: "/auth/v1/", PublicPaths: []string{"/public/*", "/robots.txt"}},
		{PortalPrefix: "/.mfa/", RedirectDomains: []string{"wiki.example.com", "*.apps.example.com", "xn--bcher-kva.example"}},
		{PortalPrefix: "/.mfa/", SiteName: "Example Files (files.example.com)"},
	}
	for _, g := range ok {
		if err := g.Validate(); err != nil {
			t.Errorf("%+v: %v", g, err)
		}
	}
	bad := map[string]Gateway{
		"portal_prefix":      {PortalPrefix: "/a b/"},
		"portal_prefix ":     {PortalPrefix: "/{$}/"},
		"portal_prefix  ":    {PortalPrefix: "/x{/"},
		"portal_prefix   ":   {PortalPrefix: "/../"},
		"portal_prefix    ":  {PortalPrefix: "/mfa"},
		"whole site public":  {PortalPrefix: "/.mfa/", PublicPaths: []string{"/*"}},
		"whole site public ": {PortalPrefix: "/.mfa/", PublicPaths: []string{"/"}},
		"redirect_domains":   {PortalPrefix: "/.mfa/", RedirectDomains: []string{"w\u0130ki.example.com"}},
		"redirect_domains ":  {PortalPrefix: "/.mfa/", RedirectDomains: []string{"example.com."}},
		"redirect_domains  ": {PortalPrefix: "/.mfa/", RedirectDomains: []string{"*."}},
		"site_name":          {PortalPrefix: "/.mfa/", SiteName: "Files\u202egnp.exe"},
		"site_name ":         {PortalPrefix: "/.mfa/", SiteName: strings.Repeat("x", 65)},
		"site_name  ":        {PortalPrefix: "/.mfa/", SiteName: " padded "},
		"site_name   ":       {PortalPrefix: "/.mfa/", SiteName: "two\nlines"},
	}
	for want, g := range bad {
		err := g.Validate()
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(want)) {
			t.Errorf("%+v: error %v, want one naming %q", g, err, strings.TrimSpace(want))
		}
	}
}

// site_name is read from the Caddyfile, quoted when it has spaces.
func TestSiteNameCaddyfile(t *testing.T) {
	out, err := adapt(t, ":8080 {\n\tmfa_gateway {\n\t\tsite_name \"Example Files\"\n\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"site_name":"Example Files"`) {
		t.Fatalf("site_name not in the config:\n%s", out)
	}
	for _, text := range []string{
		":8080 {\n\tmfa_gateway {\n\t\tsite_name\n\t}\n}\n",
		":8080 {\n\tmfa_gateway {\n\t\tsite_name a b\n\t}\n}\n",
	} {
		if _, err := adapt(t, text); err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%q: error %v, want one naming the line", text, err)
		}
	}
}

// passkeys_passwordless on|off is read from the Caddyfile and carried on
// the site's policy; left out, passwordless sign-in is on.
func TestPasskeysPasswordlessCaddyfile(t *testing.T) {
	for value, want := range map[string]bool{"off": false, "on": true} {
		text := ":8080 {\n\tmfa_gateway {\n\t\tpasskeys_passwordless " + value + "\n\t}\n}\n"
		out, err := adapt(t, text)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, `"passkeys_passwordless":`+strconv.FormatBool(want)) {
			t.Fatalf("passkeys_passwordless %s not in the config:\n%s", value, out)
		}
		g := Gateway{PasskeysPasswordless: &want}
		if g.site().PasswordlessPasskeys() != want {
			t.Errorf("passkeys_passwordless %s: policy allows passwordless = %v", value, !want)
		}
	}
	if !(&Gateway{}).site().PasswordlessPasskeys() {
		t.Errorf("without the option passwordless sign-in is off; want on")
	}
	for _, text := range []string{
		":8080 {\n\tmfa_gateway {\n\t\tpasskeys_passwordless\n\t}\n}\n",
		":8080 {\n\tmfa_gateway {\n\t\tpasskeys_passwordless no\n\t}\n}\n",
		":8080 {\n\tmfa_gateway {\n\t\tpasskeys_passwordless on off\n\t}\n}\n",
	} {
		if _, err := adapt(t, text); err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%q: error %v, want one naming the line", text, err)
		}
	}
}
