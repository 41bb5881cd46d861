package caddymodule

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/wiring"
)

// pushOptions checks the phone-approval options of the app (portal,
// push_timeout, push_number_digits, push_hosts, push_contact, keys
// vapid_*) and returns them
// for the wiring, naming each option as the config spells it.
func (a *App) pushOptions() (wiring.PushOptions, error) {
	var o wiring.PushOptions
	portal, err := expandSet("portal", a.Portal, "remove the option")
	if err != nil {
		return o, err
	}
	if portal != "" {
		if o.Portal, err = portalOrigin(portal); err != nil {
			return o, err
		}
	}
	o.Timeout = time.Duration(a.PushTimeout)
	if o.Timeout < 0 || o.Timeout > core.MaxApprovalTimeout {
		return o, fmt.Errorf("push_timeout must be between 0 (default %s) and %s, got %s",
			core.DefaultApprovalTimeout, core.MaxApprovalTimeout, o.Timeout)
	}
	if a.PushNumberDigits < core.MinNumberDigits || a.PushNumberDigits > core.MaxNumberDigits {
		return o, fmt.Errorf("push_number_digits must be between %d and %d (%d or more meets NIST SP 800-63B-4's out-of-band rule), got %d",
			core.MinNumberDigits, core.MaxNumberDigits, core.OutOfBandNumberDigits, a.PushNumberDigits)
	}
	o.NumberDigits = a.PushNumberDigits
	// Wildcards take DNS names only; an exact entry may name an address
	// or a private host (warned about at load, see wiring).
	if err := push.CheckHosts(a.PushHosts); err != nil {
		return o, err
	}
	o.Hosts = a.PushHosts
	o.Contact = a.PushContact
	if o.Contact == "" && o.Portal != "" {
		u, _ := url.Parse(o.Portal)
		o.Contact = "mailto:admin@" + u.Hostname()
	}
	if o.Contact != "" && !strings.HasPrefix(o.Contact, "mailto:") && !strings.HasPrefix(o.Contact, "https://") {
		return o, fmt.Errorf("push_contact %q must be a mailto: address or an https:// URL", o.Contact)
	}
	if a.Keys != nil {
		if o.VAPIDPrivate, o.VAPIDPublic, err = a.Keys.vapid(); err != nil {
			return o, err
		}
	}
	return o, nil
}

// portalOrigin checks the portal option: an origin (scheme, host and
// port, nothing else), https, or http on a loopback name (which browsers
// treat as a secure context).
func portalOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	bad := err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != ""
	if bad {
		return "", fmt.Errorf("portal %q must be an origin like https://mfa.example.com (no path)", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackName(u.Hostname()):
	default:
		return "", fmt.Errorf("portal %q must use https (http only for localhost): phones need a secure context", raw)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

func isLoopbackName(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// vapid checks configured VAPID keys: both or neither.
func (k *KeysConfig) vapid() (private, public string, err error) {
	private, err = expandSet("keys vapid_private", k.VAPIDPrivate, "remove the option to have keys generated and kept in the store")
	if err != nil {
		return "", "", err
	}
	public, err = expandSet("keys vapid_public", k.VAPIDPublic, "remove the option to have keys generated and kept in the store")
	if err != nil {
		return "", "", err
	}
	if (private == "") != (public == "") {
		return "", "", fmt.Errorf("keys vapid_private and vapid_public must be given together")
	}
	if private != "" {
		if err := (push.VAPIDKeys{Private: private, Public: public}).Validate(); err != nil {
			return "", "", fmt.Errorf("keys vapid_private/vapid_public: %w", err)
		}
	}
	return private, public, nil
}

// logNumberDigits says at start how long the numbers of sign-in requests
// are, and whether that meets NIST SP 800-63B-4's out-of-band rule.
func (a *App) logNumberDigits() {
	if a.PushNumberDigits >= core.OutOfBandNumberDigits {
		a.logger.Info("sign-in approval: numbers meet NIST SP 800-63B-4's out-of-band rule (at least six digits)",
			zap.Int("push_number_digits", a.PushNumberDigits))
		return
	}
	a.logger.Info("sign-in approval: numbers are shorter than the six digits NIST SP 800-63B-4 asks of an out-of-band secret; set push_number_digits 6 to meet it",
		zap.Int("push_number_digits", a.PushNumberDigits))
}
