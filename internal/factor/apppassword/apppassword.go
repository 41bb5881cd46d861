// Package apppassword generates and checks app passwords: server-made
// passwords for clients that can only send HTTP basic auth (mail, WebDAV,
// CalDAV, git). They are 16 lowercase letters, shown once, bcrypt-hashed at
// rest, and found by a keyed lookup tag so a check costs one bcrypt.
package apppassword

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Length is the number of letters in an app password (26^16 ≈ 2^75).
const Length = 16

// MaxNameLength bounds the name a user gives an app password.
const MaxNameLength = 64

// Generate returns a new app password from crypto/rand, without modulo bias.
func Generate() (string, error) {
	b := make([]byte, 0, Length)
	buf := make([]byte, 32)
	for len(b) < Length {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("apppassword: random: %w", err)
		}
		for _, c := range buf {
			// 234 = 26*9: values above it would favour the first letters.
			if c < 234 && len(b) < Length {
				b = append(b, 'a'+c%26)
			}
		}
	}
	return string(b), nil
}

// Normalize removes the spaces people keep from the grouped display and
// lower-cases; ok is false when the result cannot be an app password.
func Normalize(typed string) (string, bool) {
	s := strings.ToLower(strings.Join(strings.Fields(typed), ""))
	if len(s) != Length {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return "", false
		}
	}
	return s, true
}

// Group shows an app password as four groups of four letters.
func Group(pw string) string {
	var parts []string
	for len(pw) > 4 {
		parts = append(parts, pw[:4])
		pw = pw[4:]
	}
	return strings.Join(append(parts, pw), " ")
}
