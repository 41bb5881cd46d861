package accesspass

import (
	"strings"
	"testing"
)

// A pass is 16 symbols of the alphabet (80 bits), passes differ, and the
// formatted pass reads back as typed in any case and grouping.
func TestNewFormatNormalize(t *testing.T) {
	if len(Alphabet) != 32 || strings.ContainsAny(Alphabet, "01IO") {
		t.Fatalf("alphabet %q: want 32 unambiguous symbols", Alphabet)
	}
	seen := map[string]bool{}
	for range 200 {
		p := New()
		if len(p) != Length || strings.Trim(p, Alphabet) != "" {
			t.Fatalf("pass %q: want %d symbols of the alphabet", p, Length)
		}
		if seen[p] {
			t.Fatalf("pass %q made twice", p)
		}
		seen[p] = true
		f := Format(p)
		if len(f) != 19 || f[4] != '-' || f[9] != '-' || f[14] != '-' {
			t.Fatalf("Format(%q) = %q", p, f)
		}
		if Normalize(strings.ToLower(f)) != p || Normalize(" "+strings.ReplaceAll(f, "-", " ")+" ") != p {
			t.Fatalf("Normalize does not read %q back", f)
		}
	}
}
