package accesspass

import (
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/factor/recoverycode"
)

// A pass is 16 symbols of the recovery codes' alphabet (80 bits), passes
// differ, and the formatted pass reads back as typed in any case and
// grouping; a typing that cannot be a pass matches none.
func TestNewFormatNormalize(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != recoverycode.Length || strings.Trim(p, recoverycode.Alphabet) != "" {
			t.Fatalf("pass %q: want %d symbols of the alphabet", p, recoverycode.Length)
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
	if got := Normalize("not a pass"); len(got) == recoverycode.Length {
		t.Errorf("Normalize(%q) = %q, a pass's length", "not a pass", got)
	}
}
