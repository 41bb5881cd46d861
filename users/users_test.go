package users

import (
	"errors"
	"strings"
	"testing"
)

// Only A-Z is folded; any other byte outside the ASCII set is refused, so a
// Unicode case mapping cannot make another spelling of an existing name.
func TestNormalizeUsername(t *testing.T) {
	ok := map[string]string{
		"alice":                 "alice",
		"ALICE":                 "alice",
		"Alice.B_c@d-e":         "alice.b_c@d-e",
		"  bob\t":               "bob",
		"0123456789":            "0123456789",
		strings.Repeat("a", 64): strings.Repeat("a", 64),
	}
	for in, want := range ok {
		got, err := NormalizeUsername(in)
		if err != nil || got != want {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	refused := []string{
		"al\u0130ce",                     // dotted capital I: strings.ToLower gives "alice"
		"al\u0131ce",                     // dotless small i: upper-cases to I
		"alice\u212a",                    // Kelvin sign: lower-cases to k
		"\uff41\uff4c\uff49\uff43\uff45", // fullwidth "alice"
		"\uff21LICE",                     // fullwidth A
		"ali\u017fe",                     // long s: upper-cases to S
		"alice\u200b",                    // zero-width space
		"alice\u00a0",                    // no-break space (not trimmed)
		"al ice",
		"alice,bob",
		"alice\x00",
		"alic\xe9",
		"",
		"   ",
		strings.Repeat("a", 65),
	}
	for _, in := range refused {
		if got, err := NormalizeUsername(in); !errors.Is(err, ErrInvalidUsername) {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want ErrInvalidUsername", in, got, err)
		}
	}
}
