package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// The account rules every caller shares, written once in Go and applied
// inside the caller's store transaction (store.Updater), after the locks
// they read under.

// promoteOnNewMethod applies per-user MFA's rule that registering a
// sign-in method makes an Enabled user Enforced. u is the user as read
// under LockUser in tx; it reports whether u was promoted (and updates u).
func promoteOnNewMethod(ctx context.Context, tx store.Tx, u *model.User) (bool, error) {
	if u.MFAState != model.MFAEnabled {
		return false, nil
	}
	if err := tx.SetMFAState(ctx, u.ID, model.MFAEnforced); err != nil {
		return false, fmt.Errorf("core: promote to enforced: %w", err)
	}
	u.MFAState = model.MFAEnforced
	return true, nil
}

// keepLastMethod is the rule of a user who must keep a second factor
// (keepOne: their policy requires one): a removal that took their last
// sign-in method away is refused (model.ErrLimit, and the caller's
// transaction rolls back). before and after are the user's methods as
// counted under LockUser, before and after the removal; removing what is
// no method (a phone still waiting for its code) keeps the count.
func keepLastMethod(keepOne bool, before, after model.MethodCount) error {
	if keepOne && after.Total() == 0 && before.Total() > 0 {
		return fmt.Errorf("%w: the last sign-in method of the user is kept", model.ErrLimit)
	}
	return nil
}

// blockUser blocks the user's sign-in (a report, an admin, the CLI) and
// ends every session of theirs, in tx: a blocked user is signed out.
func blockUser(ctx context.Context, tx store.Tx, userID int64, at time.Time, reason string) error {
	if at.IsZero() {
		return errors.New("core: blocking needs a time")
	}
	if err := tx.SetBlocked(ctx, userID, at, reason); err != nil {
		return fmt.Errorf("core: block: %w", err)
	}
	if _, err := tx.DeleteSessions(ctx, userID, nil); err != nil {
		return fmt.Errorf("core: block: %w", err)
	}
	return nil
}

// blockOnReport applies "a reported sign-in request blocks the user"
// (per-user MFA's fraud alert) in the answer's transaction.
func blockOnReport(ctx context.Context, tx store.Tx, ap *model.Approval) error {
	if ap.Status != model.ApprovalReported {
		return nil
	}
	return blockUser(ctx, tx, ap.UserID, ap.AnsweredAt, model.BlockedByReport)
}

// capFailedSignIns is NIST SP 800-63B-4's cap on consecutive failed
// authentication attempts, applied in the failure's own transaction: one
// more failed sign-in of the user, and when that makes limit in a row (a
// successful sign-in or an admin's unblock starts the count anew) an
// account not blocked yet is blocked, its sessions end, and the block is
// audited (with ip, the address of the last failure). It returns the
// audit row of the block it applied (nil: none), for the server log after
// commit. A user removed meanwhile counts nothing.
func capFailedSignIns(ctx context.Context, tx store.Tx, userID int64, ip string, limit int, now time.Time) (*model.AuditEvent, error) {
	n, err := tx.AddFailedSignIn(ctx, userID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && n < limit) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: count a failed sign-in: %w", err)
	}
	u, err := tx.LockUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: count a failed sign-in: %w", err)
	}
	if !u.BlockedAt.IsZero() {
		return nil, nil // blocked already (by a report, an admin, or this cap)
	}
	if err := blockUser(ctx, tx, userID, now, model.BlockedByFailedSignIns); err != nil {
		return nil, err
	}
	ev := audit.Clean(model.AuditEvent{At: now, UserID: u.ID, Username: u.Username, Event: audit.UserBlockedFailedSignIns,
		RemoteIP: ip, Detail: fmt.Sprintf("sign-in blocked after %d failed sign-ins in a row (limit %d); sessions ended", n, limit)})
	if err := tx.AppendAudit(ctx, &ev); err != nil {
		return nil, fmt.Errorf("core: audit a block: %w", err)
	}
	return &ev, nil
}

// usableAdmins counts the members who can administer: not blocked, with
// a second factor to sign in with (an authenticator app, an active phone
// or a passkey: a passkey's sign-in is a fresh second factor).
func usableAdmins(members []model.Member) int {
	n := 0
	for _, m := range members {
		if m.BlockedAt.IsZero() && m.Methods.Total() > 0 {
			n++
		}
	}
	return n
}

// keepAnAdmin is the last-admin rule: a change that leaves the admin
// group without a usable admin, where it had one, is refused
// (model.ErrLastAdmin). before and after are the group's members read
// under LockAdmins in the change's transaction.
func keepAnAdmin(before, after []model.Member) error {
	if usableAdmins(before) > 0 && usableAdmins(after) == 0 {
		return model.ErrLastAdmin
	}
	return nil
}

// stillAdmin is the rule that an admin acts only while an unblocked
// member of the group (model.ErrNotAdmin otherwise), checked among the
// members read under LockAdmins.
func stillAdmin(members []model.Member, actorID int64) error {
	for _, m := range members {
		if m.ID == actorID && m.BlockedAt.IsZero() {
			return nil
		}
	}
	return model.ErrNotAdmin
}

// notEnrolledYet is the rule that an authenticator app is added once: a
// secret equal to one of existing (the user's authenticators, read under
// LockUser in the add's transaction; open unseals them) is refused with
// ErrAlreadyEnrolled, so a form posted twice at once adds one.
func notEnrolledYet(open func(userID int64, sealed []byte) ([]byte, error), userID int64, existing []model.TOTPAuthenticator, secret []byte) error {
	for _, a := range existing {
		if s, err := open(userID, a.SealedSecret); err == nil && bytes.Equal(s, secret) {
			return ErrAlreadyEnrolled
		}
	}
	return nil
}
