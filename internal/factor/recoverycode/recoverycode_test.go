package recoverycode

import (
	"strings"
	"testing"
)

func TestAlphabetHas32DistinctCharacters(t *testing.T) {
	seen := map[rune]bool{}
	for _, c := range Alphabet {
		seen[c] = true
	}
	if len(Alphabet) != 32 || len(seen) != 32 || strings.ContainsAny(Alphabet, "ILOU") {
		t.Fatalf("alphabet %q: %d characters, %d distinct", Alphabet, len(Alphabet), len(seen))
	}
}

func TestGenerateSetIsTenDistinctCodes(t *testing.T) {
	set, err := GenerateSet()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range set {
		if n, ok := Normalize(c); !ok || n != c || seen[c] {
			t.Errorf("code %q: normalized %q, %v, seen %v", c, n, ok, seen[c])
		}
		seen[c] = true
	}
	if len(set) != Count {
		t.Errorf("%d codes, want %d", len(set), Count)
	}
}

func TestNormalizeAcceptsGroupsAndCase(t *testing.T) {
	for typed, want := range map[string]string{
		"ABCD-EFGH-JKMN-PQRS":       "ABCDEFGHJKMNPQRS",
		" abcd efgh jkmn pqrs ":     "ABCDEFGHJKMNPQRS",
		"abcdefghjkmnpqrs":          "ABCDEFGHJKMNPQRS",
		"oI0L-2345-6789-ABCD":       "010123456789ABCD",
		"ABCD - EFGH - JKMN - PQRS": "ABCDEFGHJKMNPQRS",
	} {
		if got, ok := Normalize(typed); !ok || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", typed, got, ok, want)
		}
	}
	for _, bad := range []string{"", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQRSX", "ABCD-EFGH-JKMN-PQR!", "ABCD-EFGH-JKMN-PQRU"} {
		if got, ok := Normalize(bad); ok {
			t.Errorf("Normalize(%q) = %q, accepted", bad, got)
		}
	}
}

func TestGroup(t *testing.T) {
	if g := Group("ABCDEFGHJKMNPQRS"); g != "ABCD-EFGH-JKMN-PQRS" {
		t.Errorf("Group = %q", g)
	}
}
