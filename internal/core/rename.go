package core

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
)

// MaxMethodName bounds the name a user gives an authenticator app or a
// phone, in runes (the same bound as a phone's name at pairing).
const MaxMethodName = maxDeviceName

// methodName checks a name the user chose for a sign-in method with
// safetext.ValidName, the one rule for user-chosen names; its errors
// (safetext.ErrNameEmpty, ErrNameTooLong, *CharError…) say why.
func methodName(name string) (string, error) {
	n, err := safetext.ValidName(name, MaxMethodName)
	if err != nil {
		return "", fmt.Errorf("core: method name: %w", err)
	}
	return n, nil
}

// RenameAuthenticator names authenticator id of u, so the user can tell
// their apps apart. The name is checked first (nothing is stored when it
// is refused); model.ErrNotFound when u has no such authenticator.
func (m *Methods) RenameAuthenticator(ctx context.Context, u *model.User, id int64, name, ip string) error {
	n, err := methodName(name)
	if err != nil {
		return err
	}
	if err := m.store.RenameTOTP(ctx, u.ID, id, n); err != nil {
		return fmt.Errorf("core: rename authenticator: %w", err)
	}
	m.Audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.TOTPRenamed, RemoteIP: ip,
		Detail: strconv.FormatInt(id, 10) + ": " + n})
	return nil
}

// Rename names phone id of u; the same rules as RenameAuthenticator.
func (p *Phones) Rename(ctx context.Context, u *model.User, id int64, name, ip string) error {
	n, err := methodName(name)
	if err != nil {
		return err
	}
	if err := p.store.RenameDevice(ctx, u.ID, id, n); err != nil {
		return fmt.Errorf("core: rename device: %w", err)
	}
	p.audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.DeviceRenamed, RemoteIP: ip,
		Detail: strconv.FormatInt(id, 10) + ": " + n})
	return nil
}
