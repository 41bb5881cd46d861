package core

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
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
	ev := model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.TOTPRenamed, RemoteIP: ip,
		Detail: strconv.FormatInt(id, 10) + ": " + n}
	return renameIn(ctx, m.store, m.Audit, ev, "authenticator", func(ctx context.Context, tx store.Tx) error {
		return tx.RenameTOTP(ctx, u.ID, id, n)
	})
}

// Rename names phone id of u; the same rules as RenameAuthenticator.
func (p *Phones) Rename(ctx context.Context, u *model.User, id int64, name, ip string) error {
	n, err := methodName(name)
	if err != nil {
		return err
	}
	ev := model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.DeviceRenamed, RemoteIP: ip,
		Detail: strconv.FormatInt(id, 10) + ": " + n}
	return renameIn(ctx, p.store, p.audit, ev, "device", func(ctx context.Context, tx store.Tx) error {
		return tx.RenameDevice(ctx, u.ID, id, n)
	})
}

// renameIn renames a method (rename, a row operation) and writes its
// audit row ev in one transaction, then logs ev. A name changes no
// sign-in: nothing is announced to other nodes.
func renameIn(ctx context.Context, st store.Store, log *audit.Log, ev model.AuditEvent, what string, rename func(ctx context.Context, tx store.Tx) error) error {
	var stored model.AuditEvent
	err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := rename(ctx, tx); err != nil {
			return err
		}
		var err error
		stored, err = auditIn(ctx, tx, ev)
		return err
	})
	if err != nil {
		return fmt.Errorf("core: rename %s: %w", what, err)
	}
	log.Logged(stored)
	return nil
}
