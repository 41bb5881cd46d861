package store

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// RecoveryReader reads users' recovery codes and recovery notices
// (migration 0010; their changes go through Update: see RecoveryTx).
type RecoveryReader interface {
	// RecoveryCodeByTag finds the user's unused recovery code with lookup
	// tag tag; model.ErrNotFound when there is none (no such code, or it
	// was used).
	RecoveryCodeByTag(ctx context.Context, userID int64, tag []byte) (*model.RecoveryCode, error)
	// RecoveryCodeCounts counts the user's unused recovery codes and all
	// of their set, used or not.
	RecoveryCodeCounts(ctx context.Context, userID int64) (left, total int, err error)
	// RecoveryNotices lists the user's recovery notices not dismissed
	// yet, newest first.
	RecoveryNotices(ctx context.Context, userID int64) ([]model.RecoveryNotice, error)
}

// RecoveryTx are the row operations of recovery codes and notices inside
// Update; the rules (one set per user, re-verification, the brute-force
// limits) are the core's.
type RecoveryTx interface {
	// ReplaceRecoveryCodes deletes every recovery code of the user, used
	// or not, and inserts codes (their IDs and creation times are set);
	// it says how many unused codes it voided (the caller locks the user
	// first: LockUser).
	ReplaceRecoveryCodes(ctx context.Context, userID int64, codes []model.RecoveryCode) (int64, error)
	// UseRecoveryCode marks recovery code id of the user used at at from
	// ip, when it is still unused: model.ErrNotFound otherwise (used
	// meanwhile, on any node, or gone), so a code is used once.
	UseRecoveryCode(ctx context.Context, userID, id int64, at time.Time, ip string) error
	// RecoveryCodesLeft counts the user's unused recovery codes as of now
	// in the transaction.
	RecoveryCodesLeft(ctx context.Context, userID int64) (int, error)
	// DeleteRecoveryCodes deletes every recovery code of the user and
	// says how many unused ones went.
	DeleteRecoveryCodes(ctx context.Context, userID int64) (int64, error)

	// AddRecoveryNotice inserts n (Kind, RemoteIP, Site, CreatedAt; zero
	// CreatedAt: now) and sets n.ID.
	AddRecoveryNotice(ctx context.Context, n *model.RecoveryNotice) error
	// DismissRecoveryNotices dismisses every notice of the user at at and
	// says how many it dismissed.
	DismissRecoveryNotices(ctx context.Context, userID int64, at time.Time) (int64, error)
	// MarkRecoveryNoticesShown records that a sign-in started at since
	// showed the user's notices made before it that no sign-in has shown
	// yet, and says how many.
	MarkRecoveryNoticesShown(ctx context.Context, userID int64, since, at time.Time) (int64, error)
}
