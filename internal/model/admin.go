package model

import (
	"errors"
	"time"
)

// Errors of admin changes (the core's rules refuse them).
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
	StatusLocked  UserStatus = "locked"  // too many failures: the account counter or the basic-auth-only one is locked
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
	// failure counter ("acct:"), BasicLockKeyPrefix its basic-auth-only
	// counter's ("basic:"; "": not read); Now decides whether they are
	// locked.
	LockKeyPrefix      string
	BasicLockKeyPrefix string
	Now                time.Time
}

// UserSummary is one row of the admin's list: the user and what the list
// shows about their methods and sign-ins.
type UserSummary struct {
	User
	Authenticators int // TOTP authenticator apps
	Phones         int // active paired phones
	Passkeys       int // passkeys and security keys
	AppPasswords   int
	// LastSignIn is the user's last successful sign-in (zero: none in the
	// log).
	LastSignIn time.Time
	// LockedUntil is when the account's failure counter unlocks (zero or
	// past: not locked).
	LockedUntil time.Time
	// BasicAuthLockedUntil is when the basic-auth-only counter unlocks
	// (zero or past: not locked): until then basic auth refuses the
	// account, though the browser sign-in does not.
	BasicAuthLockedUntil time.Time
}

// UserPage is one page of users and how many match in all.
type UserPage struct {
	Users []UserSummary
	Total int
}

// MethodCount is how many sign-in methods of each kind a user has.
type MethodCount struct {
	Authenticators int // TOTP authenticator apps
	Phones         int // active paired phones
	Passkeys       int // passkeys and security keys
}

// Total is every sign-in method the user has.
func (c MethodCount) Total() int { return c.Authenticators + c.Phones + c.Passkeys }

// Member is a group member as an admin rule sees it.
type Member struct {
	ID        int64
	BlockedAt time.Time
	// Methods counts the member's authenticators, active phones and
	// passkeys.
	Methods MethodCount
}
