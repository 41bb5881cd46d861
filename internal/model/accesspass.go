package model

import "time"

// AccessPass is a user's Temporary Access Pass: a secret an admin issued
// so that a user who lost every sign-in method can sign in once (or
// several times within a short lifetime) to register a new one. A user
// has at most one.
type AccessPass struct {
	ID     int64
	UserID int64
	// Hash is the pass's bcrypt hash (the pass itself is shown once).
	Hash string
	// Once: the pass works for one sign-in only.
	Once      bool
	CreatedAt time.Time
	ExpiresAt time.Time
	// Uses counts the sign-ins made with it; LastUsedAt is the latest.
	Uses       int
	LastUsedAt time.Time
	// IssuedBy names who issued it (the actor, as audit rows name them).
	IssuedBy string
}

// Expired reports whether the pass no longer works at now.
func (p *AccessPass) Expired(now time.Time) bool { return !now.Before(p.ExpiresAt) }

// UsedUp reports whether a one-time pass has been used.
func (p *AccessPass) UsedUp() bool { return p.Once && p.Uses > 0 }
