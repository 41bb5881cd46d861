package model

import (
	"strings"
	"time"
)

// Client kinds in the sign-in log.
const (
	ClientBrowser    = "browser"
	ClientNonBrowser = "non-browser" // basic auth: WebDAV, CalDAV, git, mail
)

// Results in the sign-in log.
const (
	SignInSuccess = "success"
	SignInFailure = "failure"
)

// SignIn is one row of the sign-in log: an attempt to sign in, by browser
// or basic auth, and how it ended.
type SignIn struct {
	ID     int64
	At     time.Time
	UserID int64 // 0 when no account has the typed name
	// Username is the account's name, or "unknown:" and a short keyed
	// hash of the typed text (never the text itself).
	Username     string
	Site         string // host signed in to
	RemoteIP     string
	UserAgent    string
	Client       string // ClientBrowser or ClientNonBrowser
	FirstFactor  string // "password", "app password"
	SecondFactor string // "code", "notification", "not required: app password", "" when not reached
	Result       string // SignInSuccess or SignInFailure
	Reason       string // why it failed: "wrong password", "wrong code", "locked", …
}

// Factors says how the sign-in went as people read it: "password +
// code", "app password" (it stands in for the second step), "password
// only" (the second step was not required), or the first factor alone
// when the second was not reached.
func (s *SignIn) Factors() string {
	second, ok := strings.CutPrefix(s.SecondFactor, "not required")
	switch {
	case s.SecondFactor == "":
		return s.FirstFactor
	case ok && strings.TrimPrefix(second, ": ") == s.FirstFactor:
		return s.FirstFactor
	case ok:
		return s.FirstFactor + " only"
	}
	return s.FirstFactor + " + " + s.SecondFactor
}

// SignInFilter selects sign-in log rows, newest first.
type SignInFilter struct {
	UserID int64  // 0: every user
	Result string // "": both
	Site   string // "": every site
	Since  time.Time
	Until  time.Time // zero: now
	// BeforeID pages backwards: only rows with a smaller ID (0: from the
	// newest).
	BeforeID int64
	Limit    int
}
