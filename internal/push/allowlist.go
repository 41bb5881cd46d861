package push

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// privateSuffixes are DNS suffixes that never name a host on the public
// internet (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal, and common
// in-house ones): an exact entry under one of them names a private host.
var privateSuffixes = []string{"localhost", "local", "internal", "home.arpa", "lan", "test", "corp", "intranet"}

// entry is one parsed allow-list entry.
type entry struct {
	raw string
	// wildcard entries ("*.example.com") match names ending in "."+name.
	wildcard bool
	// name is the lower-cased DNS name (the suffix of a wildcard); empty
	// for an entry naming an address.
	name string
	// ip is the address an exact entry names.
	ip netip.Addr
	// port as written, "" for none (443).
	port string
}

// privileged reports whether the entry may reach non-public addresses:
// only an exact entry naming an address or a private host.
func (e entry) privileged() bool {
	return !e.wildcard && (e.ip.IsValid() || privateName(e.name))
}

// policy is what the entry lets the sender connect to.
func (e entry) policy() dialPolicy {
	p := dialPolicy{port: effectivePort(e.port)}
	if e.ip.IsValid() {
		p.exactIP = e.ip
	} else {
		p.private = e.privileged()
	}
	return p
}

// privateName reports whether name can only be a host inside a network:
// one label, or under a private suffix.
func privateName(name string) bool {
	if name == "" {
		return false
	}
	if !strings.Contains(name, ".") {
		return true
	}
	for _, s := range privateSuffixes {
		if name == s || strings.HasSuffix(name, "."+s) {
			return true
		}
	}
	return false
}

// effectivePort is the port connected to: 443 when none is written.
func effectivePort(port string) uint16 {
	if port == "" {
		return 443
	}
	n, _ := strconv.ParseUint(port, 10, 16)
	return uint16(n)
}

// parseEntry checks and parses an allow-list entry: a DNS name, a
// wildcard "*.name", or (exact entries only) an IPv4 address or a
// bracketed IPv6 address, each with an optional ":port".
func parseEntry(raw string) (entry, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	host, port, err := splitPort(s)
	if err != nil {
		return entry{}, fmt.Errorf("push_hosts entry %q: %w", raw, err)
	}
	e := entry{raw: raw, port: port}
	if suffix, ok := strings.CutPrefix(host, "*."); ok {
		e.wildcard = true
		host = suffix
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
		if !strings.Contains(host, ":") {
			return entry{}, fmt.Errorf("push_hosts entry %q: brackets hold an IPv6 address", raw)
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if e.wildcard {
			return entry{}, fmt.Errorf("push_hosts entry %q: a wildcard must be followed by a host name, not an address", raw)
		}
		if why := neverAddress(ip); why != "" {
			return entry{}, fmt.Errorf("push_hosts entry %q: %s address", raw, why)
		}
		if ip.Is6() && !strings.HasPrefix(s, "[") {
			return entry{}, fmt.Errorf("push_hosts entry %q: write an IPv6 address in brackets, [%s]", raw, ip)
		}
		e.ip = ip
		return e, nil
	}
	if why := badDNSName(host); why != "" {
		return entry{}, fmt.Errorf("push_hosts entry %q must be a host name like fcm.googleapis.com or *.notify.windows.com, an address, and an optional port: %s", raw, why)
	}
	if e.wildcard && !strings.Contains(host, ".") {
		return entry{}, fmt.Errorf("push_hosts entry %q: a wildcard needs at least two labels after it", raw)
	}
	e.name = host
	return e, nil
}

// splitPort splits "host:port" or "[v6]:port"; a bare IPv6 address (more
// than one colon, no brackets) is returned whole for parseEntry to refuse.
func splitPort(s string) (host, port string, err error) {
	if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
		return s, "", nil
	}
	if !strings.Contains(s, ":") || strings.HasSuffix(s, "]") {
		return s, "", nil
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", "", fmt.Errorf("bad host and port")
	}
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if !validPort(p) {
		return "", "", fmt.Errorf("port %q must be a number from 1 to 65535", p)
	}
	return h, p, nil
}

// validPort accepts 1-65535 written without a leading zero.
func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0 && strconv.FormatUint(n, 10) == p
}

// badDNSName says why name is not a DNS host name ("" if it is): at most
// 253 characters of dot-separated labels of 1-63 characters from
// [a-z0-9-], not starting or ending with '-', the last one starting with
// a letter (no top-level domain is numeric, so "127.1" or "0x7f.1", which
// some resolvers read as addresses, are refused).
func badDNSName(name string) string {
	if name == "" {
		return "no host name"
	}
	if len(name) > 253 {
		return "host name longer than 253 characters"
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "empty or over-long label"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "label starts or ends with '-'"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Sprintf("character %q outside [a-z0-9-]", c)
			}
		}
	}
	if last := labels[len(labels)-1]; last[0] < 'a' || last[0] > 'z' {
		return "the last label must start with a letter"
	}
	return ""
}

// allowList is a parsed allow-list; entries that do not parse are left
// out (the config check refuses them before a Sender is made).
type allowList []entry

func newAllowList(hosts []string) allowList {
	var out allowList
	for _, h := range hosts {
		if e, err := parseEntry(h); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// matchName returns the entry allowing DNS name name on port ("" for
// none): an exact entry before a wildcard, so that an exact private-host
// entry keeps its policy.
func (a allowList) matchName(name, port string) (entry, bool) {
	var found entry
	ok := false
	for _, e := range a {
		if e.ip.IsValid() || e.port != port {
			continue
		}
		if !e.wildcard && e.name == name {
			return e, true
		}
		if e.wildcard && !ok && len(name) > len(e.name)+1 && strings.HasSuffix(name, "."+e.name) {
			found, ok = e, true
		}
	}
	return found, ok
}

// matchIP returns the exact entry naming ip on port.
func (a allowList) matchIP(ip netip.Addr, port string) (entry, bool) {
	for _, e := range a {
		if e.ip.IsValid() && e.ip == ip && e.port == port {
			return e, true
		}
	}
	return entry{}, false
}

// policyFor returns the dial policy for a connection to host:port as the
// HTTP transport asks for it (port always present).
func (a allowList) policyFor(host string, port uint16) (dialPolicy, bool) {
	for _, p := range []string{strconv.Itoa(int(port)), ""} {
		if p == "" && port != 443 {
			break
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			if e, ok := a.matchIP(ip, p); ok {
				return e.policy(), true
			}
			continue
		}
		if e, ok := a.matchName(host, p); ok {
			return e.policy(), true
		}
	}
	return dialPolicy{}, false
}

// CheckHosts checks a push_hosts list as the config gives it, naming the
// first bad entry.
func CheckHosts(hosts []string) error {
	for _, h := range hosts {
		if _, err := parseEntry(h); err != nil {
			return err
		}
	}
	return nil
}

// PrivilegedHosts returns the entries of hosts that may reach non-public
// addresses (exact entries naming an address or a private host), for a
// warning when the configuration is loaded.
func PrivilegedHosts(hosts []string) []string {
	var out []string
	for _, e := range newAllowList(hosts) {
		if e.privileged() {
			out = append(out, e.raw)
		}
	}
	return out
}
