package caddymodule

import (
	"strings"
	"testing"
)

func TestGatewayValidate(t *testing.T) {
	ok := []Gateway{
		{PortalPrefix: "/.mfa/"},
		{PortalPrefix: "/auth/v1/", PublicPaths: []string{"/public/*", "/robots.txt"}},
		{PortalPrefix: "/.mfa/", RedirectDomains: []string{"wiki.example.com", "*.apps.example.com", "xn--bcher-kva.example"}},
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
	}
	for want, g := range bad {
		err := g.Validate()
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(want)) {
			t.Errorf("%+v: error %v, want one naming %q", g, err, strings.TrimSpace(want))
		}
	}
}
