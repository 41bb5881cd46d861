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

	"github.com/mfagate/mfagate/internal/phoneportal"
)

func init() {
	caddy.RegisterModule(Portal{})
	httpcaddyfile.RegisterHandlerDirective("mfa_portal", parsePortalDirective)
	httpcaddyfile.RegisterDirectiveOrder("mfa_portal", httpcaddyfile.Before, "respond")
}

// Portal is the `mfa_portal` handler: mfagate's own pages that must not
// live on any protected site's origin (pairing a phone, the phone's
// sign-in approval app and its API). Put it alone in the site block of
// the host named by the mfa app's portal option; it answers only for that
// host, and 404 for anything that is not its own.
type Portal struct {
	host    string // the portal option's host[:port], lower-cased
	handler http.Handler
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
	p.handler = phoneportal.New(phoneportal.Deps{Core: svc.Core, UI: svc.UI, Logger: ctx.Logger()},
		phoneportal.Config{Issuer: app.Issuer, VAPIDPublicKey: svc.VAPIDPublic, ManifestKey: svc.PortalKey})
	return nil
}

// ServeHTTP answers the portal's own paths on the portal host.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if !strings.EqualFold(r.Host, p.host) {
		return caddyhttp.Error(http.StatusMisdirectedRequest,
			fmt.Errorf("mfa_portal: request for %q, but the portal option names %q", r.Host, p.host))
	}
	p.handler.ServeHTTP(w, r)
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
	_ caddyhttp.MiddlewareHandler = (*Portal)(nil)
	_ caddyfile.Unmarshaler       = (*Portal)(nil)
)
