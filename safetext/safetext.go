// Package safetext makes client-supplied text (user agents, typed user
// names, audit details) safe to store in every backend: PostgreSQL refuses
// invalid UTF-8 and NUL bytes where SQLite accepts them, so the same request
// must not succeed on one and fail on the other.
package safetext

import (
	"strings"
	"unicode/utf8"
)

// Clean replaces invalid UTF-8 with U+FFFD, drops NUL bytes and cuts the
// result to at most maxBytes without splitting a character.
func Clean(s string, maxBytes int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= maxBytes {
		return s
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
