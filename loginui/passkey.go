package loginui

// PasskeyMethod is the one name of passkeys and security keys: in
// Security info, its "Add sign-in method" list and default-method choice,
// and at sign-in.
const PasskeyMethod = "Passkey or security key"

// KindPasskey is a passkey or security key on a [RenameMethodPage] or
// [DeleteMethodPage] (field kind).
const KindPasskey = "passkey"

// PasskeyPage is the sign-in's passkey step: a "Use a passkey or security
// key" button (passkey.js: it fetches the options with a POST to
// Prefix+"passkey/options", asks the browser, and posts the answer to
// Prefix+"passkey" as field response), with "Sign in another way" links
// to the code and phone steps the user has. Without JavaScript it says
// so and offers the other ways.
type PasskeyPage struct {
	Common
	Error string
	// CanUseCode offers "Use a verification code" (Prefix+"verify").
	CanUseCode bool
	// CanUsePhone offers "Approve a request on my phone" (POST
	// Prefix+"push/new").
	CanUsePhone bool
	// OtherWays: a recovery code (never the passkey, this page's own).
	OtherWays
}

func (PasskeyPage) pageName() string { return "passkey" }

// extraCSP lets passkey.js fetch the options from the portal.
func (PasskeyPage) extraCSP() string { return "connect-src 'self'" }

// AddPasskeyPage registers a passkey or security key on Security info:
// an optional name (field name) and a "Create passkey" button
// (passkey.js: options by POST to Prefix+"security/passkey/options",
// then the answer posted to Prefix+"security/passkey" as field
// response).
type AddPasskeyPage struct {
	Common
	Name    string // the name typed (kept after a refusal)
	MaxName int    // in characters
	Error   string
}

func (AddPasskeyPage) pageName() string { return "security-passkey" }

// extraCSP lets passkey.js fetch the options from the portal.
func (AddPasskeyPage) extraCSP() string { return "connect-src 'self'" }

// PasskeyRow is one passkey or security key on the [SecurityPage].
type PasskeyRow struct {
	ID           int64
	Name         string
	Added        string // e.g. "2026-11-25"
	LastUsed     string // "" when never
	AAGUID       string // the authenticator's model ID, e.g. "cb69481e-8ff7-4039-93ec-0a2729a154a8"
	Make         string // its make from the AAGUID table, "Unknown" when none (a zero AAGUID)
	CanDelete    bool
	WhyNotDelete string
}
