package loginui

import "html/template"

// OtherWays are the "Sign in another way" choices the second-step pages
// (VerifyCodePage, ApprovalWaitPage) list below their own.
type OtherWays struct {
	// CanUsePasskey offers "Use a passkey or security key" (GET
	// Prefix+"passkey"): the user has a passkey usable on this site.
	CanUsePasskey bool
	// CanUseRecoveryCode offers "Use a recovery code" (GET
	// Prefix+"recovery"): the user has unused recovery codes.
	CanUseRecoveryCode bool
}

// RecoveryInfo is what Security info shows of recovery: the notices of
// recoveries not dismissed yet (with Dismiss, POST
// Prefix+"security/recovery-codes/notice/dismiss"), and the "Recovery
// codes" row (Prefix+"security/recovery-codes") with how many are left
// and, when few are, a reminder to generate new ones.
type RecoveryInfo struct {
	Notices []string
	Have    bool // the user has a set of codes (used up or not)
	Left    int
	Total   int
	Remind  bool
}

// RecoveryCodePage asks for one of the user's saved recovery codes at
// sign-in, posted to Prefix+"recovery" as field code ("Sign in another
// way" → "Use a recovery code").
type RecoveryCodePage struct {
	Common
	Error string
}

// RecoveryUsedPage tells a user who just signed in with a recovery code
// how many are left, between the sign-in and where it goes (Continue).
type RecoveryUsedPage struct {
	Common
	Left     int
	Continue string // where the sign-in goes, validated when it began
	// Remind: few codes are left; Security info makes new ones.
	Remind bool
}

// RecoveryNoticePage shows, once at the sign-in after a recovery, the
// notices of recoveries ("On DATE from IP you signed in with …");
// Continue posts to Prefix+"recovery/notice" and goes on.
type RecoveryNoticePage struct {
	Common
	Notices []string
}

// RecoveryCodesPage is Security info's "Recovery codes": how many are
// left, and a form (POST Prefix+"security/recovery-codes") that makes a
// new set, voiding the old one.
type RecoveryCodesPage struct {
	Common
	Left  int
	Total int
	// Have: the user has a set (used up or not).
	Have bool
}

// RecoveryCodesCreatedPage shows a new set of recovery codes exactly
// once, grouped XXXX-XXXX-XXXX-XXXX, with Copy (app.js) and a download
// as text (a data: URL: no script needed).
type RecoveryCodesCreatedPage struct {
	Common
	Codes    []string     // grouped
	Download template.URL // data:text/plain;charset=utf-8,… of the codes
	AllText  string       // the codes one a line, for Copy
}

func (RecoveryCodePage) pageName() string         { return "recovery-code" }
func (RecoveryUsedPage) pageName() string         { return "recovery-used" }
func (RecoveryNoticePage) pageName() string       { return "recovery-notice" }
func (RecoveryCodesPage) pageName() string        { return "recovery-codes" }
func (RecoveryCodesCreatedPage) pageName() string { return "recovery-codes-created" }
