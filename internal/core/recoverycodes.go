package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/factor/recoverycode"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
)

// RecoveryReminderAt is how few unused codes make Security info remind
// the user to generate new ones.
const RecoveryReminderAt = 2

// recoveryHasher hashes new codes and checks a typed one
// (*password.Hasher).
type recoveryHasher interface {
	Hash(pw string) (string, error)
	VerifyBounded(ctx context.Context, hash, pw string) (bool, error)
}

// RecoveryCodes are users' saved recovery codes: ten single-use codes
// shown once, stored as bcrypt hashes found by a keyed lookup tag, so a
// check costs one bcrypt (the matching code's, or a dummy one), never
// ten. Using one at sign-in is SignIn.RecoveryCode.
type RecoveryCodes struct {
	store  store.Store
	hasher recoveryHasher
	tagKey []byte
	audit  *audit.Log
	// verify is the one bcrypt comparison of an attempt (tests count
	// its calls); "" as the hash compares against a dummy one.
	verify func(ctx context.Context, hash, code string) (bool, error)
}

func newRecoveryCodes(st store.Store, h recoveryHasher, tagKey []byte, a *audit.Log) *RecoveryCodes {
	r := &RecoveryCodes{store: st, hasher: h, tagKey: secrets.Derive(tagKey, "mfagate/recovery-code-tag"), audit: a}
	if h != nil {
		r.verify = h.VerifyBounded
	}
	return r
}

// Generate makes a new set of recovery codes for u and returns them in
// the clear (normalized: group them to show), to be shown once. The
// codes are hashed before the one transaction that, under the user's
// lock, voids the old set, stores the new one and writes the audit row.
// The caller checks the user re-verified recently.
func (r *RecoveryCodes) Generate(ctx context.Context, u *model.User, ip string) ([]string, error) {
	codes, err := recoverycode.GenerateSet()
	if err != nil {
		return nil, err
	}
	rows := make([]model.RecoveryCode, len(codes))
	for i, c := range codes {
		hash, err := r.hasher.Hash(c)
		if err != nil {
			return nil, fmt.Errorf("core: hashing a recovery code: %w", err)
		}
		rows[i] = model.RecoveryCode{LookupTag: secrets.UserTag(r.tagKey, u.ID, c), Hash: hash}
	}
	var ev model.AuditEvent
	err = r.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.LockUser(ctx, u.ID); err != nil {
			return err
		}
		voided, err := tx.ReplaceRecoveryCodes(ctx, u.ID, rows)
		if err != nil {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.RecoveryCodesGenerated,
			RemoteIP: ip, Detail: strconv.Itoa(len(rows)) + " codes; " + strconv.FormatInt(voided, 10) + " unused old codes voided"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("core: generating recovery codes: %w", err)
	}
	r.audit.Logged(ev)
	return codes, nil
}

// Left counts the user's unused recovery codes.
func (r *RecoveryCodes) Left(ctx context.Context, userID int64) (int, error) {
	n, _, err := r.store.RecoveryCodeCounts(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("core: recovery codes: %w", err)
	}
	return n, nil
}

// recoveryCheck is a typed recovery code judged outside any transaction:
// the code it matched (nil: none).
type recoveryCheck struct {
	code *model.RecoveryCode
}

// judge finds the user's unused code the typed one's tag names and
// compares the typed code with its hash: exactly one bcrypt, against a
// dummy hash when the input is no code or no unused code has its tag.
func (r *RecoveryCodes) judge(ctx context.Context, userID int64, typed string) (recoveryCheck, error) {
	var found *model.RecoveryCode
	normalized, ok := recoverycode.Normalize(typed)
	if ok {
		c, err := r.store.RecoveryCodeByTag(ctx, userID, secrets.UserTag(r.tagKey, userID, normalized))
		switch {
		case errors.Is(err, model.ErrNotFound):
		case err != nil:
			return recoveryCheck{}, fmt.Errorf("core: recovery code: %w", err)
		default:
			found = c
		}
	}
	hash := ""
	if found != nil {
		hash = found.Hash
	}
	matched, err := r.verify(ctx, hash, normalized)
	if err != nil {
		return recoveryCheck{}, err
	}
	if found == nil || !matched {
		return recoveryCheck{}, nil
	}
	return recoveryCheck{code: found}, nil
}

// use marks the matched code used in tx (refused, ReasonCodeReused, when
// another sign-in used it meanwhile) and counts the codes left.
func (c recoveryCheck) use(ctx context.Context, tx store.Tx, userID int64, at time.Time, ip string) (Reason, int, error) {
	if c.code == nil {
		return ReasonWrongCode, 0, nil
	}
	err := tx.UseRecoveryCode(ctx, userID, c.code.ID, at, ip)
	if errors.Is(err, model.ErrNotFound) {
		return ReasonCodeReused, 0, nil
	}
	if err != nil {
		return ReasonNone, 0, err
	}
	left, err := tx.RecoveryCodesLeft(ctx, userID)
	return ReasonNone, left, err
}

// recoveryHasherOf is h as a recoveryHasher; nil (a core without
// sign-ins: the CLI's) stays nil.
func recoveryHasherOf(h *password.Hasher) recoveryHasher {
	if h == nil {
		return nil
	}
	return h
}

// Have reports whether the user has a set of recovery codes, used up or
// not.
func (r *RecoveryCodes) Have(ctx context.Context, userID int64) (bool, error) {
	_, n, err := r.store.RecoveryCodeCounts(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("core: recovery codes: %w", err)
	}
	return n > 0, nil
}
