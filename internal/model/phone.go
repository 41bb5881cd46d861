package model

import (
	"strconv"
	"time"
)

// BlockedByReport is the block reason a fraud report from the user's
// phone records.
const BlockedByReport = "reported by the user"

// BlockedByFailedSignIns is the block reason of an account that reached
// the cap on consecutive failed sign-ins (NIST SP 800-63B-4: no more than
// 100 in a row).
const BlockedByFailedSignIns = "too many failed sign-ins"

// MaxDevices is how many phones one user may pair.
const MaxDevices = 5

// Device is a paired phone. It proves itself by signing with a P-256 key
// it generated and never exported; the store keeps only the public key.
type Device struct {
	ID        int64
	UserID    int64
	Name      string
	PublicKey []byte // SPKI DER of the phone's ECDSA P-256 key
	// Push is the phone's Web Push subscription, sealed (its endpoint and
	// keys let anyone send it notifications); nil when it has none.
	Push []byte
	// PushDead is set when the push service said the subscription is
	// gone (404/410): the device stays usable while its app is open.
	PushDead    bool
	Active      bool // false until the pairing session confirmed its code
	CreatedAt   time.Time
	ActivatedAt time.Time // zero while inactive
	LastUsedAt  time.Time // zero if never used
}

// MaxPairingPhones is how many phones may register through one pairing
// link and wait for their code: someone who read the link (from a log,
// say) and registered first cannot lock the user's own phone out, and
// cannot get in either, as only the code the user types activates a
// phone.
const MaxPairingPhones = 3

// Pairing is a one-time link that pairs a phone to a user. Only hashes of
// its token and of the confirmation codes the phones show are kept (and,
// once an iOS install manifest was made for it, the token sealed).
type Pairing struct {
	TokenHash []byte // SHA-256 of the token in the link's fragment
	UserID    int64
	// SessionHash is the Security info session that made the link: only
	// it may enter the confirmation code, so a photographed QR code
	// pairs nothing. It follows the session when its identifier rotates.
	SessionHash []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
	Attempts    int // wrong confirmation codes entered
	// Waiting counts the phones registered through the link, waiting for
	// their code (at most MaxPairingPhones).
	Waiting int
	// ManifestToken is the link's token sealed for its install manifest;
	// nil until one was made.
	ManifestToken []byte
}

// ApprovalStatus is where a sign-in approval request stands.
type ApprovalStatus string

// Approval statuses. Only Pending requests can be answered, and only
// Approved ones consumed.
const (
	ApprovalPending     ApprovalStatus = "pending"
	ApprovalApproved    ApprovalStatus = "approved"
	ApprovalDenied      ApprovalStatus = "denied"
	ApprovalReported    ApprovalStatus = "reported"     // denied as fraud: the account is blocked
	ApprovalWrongNumber ApprovalStatus = "wrong_number" // voided: the phone typed another number
	ApprovalCancelled   ApprovalStatus = "cancelled"    // replaced by a newer request
	ApprovalConsumed    ApprovalStatus = "consumed"     // completed its sign-in
	ApprovalExpired     ApprovalStatus = "expired"      // not answered in time (recorded once seen)
)

// Approval is a sign-in waiting for an answer on the user's phone.
type Approval struct {
	ID     string // random, unguessable
	UserID int64
	// SessionHash is the waiting browser's session: only that session can
	// consume an approval, so approving never signs in another browser.
	SessionHash []byte
	// Number is shown on the sign-in screen and typed on the phone; it is
	// never sent to the phone.
	Number     int
	Status     ApprovalStatus
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AnsweredAt time.Time // zero while pending
	DeviceID   int64     // the device that answered, 0 while pending
	// The sign-in's context, shown on the phone.
	Site      string
	RemoteIP  string
	UserAgent string
}

// Digits is how many digits Number has: every number drawn for a
// request has exactly push_number_digits digits (none starts with a
// zero), so this says how long the number is without saying what it is.
func (a *Approval) Digits() int {
	return len(strconv.Itoa(a.Number))
}

// Expired reports whether a pending request can no longer be answered.
func (a *Approval) Expired(now time.Time) bool {
	return a.Status == ApprovalPending && !now.Before(a.ExpiresAt)
}
