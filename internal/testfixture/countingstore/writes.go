// The store's writing methods besides Update, each counted as one write
// transaction. Keep the list in step with store.Store: a writing method
// missing here is not counted. (The account changes' composite methods,
// which the core replaces by its own transactions, are left out.)

package countingstore

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// CreateUser counts one write.
func (c *Store) CreateUser(ctx context.Context, u *model.User) error {
	c.count("CreateUser")
	return c.Store.CreateUser(ctx, u)
}

// CreateUsers counts one write.
func (c *Store) CreateUsers(ctx context.Context, us []*model.User) error {
	c.count("CreateUsers")
	return c.Store.CreateUsers(ctx, us)
}

// CreateFirstUser counts one write.
func (c *Store) CreateFirstUser(ctx context.Context, u *model.User) (bool, error) {
	c.count("CreateFirstUser")
	return c.Store.CreateFirstUser(ctx, u)
}

// SetMFAState counts one write.
func (c *Store) SetMFAState(ctx context.Context, userID int64, state model.MFAState) error {
	c.count("SetMFAState")
	return c.Store.SetMFAState(ctx, userID, state)
}

// TouchAppPassword counts one write.
func (c *Store) TouchAppPassword(ctx context.Context, id int64, at time.Time, ip string) error {
	c.count("TouchAppPassword")
	return c.Store.TouchAppPassword(ctx, id, at, ip)
}

// ClaimTOTPStep counts one write.
func (c *Store) ClaimTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	c.count("ClaimTOTPStep")
	return c.Store.ClaimTOTPStep(ctx, userID, step)
}

// CreateSession counts one write.
func (c *Store) CreateSession(ctx context.Context, s *model.Session) error {
	c.count("CreateSession")
	return c.Store.CreateSession(ctx, s)
}

// ReplaceSession counts one write.
func (c *Store) ReplaceSession(ctx context.Context, oldHash []byte, s *model.Session) error {
	c.count("ReplaceSession")
	return c.Store.ReplaceSession(ctx, oldHash, s)
}

// TouchSession counts one write.
func (c *Store) TouchSession(ctx context.Context, idHash []byte, lastSeen time.Time) error {
	c.count("TouchSession")
	return c.Store.TouchSession(ctx, idHash, lastSeen)
}

// DeleteStaleSessions counts one write.
func (c *Store) DeleteStaleSessions(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error) {
	c.count("DeleteStaleSessions")
	return c.Store.DeleteStaleSessions(ctx, createdBefore, seenBefore)
}

// ClaimFailure counts one write.
func (c *Store) ClaimFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error) {
	c.count("ClaimFailure")
	return c.Store.ClaimFailure(ctx, key, now, window, limit, lockout)
}

// ReleaseFailure counts one write.
func (c *Store) ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error {
	c.count("ReleaseFailure")
	return c.Store.ReleaseFailure(ctx, key, window, limit)
}

// RememberWrongSecret counts one write.
func (c *Store) RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error {
	c.count("RememberWrongSecret")
	return c.Store.RememberWrongSecret(ctx, key, digest, at, keep, before)
}

// AppendAudit counts one write.
func (c *Store) AppendAudit(ctx context.Context, e *model.AuditEvent) error {
	c.count("AppendAudit")
	return c.Store.AppendAudit(ctx, e)
}

// CreatePairing counts one write.
func (c *Store) CreatePairing(ctx context.Context, p *model.Pairing) error {
	c.count("CreatePairing")
	return c.Store.CreatePairing(ctx, p)
}

// SetPairingManifest counts one write.
func (c *Store) SetPairingManifest(ctx context.Context, tokenHash, manifestHash, sealedToken []byte, now time.Time) error {
	c.count("SetPairingManifest")
	return c.Store.SetPairingManifest(ctx, tokenHash, manifestHash, sealedToken, now)
}

// RegisterDevice counts one write.
func (c *Store) RegisterDevice(ctx context.Context, tokenHash []byte, d *model.Device, codeHash []byte, now time.Time, limit, maxWaiting int) error {
	c.count("RegisterDevice")
	return c.Store.RegisterDevice(ctx, tokenHash, d, codeHash, now, limit, maxWaiting)
}

// SetDevicePush counts one write.
func (c *Store) SetDevicePush(ctx context.Context, id int64, sealed []byte) error {
	c.count("SetDevicePush")
	return c.Store.SetDevicePush(ctx, id, sealed)
}

// MarkPushDead counts one write.
func (c *Store) MarkPushDead(ctx context.Context, id int64) error {
	c.count("MarkPushDead")
	return c.Store.MarkPushDead(ctx, id)
}

// TouchDevice counts one write.
func (c *Store) TouchDevice(ctx context.Context, id int64, at time.Time) error {
	c.count("TouchDevice")
	return c.Store.TouchDevice(ctx, id, at)
}

// UseNonce counts one write.
func (c *Store) UseNonce(ctx context.Context, deviceID int64, nonceHash []byte, now, expires time.Time, max int) error {
	c.count("UseNonce")
	return c.Store.UseNonce(ctx, deviceID, nonceHash, now, expires, max)
}

// ConsumeApproval counts one write.
func (c *Store) ConsumeApproval(ctx context.Context, id string, oldHash []byte, next *model.Session) error {
	c.count("ConsumeApproval")
	return c.Store.ConsumeApproval(ctx, id, oldHash, next)
}

// DeleteStaleApprovals counts one write.
func (c *Store) DeleteStaleApprovals(ctx context.Context, before, now time.Time) (int64, error) {
	c.count("DeleteStaleApprovals")
	return c.Store.DeleteStaleApprovals(ctx, before, now)
}

// AppendSignIn counts one write.
func (c *Store) AppendSignIn(ctx context.Context, e *model.SignIn) error {
	c.count("AppendSignIn")
	return c.Store.AppendSignIn(ctx, e)
}

// DeleteSignInsBefore counts one write.
func (c *Store) DeleteSignInsBefore(ctx context.Context, before time.Time, batch int) (int64, error) {
	c.count("DeleteSignInsBefore")
	return c.Store.DeleteSignInsBefore(ctx, before, batch)
}
