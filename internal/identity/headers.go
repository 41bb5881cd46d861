// Package identity carries the signed-in user to the upstream as request
// headers, and makes sure a client can never supply those headers itself.
package identity

import (
	"net/http"
	"net/textproto"
	"strings"
)

// Header names sent upstream.
const (
	HeaderUser   = "Remote-User"
	HeaderName   = "Remote-Name"
	HeaderEmail  = "Remote-Email"
	HeaderGroups = "Remote-Groups"
)

// Headers lists every identity header the gateway sets.
var Headers = []string{HeaderUser, HeaderName, HeaderEmail, HeaderGroups}

// Identity is what the upstream learns about the user.
type Identity struct {
	Username    string
	DisplayName string
	Email       string
	Groups      []string
}

// Strip removes identity headers supplied by the client. It also removes
// them from the Connection header: a client naming "Remote-User" there would
// otherwise make the reverse proxy drop the value we set as hop-by-hop.
//
// Spellings with "_" for "-" ("Remote_User") go too: CGI, FastCGI and WSGI
// upstreams map both to the same HTTP_REMOTE_USER variable, so a client could
// otherwise forge the identity there.
func Strip(h http.Header, extra ...string) {
	for _, name := range Headers {
		h.Del(name)
	}
	for _, name := range extra {
		h.Del(name)
	}
	for key := range h {
		if strings.ContainsRune(key, '_') && isIdentityHeader(key, extra) {
			delete(h, key)
		}
	}
	stripFromConnection(h, extra)
}

func stripFromConnection(h http.Header, extra []string) {
	values := h.Values("Connection")
	if len(values) == 0 || !namesIdentityHeader(values, extra) {
		return // the common case ("keep-alive") is left as sent, with no allocation
	}
	var kept []string
	for _, v := range values {
		for token := range strings.SplitSeq(v, ",") {
			token = strings.TrimSpace(token)
			if token != "" && !isIdentityHeader(token, extra) {
				kept = append(kept, token)
			}
		}
	}
	h.Del("Connection")
	if len(kept) > 0 {
		h.Set("Connection", strings.Join(kept, ", "))
	}
}

// namesIdentityHeader reports whether any Connection token is an identity
// header.
func namesIdentityHeader(values, extra []string) bool {
	for _, v := range values {
		for token := range strings.SplitSeq(v, ",") {
			if isIdentityHeader(strings.TrimSpace(token), extra) {
				return true
			}
		}
	}
	return false
}

// isIdentityHeader matches name against the identity and extra headers,
// reading "_" as "-".
func isIdentityHeader(name string, extra []string) bool {
	canon := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name, "_", "-"))
	for _, n := range Headers {
		if canon == n {
			return true
		}
	}
	for _, n := range extra {
		if canon == textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(n, "_", "-")) {
			return true
		}
	}
	return false
}

// Set writes the identity headers for id (after Strip).
func Set(h http.Header, id Identity) {
	// One backing array for the four values: this runs on every request.
	v := [...]string{id.Username, sanitize(id.DisplayName), sanitize(id.Email), sanitize(strings.Join(id.Groups, ","))}
	vals := v[:]
	h[HeaderUser] = vals[0:1:1]
	h[HeaderName] = vals[1:2:2]
	h[HeaderEmail] = vals[2:3:3]
	h[HeaderGroups] = vals[3:4:4]
}

// sanitize drops characters that are not allowed in header values, so admin
// entered profile text can never split or corrupt a header.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// RemoveCookies deletes the named cookies from the request's Cookie headers
// so the gateway's session never reaches the upstream. Every other cookie
// pair is kept byte for byte (quotes, JSON, non-ASCII values), since
// re-serialising parsed cookies would silently alter or drop them.
func RemoveCookies(r *http.Request, names ...string) {
	values := r.Header.Values("Cookie")
	if !mentionsAny(values, names) {
		return // the common case costs no parsing
	}
	var kept strings.Builder
	size := 0
	for _, v := range values {
		size += len(v)
	}
	kept.Grow(size)
	for _, v := range values {
		for pair := range strings.SplitSeq(v, ";") {
			pair = strings.TrimSpace(pair)
			name, _, _ := strings.Cut(pair, "=")
			if pair == "" || contains(names, strings.TrimSpace(name)) {
				continue
			}
			if kept.Len() > 0 {
				kept.WriteString("; ")
			}
			kept.WriteString(pair)
		}
	}
	r.Header.Del("Cookie")
	if kept.Len() > 0 {
		r.Header["Cookie"] = []string{kept.String()}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// mentionsAny reports whether any header value contains one of the names.
func mentionsAny(values, names []string) bool {
	for _, v := range values {
		for _, n := range names {
			if strings.Contains(v, n) {
				return true
			}
		}
	}
	return false
}
