package audit

import (
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
)

// Events of passkeys and security keys (WebAuthn).
const (
	PasskeyRegistered   = "passkey.registered"
	PasskeyRegisterFail = "passkey.register_fail"
	PasskeyDeleted      = "passkey.deleted"
	PasskeyRenamed      = "passkey.renamed"
	SignInPasskeyOK     = "signin.passkey.ok"
	SignInPasskeyFail   = "signin.passkey.fail"
	// SignInPasskeyCloned is an assertion refused because the
	// credential's sign count went backwards: a cloned authenticator,
	// or a replayed old assertion.
	SignInPasskeyCloned = "signin.passkey.cloned"
)

// Clean returns e as Record stores it (At set, fields cleaned and
// bounded), for a caller that appends the row inside its own store
// transaction, with the change it records.
func Clean(e model.AuditEvent) model.AuditEvent {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.Username = safetext.Clean(e.Username, maxField)
	e.RemoteIP = safetext.Clean(e.RemoteIP, maxField)
	e.Detail = safetext.Clean(e.Detail, maxDetail)
	return e
}

// Logged writes e, whose row a transaction has committed, to the server
// log, as Record does.
func (l *Log) Logged(e model.AuditEvent) {
	l.logger.Info("audit",
		zap.String("event", e.Event),
		zap.String("user", e.Username),
		zap.String("remote_ip", e.RemoteIP),
		zap.String("detail", e.Detail))
}
