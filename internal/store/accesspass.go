package store

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// AccessPassReader reads users' Temporary Access Passes (their changes go
// through Update: see AccessPassTx).
type AccessPassReader interface {
	// AccessPass returns the user's pass; model.ErrNotFound when the user
	// has none.
	AccessPass(ctx context.Context, userID int64) (*model.AccessPass, error)
}

// AccessPassTx are the row operations of Temporary Access Passes inside
// Update (lifetime, expiry and use rules are the core's).
type AccessPassTx interface {
	// AccessPass: see AccessPassReader (as of now in the transaction).
	AccessPass(ctx context.Context, userID int64) (*model.AccessPass, error)
	// PutAccessPass stores p as the user's one pass, replacing any
	// earlier one, and sets p.ID and p.CreatedAt (Uses and LastUsedAt
	// start empty). model.ErrNotFound for unknown users.
	PutAccessPass(ctx context.Context, p *model.AccessPass) error
	// UseAccessPass counts a sign-in with pass id of the user at at.
	// model.ErrNotFound when the user's pass is no longer id, or id is
	// a one-time pass used already (of two concurrent uses, on any node,
	// one counts).
	UseAccessPass(ctx context.Context, userID, id int64, at time.Time) error
	// DeleteAccessPass deletes pass id of the user; model.ErrNotFound
	// when the user's pass is not (or no longer) id.
	DeleteAccessPass(ctx context.Context, userID, id int64) error
}
