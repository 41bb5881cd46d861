package model

import (
	"errors"
	"time"
)

// Errors of admin changes (see AdminGuard).
var (
	// ErrLastAdmin means the change would leave no admin who can sign in
	// with a second factor; nothing changed.
	ErrLastAdmin = errors.New("the last admin with a second factor must remain")
	// ErrNotAdmin means the acting user is no longer an unblocked member
	// of the admin group; nothing changed.
	ErrNotAdmin = errors.New("the acting user is not an admin")
)

// UserStatus filters users by whether they may sign in.
type UserStatus string

// User statuses in the admin's list.
const (
	StatusAny     UserStatus = ""
	StatusActive  UserStatus = "active"  // neither blocked nor locked
	StatusBlocked UserStatus = "blocked" // blocked by an admin or by the user's report
	StatusLocked  UserStatus = "locked"  // too many failures: the account counter is locked
)

// UserSort orders the admin's list of users.
type UserSort string

// Sort keys of the admin's list; every order ends with the user's ID.
const (
	SortUsername    UserSort = "username"
	SortDisplayName UserSort = "name"
	SortMFAState    UserSort = "mfa"
	SortLastSignIn  UserSort = "last_sign_in"
	SortCreated     UserSort = "created"
)

// Valid reports whether s is a known sort key.
func (s UserSort) Valid() bool {
	switch s {
	case SortUsername, SortDisplayName, SortMFAState, SortLastSignIn, SortCreated:
		return true
	}
	return false
}

// UserQuery selects one page of users for the admin's list.
type UserQuery struct {
	// Search matches a substring of the username, display name or email,
	// ignoring ASCII case ("": everyone).
	Search   string
	MFAState MFAState // "": every state
	Status   UserStatus
	// IDs restricts the result to these users (nil: no restriction).
	IDs  []int64
	Sort UserSort // "": SortUsername
	Desc bool
	// Offset and Limit page the result (Limit <= 0: all).
	Offset, Limit int
	// LockKeyPrefix is prepended to the username to name the account's
	// failure counter ("acct:"); Now decides whether it is locked.
	LockKeyPrefix string
	Now           time.Time
}

// UserSummary is one row of the admin's list: the user and what the list
// shows about their methods and sign-ins.
type UserSummary struct {
	User
	Authenticators int // TOTP authenticator apps
	Phones         int // active paired phones
	AppPasswords   int
	// LastSignIn is the user's last successful sign-in (zero: none in the
	// log).
	LastSignIn time.Time
	// LockedUntil is when the account's failure counter unlocks (zero or
	// past: not locked).
	LockedUntil time.Time
}

// UserPage is one page of users and how many match in all.
type UserPage struct {
	Users []UserSummary
	Total int
}

// AdminGuard is what every admin change checks in its own transaction,
// under a lock that serialises admin changes: the acting admin is still
// an unblocked member of Group (ErrNotAdmin otherwise), and afterwards a
// user remains who is in Group, not blocked and has a second factor (a
// TOTP authenticator or an active phone), whenever one did before
// (ErrLastAdmin otherwise). Either way nothing changes.
type AdminGuard struct {
	Group   string
	ActorID int64
}

// AdminChangeKind names one change the admin center makes.
type AdminChangeKind string

// Admin changes.
const (
	ChangeMFAState     AdminChangeKind = "mfa_state"     // MFAState
	ChangeAppPasswords AdminChangeKind = "app_passwords" // delete them all
	ChangeMethods      AdminChangeKind = "methods"       // delete authenticators, phones and pairings
	ChangeSessions     AdminChangeKind = "sessions"      // end every session
	ChangeBlock        AdminChangeKind = "block"         // BlockedAt, BlockedReason; ends sessions
	ChangeUnblock      AdminChangeKind = "unblock"       // also deletes the FailureKeys counters
	ChangeProfile      AdminChangeKind = "profile"       // DisplayName, Email, Groups
	ChangeRemove       AdminChangeKind = "remove"        // the user and FailureKeys
	// ChangePassword sets PasswordHash as a temporary password until
	// PasswordExpiresAt, ends every session and deletes the app passwords.
	ChangePassword AdminChangeKind = "password"
)

// AdminChange is one change to one user.
type AdminChange struct {
	Kind   AdminChangeKind
	UserID int64
	// MFAState for ChangeMFAState.
	MFAState MFAState
	// BlockedAt and BlockedReason for ChangeBlock.
	BlockedAt     time.Time
	BlockedReason string
	// DisplayName, Email and Groups (normalised by the caller) for
	// ChangeProfile.
	DisplayName, Email string
	Groups             []string
	// FailureKeys are the account's failure counters, deleted by
	// ChangeUnblock and ChangeRemove.
	FailureKeys []string
	// PasswordHash and PasswordExpiresAt for ChangePassword.
	PasswordHash      string
	PasswordExpiresAt time.Time
}

// AdminOutcome says what a change did.
type AdminOutcome struct {
	// Before is the user as it was.
	Before User
	// Count is how many app passwords, methods or sessions went.
	Count int64
}

// MethodCount is how many sign-in methods of each kind a user has.
type MethodCount struct {
	Authenticators int // TOTP authenticator apps
	Phones         int // active paired phones
}

// Total is every second factor the user can sign in with.
func (c MethodCount) Total() int { return c.Authenticators + c.Phones }

// Member is a group member as an admin rule sees it.
type Member struct {
	ID        int64
	BlockedAt time.Time
	Methods   MethodCount
}
