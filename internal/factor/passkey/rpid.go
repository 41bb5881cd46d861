// Package passkey holds the plain rules of WebAuthn passkeys and security
// keys that need no store: which relying party ID (RP ID) a deployment
// uses, which hosts may use it, the origin a ceremony must come from, and
// the makes of well-known authenticators by AAGUID. The ceremonies
// themselves are the core's (internal/core/passkeys.go).
package passkey

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// DefaultRPID is the RP ID used when none is configured and a portal is:
// passkeys are registered on the portal (where Security info lives) and
// used on the protected sites, so the RP ID must cover both. That is the
// portal's host without its first label when it has three or more
// (mfa.example.com → example.com), unless what is left is a public suffix
// (a browser refuses co.uk as an RP ID: mfa.co.uk stays itself); else the
// portal's host itself ("localhost" in the demo). portalHost may carry a
// port; "" gives "" (no portal: each request's own host, see ForHost).
func DefaultRPID(portalHost string) string {
	host := hostOnly(portalHost)
	if host == "" || isIP(host) {
		return host
	}
	labels := strings.Split(host, ".")
	if len(labels) < 3 {
		return host
	}
	parent := strings.Join(labels[1:], ".")
	if suffix, _ := publicsuffix.PublicSuffix(parent); suffix == parent {
		return host
	}
	return parent
}

// ForHost is the RP ID a ceremony on requestHost uses: the configured or
// derived one, or, when there is none (no portal and no rp_id), the
// request's own host.
func ForHost(rpID, requestHost string) string {
	if rpID != "" {
		return rpID
	}
	return hostOnly(requestHost)
}

// HostUnder reports whether host (a port is ignored) is the RP ID or one
// of its subdomains: only such sites may use passkeys made for it.
func HostUnder(host, rpID string) bool {
	host, rpID = hostOnly(host), strings.ToLower(rpID)
	if host == "" || rpID == "" {
		return false
	}
	return host == rpID || strings.HasSuffix(host, "."+rpID)
}

// Errors of ExpectedOrigin.
var (
	// ErrNotUnderRPID: the site's host is not the RP ID or under it.
	ErrNotUnderRPID = errors.New("passkey: the site's host is not under the relying party ID")
	// ErrInsecureOrigin: passkeys need https (or http on localhost).
	ErrInsecureOrigin = errors.New("passkey: passkeys need https (or http on localhost)")
)

// ExpectedOrigin is the origin a ceremony begun by a request to
// scheme://hostport must come back from: the request's own
// scheme://host[:port] (lower case, without the scheme's default port, as
// browsers write clientDataJSON.origin), when it is https with a host at
// or under rpID, or http on localhost for the demo. The response's origin
// must equal it exactly.
func ExpectedOrigin(scheme, hostport, rpID string) (string, error) {
	scheme = strings.ToLower(scheme)
	host, port := splitHostPort(hostport)
	if !HostUnder(host, rpID) {
		return "", fmt.Errorf("%w: %q is not %q or under it", ErrNotUnderRPID, host, rpID)
	}
	switch {
	case scheme == "https":
	case scheme == "http" && host == "localhost":
	default:
		return "", fmt.Errorf("%w: %s://%s", ErrInsecureOrigin, scheme, hostport)
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}

// ValidateRPID checks a configured RP ID: a lower-case domain name (no
// scheme, port or path), not an IP address and not a public suffix such
// as "com" or "co.uk", which browsers refuse.
func ValidateRPID(rpID string) error {
	if rpID == "" {
		return errors.New("the relying party ID is empty")
	}
	if rpID != strings.ToLower(rpID) || strings.ContainsAny(rpID, ":/@ ") || isIP(rpID) {
		return fmt.Errorf("%q is not a lower-case domain name without scheme, port or path", rpID)
	}
	for _, label := range strings.Split(rpID, ".") {
		if !validLabel(label) {
			return fmt.Errorf("%q is not a domain name: label %q", rpID, label)
		}
	}
	if rpID == "localhost" {
		return nil
	}
	if suffix, icann := publicsuffix.PublicSuffix(rpID); suffix == rpID && (icann || strings.Contains(rpID, ".")) {
		return fmt.Errorf("%q is a public suffix; use the registrable domain under it", rpID)
	}
	return nil
}

// validLabel: 1-63 letters, digits and hyphens, no hyphen at either end.
func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// hostOnly lower-cases hostport and drops a port.
func hostOnly(hostport string) string {
	host, _ := splitHostPort(hostport)
	return host
}

// splitHostPort splits "host[:port]" ("[v6]:port" too), lower-casing the
// host; a hostport without a port keeps it all as the host.
func splitHostPort(hostport string) (host, port string) {
	hostport = strings.ToLower(strings.TrimSpace(hostport))
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return strings.TrimSuffix(h, "."), p
	}
	return strings.TrimSuffix(strings.Trim(hostport, "[]"), "."), ""
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
