// Package identity carries the signed-in user to the upstream as request
// headers, and makes sure a client can never supply those headers itself.
package identity

import (
	"net/http"
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
	// One pass over the request's few headers, comparing names without
	// canonicalising (or deleting absent keys one by one): this runs on
	// every request.
	for key := range h {
		if isIdentityHeader(key, extra) {
			delete(h, key)
		}
	}
	stripFromConnection(h, extra)
}

func stripFromConnection(h http.Header, extra []string) {
	values := h["Connection"] // canonical already
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
// ignoring case and reading "_" as "-". It allocates nothing: every request
// with "Connection: keep-alive" asks it about "keep-alive".
func isIdentityHeader(name string, extra []string) bool {
	for _, n := range Headers {
		if sameHeaderName(name, n) {
			return true
		}
	}
	for _, n := range extra {
		if sameHeaderName(name, n) {
			return true
		}
	}
	return false
}

// sameHeaderName reports whether a and b name the same header for an
// upstream: ASCII case folded, "_" read as "-" (what CGI-style upstreams
// do), as comparing their canonical forms would.
func sameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldHeaderByte(a[i]) != foldHeaderByte(b[i]) {
			return false
		}
	}
	return true
}

func foldHeaderByte(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	}
	return c
}

// Values are the sanitised header values of one identity. Building them
// (joining the groups, sanitising profile text) is done once per cached
// session or credential, not on every request it passes.
type Values struct {
	v [4]string // Remote-User, -Name, -Email, -Groups
}

// NewValues builds the header values for id.
func NewValues(id Identity) Values {
	return Values{v: [...]string{id.Username, sanitize(id.DisplayName), sanitize(id.Email), sanitize(strings.Join(id.Groups, ","))}}
}

// IsZero reports whether v was never built (every identity has a
// username).
func (v *Values) IsZero() bool { return v.v[0] == "" }

// Set writes the identity headers (after Strip). It costs one small
// allocation: the request gets its own copy of the four values, because a
// later handler may edit header values in place, and the cached ones are
// shared by every request of the session.
func (v *Values) Set(h http.Header) {
	vals := new([4]string)
	*vals = v.v
	h[HeaderUser] = vals[0:1:1]
	h[HeaderName] = vals[1:2:2]
	h[HeaderEmail] = vals[2:3:3]
	h[HeaderGroups] = vals[3:4:4]
}

// Set writes the identity headers for id (after Strip).
func Set(h http.Header, id Identity) {
	v := NewValues(id)
	v.Set(h)
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
// re-serialising parsed cookies would silently alter or drop them. A Cookie
// header holding none of the named cookies is left exactly as sent; the
// common rewrites (our cookie alone, or beside one other) allocate nothing.
func RemoveCookies(r *http.Request, names ...string) {
	values := r.Header["Cookie"]
	// One pass: the pairs to keep (up to a few on the stack), and whether
	// any is ours at all.
	var stack [8]string
	kept, found, size := stack[:0], false, 0
	for _, v := range values {
		if !mentionsAny(v, names) {
			// A line without ours is kept whole (only its ends trimmed,
			// should it be joined to another).
			if v = strings.Trim(v, " \t;"); v != "" {
				kept = append(kept, v)
				size += len(v)
			}
			continue
		}
		for rest := v; rest != ""; {
			var pair string
			pair, rest = nextPair(rest)
			switch {
			case pair == "":
			case contains(names, pairName(pair)):
				found = true
			default:
				kept = append(kept, pair)
				size += len(pair)
			}
		}
	}
	switch {
	case !found:
		return // left exactly as sent
	case len(kept) == 0:
		delete(r.Header, "Cookie")
		return
	case len(kept) == 1:
		// The request's own slice: its values are the request's to edit.
		values[0] = kept[0]
		r.Header["Cookie"] = values[:1]
		return
	}
	var b strings.Builder
	b.Grow(size + 2*(len(kept)-1))
	for i, pair := range kept {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(pair)
	}
	values[0] = b.String()
	r.Header["Cookie"] = values[:1]
}

// nextPair splits off the first "name=value" pair of a Cookie header
// value, trimmed of spaces.
func nextPair(s string) (pair, rest string) {
	pair, rest, _ = strings.Cut(s, ";")
	return strings.TrimSpace(pair), rest
}

// pairName is the cookie name of a pair.
func pairName(pair string) string {
	name, _, _ := strings.Cut(pair, "=")
	return strings.TrimSpace(name)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// mentionsAny reports whether v contains one of the names anywhere.
func mentionsAny(v string, names []string) bool {
	for _, n := range names {
		if strings.Contains(v, n) {
			return true
		}
	}
	return false
}
