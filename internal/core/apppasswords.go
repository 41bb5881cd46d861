package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/apppassword"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
)

// Hasher hashes new app passwords within the sign-in CPU budget
// (*password.Hasher); password.ErrBusy means the hash was shed.
type Hasher interface {
	HashBounded(ctx context.Context, pw string) (string, error)
}

// AppPasswords creates and deletes users' app passwords.
type AppPasswords struct {
	store  store.Store
	Hasher Hasher
	// TagKey keys the lookup tags basic auth finds app passwords by.
	TagKey []byte
	Audit  *audit.Log
	// events announces deletions, so every node drops the user's cached
	// basic-auth successes at once.
	events *Events
}

// Create makes an app password named name for u and returns it in the
// clear, to be shown once. The limit is checked before the bcrypt hash is
// paid for (model.ErrLimit), and again, with the insert and its audit row,
// in one transaction under the user's lock: creations for one user, on
// any node, run one after the other there, so the limit is never
// exceeded. password.ErrBusy means the hash was shed under load and
// nothing was stored. The caller checks that u may create app passwords
// (policy) and that name is valid.
func (a *AppPasswords) Create(ctx context.Context, u *model.User, name, ip string) (string, error) {
	existing, err := a.store.AppPasswords(ctx, u.ID)
	if err != nil {
		return "", fmt.Errorf("core: app passwords: %w", err)
	}
	if len(existing) >= model.MaxAppPasswords {
		return "", model.ErrLimit
	}
	pw, err := apppassword.Generate()
	if err != nil {
		return "", err
	}
	hash, err := a.Hasher.HashBounded(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("core: hashing app password: %w", err)
	}
	var ev model.AuditEvent
	err = a.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		ap := &model.AppPassword{UserID: u.ID, Name: name, Hash: hash, LookupTag: secrets.UserTag(a.TagKey, u.ID, pw)}
		if err := addAppPasswordIn(ctx, tx, ap, model.MaxAppPasswords); err != nil {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.AppPasswordCreated, RemoteIP: ip, Detail: name})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("core: create app password: %w", err)
	}
	a.Audit.Logged(ev)
	return pw, nil
}

// addAppPasswordIn stores ap in tx unless its user already has limit app
// passwords (model.ErrLimit; model.ErrNotFound for an unknown user). The
// user's lock, taken first, makes the count and the insert one step on
// every node.
func addAppPasswordIn(ctx context.Context, tx store.Tx, ap *model.AppPassword, limit int) error {
	if _, err := tx.LockUser(ctx, ap.UserID); err != nil {
		return err
	}
	n, err := tx.CountAppPasswords(ctx, ap.UserID)
	if err != nil {
		return err
	}
	if n >= limit {
		return fmt.Errorf("%w (%d of %d)", model.ErrLimit, n, limit)
	}
	return tx.AddAppPassword(ctx, ap)
}

// Delete removes app password id of u and writes its audit row in one
// transaction (model.ErrNotFound when u has no such app password).
func (a *AppPasswords) Delete(ctx context.Context, u *model.User, id int64, ip string) error {
	var ev model.AuditEvent
	err := a.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if err := tx.DeleteAppPassword(ctx, u.ID, id); err != nil {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.AppPasswordDeleted, RemoteIP: ip, Detail: strconv.FormatInt(id, 10)})
		return err
	})
	// Announced even after an error: a stale cached success must not
	// outlive a deletion that may have happened.
	a.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	if err != nil {
		return fmt.Errorf("core: delete app password: %w", err)
	}
	a.Audit.Logged(ev)
	return nil
}

// Find returns u's app password whose lookup tag the typed secret (already
// normalised) gives; model.ErrNotFound when there is none. The caller still
// compares the secret with the hash.
func (a *AppPasswords) Find(ctx context.Context, userID int64, normalized string) (*model.AppPassword, error) {
	return a.ByTag(ctx, userID, secrets.UserTag(a.TagKey, userID, normalized))
}

// ByTag returns u's app password with lookup tag tag as stored now;
// model.ErrNotFound when it is gone.
func (a *AppPasswords) ByTag(ctx context.Context, userID int64, tag []byte) (*model.AppPassword, error) {
	ap, err := a.store.AppPasswordByTag(ctx, userID, tag)
	if err != nil {
		return nil, fmt.Errorf("core: app password: %w", err)
	}
	return ap, nil
}

// RecordUse stores when and from where app password id was last used. A
// password deleted meanwhile is not an error.
func (a *AppPasswords) RecordUse(ctx context.Context, id int64, at time.Time, ip string) error {
	err := a.store.TouchAppPassword(ctx, id, at, ip)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return fmt.Errorf("core: app password use: %w", err)
	}
	return nil
}
