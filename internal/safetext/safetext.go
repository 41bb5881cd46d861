// Package safetext makes client-supplied text (user agents, typed user
// names, audit details) safe to store in every backend: PostgreSQL refuses
// invalid UTF-8 and NUL bytes where SQLite accepts them, so the same request
// must not succeed on one and fail on the other.
package safetext

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
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

// Reasons ValidName refuses a name.
var (
	ErrNameEmpty     = errors.New("name is empty")
	ErrNameTooLong   = errors.New("name is too long")
	ErrNameEncoding  = errors.New("name is not valid UTF-8")
	ErrNameInvisible = errors.New("name contains a control or formatting character")
)

// ValidName trims a name the user chose (app passwords, devices) and
// refuses it when empty, longer than maxRunes characters, not UTF-8, or
// holding control characters (Cc), format characters (Cf: bidi overrides
// such as U+202E, zero-width spaces, U+FEFF) or line and paragraph
// separators: such characters make a name look like another one on the
// Security info page, in the CLI and in the audit log. Such a refusal is a
// *CharError (errors.Is ErrNameInvisible) naming the character.
func ValidName(s string, maxRunes int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrNameEmpty
	case !utf8.ValidString(s):
		return "", ErrNameEncoding
	case utf8.RuneCountInString(s) > maxRunes:
		return "", ErrNameTooLong
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return "", &CharError{Rune: r}
		}
	}
	return s, nil
}

// CharError is ValidName's refusal of a control or format character.
type CharError struct{ Rune rune }

func (e *CharError) Error() string { return fmt.Sprintf("%v (%U)", ErrNameInvisible, e.Rune) }

// Unwrap makes errors.Is(err, ErrNameInvisible) hold.
func (e *CharError) Unwrap() error { return ErrNameInvisible }
