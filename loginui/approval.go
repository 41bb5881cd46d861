package loginui

import "html/template"

// ApprovalWaitPage asks the user to approve the sign-in on their phone by
// typing the number shown, and waits for the answer: app.js long-polls
// Prefix+"push/wait?id=RequestID" and reloads when the request is
// answered; without JavaScript the page refreshes itself every 2 seconds
// while the request is pending, and "I approved it on my phone" (GET
// Prefix+"push") checks at once. "Send another request" posts to
// Prefix+"push/new".
type ApprovalWaitPage struct {
	Common
	// Pending is true while the phone may still answer; otherwise Problem
	// says why the request failed (denied, expired, wrong number, too many
	// requests).
	Pending   bool
	Problem   string
	Number    int
	RequestID string
	Site      string
	// CanUseCode offers "Use a verification code instead" (the user has an
	// authenticator app, and the sign-in is not blocked).
	CanUseCode bool
	// CanUsePasskey offers "Use a passkey or security key instead"
	// (Prefix+"passkey").
	CanUsePasskey bool
	// Reverify, when set, makes this a re-verification's wait.
	Reverify *ApprovalReverify
	// Denied is true when the phone denied the request: it may still report
	// it, so app.js keeps listening (Prefix+"push/wait?id=RequestID&while=denied")
	// and, when a report blocks the sign-in, says so and takes the ways on
	// away.
	Denied bool
}

func (ApprovalWaitPage) pageName() string { return "approval-wait" }

// ApprovalReverify makes an [ApprovalWaitPage] the wait of a
// re-verification (Security info, the admin center) instead of a
// sign-in's: once answered, the page submits its check form (Check, with
// CheckMethod and Fields: the step to show again) instead of opening
// Prefix+"push"; "Send another request" posts Fields and again=1 to
// Check; CodeHref is where a code is entered instead.
type ApprovalReverify struct {
	Check       string
	CheckMethod string // "get" or "post"
	Fields      []HiddenField
	CodeHref    string
	Cancel      string
}

// HiddenField is a form field a page posts again as it came.
type HiddenField struct{ Name, Value string }

// extraCSP lets app.js long-poll the portal.
func (ApprovalWaitPage) extraCSP() string { return "connect-src 'self'" }

// PairPhonePage shows the one-time link that pairs a phone, as a QR code
// and spelled out, and asks for the 6-digit code the phone then shows,
// posted to Prefix+"security/phone" as field code.
type PairPhonePage struct {
	Common
	QRDataURI template.URL // data:image/png;base64,... of Link
	Link      string       // the pairing link (its token is in the fragment)
	Minutes   int          // how long the link is valid
	Error     string
}

func (PairPhonePage) pageName() string { return "pair-phone" }

// DeviceRow is one paired phone on the [SecurityPage].
type DeviceRow struct {
	ID           int64
	Name         string
	Paired       string // e.g. "2026-11-25"
	LastUsed     string // e.g. "2026-11-25 12:00 UTC" or "Never"
	NoPush       bool   // notifications are off: requests show only while its page is open
	CanDelete    bool
	WhyNotDelete string
}
