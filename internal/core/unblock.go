package core

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// unblock is the one rule of unblocking, for the admin center's Unblock
// and `caddy mfa user unblock` alike: lift the user's block and delete the
// account's failed sign-in counters (the account's and its
// basic-auth-only one) in the same transaction, so an account locked out
// by wrong guesses signs in at once with the right password, whoever
// unblocks it and however it was stopped.
func unblock(ctx context.Context, tx store.Tx, u *model.User) error {
	if err := tx.SetBlocked(ctx, u.ID, time.Time{}, ""); err != nil {
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
