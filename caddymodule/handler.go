package caddymodule

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/mfagate/mfagate/internal/gateway"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/securityinfo"
	"github.com/mfagate/mfagate/internal/signin"
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
	// state is Disabled are treated as Enabled. Basic auth, which cannot
	// carry a second factor, then takes app passwords only; any user with a
	// registered authenticator may create them on Security info.
	RequireMFA bool `json:"require_mfa,omitempty"`

	// Refuse account passwords in HTTP basic auth for everyone: only app
	// passwords pass. (Enforced users never pass with the account password.)
	AppPasswordsOnly bool `json:"app_passwords_only,omitempty"`

	// Realm of the basic-auth challenge. Default: the request's host.
	Realm string `json:"realm,omitempty"`

	// How this site is named to people: on the phone's sign-in prompt, in
	// its notification, in Recent activity and the sign-in log, e.g.
	// "files.example.com" or "Example Files" (up to 64 characters, no
	// control or invisible characters). Default: the request's host name
	// when it is a valid DNS name (with its port, if numeric), otherwise
	// "this site (port N)": the Host header is the client's to choose, so
	// set this on a catch-all site such as ":8080".
	SiteName string `json:"site_name,omitempty"`

	// Paths served without sign-in: "/dir/" or "/dir/*" for a folder and
	// everything below it, anything else for one exact path. Paths with
	// encoded slashes, backslashes, dot segments, ";" or NUL never count as
	// public. Prefer this over exempting paths with a Caddy matcher, which
	// does not apply these rules.
	PublicPaths []string `json:"public_paths,omitempty"`

	// Other https hosts that may be returned to after sign-in, e.g.
	// "wiki.example.com" or "*.example.com". The protected host itself is
	// always allowed; anything else lands on "/".
	RedirectDomains []string `json:"redirect_domains,omitempty"`

	// Passwordless sign-in with a passkey: on by default, when passkeys
	// are offered on the site (its host is at or under the RP ID). The
	// login page then offers "Sign in with a passkey" (and suggests
	// passkeys in the username field), and a discoverable passkey
	// verified with user verification (a PIN or biometric) signs in with
	// both factors at once. false (Caddyfile `passkeys_passwordless off`)
	// requires the password too: the page offers no passkey there and
	// such an answer is refused.
	PasskeysPasswordless *bool `json:"passkeys_passwordless,omitempty"`

	// Further request headers to remove from every client request, besides
	// Remote-User, Remote-Name, Remote-Email and Remote-Groups (for
	// upstreams that trust other names, e.g. X-Forwarded-User).
	StripHeaders []string `json:"strip_headers,omitempty"`

	gw     *gateway.Gateway
	portal *signin.Portal
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
	site := g.site()
	// With a portal, Security info lives there only: never on this
	// origin, where the upstream's scripts run.
	security := (&securityOnPortal{prefix: g.PortalPrefix, portal: svc.Portal, ui: svc.UI, issuer: app.Issuer}).routes()
	// A Temporary Access Pass reaches Security info only: it is used
	// where Security info is.
	accessPassAt := svc.Portal + signin.DefaultPrefix + "access-pass"
	if svc.Portal == "" {
		security = securityinfo.New(svc.securityDeps(ctx.Logger()), securityinfo.Config{Prefix: g.PortalPrefix, Issuer: app.Issuer, Policy: site}).Routes()
		accessPassAt = ""
	}
	portal := signin.New(svc.portalDeps(ctx.Logger()), signin.Config{Prefix: g.PortalPrefix, Issuer: app.Issuer, Policy: site,
		RedirectDomains: g.RedirectDomains, SiteName: g.SiteName, Extra: security, AccessPassAt: accessPassAt})
	g.portal = portal
	g.gw = gateway.New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, gateway.Config{
		Policy: site, Realm: g.Realm, ClientIP: clientIP, StripHeaders: g.StripHeaders, SignInLog: svc.Core.SignInLog, SiteName: g.SiteName})
	return nil
}

// site is the site's policy as the options set it.
func (g *Gateway) site() policy.Site {
	return policy.Site{RequireMFA: g.RequireMFA, RefuseAccountPassword: g.AppPasswordsOnly, PublicPaths: g.PublicPaths,
		PasskeyNeedsPassword: g.PasskeysPasswordless != nil && !*g.PasskeysPasswordless}
}

// Cleanup ends the sign-in pages' long-polls when the config unloads:
// their pages poll again, on the config that replaced this one.
func (g *Gateway) Cleanup() error {
	if g.portal != nil {
		g.portal.Close()
	}
	return nil
}

// Validate checks the options.
func (g *Gateway) Validate() error {
	p := g.PortalPrefix
	if !validPortalPrefix(p) {
		return fmt.Errorf("mfa_gateway: portal_prefix %q must look like /name/ (letters, digits, '.', '_', '~', '-')", p)
	}
	for _, pp := range g.PublicPaths {
		if !strings.HasPrefix(pp, "/") || strings.HasPrefix(pp, p) || strings.Contains(strings.TrimSuffix(pp, "*"), "*") {
			return fmt.Errorf("mfa_gateway: public_paths entry %q must be a path like /dir/* or /file, outside %s", pp, p)
		}
		if pp == "/" || pp == "/*" {
			return fmt.Errorf("mfa_gateway: public_paths entry %q would make the whole site public; list the public directories instead", pp)
		}
	}
	for _, d := range g.RedirectDomains {
		if !validDomainPattern(d) {
			return fmt.Errorf("mfa_gateway: redirect_domains entry %q must be an ASCII host name like example.com or *.example.com (write international names in their xn-- form)", d)
		}
	}
	if g.SiteName != "" {
		if name, err := safetext.ValidName(g.SiteName, maxSiteName); err != nil || name != g.SiteName {
			return fmt.Errorf("mfa_gateway: site_name %q must be 1 to %d characters without control or invisible characters or surrounding spaces", g.SiteName, maxSiteName)
		}
	}
	for _, h := range g.StripHeaders {
		if h == "" || strings.ContainsAny(h, " :\t\r\n") {
			return fmt.Errorf("mfa_gateway: strip_headers entry %q is not a header name", h)
		}
	}
	return nil
}

// maxSiteName bounds site_name, in characters: it is shown on a phone.
const maxSiteName = 64

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
	if res.User != nil {
		repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		repl.Set("http.auth.user.id", res.User.Username)
	}
	return next.ServeHTTP(w, r)
}

// clientIP is the client address as Caddy's trusted_proxies handling
// determined it; a raw X-Forwarded-For is never trusted.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	// Without the port: per-IP counters must not become per-connection.
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Gateway)(nil)
	_ caddy.Validator             = (*Gateway)(nil)
	_ caddy.CleanerUpper          = (*Gateway)(nil)
	_ caddyhttp.MiddlewareHandler = (*Gateway)(nil)
)

// validPortalPrefix accepts "/name/" and "/a/b/" made of URL-safe
// characters only: the prefix becomes ServeMux patterns, where spaces,
// braces or dot segments would be misread (or make Provision panic).
func validPortalPrefix(p string) bool {
	if len(p) < 3 || p[0] != '/' || p[len(p)-1] != '/' {
		return false
	}
	for _, seg := range strings.Split(p[1:len(p)-1], "/") {
		if seg == "" || seg == "." || seg == ".." || strings.IndexFunc(seg, notURLSafe) >= 0 {
			return false
		}
	}
	return true
}

func notURLSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("._~-", r)
}

// validDomainPattern accepts "host.example" or "*.example.com" in ASCII,
// so the allow-list compares exactly what a browser will connect to.
func validDomainPattern(d string) bool {
	host := strings.TrimPrefix(d, "*.")
	if host == "" || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
