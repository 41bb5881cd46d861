// Package audit records security-relevant events in the store (for the
// admin's sign-in log) and in the server log.
package audit

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
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
	MFAStateChanged    = "user.mfa_state.changed"
	BasicAuthFail      = "basicauth.fail"
	AppPasswordCreated = "app_password.created"
	AppPasswordDeleted = "app_password.deleted"
	AppPasswordsPurged = "app_password.deleted_all"
	TOTPDeleted        = "totp.deleted"
	DefaultMethodSet   = "default_method.changed"
)

// Log writes events. A failure to write is logged, never shown to the user:
// losing an audit row must not lock people out.
type Log struct {
	store  store.Store
	logger *zap.Logger
}

// New returns a Log; logger may be nil.
func New(st store.Store, logger *zap.Logger) *Log {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Log{store: st, logger: logger}
}

// Field limits for audit entries, in bytes.
const (
	maxField  = 256
	maxDetail = 1024
)

// Record stores e (At defaults to now).
func (l *Log) Record(ctx context.Context, e model.AuditEvent) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	// Usernames come as typed and details may quote client input.
	e.Username = safetext.Clean(e.Username, maxField)
	e.RemoteIP = safetext.Clean(e.RemoteIP, maxField)
	e.Detail = safetext.Clean(e.Detail, maxDetail)
	l.logger.Info("audit",
		zap.String("event", e.Event),
		zap.String("user", e.Username),
		zap.String("remote_ip", e.RemoteIP),
		zap.String("detail", e.Detail))
	if err := l.store.AppendAudit(ctx, &e); err != nil {
		l.logger.Error("writing audit event", zap.String("event", e.Event), zap.Error(err))
	}
}
