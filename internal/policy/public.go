package policy

import (
	"net/http"
	"strings"
)

// IsPublic reports whether r may reach the upstream without signing in:
// its path is covered by one of the site's PublicPaths. Matching is on the
// path as the client sent it and deliberately strict: a path with
// anything an upstream might decode or resolve differently (encoded
// slashes or backslashes, dot segments, NUL or control bytes, ";"
// parameters, "//") is never public, so an odd spelling can only ever lead
// to the sign-in wall, never around it.
func (s Site) IsPublic(r *http.Request) bool {
	if len(s.PublicPaths) == 0 {
		return false
	}
	raw := r.URL.EscapedPath()
	if !plainPath(raw) {
		return false
	}
	for _, entry := range s.PublicPaths {
		if matchesPublic(raw, entry) {
			return true
		}
	}
	return false
}

// matchesPublic: "/dir/" or "/dir/*" covers /dir and everything below it;
// any other entry is one exact path.
func matchesPublic(path, entry string) bool {
	entry = strings.TrimSuffix(entry, "*")
	if dir, isDir := strings.CutSuffix(entry, "/"); isDir {
		return path == dir || strings.HasPrefix(path, entry)
	}
	return path == entry
}

// plainPath accepts only paths whose meaning no decoder or file system can
// change: no "%2f", "%5c", "%2e", "%00" or other encoded bytes besides
// printable ones, no backslash, no ";", no empty or dot segments.
func plainPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\;") || strings.Contains(p, "//") {
		return false
	}
	lower := strings.ToLower(p)
	for _, bad := range []string{"%2f", "%5c", "%2e", "%00", "%25", "%3b"} {
		if strings.Contains(lower, bad) {
			return false
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." || strings.HasSuffix(seg, ".") && seg != "" && strings.Trim(seg, ".") == "" {
			return false
		}
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x21 || p[i] == 0x7f {
			return false
		}
	}
	return true
}
