// Package audit records security-relevant events in the store (for the
// admin's sign-in log) and in the server log.
package audit

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
)

// Event names.
const (
	SignInPasswordFail = "signin.password.fail"
	SignInPasswordOK   = "signin.password.ok"
	SignInCodeFail     = "signin.code.fail"
	SignInComplete     = "signin.complete"
	TOTPEnrolled       = "totp.enrolled"
	SignOut            = "signout"
	UserCreated        = "user.created"
	UserRemoved        = "user.removed"
	PasswordChanged    = "user.password.changed"
	PasswordChangeFail = "user.password.change_fail"
	SessionsEnded      = "user.sessions.ended"
	MFAStateChanged    = "user.mfa_state.changed"
	BasicAuthFail      = "basicauth.fail"
	AppPasswordCreated = "app_password.created"
	AppPasswordDeleted = "app_password.deleted"
	AppPasswordsPurged = "app_password.deleted_all"
	TOTPDeleted        = "totp.deleted"
	DefaultMethodSet   = "default_method.changed"
	DevicePaired       = "device.paired"
	DeviceRemoved      = "device.removed"
	TOTPRenamed        = "totp.renamed"
	DeviceRenamed      = "device.renamed"
	PushRequested      = "push.requested"
	PushApproved       = "push.approved"
	PushDenied         = "push.denied"
	PushWrongNumber    = "push.wrong_number"
	PushReported       = "push.reported"
	UserBlocked        = "user.blocked"
	// UserBlockedFailedSignIns: the account reached the cap on
	// consecutive failed sign-ins and was blocked.
	UserBlockedFailedSignIns = "user.blocked.failed_sign_ins"
	UserUnblocked            = "user.unblocked"
	MethodsReset             = "user.methods_reset"
)

// Log writes events. A failure to write is logged, never shown to the user:
// losing an audit row must not lock people out.
type Log struct {
	sink   Appender
	logger *zap.Logger
}

// Appender keeps events for the admin's sign-in log: the part of the store
// the log writes to. Appending is all it may do.
type Appender interface {
	AppendAudit(ctx context.Context, e *model.AuditEvent) error
}

// New returns a Log writing to sink; logger may be nil.
func New(sink Appender, logger *zap.Logger) *Log {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Log{sink: sink, logger: logger}
}

// Field limits for audit entries, in bytes.
const (
	maxField  = 256
	maxDetail = 1024
)

// Record stores e (At defaults to now).
func (l *Log) Record(ctx context.Context, e model.AuditEvent) {
	e = Clean(e)
	l.Logged(e)
	if err := l.sink.AppendAudit(ctx, &e); err != nil {
		l.logger.Error("writing audit event", zap.String("event", e.Event), zap.Error(err))
	}
}

// Clean returns e as it is stored: At defaults to now, and the fields
// that come from clients are bounded and made printable. A change that
// writes its audit row in its own transaction stores Clean(e) there and
// calls Logged after the commit.
func Clean(e model.AuditEvent) model.AuditEvent {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	// Usernames come as typed and details may quote client input.
	e.Username = safetext.Clean(e.Username, maxField)
	e.RemoteIP = safetext.Clean(e.RemoteIP, maxField)
	e.Detail = safetext.Clean(e.Detail, maxDetail)
	return e
}

// Logged writes e, cleaned and stored by its change's transaction, to the
// server log.
func (l *Log) Logged(e model.AuditEvent) {
	l.logger.Info("audit",
		zap.String("event", e.Event),
		zap.String("user", e.Username),
		zap.String("remote_ip", e.RemoteIP),
		zap.String("detail", e.Detail))
}
