package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// Recovery codes and the notices of recoveries (migration 0010).

const recoveryCodeColumns = `id, user_id, lookup_tag, hash, created_at, used_at, used_ip`

func scanRecoveryCode(r scanner) (*model.RecoveryCode, error) {
	var c model.RecoveryCode
	var created, used dbTime
	if err := r.Scan(&c.ID, &c.UserID, &c.LookupTag, &c.Hash, &created, &used, &c.UsedIP); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UsedAt = created.t, used.t
	return &c, nil
}

// RecoveryCodeByTag finds the user's unused code with lookup tag tag.
func (s *Store) RecoveryCodeByTag(ctx context.Context, userID int64, tag []byte) (*model.RecoveryCode, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	c, err := scanRecoveryCode(s.row(ctx, s.r, "SELECT "+recoveryCodeColumns+
		" FROM recovery_codes WHERE user_id = ? AND lookup_tag = ? AND used_at IS NULL", userID, nonNilBlob(tag)))
	if err != nil {
		return nil, s.wrap(ctx, "recovery code by tag", err)
	}
	return c, nil
}

// countUnusedSQL counts the unused codes of user ?.
const countUnusedSQL = "SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL"

// RecoveryCodeCounts counts the user's unused codes and all their codes.
func (s *Store) RecoveryCodeCounts(ctx context.Context, userID int64) (int, int, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var left, total int
	err := s.row(ctx, s.r, "SELECT count(*) - count(used_at), count(*) FROM recovery_codes WHERE user_id = ?", userID).Scan(&left, &total)
	if err != nil {
		return 0, 0, s.wrap(ctx, "count recovery codes", err)
	}
	return left, total, nil
}

// RecoveryCodesLeft counts the user's unused codes in the transaction.
func (t *tx) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	err := t.s.row(ctx, t.tx, countUnusedSQL, userID).Scan(&n)
	return n, t.wrap(ctx, "count recovery codes", err)
}

// ReplaceRecoveryCodes replaces the user's codes by codes.
func (t *tx) ReplaceRecoveryCodes(ctx context.Context, userID int64, codes []model.RecoveryCode) (int64, error) {
	s := t.s
	voided, err := t.DeleteRecoveryCodes(ctx, userID)
	if err != nil {
		return 0, err
	}
	at := Now()
	for i := range codes {
		c := &codes[i]
		if len(c.LookupTag) == 0 || c.Hash == "" {
			return 0, fmt.Errorf("%s: add recovery code: lookup tag and hash are required", s.d.Name)
		}
		var id int64
		err := s.row(ctx, t.tx, "INSERT INTO recovery_codes (user_id, lookup_tag, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			userID, c.LookupTag, c.Hash, s.tm(at)).Scan(&id)
		if err != nil {
			return 0, t.wrap(ctx, "add recovery code", err)
		}
		c.ID, c.UserID, c.CreatedAt = id, userID, at
	}
	return voided, nil
}

// UseRecoveryCode marks an unused code used.
func (t *tx) UseRecoveryCode(ctx context.Context, userID, id int64, at time.Time, ip string) error {
	s := t.s
	err := s.execOne(ctx, t.tx, "UPDATE recovery_codes SET used_at = ?, used_ip = ? WHERE id = ? AND user_id = ? AND used_at IS NULL",
		s.tm(normTime(at)), ip, id, userID)
	return t.wrap(ctx, "use recovery code", err)
}

// DeleteRecoveryCodes deletes the user's codes and counts the unused
// ones that went.
func (t *tx) DeleteRecoveryCodes(ctx context.Context, userID int64) (int64, error) {
	n, err := t.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		return 0, err
	}
	if _, err := t.s.exec(ctx, t.tx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return 0, t.wrap(ctx, "delete recovery codes", err)
	}
	return int64(n), nil
}

const recoveryNoticeColumns = `id, user_id, kind, remote_ip, site, created_at, shown_at_sign_in, dismissed_at`

func scanRecoveryNotice(r scanner) (*model.RecoveryNotice, error) {
	var n model.RecoveryNotice
	var kind string
	var created, shown, dismissed dbTime
	if err := r.Scan(&n.ID, &n.UserID, &kind, &n.RemoteIP, &n.Site, &created, &shown, &dismissed); err != nil {
		return nil, err
	}
	n.Kind = model.RecoveryKind(kind)
	n.CreatedAt, n.ShownAtSignIn, n.DismissedAt = created.t, shown.t, dismissed.t
	return &n, nil
}

// RecoveryNotices lists the user's notices not dismissed, newest first.
func (s *Store) RecoveryNotices(ctx context.Context, userID int64) ([]model.RecoveryNotice, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	rows, err := s.query(ctx, s.r, "SELECT "+recoveryNoticeColumns+
		" FROM recovery_notices WHERE user_id = ? AND dismissed_at IS NULL ORDER BY created_at DESC, id DESC", userID)
	out, err := scanAll(rows, err, scanRecoveryNotice)
	if err != nil {
		return nil, s.wrap(ctx, "list recovery notices", err)
	}
	return out, nil
}

// AddRecoveryNotice inserts n and sets n.ID (and n.CreatedAt when zero).
func (t *tx) AddRecoveryNotice(ctx context.Context, n *model.RecoveryNotice) error {
	s := t.s
	if n.Kind != model.RecoveryByCode && n.Kind != model.RecoveryByPass {
		return fmt.Errorf("%s: add recovery notice: unknown kind %q", s.d.Name, n.Kind)
	}
	n.CreatedAt = normTime(n.CreatedAt)
	err := s.row(ctx, t.tx, "INSERT INTO recovery_notices (user_id, kind, remote_ip, site, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		n.UserID, string(n.Kind), n.RemoteIP, n.Site, s.tm(n.CreatedAt)).Scan(&n.ID)
	return t.wrap(ctx, "add recovery notice", err)
}

// DismissRecoveryNotices dismisses the user's notices.
func (t *tx) DismissRecoveryNotices(ctx context.Context, userID int64, at time.Time) (int64, error) {
	s := t.s
	n, err := s.count(ctx, t.tx, "UPDATE recovery_notices SET dismissed_at = ? WHERE user_id = ? AND dismissed_at IS NULL",
		s.tm(normTime(at)), userID)
	return n, t.wrap(ctx, "dismiss recovery notices", err)
}

// MarkRecoveryNoticesShown marks the notices made before since that no
// sign-in has shown yet.
func (t *tx) MarkRecoveryNoticesShown(ctx context.Context, userID int64, since, at time.Time) (int64, error) {
	s := t.s
	n, err := s.count(ctx, t.tx, `UPDATE recovery_notices SET shown_at_sign_in = ?
		WHERE user_id = ? AND shown_at_sign_in IS NULL AND created_at < ?`, s.tm(normTime(at)), userID, s.tm(since))
	return n, t.wrap(ctx, "mark recovery notices shown", err)
}
