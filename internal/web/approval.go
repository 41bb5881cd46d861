package web

import (
	"strconv"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// The words a waiting page says about a phone's sign-in request, shared
// by the sign-in and the re-verifications of Security info and the admin
// center.
const (
	MsgApprovalExpired  = "We didn't hear from your phone in time. The request has expired."
	MsgTooManyApprovals = "Too many sign-in requests: use a verification code instead, or try again in 15 minutes."
	// MsgApprovalGone: the request was used already or replaced.
	MsgApprovalGone = "This sign-in request was already used or replaced. Send another request."
)

// approvalProblems says why a request did not lead on.
var approvalProblems = map[model.ApprovalStatus]string{
	model.ApprovalDenied:      "The sign-in request was denied on your phone.",
	model.ApprovalReported:    "The sign-in request was reported as suspicious. Your account is blocked until an administrator unblocks it.",
	model.ApprovalWrongNumber: "The number entered on your phone did not match. The request was cancelled.",
	model.ApprovalCancelled:   "This sign-in request was replaced by a newer one.",
	model.ApprovalConsumed:    "This sign-in request was already used.",
	model.ApprovalExpired:     MsgApprovalExpired,
}

// ApprovalProblem is what the waiting page says of a request in status.
func ApprovalProblem(status model.ApprovalStatus) string { return approvalProblems[status] }

// ApprovalWait fills the waiting page's view of request ap at now:
// pending, or why it failed.
func ApprovalWait(page loginui.ApprovalWaitPage, ap *model.Approval, now time.Time) loginui.ApprovalWaitPage {
	page.Number, page.RequestID, page.Site = ap.Number, ap.ID, ap.Site
	switch {
	case ap.Expired(now):
		page.Problem = MsgApprovalExpired
	case ap.Status == model.ApprovalPending:
		page.Pending = true
	default:
		page.Problem = ApprovalProblem(ap.Status)
		// "No, it's not me" may be followed by a report.
		page.Denied = ap.Status == model.ApprovalDenied
	}
	return page
}

// digitsWords spell the lengths a sign-in request's number may have.
var digitsWords = map[int]string{2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}

// DigitsWord is "six-digit" for 6, as the phone's prompt says it.
func DigitsWord(digits int) string {
	if w, ok := digitsWords[digits]; ok {
		return w + "-digit"
	}
	return strconv.Itoa(digits) + "-digit"
}
