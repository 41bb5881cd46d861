// Package recoverycode makes and reads saved recovery codes: single-use
// codes a user keeps for the day their phone or authenticator is lost.
// A code is 16 characters from an unambiguous 32-character alphabet
// (80 bits, above NIST SP 800-63B-4's 64), shown in groups of four
// (XXXX-XXXX-XXXX-XXXX); typed input may keep the dashes or spaces and
// any case. Codes are bcrypt-hashed at rest and found by a keyed lookup
// tag, so a check costs one bcrypt, as app passwords do.
package recoverycode

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Alphabet is the 32 characters codes are made of: Crockford's base32
// (digits and capitals without I, L, O and U), so no two read alike;
// typed O, I and L are read as 0, 1 and 1, as Crockford's decoding does.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Length is the number of characters of a code (32^16 = 2^80).
const Length = 16

// Count is how many codes a set has.
const Count = 10

// Generate returns a new code from crypto/rand (32 divides 256: no
// modulo bias).
func Generate() (string, error) {
	buf := make([]byte, Length)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("recoverycode: random: %w", err)
	}
	for i, b := range buf {
		buf[i] = Alphabet[int(b)%len(Alphabet)]
	}
	return string(buf), nil
}

// GenerateSet returns Count distinct new codes.
func GenerateSet() ([]string, error) {
	seen := make(map[string]bool, Count)
	out := make([]string, 0, Count)
	for len(out) < Count {
		c, err := Generate()
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// Normalize drops the dashes and spaces people keep from the grouped
// display and upper-cases; ok is false when the result cannot be a code.
func Normalize(typed string) (string, bool) {
	s := strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(typed, "-", " ")), ""))
	s = strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
	if len(s) != Length {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(Alphabet, s[i]) < 0 {
			return "", false
		}
	}
	return s, true
}

// Group shows a code as four groups of four joined by dashes.
func Group(code string) string {
	var parts []string
	for len(code) > 4 {
		parts = append(parts, code[:4])
		code = code[4:]
	}
	return strings.Join(append(parts, code), "-")
}
