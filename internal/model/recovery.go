package model

import "time"

// RecoveryCode is one of a user's saved recovery codes: a bcrypt Hash of
// the code, found by its LookupTag (an HMAC under a server key, as app
// passwords are) so a sign-in pays one bcrypt, not one per code. A code
// is used once (UsedAt set).
type RecoveryCode struct {
	ID        int64
	UserID    int64
	LookupTag []byte // unique per user
	Hash      string
	CreatedAt time.Time
	UsedAt    time.Time // zero while unused
	UsedIP    string
}

// RecoveryKind names how a user recovered their account.
type RecoveryKind string

// Ways of recovering an account (the notice's words).
const (
	RecoveryByCode RecoveryKind = "recovery code"
	RecoveryByPass RecoveryKind = "access pass"
)

// RecoveryNotice announces a recovery to its user: shown on Security info
// until dismissed, and once at their next sign-in.
type RecoveryNotice struct {
	ID            int64
	UserID        int64
	Kind          RecoveryKind
	RemoteIP      string
	Site          string
	CreatedAt     time.Time
	ShownAtSignIn time.Time // zero until a later sign-in showed it
	DismissedAt   time.Time // zero until the user dismissed it
}
