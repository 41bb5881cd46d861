package caddymodule

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/mfagate/mfagate/internal/factor/password"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("mfa", parseGlobalOption)
	httpcaddyfile.RegisterHandlerDirective("mfa_gateway", parseGatewayDirective)
	// After basic_auth: before request_header, handle, route, respond,
	// reverse_proxy, file_server and every other content handler.
	httpcaddyfile.RegisterDirectiveOrder("mfa_gateway", httpcaddyfile.After, "basic_auth")
}

// parseGlobalOption sets up the mfa app from the global options block:
//
//	mfa {
//	    storage sqlite [<path>]
//	    storage postgres <dsn> [{
//	        max_conns       <n>
//	        query_timeout   <duration>
//	        connect_timeout <duration>
//	    }]
//	    issuer <name>
//	    bcrypt_cost <10-31>
//	    sign_in_cpu_share <0-1>
//	    min_password_score <0-4>
//	    session_idle_timeout <duration>
//	    session_lifetime <duration>
//	    keys {
//	        session_hash  <base64>
//	        session_block <base64>
//	        factor        <base64>
//	        app_password_tag <base64>
//	        vapid_private <base64url>
//	        vapid_public  <base64url>
//	    }
//	    lockout {
//	        account_limit <n>
//	        ip_limit      <n>
//	        window        <duration>
//	        duration      <duration>
//	        consecutive_limit <10-100>
//	    }
//	    portal <origin>
//	    push_timeout <duration>
//	    push_number_digits <2-8>
//	    push_hosts <host>...
//	    push_contact <mailto: or https: URL>
//	    admin_group <group>
//	    sign_in_log_retention <duration>
//	    webauthn {
//	        rp_id <domain>
//	    }
//	}
//
// The portal origin's site holds the `mfa_portal` directive alone; it
// takes no options (its settings are portal and push_* above). Every
// option must also be in caddyfileOptionJSON (caddyfile_options_test.go).
func parseGlobalOption(d *caddyfile.Dispenser, _ any) (any, error) {
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "mfa", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile reads the global `mfa` block.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // option name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "storage":
			a.StorageRaw, err = parseStorage(d)
		case "issuer":
			err = oneArg(d, &a.Issuer)
		case "bcrypt_cost":
			a.BcryptCost, err = intArg(d)
		case "sign_in_cpu_share":
			a.SignInCPUShare, err = shareArg(d)
		case "min_password_score":
			a.MinPasswordScore, err = scoreArg(d)
		case "session_idle_timeout":
			a.SessionIdleTimeout, err = durationArg(d)
		case "session_lifetime":
			a.SessionLifetime, err = durationArg(d)
		case "keys":
			a.Keys, err = parseKeys(d)
		case "lockout":
			a.Lockout, err = parseLockout(d)
		case "portal":
			err = oneArg(d, &a.Portal)
		case "push_timeout":
			a.PushTimeout, err = durationArg(d)
		case "push_number_digits":
			a.PushNumberDigits, err = intArg(d)
		case "push_hosts":
			a.PushHosts = d.RemainingArgs()
			if len(a.PushHosts) == 0 {
				err = d.ArgErr()
			}
		case "push_contact":
			err = oneArg(d, &a.PushContact)
		case "admin_group":
			err = oneArg(d, &a.AdminGroup)
		case "sign_in_log_retention":
			a.SignInLogRetention, err = durationArg(d)
		case "webauthn":
			a.WebAuthn, err = parseWebAuthn(d)
		default:
			return d.Errf("unknown mfa option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseStorage reads `storage <backend> ...` into the backend's guest
// module, as reverse_proxy reads `transport <name> {...}`.
func parseStorage(d *caddyfile.Dispenser) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.Errf("storage: want `storage sqlite [<path>]` or `storage postgres <dsn> [{...}]`")
	}
	name := d.Val()
	modID := "mfa.storage." + name
	if _, err := caddy.GetModule(modID); err != nil {
		return nil, d.Errf("storage: unknown backend %q (supported: %s)", name, storageBackends())
	}
	unm, err := caddyfile.UnmarshalModule(d, modID)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(unm, "type", name, nil), nil
}

// storageBackends lists the registered mfa.storage modules by name.
func storageBackends() string {
	var names []string
	for _, m := range caddy.GetModules("mfa.storage") {
		names = append(names, m.ID.Name())
	}
	return strings.Join(names, ", ")
}

func parseKeys(d *caddyfile.Dispenser) (*KeysConfig, error) {
	k := new(KeysConfig)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "session_hash":
			err = oneArg(d, &k.SessionHash)
		case "session_block":
			err = oneArg(d, &k.SessionBlock)
		case "factor":
			err = oneArg(d, &k.Factor)
		case "app_password_tag":
			err = oneArg(d, &k.AppPasswordTag)
		case "vapid_private":
			err = oneArg(d, &k.VAPIDPrivate)
		case "vapid_public":
			err = oneArg(d, &k.VAPIDPublic)
		default:
			return nil, d.Errf("unknown key %q (want session_hash, session_block, factor, app_password_tag, vapid_private or vapid_public)", d.Val())
		}
		if err != nil {
			return nil, err
		}
	}
	return k, nil
}

func parseLockout(d *caddyfile.Dispenser) (*LockoutConfig, error) {
	l := new(LockoutConfig)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "account_limit":
			l.AccountLimit, err = intArg(d)
		case "ip_limit":
			l.IPLimit, err = intArg(d)
		case "window":
			l.Window, err = durationArg(d)
		case "duration":
			l.Duration, err = durationArg(d)
		case "consecutive_limit":
			l.ConsecutiveLimit, err = intArg(d)
		default:
			return nil, d.Errf("unknown lockout option %q", d.Val())
		}
		if err != nil {
			return nil, err
		}
	}
	return l, nil
}

// parseGatewayDirective sets up the handler:
//
//	mfa_gateway [{
//	    portal_prefix /.mfa/
//	    require_mfa
//	    app_passwords_only
//	    realm <name>
//	    site_name <name>
//	    public_paths <path>...
//	    redirect_domains <domain>...
//	    strip_headers <header>...
//	    passkeys_passwordless on|off
//	}]
func parseGatewayDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	g := new(Gateway)
	err := g.UnmarshalCaddyfile(h.Dispenser)
	return g, err
}

// UnmarshalCaddyfile reads the `mfa_gateway` directive.
func (g *Gateway) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "portal_prefix":
			if err := oneArg(d, &g.PortalPrefix); err != nil {
				return err
			}
		case "realm":
			if err := oneArg(d, &g.Realm); err != nil {
				return err
			}
		case "site_name":
			if err := oneArg(d, &g.SiteName); err != nil {
				return err
			}
		case "public_paths":
			g.PublicPaths = append(g.PublicPaths, d.RemainingArgs()...)
			if len(g.PublicPaths) == 0 {
				return d.ArgErr()
			}
		case "redirect_domains":
			g.RedirectDomains = append(g.RedirectDomains, d.RemainingArgs()...)
			if len(g.RedirectDomains) == 0 {
				return d.ArgErr()
			}
		case "strip_headers":
			g.StripHeaders = append(g.StripHeaders, d.RemainingArgs()...)
			if len(g.StripHeaders) == 0 {
				return d.ArgErr()
			}
		case "require_mfa":
			if d.NextArg() {
				return d.ArgErr()
			}
			g.RequireMFA = true
		case "app_passwords_only":
			if d.NextArg() {
				return d.ArgErr()
			}
			g.AppPasswordsOnly = true
		case "passkeys_passwordless":
			on, err := onOffArg(d)
			if err != nil {
				return err
			}
			g.PasskeysPasswordless = &on
		default:
			return d.Errf("unknown mfa_gateway option %q", d.Val())
		}
	}
	return nil
}

func oneArg(d *caddyfile.Dispenser, dst *string) error {
	name := d.Val()
	if !d.NextArg() {
		return d.Errf("%s: missing value", name)
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.Errf("%s: takes one value", name)
	}
	return nil
}

// onOffArg reads one value, on or off.
func onOffArg(d *caddyfile.Dispenser) (bool, error) {
	name := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return false, err
	}
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, d.Errf("%s: %q must be on or off", name, s)
}

func intArg(d *caddyfile.Dispenser) (int, error) {
	name := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, d.Errf("%s: %q is not a positive whole number", name, s)
	}
	return n, nil
}

// scoreArg reads a password score, 0 to password.MaxScore.
func scoreArg(d *caddyfile.Dispenser) (*int, error) {
	name := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > password.MaxScore {
		return nil, d.Errf("%s: %q is not a score from 0 to %d", name, s, password.MaxScore)
	}
	return &n, nil
}

func shareArg(d *caddyfile.Dispenser) (float64, error) {
	name := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	// The range is checked once, by the app's validate; 0 is refused here
	// because in JSON it would mean "left out", the default.
	if err != nil || f == 0 {
		return 0, d.Errf("%s: %q must be a number above 0 and at most 1", name, s)
	}
	return f, nil
}

func durationArg(d *caddyfile.Dispenser) (caddy.Duration, error) {
	name := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return 0, err
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil || dur <= 0 {
		return 0, d.Errf("%s: %q is not a positive duration", name, s)
	}
	return caddy.Duration(dur), nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*App)(nil)
	_ caddyfile.Unmarshaler = (*Gateway)(nil)
)
