package push

import (
	"fmt"
	"net/netip"
)

// specialRange is an address block a push message must not reach through
// a wildcard or default allow-list entry.
type specialRange struct {
	prefix netip.Prefix
	what   string
}

// neverRanges are refused for every entry, even an exact one naming an
// address: nothing listens there on purpose, and some of them reach this
// machine (0.0.0.0) or embed another address (IPv4-mapped).
var neverRanges = ranges(
	"0.0.0.0/8", "unspecified (this network)",
	"224.0.0.0/4", "multicast",
	"240.0.0.0/4", "reserved or broadcast",
	"::/128", "unspecified",
	"::ffff:0:0/96", "IPv4-mapped",
	"ff00::/8", "multicast",
)

// privateRanges are the blocks that are not on the public internet:
// loopback, private, shared (CGNAT), link-local, unique-local, NAT64 and
// other translation prefixes, documentation and benchmarking ranges. Only
// an exact allow-list entry naming such an address, or naming a private
// host, may reach them.
var privateRanges = ranges(
	"10.0.0.0/8", "private",
	"100.64.0.0/10", "shared address space (CGNAT)",
	"127.0.0.0/8", "loopback",
	"169.254.0.0/16", "link-local",
	"172.16.0.0/12", "private",
	"192.0.0.0/24", "IETF protocol assignments",
	"192.0.2.0/24", "documentation",
	"192.88.99.0/24", "6to4 relay",
	"192.168.0.0/16", "private",
	"198.18.0.0/15", "benchmarking",
	"198.51.100.0/24", "documentation",
	"203.0.113.0/24", "documentation",
	"::1/128", "loopback",
	"::/96", "IPv4-compatible",
	"64:ff9b::/96", "NAT64",
	"64:ff9b:1::/48", "local NAT64",
	"100::/64", "discard-only",
	"2001::/23", "IETF protocol assignments (Teredo and others)",
	"2001:db8::/32", "documentation",
	"2002::/16", "6to4",
	"3fff::/20", "documentation",
	"5f00::/16", "segment routing",
	"fc00::/7", "unique-local",
	"fe80::/10", "link-local",
	"fec0::/10", "site-local",
)

// globalUnicast6 holds every public IPv6 address; anything outside it
// (whatever IANA assigns later) is refused too.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

func ranges(pairs ...string) []specialRange {
	out := make([]specialRange, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, specialRange{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// neverAddress says why ip may never be dialled, "" if it may be by an
// entry that allows private addresses.
func neverAddress(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	if ip.Zone() != "" {
		return "zoned"
	}
	for _, r := range neverRanges {
		if r.prefix.Contains(ip) {
			return r.what
		}
	}
	return ""
}

// nonPublic says why ip is not a public internet address, "" if it is.
func nonPublic(ip netip.Addr) string {
	if why := neverAddress(ip); why != "" {
		return why
	}
	for _, r := range privateRanges {
		if r.prefix.Contains(ip) {
			return r.what
		}
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return "not global unicast"
	}
	return ""
}

// dialPolicy is what one allow-list entry lets the sender connect to.
type dialPolicy struct {
	// port is the only port connected to.
	port uint16
	// exactIP, if valid, is the only address connected to (an exact entry
	// naming an address).
	exactIP netip.Addr
	// private lets a name resolve to non-public addresses (an exact entry
	// naming a private host).
	private bool
}

// refusedError is a connection the allow-list does not allow; retrying
// would be refused the same way.
type refusedError string

func (e refusedError) Error() string { return string(e) }

func refused(format string, args ...any) error {
	return refusedError(fmt.Sprintf(format, args...))
}

// permit checks one address the sender is about to connect to.
func (p dialPolicy) permit(ap netip.AddrPort) error {
	ip := ap.Addr()
	if ap.Port() != p.port {
		return refused("push: refusing to connect to %s: port %d is not the allowed %d", ap, ap.Port(), p.port)
	}
	if why := neverAddress(ip); why != "" {
		return refused("push: refusing to connect to %s: %s address", ap, why)
	}
	switch {
	case p.exactIP.IsValid():
		if ip != p.exactIP {
			return refused("push: refusing to connect to %s: only %s is allowed", ap, p.exactIP)
		}
	case p.private:
	default:
		if why := nonPublic(ip); why != "" {
			return refused("push: refusing to connect to %s: %s address (only an exact push_hosts entry may reach it)", ap, why)
		}
	}
	return nil
}
