package passkey

import (
	"encoding/hex"
	"regexp"
	"testing"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMake: well-known AAGUIDs name their make; the zero AAGUID (Safari
// with attestation none), an unlisted one and a malformed one are Unknown.
func TestMake(t *testing.T) {
	for _, c := range []struct {
		aaguid []byte
		want   string
	}{
		{mustHex(t, "cb69481e8ff7403993ec0a2729a154a8"), "YubiKey 5 Series"},
		{mustHex(t, "ea9b8d664d011d213ce4b6b48cb575d4"), "Google Password Manager"},
		{mustHex(t, "fbfc3007154e4ecc8c0b6e020557d7bd"), "iCloud Keychain"},
		{mustHex(t, "08987058cadc4b81b6e130de50dcbe96"), "Windows Hello"},
		{mustHex(t, "bada5566a7aa401fbd9645619a55120d"), "1Password"},
		{mustHex(t, "d548826e79b4db40a3d811116f7e8349"), "Bitwarden"},
		{mustHex(t, "adce000235bcc60a648b0b25f1f05503"), "Chrome on Mac"},
		{make([]byte, 16), UnknownMake},
		{mustHex(t, "0123456789abcdef0123456789abcdef"), UnknownMake},
		{[]byte{1, 2, 3}, UnknownMake},
		{nil, UnknownMake},
	} {
		if got := Make(c.aaguid); got != c.want {
			t.Errorf("Make(%x) = %q, want %q", c.aaguid, got, c.want)
		}
	}
}

// TestAAGUIDTableWellFormed: every key of the table is a canonical
// lower-case AAGUID that FormatAAGUID would produce, so none is
// unreachable, and none is the zero AAGUID (which must stay Unknown).
func TestAAGUIDTableWellFormed(t *testing.T) {
	canonical := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if len(makes) < 10 {
		t.Fatalf("the table holds %d makes, want the well-known ones", len(makes))
	}
	for k, v := range makes {
		if !canonical.MatchString(k) || k == "00000000-0000-0000-0000-000000000000" || v == "" {
			t.Errorf("table entry %q: %q is not a named, canonical, non-zero AAGUID", k, v)
		}
	}
}
