package passkey

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// UnknownMake names an authenticator whose AAGUID is zero (attestation
// "none" lets the browser hide it; Safari does) or not in the table.
const UnknownMake = "Unknown"

//go:embed aaguids.json
var aaguidsJSON []byte

// makes maps AAGUIDs in their canonical text form to the authenticator's
// make, read once from the table kept in the repository.
var makes = mustLoadMakes(aaguidsJSON)

func mustLoadMakes(raw []byte) map[string]string {
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(fmt.Sprintf("passkey: aaguids.json: %v", err))
	}
	delete(m, "_comment")
	return m
}

// FormatAAGUID writes a 16-byte AAGUID in the usual 8-4-4-4-12 lower-case
// hex form ("" for anything but 16 bytes).
func FormatAAGUID(aaguid []byte) string {
	if len(aaguid) != 16 {
		return ""
	}
	h := hex.EncodeToString(aaguid)
	return strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-")
}

// Make names the authenticator model an AAGUID stands for: the table's
// entry, or UnknownMake for the zero AAGUID, a malformed one or one the
// table does not know.
func Make(aaguid []byte) string {
	if m, ok := makes[FormatAAGUID(aaguid)]; ok {
		return m
	}
	return UnknownMake
}
