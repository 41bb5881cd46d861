package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const signInColumns = `id, at, user_id, username, site, remote_ip, user_agent, client, first_factor, second_factor, result, reason`

// AppendSignIn stores a sign-in log row and sets e.ID (and e.At when
// zero). UserID 0 is stored as NULL. A success also becomes its user's
// last sign-in (users.last_sign_in_at), in the same transaction, so the
// admin center's sort by last sign-in reads one column, and sets the
// user's consecutive failed sign-ins back to 0 (a successful sign-in
// ends a run of failures).
func (s *Store) AppendSignIn(ctx context.Context, e *model.SignIn) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.appendSignIn(ctx, tx, e)
	})
	return s.wrap(ctx, "append sign-in", err)
}

// appendSignIn inserts the row and, for a success, sets the user's last
// sign-in, in transaction tx.
func (s *Store) appendSignIn(ctx context.Context, tx *sql.Tx, e *model.SignIn) error {
	at := normTime(e.At)
	userID := sql.NullInt64{Int64: e.UserID, Valid: e.UserID != 0}
	var id int64
	err := s.row(ctx, tx, `INSERT INTO sign_in_log (at, user_id, username, site, remote_ip, user_agent, client,
		first_factor, second_factor, result, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.tm(at), userID, e.Username, e.Site, e.RemoteIP, e.UserAgent, e.Client, e.FirstFactor, e.SecondFactor,
		e.Result, e.Reason).Scan(&id)
	if err != nil {
		return err
	}
	e.ID, e.At = id, at
	if e.Result != model.SignInSuccess || !userID.Valid {
		return nil
	}
	// The user may be gone (the log outlives users): no row, no error.
	_, err = s.exec(ctx, tx, `UPDATE users SET last_sign_in_at = ?, failed_sign_ins = 0 WHERE id = ?`, s.tm(at), userID)
	return err
}

// SignIns returns the rows f selects, newest first (by ID, which grows
// with time), at most f.Limit (all when <= 0).
func (s *Store) SignIns(ctx context.Context, f model.SignInFilter) ([]model.SignIn, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var cond []string
	var args []any
	add := func(c string, a any) {
		cond = append(cond, c)
		args = append(args, a)
	}
	if f.UserID != 0 {
		add("user_id = ?", f.UserID)
	}
	if f.Result != "" {
		add("result = ?", f.Result)
	}
	if f.Site != "" {
		add("site = ?", f.Site)
	}
	if !f.Since.IsZero() {
		add("at >= ?", s.tm(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", s.tm(f.Until))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	q := "SELECT " + signInColumns + " FROM sign_in_log"
	if len(cond) > 0 {
		q += " WHERE " + strings.Join(cond, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	if f.Limit > 0 {
		args = append(args, int64(f.Limit))
	} else {
		args = append(args, s.d.NoLimit)
	}
	rows, err := s.query(ctx, s.r, q, args...)
	out, err := scanAll(rows, err, func(r scanner) (*model.SignIn, error) {
		var e model.SignIn
		var at dbTime
		var uid sql.NullInt64
		err := r.Scan(&e.ID, &at, &uid, &e.Username, &e.Site, &e.RemoteIP, &e.UserAgent, &e.Client,
			&e.FirstFactor, &e.SecondFactor, &e.Result, &e.Reason)
		e.At, e.UserID = at.t, uid.Int64
		return &e, err
	})
	if err != nil {
		return nil, s.wrap(ctx, "sign-ins", err)
	}
	return out, nil
}

// DeleteSignInsBefore deletes at most batch rows older than before (the
// oldest first) and says how many; small batches keep each transaction
// short on a busy log.
func (s *Store) DeleteSignInsBefore(ctx context.Context, before time.Time, batch int) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	n, err := s.count(ctx, s.w, `DELETE FROM sign_in_log WHERE id IN
		(SELECT id FROM sign_in_log WHERE at < ? ORDER BY id LIMIT ?)`, s.tm(before), int64(batch))
	if err != nil {
		return 0, s.wrap(ctx, "delete old sign-ins", err)
	}
	return n, nil
}

// AppendSignIn stores a sign-in log row.
func (t *tx) AppendSignIn(ctx context.Context, e *model.SignIn) error {
	return t.wrap(ctx, "append sign-in", t.s.appendSignIn(ctx, t.tx, e))
}
