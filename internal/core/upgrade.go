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
// u.PasswordHash at a sign-in: the store applies it only while the
// stored hash is still u.PasswordHash, so of concurrent sign-ins one
// upgrades and a password changed meanwhile is never overwritten.
// Sessions and app passwords are left alone; the new hash and its audit
// row are one transaction. It returns the new hash, "" when nothing
// changed (no upgrade needed, or the hash changed meanwhile). The hashing
// is paced like sign-in checks: shed under load it returns
// password.ErrBusy and changes nothing, and the next sign-in tries again.
// Audited from ip; other nodes drop what they cache about u. (Basic auth
// stores its upgrade in its attempt's transaction: Guess.Upgrade.)
func (s *Accounts) UpgradePasswordHash(ctx context.Context, u *model.User, pw, ip string) (string, error) {
	up, err := s.prepareUpgrade(ctx, u, pw, ip)
	if err != nil || up == nil {
		return "", err
	}
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error { return up.applyIn(ctx, tx) })
	if err != nil {
		return "", fmt.Errorf("core: upgrading the password hash of %q: %w", u.Username, err)
	}
	return up.done(ctx), nil
}

// HashUpgrade is a password hash upgrade prepared outside any transaction
// (its bcrypt paid), stored in the transaction of the sign-in whose right
// password it hashes anew.
type HashUpgrade struct {
	accounts *Accounts
	user     *model.User
	hash     string
	row      model.AuditEvent
	stored   bool
}

// PrepareHashUpgrade is the upgrade of u's hash by pw, just found right,
// for Guess.Upgrade: nil when none is needed or it cannot be made now
// (shed under load: the next sign-in tries again).
func (s *Accounts) PrepareHashUpgrade(ctx context.Context, u *model.User, pw, ip string) *HashUpgrade {
	up, err := s.prepareUpgrade(ctx, u, pw, ip)
	if err != nil {
		return nil
	}
	return up
}

// prepareUpgrade hashes pw anew when u's hash needs it (nil, nil when
// not).
func (s *Accounts) prepareUpgrade(ctx context.Context, u *model.User, pw, ip string) (*HashUpgrade, error) {
	if !s.hasher.NeedsRehash(u.PasswordHash) {
		return nil, nil
	}
	hash, err := s.hasher.HashBounded(ctx, pw)
	if err != nil {
		return nil, err
	}
	return &HashUpgrade{accounts: s, user: u, hash: hash, row: model.AuditEvent{UserID: u.ID, Username: u.Username,
		Event: audit.PasswordHashUpgraded, RemoteIP: ip,
		Detail: fmt.Sprintf("%s hash replaced by bcrypt (cost %d) at sign-in", describeHash(u.PasswordHash), s.hasher.Cost())}}, nil
}

// applyIn stores the new hash and its audit row in tx, unless the hash
// was changed meanwhile (then nothing changes).
func (h *HashUpgrade) applyIn(ctx context.Context, tx store.Tx) error {
	h.stored = false
	err := tx.UpgradePasswordHash(ctx, h.user.ID, h.user.PasswordHash, h.hash)
	if errors.Is(err, model.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	row, err := auditIn(ctx, tx, h.row)
	if err != nil {
		return err
	}
	h.row, h.stored = row, true
	return nil
}

// done, after the commit, logs a stored upgrade, tells the other nodes
// and returns the new hash ("" when nothing was stored).
func (h *HashUpgrade) done(ctx context.Context) string {
	if !h.stored {
		return ""
	}
	h.accounts.audit.Logged(h.row)
	h.accounts.events.Publish(ctx, Event{Kind: EventUser, UserID: h.user.ID})
	return h.hash
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
