// Package accesspass makes and reads Temporary Access Passes in the
// recovery codes' format (package recoverycode): 16 characters of
// Crockford's base32 (80 bits, at least the 64 NIST SP 800-63B-4 asks of
// recovery secrets), shown in groups of four ("ABCD-EFGH-JKMN-PQRS").
// Typed passes are read leniently: case, spaces and dashes do not
// matter, and O, I and L read as 0, 1 and 1.
package accesspass

import (
	"strings"

	"github.com/mfagate/mfagate/internal/factor/recoverycode"
)

// New makes a pass (without separators).
func New() (string, error) { return recoverycode.Generate() }

// Format groups a pass in fours with dashes, as people read it.
func Format(p string) string { return recoverycode.Group(p) }

// Normalize is a typed pass as stored. A typing that cannot be a pass
// comes back upper-cased without blanks, and then matches no pass (it is
// still judged, at the same cost as a right one).
func Normalize(typed string) string {
	if s, ok := recoverycode.Normalize(typed); ok {
		return s
	}
	return strings.ToUpper(strings.Join(strings.Fields(typed), ""))
}
