// Package redirect decides where a user may be sent after signing in. Only
// targets on the same host are accepted; everything else becomes "/". The
// checks are deliberately strict: an open redirect on a sign-in page is a
// phishing tool.
package redirect

import (
	"net/url"
	"strings"
)

// maxLen bounds the target so it cannot bloat sessions or logs.
const maxLen = 2048

// decodeRounds is how many layers of percent-encoding are peeled off when
// looking for hidden tricks (double- and triple-encoded payloads).
const decodeRounds = 3

// Fallback is used whenever a target is refused.
const Fallback = "/"

// Safe returns target as a same-host path ("/path?query"), or Fallback when
// target is empty, too long, or could leave the host. host is the Host the
// request was addressed to (as Caddy saw it); an absolute http(s) URL whose
// host equals it exactly is reduced to its path.
func Safe(target, host string) string {
	if target == "" || len(target) > maxLen || hasForbiddenChars(target, false) {
		return Fallback
	}
	if !strings.HasPrefix(target, "/") {
		return absoluteToPath(target, host)
	}
	return checkedPath(target)
}

// checkedPath accepts a path that stays on this host, however it is decoded.
func checkedPath(target string) string {
	decoded := target
	for range decodeRounds {
		if !looksLocal(decoded) {
			return Fallback
		}
		next, err := url.PathUnescape(decoded)
		if err != nil {
			return Fallback
		}
		if next == decoded {
			break
		}
		decoded = next
	}
	if !looksLocal(decoded) {
		return Fallback
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return Fallback
	}
	return target
}

// looksLocal: a single leading slash, no backslash, no control character.
func looksLocal(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return false
	}
	return !hasForbiddenChars(p, true)
}

// hasForbiddenChars finds backslashes, control characters and (unless
// allowSpace, for decoded forms) spaces, which browsers strip or reinterpret
// (e.g. "/\evil" or "/\t/evil").
func hasForbiddenChars(s string, allowSpace bool) bool {
	for _, r := range s {
		if r == ' ' && allowSpace {
			continue
		}
		if r == '\\' || r <= 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return true
		}
	}
	return false
}

// absoluteToPath accepts http(s)://host/... only for exactly this host.
func absoluteToPath(target, host string) string {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.Opaque != "" {
		return Fallback
	}
	if host == "" || !strings.EqualFold(u.Host, host) {
		return Fallback
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return checkedPath(path)
}
