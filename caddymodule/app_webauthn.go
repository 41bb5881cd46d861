package caddymodule

import (
	"fmt"
	"net/url"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/factor/passkey"
)

// WebAuthnConfig sets up passkeys and security keys.
type WebAuthnConfig struct {
	// The relying party ID (RP ID) passkeys are made for: a domain that
	// covers the portal (where they are registered, on Security info)
	// and the protected sites (where they are used). Sites whose host is
	// not it or under it do not offer passkeys. Default: the portal's
	// host without its first label when it has three or more
	// (mfa.example.com → example.com), else the portal's host
	// (localhost in the demo); without a portal, each request's own host.
	// Changing it later makes every passkey registered before unusable:
	// an authenticator fixes a passkey's RP ID when it makes it.
	RPID string `json:"rp_id,omitempty"`
}

// rpID checks the webauthn options against the portal origin (already
// checked, "" for none) and returns the effective RP ID ("": each
// request's own host).
func (w *WebAuthnConfig) rpID(portal string) (string, error) {
	rpID, err := expandSet("webauthn rp_id", w.RPID, "remove the option to derive it from the portal")
	if err != nil {
		return "", err
	}
	portalHost := ""
	if portal != "" {
		u, err := url.Parse(portal)
		if err != nil {
			return "", fmt.Errorf("portal %q: %w", portal, err)
		}
		portalHost = u.Hostname()
	}
	if rpID == "" {
		// Derived: a portal on an address gets no passkeys (browsers
		// refuse IP addresses as RP IDs), which Start logs.
		return passkey.DefaultRPID(portalHost), nil
	}
	if err := passkey.ValidateRPID(rpID); err != nil {
		return "", fmt.Errorf("webauthn rp_id: %w", err)
	}
	if portalHost != "" && !passkey.HostUnder(portalHost, rpID) {
		return "", fmt.Errorf("webauthn rp_id %q does not cover the portal %s, where passkeys are registered: use a domain the portal's host is or is under", rpID, portal)
	}
	return rpID, nil
}

// logRPID says at start which RP ID passkeys use.
func (a *App) logRPID() {
	switch {
	case a.rpID == "":
		a.logger.Info("passkeys: relying party ID is each site's own host (no portal and no webauthn rp_id)")
	case passkey.ValidateRPID(a.rpID) != nil:
		a.logger.Warn("passkeys are not available: the portal's host is no valid relying party ID; set webauthn rp_id",
			zap.String("rp_id", a.rpID), zap.Error(passkey.ValidateRPID(a.rpID)))
	default:
		a.logger.Info("passkeys: relying party ID", zap.String("rp_id", a.rpID))
	}
}

func parseWebAuthn(d *caddyfile.Dispenser) (*WebAuthnConfig, error) {
	w := new(WebAuthnConfig)
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "rp_id":
			err = oneArg(d, &w.RPID)
		default:
			return nil, d.Errf("unknown webauthn option %q (want rp_id)", d.Val())
		}
		if err != nil {
			return nil, err
		}
	}
	return w, nil
}
