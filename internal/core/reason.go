package core

// Reason says why a sign-in step was refused (or, for a completed one,
// which second step passed): the one value the audit log and the sign-in
// log both take their words from. Pages never show it; what people read
// are constants beside the pages, chosen by the transition's outcome.
type Reason uint8

// Reasons of refused sign-in steps.
const (
	// ReasonNone: the step passed.
	ReasonNone Reason = iota
	ReasonUnknownUser
	ReasonWrongPassword
	// ReasonWrongCurrentPassword: a password change's current password.
	ReasonWrongCurrentPassword
	ReasonTemporaryPasswordExpired
	// ReasonTemporaryPasswordInBasicAuth: basic auth never takes an
	// admin's temporary password.
	ReasonTemporaryPasswordInBasicAuth
	ReasonWrongAppPassword
	// ReasonAppPasswordUnknown: where only app passwords pass, the
	// secret was none of the account's (most often a device still sending
	// a deleted one).
	ReasonAppPasswordUnknown
	// ReasonAppPasswordUnknownRepeat: the same again, not counted.
	ReasonAppPasswordUnknownRepeat
	ReasonAccountLocked
	ReasonIPLocked
	// ReasonBlocked: the secret was right, but sign-in to the account is
	// blocked (by a report or an admin).
	ReasonBlocked
	// ReasonRepeat: a recent wrong secret sent again, refused without
	// being judged or counted.
	ReasonRepeat
	ReasonWrongCode
	ReasonCodeReused
	// ReasonAlreadyEnrolled: an enrolment begun while the user had no
	// authenticator, finished after one was added elsewhere.
	ReasonAlreadyEnrolled
	ReasonTooManyRequests
	ReasonDenied
	ReasonReported
	ReasonWrongNumber
	ReasonExpired
	// ReasonApprovalGone: the phone's approval was not (or no longer)
	// there for this session to use.
	ReasonApprovalGone
	// ReasonSessionGone: the pending sign-in's session was ended
	// meanwhile (signed out elsewhere, blocked).
	ReasonSessionGone
	// ReasonNoSecondFactor: re-verification with a factor the user does
	// not have.
	ReasonNoSecondFactor
	// ReasonPasskeyRefused: the passkey's answer did not verify (origin,
	// RP ID, challenge, signature, unknown or deleted credential), or no
	// passkey request of this sign-in was pending.
	ReasonPasskeyRefused
	// ReasonPasskeyCloned: the passkey's sign count went backwards.
	ReasonPasskeyCloned
	numReasons
)

// reasonWords are each reason's words: the audit log's detail and the
// sign-in log's reason (shorter: "locked" whichever counter was full).
var reasonWords = [numReasons]struct{ audit, log string }{
	ReasonNone:                         {"", ""},
	ReasonUnknownUser:                  {"unknown user", "unknown user"},
	ReasonWrongPassword:                {"wrong password", "wrong password"},
	ReasonWrongCurrentPassword:         {"wrong current password", "wrong current password"},
	ReasonTemporaryPasswordExpired:     {"temporary password expired", "temporary password expired"},
	ReasonTemporaryPasswordInBasicAuth: {"account password refused: temporary password", "account password refused: temporary password"},
	ReasonWrongAppPassword:             {"wrong app password", "wrong app password"},
	ReasonAppPasswordUnknown:           {DetailAppPasswordUnknown, DetailAppPasswordUnknown},
	ReasonAppPasswordUnknownRepeat:     {DetailAppPasswordUnknown + ", again: not counted", DetailAppPasswordUnknown + ", again: not counted"},
	ReasonAccountLocked:                {"account locked", "locked"},
	ReasonIPLocked:                     {"ip locked", "locked"},
	ReasonBlocked:                      {"account blocked", "blocked"},
	ReasonRepeat:                       {DetailRepeat, DetailRepeat},
	ReasonWrongCode:                    {"wrong code", "wrong code"},
	ReasonCodeReused:                   {"code already used", "code reused"},
	ReasonAlreadyEnrolled:              {"enrolment refused: the user has an authenticator already", "already enrolled"},
	ReasonTooManyRequests:              {"too many requests", "too many requests"},
	ReasonDenied:                       {"denied", "denied"},
	ReasonReported:                     {"reported", "reported"},
	ReasonWrongNumber:                  {"wrong number", "wrong number"},
	ReasonExpired:                      {"expired", "expired"},
	ReasonApprovalGone:                 {"sign-in request already used or expired", "request gone"},
	ReasonSessionGone:                  {"session ended meanwhile", "session ended"},
	ReasonNoSecondFactor:               {"no such second factor", "no second factor"},
	ReasonPasskeyRefused:               {"passkey refused", "passkey refused"},
	ReasonPasskeyCloned:                {"passkey sign count went backwards", "passkey sign count went backwards"},
}

// DetailAppPasswordUnknown is why basic auth refused a secret where only
// app passwords pass.
const DetailAppPasswordUnknown = "app password not recognised (deleted or mistyped)"

// Audit is the reason as the audit log's detail says it.
func (r Reason) Audit() string {
	if r >= numReasons {
		return "unknown reason"
	}
	return reasonWords[r].audit
}

// Log is the reason as the sign-in log says it.
func (r Reason) Log() string {
	if r >= numReasons {
		return "unknown reason"
	}
	return reasonWords[r].log
}

// String is the audit wording (for logs and test failures).
func (r Reason) String() string { return r.Audit() }

// lockReason is the reason of a claim refused by counter ("account
// locked" or "ip locked", as the limiter says).
func lockReason(refusal string) Reason {
	if refusal == "ip locked" {
		return ReasonIPLocked
	}
	return ReasonAccountLocked
}
