package redirect

import (
	"net/url"
	"strings"
)

// SafeWithDomains is Safe, plus absolute https:// targets on an allow-listed
// domain (e.g. other sites behind the same gateway). An entry "example.com"
// allows exactly that host; "*.example.com" allows its subdomains (not the
// apex). The target is returned unchanged when allowed.
func SafeWithDomains(target, host string, domains []string) string {
	if len(domains) == 0 || !strings.HasPrefix(strings.ToLower(target), "https://") {
		return Safe(target, host)
	}
	if len(target) > maxLen || hasForbiddenChars(target, false) {
		return Fallback
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Opaque != "" || u.Host == "" {
		return Fallback
	}
	if !hostAllowed(u.Hostname(), domains) || !pathLooksSafe(u) {
		return Safe(target, host)
	}
	return u.String()
}

// pathLooksSafe applies the same path rules as same-host targets.
func pathLooksSafe(u *url.URL) bool {
	p := u.EscapedPath()
	if p == "" {
		return true
	}
	return p == "/" || checkedPath(p) != Fallback
}

// asciiHost: only letters, digits, '-' and '.'. Browsers map other
// characters with IDNA rules that differ from strings.ToLower (e.g. "İ"), so
// a Unicode host could pass the comparison and land on another xn-- name.
func asciiHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// hostAllowed matches the host exactly as the browser will see it. A trailing
// dot ("wiki.example.com.") names the same DNS host but a different origin with
// its own cookies, and empty labels are never legitimate, so both are refused
// rather than normalised.
func hostAllowed(hostname string, domains []string) bool {
	if !asciiHost(hostname) {
		return false
	}
	hostname = strings.ToLower(hostname)
	if hostname == "" || strings.HasSuffix(hostname, ".") || strings.Contains(hostname, "..") {
		return false
	}
	for _, d := range domains {
		d = strings.ToLower(d)
		if wildcard, ok := strings.CutPrefix(d, "*."); ok {
			if strings.HasSuffix(hostname, "."+wildcard) {
				return true
			}
			continue
		}
		if hostname == d {
			return true
		}
	}
	return false
}
