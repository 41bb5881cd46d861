// Package accesspass makes and reads Temporary Access Passes: 16
// characters from an unambiguous 32-character alphabet (80 bits), shown
// in groups of four ("ABCD-EFGH-JKLM-NPQR"). Typed passes are read
// leniently: case, spaces and dashes do not matter.
package accesspass

import (
	"crypto/rand"
	"strings"
)

// Alphabet has no 0/O or 1/I (people copy passes from a screen or a
// phone call): 32 symbols, 5 bits each.
const Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// Length is a pass's characters: 16 × 5 = 80 bits (at least 64, as
// NIST SP 800-63B-4 asks of recovery secrets).
const Length = 16

// New makes a pass (without separators).
func New() string {
	b := make([]byte, Length)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	for i := range b {
		b[i] = Alphabet[b[i]&31] // 256 is a multiple of 32: no bias
	}
	return string(b)
}

// Format groups a pass in fours with dashes, as people read it.
func Format(p string) string {
	var sb strings.Builder
	for i, r := range p {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// Normalize is a typed pass as stored: without blanks and dashes, in
// upper case. Anything else stays (and then matches no pass).
func Normalize(typed string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, typed)
}
