package loginui

// ApprovalWaitPage asks the user to approve the sign-in on their phone by
// typing the number shown, and waits for the answer: app.js long-polls
// Prefix+"push/wait?id=RequestID" and reloads when the request is
// answered; without JavaScript the page refreshes itself every 2 seconds
// while the request is pending, and "Continue" (GET Prefix+"push") checks
// at once. "Send another request" posts to Prefix+"push/new".
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
	// authenticator app).
	CanUseCode bool
}

func (ApprovalWaitPage) pageName() string { return "approval-wait" }

// extraCSP lets app.js long-poll the portal.
func (ApprovalWaitPage) extraCSP() string { return "connect-src 'self'" }
