package core

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// unblock is the one rule of unblocking, for the admin center's Unblock
// and `caddy mfa user unblock` alike: lift the user's block, delete the
// account's failed sign-in counters (the account's and its
// basic-auth-only one) and set its consecutive failed sign-ins back to 0
// in the same transaction, so an account locked out or blocked by wrong
// guesses signs in at once with the right password, and has the whole
// cap again, whoever unblocks it and however it was stopped.
func unblock(ctx context.Context, tx store.Tx, u *model.User) error {
	if err := tx.SetBlocked(ctx, u.ID, time.Time{}, ""); err != nil {
		return err
	}
	if err := tx.ResetFailedSignIns(ctx, u.ID); err != nil {
		return err
	}
	return tx.DeleteFailures(ctx, failureKeys(u.Username)...)
}

// describeUnblock says what unblocking did to the user, who was before.
func describeUnblock(before *model.User) string {
	if before.BlockedAt.IsZero() {
		return "was not blocked; failed sign-in counter cleared"
	}
	return "sign-in unblocked (was blocked: " + before.BlockedReason + "); failed sign-in counter cleared"
}
