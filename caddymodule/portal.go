package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/mfagate/mfagate/internal/admin"
	"github.com/mfagate/mfagate/internal/phoneportal"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/securityinfo"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/web"
)

func init() {
	caddy.RegisterModule(Portal{})
	httpcaddyfile.RegisterHandlerDirective("mfa_portal", parsePortalDirective)
	httpcaddyfile.RegisterDirectiveOrder("mfa_portal", httpcaddyfile.Before, "respond")
}

// Portal is the `mfa_portal` handler: mfagate's own pages that must not
// live on any protected site's origin (Security info, pairing a phone,
// the phone's sign-in approval app and its API, and the admin center,
// behind the portal's own sign-in). Put it alone in the site block of the host named by the mfa
// app's portal option; it answers only for that host, and 404 for
// anything that is not its own.
type Portal struct {
	host    string // the portal option's host[:port], lower-cased
	handler http.Handler
	// signin is the portal's own sign-in (multi-factor for everyone),
	// under signin.DefaultPrefix; admin is the admin center under
	// admin.DefaultBase, which "/" leads to.
	signin *signin.Portal
	admin  http.Handler
}

// CaddyModule returns the Caddy module information.
func (Portal) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.mfa_portal",
		New: func() caddy.Module { return new(Portal) },
	}
}

// Provision connects the handler to the `mfa` app.
func (p *Portal) Provision(ctx caddy.Context) error {
	appIface, err := ctx.App("mfa")
	if err != nil {
		return fmt.Errorf("mfa_portal: loading mfa app: %w", err)
	}
	app := appIface.(*App)
	svc := app.services
	if svc.Portal == "" {
		return errors.New("mfa_portal: set the portal origin in the global mfa block (portal https://mfa.example.com) and serve this directive on that site")
	}
	u, err := url.Parse(svc.Portal)
	if err != nil {
		return fmt.Errorf("mfa_portal: portal: %w", err)
	}
	p.host = strings.ToLower(u.Host)
	p.handler = phoneportal.New(phoneportal.Deps{Core: svc.Core, UI: svc.UI, Logger: ctx.Logger(), ClientIP: clientIP},
		phoneportal.Config{Issuer: app.Issuer, VAPIDPublicKey: svc.VAPIDPublic})
	// The portal's own sign-in: a second factor for everyone, the session
	// cookie host-only on this origin, under the portal's own name and
	// bound to this origin.
	site := policy.Site{RequireMFA: true}
	deps := svc.portalOriginDeps(ctx.Logger())
	// Security info lives here (the protected sites redirect to it), under
	// the portal's rule: a second factor for everyone; app passwords for
	// whoever holds one (or is Enforced), as on a site that requires MFA.
	security := securityinfo.New(securityinfo.Deps{Deps: deps.Deps},
		securityinfo.Config{Prefix: signin.DefaultPrefix, Issuer: app.Issuer, Policy: site, Portal: svc.Portal, OnPortal: true})
	p.signin = signin.New(deps, signin.Config{Prefix: signin.DefaultPrefix, Issuer: app.Issuer, Policy: site, Extra: security.Routes()})
	p.admin = admin.New(admin.Deps{Deps: deps.Deps},
		admin.Config{Base: admin.DefaultBase, Prefix: signin.DefaultPrefix, Issuer: app.Issuer, Policy: site})
	return nil
}

// Cleanup ends the portal sign-in's long-polls when the config unloads.
func (p *Portal) Cleanup() error {
	if p.signin != nil {
		p.signin.Close()
	}
	return nil
}

// ServeHTTP answers the portal's own paths on the portal host.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if !strings.EqualFold(r.Host, p.host) {
		web.CloseUnreadBody(w, r) // Caddy answers, leaving the body unread
		return caddyhttp.Error(http.StatusMisdirectedRequest,
			fmt.Errorf("mfa_portal: request for %q, but the portal option names %q", r.Host, p.host))
	}
	// As on the gateway: an answer that leaves an announced body unread
	// closes the connection, so a client waiting for "100 Continue" gets
	// it at once (see web.CloseUnlessBodyRead).
	w = web.CloseUnlessBodyRead(w, r)
	switch path := r.URL.Path; {
	case strings.HasPrefix(path, signin.DefaultPrefix):
		p.signin.ServeHTTP(w, r)
	case path == "/":
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, admin.DefaultBase, http.StatusFound)
	case path == strings.TrimSuffix(admin.DefaultBase, "/") || strings.HasPrefix(path, admin.DefaultBase):
		p.admin.ServeHTTP(w, r)
	default:
		p.handler.ServeHTTP(w, r) // the phone's pages; 404 for the rest
	}
	return nil
}

// parsePortalDirective reads `mfa_portal` (no arguments, no block).
func parsePortalDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	p := new(Portal)
	err := p.UnmarshalCaddyfile(h.Dispenser)
	return p, err
}

// UnmarshalCaddyfile reads the directive: it takes no options.
func (p *Portal) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() || d.NextBlock(0) {
		return d.Err("mfa_portal takes no arguments or options: its settings are the global mfa block's portal and push_* options")
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Portal)(nil)
	_ caddy.CleanerUpper          = (*Portal)(nil)
	_ caddyhttp.MiddlewareHandler = (*Portal)(nil)
	_ caddyfile.Unmarshaler       = (*Portal)(nil)
)
