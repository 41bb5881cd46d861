// Package model holds mfagate's domain types and errors: accounts, their
// factors, server-side sessions, failure counters and audit events. Every
// layer speaks these types; only the core and the store's own code import
// the store, so pages and the basic-auth path never reach the database.
package model

import (
	"errors"
	"time"
)

// Errors of the domain, returned by the store and the core alike. Callers
// compare with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule was violated (e.g. username taken).
	ErrConflict = errors.New("already exists")
	// ErrLimit means a per-user limit (e.g. MaxAppPasswords) was reached.
	ErrLimit = errors.New("limit reached")
)

// MaxAppPasswords is how many app passwords one user may have.
const MaxAppPasswords = 40

// Method names a default sign-in method.
type Method string

// Sign-in methods a user can choose as default.
const (
	MethodNone Method = ""     // not chosen: the first available is used
	MethodCode Method = "code" // authenticator app code
	MethodPush Method = "push" // approval on a paired phone (later)
	// MethodPasskey: a passkey or security key (on sites that offer
	// passkeys; elsewhere the next method in the system-preferred order).
	MethodPasskey Method = "passkey"
)

// MFAState is an admin-controlled per-user multi-factor state, modelled on
// Microsoft Entra per-user MFA.
type MFAState string

// The three per-user MFA states.
const (
	MFADisabled MFAState = "disabled"
	MFAEnabled  MFAState = "enabled"
	MFAEnforced MFAState = "enforced"
)

// Valid reports whether s is one of the known states.
func (s MFAState) Valid() bool {
	return s == MFADisabled || s == MFAEnabled || s == MFAEnforced
}

// User is an account. Usernames are stored lower-cased and are unique.
type User struct {
	ID           int64
	Username     string
	DisplayName  string
	Email        string
	Groups       []string // sorted, unique
	PasswordHash string   // bcrypt
	// PasswordExpiresAt is set while the password is a temporary one an
	// admin chose: it stops working then, never works in basic auth, and
	// must be replaced right after sign-in. Zero for the user's own.
	PasswordExpiresAt time.Time
	MFAState          MFAState
	// DefaultMethod is the second step offered first at sign-in.
	DefaultMethod Method
	// BlockedAt is when the user reported a sign-in request as fraud:
	// every sign-in of the account is refused until an admin unblocks it.
	// Zero when not blocked.
	BlockedAt time.Time
	// BlockedReason says who blocked it: "reported by the user" or "by an
	// admin …".
	BlockedReason string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AppPassword is a server-generated password for a client that can only
// send HTTP basic auth. Only hashes are stored: Hash (bcrypt) proves the
// password; LookupTag (an HMAC under a server key) finds the one row to
// check, so a request pays one bcrypt, not one per app password.
type AppPassword struct {
	ID         int64
	UserID     int64
	Name       string
	Hash       string
	LookupTag  []byte // unique per user
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
	LastUsedIP string
}

// TOTPAuthenticator is an enrolled authenticator app. The secret is sealed
// (AES-256-GCM, bound to the user) by the caller; the store never sees it in
// the clear.
type TOTPAuthenticator struct {
	ID           int64
	UserID       int64
	Name         string
	SealedSecret []byte
	CreatedAt    time.Time
}

// Stage says how far a server-side session has got through sign-in.
type Stage string

// Session stages.
const (
	// StagePassword: the first factor passed, the second is still due.
	StagePassword Stage = "password"
	// StageComplete: fully signed in.
	StageComplete Stage = "complete"
	// StageAccessPass: signed in with a Temporary Access Pass, which
	// reaches Security info only (to register a new method), never a
	// protected site or the admin center.
	StageAccessPass Stage = "access pass"
)

// Session is the server-side record of a browser session. The cookie carries
// a random token; only its SHA-256 (IDHash) is stored, so a copy of the
// database does not yield usable cookies.
type Session struct {
	IDHash     []byte // SHA-256 of the cookie token, 32 bytes
	UserID     int64
	Stage      Stage
	CreatedAt  time.Time // start of the sign-in; absolute lifetime counts from here
	LastSeenAt time.Time // idle timeout counts from here
	MFAAt      time.Time // when the second factor last passed; zero if never
	// PendingTOTP is the sealed secret shown during authenticator enrolment,
	// nil when no enrolment is under way.
	PendingTOTP []byte
	RedirectTo  string // where to go once sign-in completes (already validated)
	RemoteIP    string
	UserAgent   string
	// Origin is the origin the session was made for, "scheme://host:port"
	// in lower case; the session is refused on any other ("" for sessions
	// from before origins were kept: refused everywhere).
	Origin string
}

// Failures is the state of one brute-force counter.
type Failures struct {
	Count       int       // failures in the current window
	WindowStart time.Time // start of the current window
	LockedUntil time.Time // zero or in the past when not locked
}

// AuditEvent is one security-relevant event (sign-in, enrolment, changes).
type AuditEvent struct {
	ID       int64
	At       time.Time
	UserID   int64 // 0 when unknown
	Username string
	Event    string // e.g. "signin.password.fail", "totp.enrolled"
	RemoteIP string
	Detail   string
}

// TemporaryPassword reports whether u's password is a temporary one.
func (u *User) TemporaryPassword() bool { return !u.PasswordExpiresAt.IsZero() }
