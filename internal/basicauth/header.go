package basicauth

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// Limits on what a basic-auth header may carry; anything larger is refused
// before any lookup or hashing.
const (
	maxHeaderLen   = 4096
	maxUsernameLen = 256
)

// ParseHeader reads an `Authorization: Basic` value. It accepts the scheme
// in any case, refuses oversized or non-UTF-8 credentials and usernames
// with control characters, and never panics on hostile input.
func ParseHeader(value string) (username, secret string, ok bool) {
	if len(value) > maxHeaderLen {
		return "", "", false
	}
	scheme, encoded, found := strings.Cut(strings.TrimSpace(value), " ")
	if !found || !strings.EqualFold(scheme, "basic") {
		return "", "", false
	}
	// Decoded on the stack: the one allocation is the string the two
	// parts share (this runs on every basic-auth request).
	var buf [maxHeaderLen]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(strings.TrimSpace(encoded)))
	if err != nil || !utf8.Valid(buf[:n]) {
		return "", "", false
	}
	username, secret, found = strings.Cut(string(buf[:n]), ":")
	if !found || username == "" || len(username) > maxUsernameLen || hasControl(username) {
		return "", "", false
	}
	return username, secret, true
}

// IsBasic reports whether an Authorization value claims the Basic scheme
// (so a malformed one is answered with a challenge, not a redirect).
func IsBasic(value string) bool {
	return len(value) >= 5 && strings.EqualFold(value[:5], "basic")
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
