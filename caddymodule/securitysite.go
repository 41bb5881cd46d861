package caddymodule

import (
	"net/http"
	"strings"

	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/loginui"
)

// securityOnPortal answers Security info's paths on a protected site when
// a portal is configured: every page and action lives only on the portal
// origin, where no protected app's script runs. A page load is sent to
// the portal's same page (its own sign-in, its own origin-bound session);
// anything else is refused, never replayed there.
type securityOnPortal struct {
	prefix string // the site's portal prefix, e.g. "/.mfa/"
	portal string // the portal origin, e.g. "https://mfa.example.com"
	ui     *loginui.Renderer
	issuer string
}

// routes are the ServeMux patterns for the site's sign-in pages.
func (s *securityOnPortal) routes() map[string]http.Handler {
	return map[string]http.Handler{
		s.prefix + "security":  s,
		s.prefix + "security/": s,
	}
}

// ServeHTTP sends GET and HEAD to the portal's Security info (same path
// below it, same query) and refuses the rest.
func (s *securityOnPortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	target := s.portal + signin.DefaultPrefix + "security"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.ui.Render(w, http.StatusForbidden, loginui.MessagePage{
			Common:   loginui.Common{Title: "Security info has moved", Issuer: s.issuer, Prefix: s.prefix},
			Heading:  "Security info has moved",
			Message:  "Security info is on its own site. Nothing was changed here: open it there and try again.",
			LinkText: "Open Security info", LinkHref: target,
		})
		return
	}
	target += strings.TrimPrefix(r.URL.EscapedPath(), s.prefix+"security")
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusFound)
}
