package caddymodule

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/mfagate/mfagate/gateway"
	"github.com/mfagate/mfagate/policy"
	"github.com/mfagate/mfagate/securityinfo"
	"github.com/mfagate/mfagate/signin"
)

func init() {
	caddy.RegisterModule(Gateway{})
}

// Gateway is the `mfa_gateway` handler: it requires a multi-factor sign-in
// for the site it is placed in and passes the user's identity upstream in
// Remote-User, Remote-Name, Remote-Email and Remote-Groups (client-supplied
// copies are always removed). The user is exposed as {http.auth.user.id}.
type Gateway struct {
	// Path prefix of the sign-in pages on this site. Default: "/.mfa/".
	PortalPrefix string `json:"portal_prefix,omitempty"`

	// Require a second factor of everyone in the browser: users whose MFA
	// state is Disabled are treated as Enabled.
	RequireMFA bool `json:"require_mfa,omitempty"`

	// Refuse account passwords in HTTP basic auth for everyone: only app
	// passwords pass. (Enforced users never pass with the account password.)
	AppPasswordsOnly bool `json:"app_passwords_only,omitempty"`

	// Realm of the basic-auth challenge. Default: the request's host.
	Realm string `json:"realm,omitempty"`

	gw *gateway.Gateway
}

// CaddyModule returns the Caddy module information.
func (Gateway) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.mfa_gateway",
		New: func() caddy.Module { return new(Gateway) },
	}
}

// Provision connects the handler to the `mfa` app.
func (g *Gateway) Provision(ctx caddy.Context) error {
	if g.PortalPrefix == "" {
		g.PortalPrefix = signin.DefaultPrefix
	}
	// Checked here, not only in Validate: the portal's routes are built
	// from the prefix during provisioning.
	if err := g.Validate(); err != nil {
		return err
	}
	appIface, err := ctx.App("mfa")
	if err != nil {
		return fmt.Errorf("mfa_gateway: loading mfa app: %w", err)
	}
	app := appIface.(*App)
	svc := app.services
	site := policy.Site{RequireMFA: g.RequireMFA, RefuseAccountPassword: g.AppPasswordsOnly}
	secDeps := svc.securityDeps(ctx.Logger())
	secDeps.ClientIP = clientIP
	security := securityinfo.New(secDeps, securityinfo.Config{Prefix: g.PortalPrefix, Issuer: app.Issuer})
	deps := svc.portalDeps(ctx.Logger())
	deps.ClientIP = clientIP
	portal := signin.New(deps, signin.Config{Prefix: g.PortalPrefix, Issuer: app.Issuer, Policy: site, Extra: security.Routes()})
	g.gw = gateway.New(portal, svc.sessions, svc.verifier, svc.audit, gateway.Config{Policy: site, Realm: g.Realm, ClientIP: clientIP})
	return nil
}

// Validate checks the portal prefix.
func (g *Gateway) Validate() error {
	p := g.PortalPrefix
	if len(p) < 3 || !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return fmt.Errorf("mfa_gateway: portal_prefix %q must look like /name/", p)
	}
	return nil
}

// ServeHTTP lets signed-in requests through with their identity; anything
// else is answered by the sign-in portal.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	res, err := g.gw.Serve(w, r)
	if err != nil {
		return caddyhttp.Error(http.StatusServiceUnavailable, fmt.Errorf("mfa_gateway: %w", err))
	}
	if res.Handled {
		return nil
	}
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.auth.user.id", res.User.Username)
	return next.ServeHTTP(w, r)
}

// clientIP is the client address as Caddy's trusted_proxies handling
// determined it; a raw X-Forwarded-For is never trusted.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	return r.RemoteAddr
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Gateway)(nil)
	_ caddy.Validator             = (*Gateway)(nil)
	_ caddyhttp.MiddlewareHandler = (*Gateway)(nil)
)
