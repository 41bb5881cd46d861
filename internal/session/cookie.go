package session

import (
	"net/http"
	"strings"
)

// cookieValue returns the value of the first cookie called name in h's
// Cookie headers, as (*http.Request).Cookie would (one pair of surrounding
// double quotes removed), without building a *http.Cookie for it: it runs
// on every signed-in request. The value is not validated here: only a value
// that was verified before (a cache hit) or that the codec accepts proves
// anything.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		if !strings.Contains(line, name) {
			continue
		}
		for rest := line; rest != ""; {
			var pair string
			pair, rest, _ = strings.Cut(rest, ";")
			k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if strings.TrimSpace(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}
