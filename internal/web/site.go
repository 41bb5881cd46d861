package web

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// maxDNSName is the longest DNS name, without its trailing dot.
const maxDNSName = 253

// SiteLabel is how the site a request signs in to is shown to people:
// on the phone's prompt and its notification, in Recent activity and in
// the sign-in log. The Host header is the client's to choose (any value
// reaches a catch-all site), so it is shown only when it is a plain DNS
// name, with a numeric port if it has one; name, the site's configured
// name, always wins. Anything else is "this site (port N)", N being the
// port the connection came in on.
func SiteLabel(name string, r *http.Request) string {
	if name != "" {
		return name
	}
	if label, ok := hostLabel(r.Host); ok {
		return label
	}
	if port := listenerPort(r); port != 0 {
		return "this site (port " + strconv.Itoa(port) + ")"
	}
	return "this site"
}

// hostLabel returns host (lower case, without a trailing dot) when it is
// a DNS name, optionally followed by ":port" with port a plain decimal
// number from 1 to 65535.
func hostLabel(host string) (string, bool) {
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i+1:]
		if !validPort(port) {
			return "", false
		}
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if !IsDNSName(name) {
		return "", false
	}
	if port != "" {
		return name + ":" + port, true
	}
	return name, true
}

// IsDNSName reports whether s is a DNS host name in ASCII: at most 253
// characters, labels of 1 to 63 letters, digits and inner hyphens, and
// not an IP address.
func IsDNSName(s string) bool {
	if s == "" || len(s) > maxDNSName {
		return false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// An all-numeric last label makes an IPv4 address in some other
	// spelling ("127.1", "0x7f.1"), never a DNS name.
	last := s[strings.LastIndexByte(s, '.')+1:]
	return strings.Trim(last, "0123456789") != ""
}

// validPort accepts 1 to 65535 in plain decimal, without a leading zero.
func validPort(s string) bool {
	if s == "" || len(s) > 5 || s[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(s)
	return err == nil && strconv.Itoa(n) == s && n <= 65535
}

// listenerPort is the local port the request's connection came in on (0
// when unknown).
func listenerPort(r *http.Request) int {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return 0
	}
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.Port
	}
	if _, port, err := net.SplitHostPort(addr.String()); err == nil {
		n, _ := strconv.Atoi(port)
		return n
	}
	return 0
}
