package audit

// Events of recovery codes and recoveries.
const (
	// RecoveryCodesGenerated: a new set of recovery codes replaced the
	// user's old one (voided).
	RecoveryCodesGenerated = "recovery_codes.generated"
	// SignInRecoveryCodeOK: a sign-in's second step passed with a
	// recovery code.
	SignInRecoveryCodeOK = "signin.recovery_code.ok"
	// SignInRecoveryCodeFail: a recovery code was refused at sign-in.
	SignInRecoveryCodeFail = "signin.recovery_code.fail"
	// RecoveryAnnounced: a recovery (a code or a Temporary Access Pass)
	// was announced to the user (notice, push).
	RecoveryAnnounced = "recovery.announced"
	// RecoveryNoticeDismissed: the user dismissed their recovery notices.
	RecoveryNoticeDismissed = "recovery.notice_dismissed"
)
