package core

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// UpgradePasswordHash replaces u's hash, when its scheme or cost is not
// the server's own (an imported argon2id or bcrypt hash, or one made
// before bcrypt_cost changed: see password.Hasher.NeedsRehash), by a
// bcrypt hash of pw at the server's cost. Call it right after pw matched
// u.PasswordHash at a sign-in (browser, or basic auth with the account
// password): the store applies it only while the stored hash is still
// u.PasswordHash, so of concurrent sign-ins one upgrades and a password
// changed meanwhile is never overwritten. Sessions and app passwords are
// left alone; the new hash and its audit row are one transaction. It
// returns the new hash, "" when nothing changed (no upgrade needed, or
// the hash changed meanwhile). The hashing is paced
// like sign-in checks: shed under load it returns password.ErrBusy and
// changes nothing, and the next sign-in tries again. Audited from ip;
// other nodes drop what they cache about u.
func (s *Accounts) UpgradePasswordHash(ctx context.Context, u *model.User, pw, ip string) (string, error) {
	if !s.hasher.NeedsRehash(u.PasswordHash) {
		return "", nil
	}
	hash, err := s.hasher.HashBounded(ctx, pw)
	if err != nil {
		return "", err
	}
	var row model.AuditEvent
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if err := tx.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, hash); err != nil {
			return err
		}
		row, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.PasswordHashUpgraded,
			RemoteIP: ip, Detail: fmt.Sprintf("%s hash replaced by bcrypt (cost %d) at sign-in", describeHash(u.PasswordHash), s.hasher.Cost())})
		return err
	})
	if errors.Is(err, model.ErrConflict) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("core: upgrading the password hash of %q: %w", u.Username, err)
	}
	s.audit.Logged(row)
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return hash, nil
}

// describeHash names a hash's scheme and cost for the audit log (never
// the hash).
func describeHash(hash string) string {
	if password.IsArgon2id(hash) {
		return "argon2id"
	}
	if c, err := bcrypt.Cost([]byte(hash)); err == nil {
		return fmt.Sprintf("bcrypt (cost %d)", c)
	}
	return "password"
}
