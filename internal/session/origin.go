package session

import (
	"net/http"
	"strings"
)

// Origin is the origin r was sent to, "scheme://host:port" in lower case
// with the default port spelled out: the scheme is https when the request
// came over TLS, the host and port are the Host header's. A session is
// stored with the origin it was made for and refused on any other, so a
// cookie sent to another port or host of the same site (browsers share
// cookies across ports) proves nothing there.
func Origin(r *http.Request) string {
	prefix, port := schemeOf(r)
	host := r.Host
	if hasPort(host) {
		port = ""
	}
	return prefix + strings.ToLower(host) + port
}

// fromOrigin reports whether r was sent to origin (as Origin spells it),
// without building r's origin: it runs on every signed-in request.
func fromOrigin(origin string, r *http.Request) bool {
	prefix, port := schemeOf(r)
	rest, ok := strings.CutPrefix(origin, prefix)
	if !ok {
		return false
	}
	host := r.Host
	if hasPort(host) {
		return strings.EqualFold(rest, host)
	}
	return len(rest) == len(host)+len(port) && strings.EqualFold(rest[:len(host)], host) && rest[len(host):] == port
}

// schemeOf returns r's scheme with "://" and its default port (with the
// colon).
func schemeOf(r *http.Request) (prefix, defaultPort string) {
	if r.TLS != nil {
		return "https://", ":443"
	}
	return "http://", ":80"
}

// hasPort reports whether a Host value names a port ("[::1]:8080" does,
// "[::1]" does not).
func hasPort(host string) bool {
	i := strings.LastIndexByte(host, ':')
	return i >= 0 && i > strings.LastIndexByte(host, ']')
}
