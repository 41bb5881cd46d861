package model

import "time"

// WebAuthnCredential is a registered passkey or security key. Only its
// public key is kept; the credential ID is unique across users.
type WebAuthnCredential struct {
	ID           int64
	UserID       int64
	CredentialID []byte
	// PublicKey is the credential's COSE public key.
	PublicKey       []byte
	AttestationType string
	// AAGUID names the authenticator's model; all zeros when hidden
	// (attestation "none" in Safari).
	AAGUID    []byte
	SignCount uint32
	Name      string
	// RPID is the relying party ID the credential was made for: the
	// authenticator fixes it, so the credential works under it alone.
	RPID       string
	Transports []string
	// UserVerified: the authenticator has verified its user (PIN,
	// biometrics) for this credential.
	UserVerified bool
	// BackupEligible and BackupState: a synced passkey (may be, is backed
	// up).
	BackupEligible bool
	BackupState    bool
	// Discoverable: the browser reported (credProps) a resident key, one
	// that can sign in without a username.
	Discoverable bool
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero if never used
}

// WebAuthnCeremony names the kind of a pending WebAuthn ceremony.
type WebAuthnCeremony string

// The ceremonies a challenge may be pending for.
const (
	CeremonyRegister WebAuthnCeremony = "register"
	CeremonyAssert   WebAuthnCeremony = "assert"
)

// WebAuthnChallenge is a pending ceremony of a user, bound to the session
// record (SessionHash) of the browser that began it: at most one of each
// kind per session, used once.
type WebAuthnChallenge struct {
	SessionHash []byte
	Ceremony    WebAuthnCeremony
	UserID      int64
	// Data is the WebAuthn library's session data (JSON), the challenge
	// among it.
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}
