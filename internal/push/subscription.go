package push

import (
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// MaxEndpointLength bounds a subscription's endpoint URL. Real endpoints
// are a few hundred bytes; the cap keeps a hostile client from making the
// gateway store and send arbitrarily long URLs.
const MaxEndpointLength = 2048

// ErrInvalidSubscription means a push subscription was refused; the
// wrapping error says which part is wrong.
var ErrInvalidSubscription = errors.New("push: invalid subscription")

// Subscription is a phone's push subscription, as the browser's
// PushSubscription.toJSON() gives it: the push service URL to POST to and
// the two keys the message is encrypted for (RFC 8291).
type Subscription struct {
	// Endpoint is the push service URL, unique to the subscription.
	Endpoint string `json:"endpoint"`
	// P256dh is the phone's public key: base64url of an uncompressed
	// P-256 point (65 bytes).
	P256dh string `json:"p256dh"`
	// Auth is the phone's authentication secret: base64url of 16 bytes.
	Auth string `json:"auth"`
}

// DefaultHosts returns the push services of the major browsers, the
// allow-list used when none is configured: Chrome and most Chromium
// browsers (Firebase Cloud Messaging), Firefox (Mozilla autopush), Safari
// (Apple), and Edge (Windows Notification Service, one host per region).
// It returns a new slice on each call, so callers may modify it.
func DefaultHosts() []string {
	return []string{
		"fcm.googleapis.com",
		"updates.push.services.mozilla.com",
		"web.push.apple.com",
		"*.notify.windows.com",
	}
}

// Validate checks the subscription before it is stored or used. The
// endpoint must be an absolute https URL of at most MaxEndpointLength
// characters, without a user name or password, on a host of allowedHosts:
// the host must be a DNS name (never an IPv6 zone or an address spelled
// otherwise) unless an exact entry names that address; names compare
// case-insensitively; an entry "*.example.com" matches any name ending in
// ".example.com" (not "example.com" itself), any other entry only the
// exact name; a port is allowed only if the entry names the same port.
// Where the name leads is checked when the Sender connects. The keys must decode as RFC 8291 requires. Because the gateway
// POSTs to the endpoint, an unchecked endpoint would let whoever pairs a
// phone make the gateway send requests to any host.
func (s Subscription) Validate(allowedHosts []string) error {
	if err := validateEndpoint(s.Endpoint, allowedHosts); err != nil {
		return err
	}
	if _, err := s.keys(); err != nil {
		return err
	}
	return nil
}

// subscriptionKeys are a subscription's keys, decoded.
type subscriptionKeys struct {
	p256dh []byte
	auth   []byte
}

// keys decodes and checks the subscription's keys.
func (s Subscription) keys() (subscriptionKeys, error) {
	p256dh, err := decodeBase64URL(s.P256dh)
	if err != nil {
		return subscriptionKeys{}, fmt.Errorf("%w: the p256dh key is not base64url", ErrInvalidSubscription)
	}
	// NewPublicKey accepts only an uncompressed point on the curve, which
	// is what RFC 8291 requires of the user agent's key.
	if _, err := ecdh.P256().NewPublicKey(p256dh); err != nil {
		return subscriptionKeys{}, fmt.Errorf("%w: the p256dh key is not an uncompressed P-256 point (65 bytes, %d given)", ErrInvalidSubscription, len(p256dh))
	}
	auth, err := decodeBase64URL(s.Auth)
	if err != nil {
		return subscriptionKeys{}, fmt.Errorf("%w: the auth secret is not base64url", ErrInvalidSubscription)
	}
	if len(auth) != 16 {
		return subscriptionKeys{}, fmt.Errorf("%w: the auth secret must be 16 bytes, %d given", ErrInvalidSubscription, len(auth))
	}
	return subscriptionKeys{p256dh: p256dh, auth: auth}, nil
}

// validateEndpoint checks the endpoint URL against the allow-list.
func validateEndpoint(endpoint string, allowedHosts []string) error {
	if endpoint == "" {
		return fmt.Errorf("%w: the endpoint is missing", ErrInvalidSubscription)
	}
	if len(endpoint) > MaxEndpointLength {
		return fmt.Errorf("%w: the endpoint is longer than %d characters", ErrInvalidSubscription, MaxEndpointLength)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("%w: the endpoint is not a URL", ErrInvalidSubscription)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%w: the endpoint must be an https URL", ErrInvalidSubscription)
	}
	if u.Opaque != "" || u.Host == "" {
		return fmt.Errorf("%w: the endpoint must be an absolute URL with a host", ErrInvalidSubscription)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the endpoint must not contain a user name or password", ErrInvalidSubscription)
	}
	if _, err := allowedEndpointHost(u, newAllowList(allowedHosts)); err != nil {
		return err
	}
	return nil
}

// allowedEndpointHost judges an endpoint URL's host and returns the
// allow-list entry that admits it. The host must be a DNS name (labels of
// [a-z0-9-]; no '%', so no IPv6 zone whose text could pass a wildcard)
// on a name or wildcard entry, or an address written in an exact entry;
// a port must be named by the entry (none means none). An IPv4-mapped or
// otherwise spelled address never equals the entry's.
func allowedEndpointHost(u *url.URL, allowed allowList) (entry, error) {
	name, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.HasSuffix(u.Host, ":") || (port != "" && !validPort(port)) {
		return entry{}, fmt.Errorf("%w: the endpoint's port is not a number from 1 to 65535", ErrInvalidSubscription)
	}
	if strings.Contains(name, "%") {
		return entry{}, fmt.Errorf("%w: the endpoint host %q has an IPv6 zone, which no push service has", ErrInvalidSubscription, u.Host)
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		if e, ok := allowed.matchIP(ip, port); ok && strings.HasPrefix(u.Host, "[") == ip.Is6() {
			return e, nil
		}
		return entry{}, fmt.Errorf("%w: the endpoint host %q is an address no exact push_hosts entry names, not a known push service", ErrInvalidSubscription, u.Host)
	}
	if why := badDNSName(name); why != "" {
		return entry{}, fmt.Errorf("%w: the endpoint host %q is not a DNS name (%s), not a known push service", ErrInvalidSubscription, u.Host, why)
	}
	if e, ok := allowed.matchName(name, port); ok {
		return e, nil
	}
	return entry{}, fmt.Errorf("%w: the endpoint host %q is not a known push service", ErrInvalidSubscription, u.Host)
}

// CheckAddresses resolves the endpoint's host with r and refuses it when
// any address is one its allow-list entry may not reach (a wildcard or
// default entry's name resolving to loopback or a private address, say),
// so such a subscription is refused when registered, not only when the
// Sender connects. A failed lookup passes: DNS answers can change before
// sending anyway, and the Sender checks every address it connects to.
// Call it after Validate.
func (s Subscription) CheckAddresses(ctx context.Context, allowedHosts []string, r Resolver) error {
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return fmt.Errorf("%w: the endpoint is not a URL", ErrInvalidSubscription)
	}
	e, err := allowedEndpointHost(u, newAllowList(allowedHosts))
	if err != nil {
		return err
	}
	name := strings.ToLower(u.Hostname())
	if _, err := netip.ParseAddr(name); err == nil {
		return nil // an exact entry's own address
	}
	addrs, err := r.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil
	}
	policy := e.policy()
	for _, ip := range addrs {
		if err := policy.permit(netip.AddrPortFrom(ip, policy.port)); err != nil {
			return fmt.Errorf("%w: the endpoint host %q resolves to %s, which the push_hosts entry %q may not reach", ErrInvalidSubscription, u.Host, ip, e.raw)
		}
	}
	return nil
}
