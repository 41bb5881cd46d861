package core

import (
	"context"
	"fmt"

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
