package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// SetBlocked blocks (at non-zero) or unblocks (zero) a user's sign-in;
// blocking ends the user's sessions in the same transaction.
func (s *Store) SetBlocked(ctx context.Context, userID int64, at time.Time, reason string) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.setBlocked(ctx, tx, userID, at, reason)
	})
	return s.wrap(ctx, "set blocked", err)
}

func (s *Store) setBlocked(ctx context.Context, tx *sql.Tx, userID int64, at time.Time, reason string) error {
	if at.IsZero() {
		reason = ""
	}
	if err := s.execOne(ctx, tx, "UPDATE users SET blocked_at = ?, blocked_reason = ?, updated_at = ? WHERE id = ?",
		s.nullTm(at), reason, s.tm(Now()), userID); err != nil {
		return err
	}
	if at.IsZero() {
		return nil
	}
	_, err := s.exec(ctx, tx, "DELETE FROM sessions WHERE user_id = ?", userID)
	return err
}

// DeleteAllMethods removes the user's authenticators, devices and
// pairings in one transaction and says how many methods went.
func (s *Store) DeleteAllMethods(ctx context.Context, userID int64) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Links before the user, in ConfirmPairing's order.
		if err := s.lockPairings(ctx, tx, "user_id = ?", userID); err != nil {
			return err
		}
		var one int
		if err := s.row(ctx, tx, "SELECT 1 FROM users WHERE id = ?"+s.d.LockUserRow, userID).Scan(&one); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM pairings WHERE user_id = ?", userID); err != nil {
			return err
		}
		totps, err := s.count(ctx, tx, "DELETE FROM totp_authenticators WHERE user_id = ?", userID)
		if err != nil {
			return err
		}
		devices, err := s.count(ctx, tx, "DELETE FROM devices WHERE user_id = ?", userID)
		n = totps + devices
		return err
	})
	if err != nil {
		return 0, s.wrap(ctx, "delete all methods", err)
	}
	return n, nil
}

// CreatePairing stores p and voids the user's earlier pairings and the
// inactive devices registered through them, in one transaction.
func (s *Store) CreatePairing(ctx context.Context, p *model.Pairing) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := Now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Links before devices, in ConfirmPairing's order.
		if err := s.lockPairings(ctx, tx, "user_id = ?", p.UserID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM devices WHERE active = 0 AND id IN
			(SELECT device_id FROM pairings WHERE user_id = ? AND device_id IS NOT NULL)`, p.UserID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM pairings WHERE user_id = ?", p.UserID); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, `INSERT INTO pairings (token_hash, user_id, session_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, nonNilBlob(p.TokenHash), p.UserID, nonNilBlob(p.SessionHash), s.tm(t), s.tm(p.ExpiresAt))
		return err
	})
	if err != nil {
		return s.wrap(ctx, "create pairing", err)
	}
	p.CreatedAt = t
	return nil
}

// lockPairings locks the pairings matching cond for the rest of tx. Locks
// are taken link, device, user (the order of ConfirmPairing), so whatever
// deletes devices that links refer to locks the links first.
func (s *Store) lockPairings(ctx context.Context, tx *sql.Tx, cond string, args ...any) error {
	if s.d.LockCounterRow == "" {
		return nil // write transactions are serialised
	}
	rows, err := s.query(ctx, tx, "SELECT 1 FROM pairings WHERE "+cond+s.d.LockCounterRow, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	return errors.Join(rows.Err(), rows.Close())
}

const pairingColumns = `token_hash, user_id, session_hash, created_at, expires_at, device_id, code_hash, attempts`

func scanPairing(r scanner) (*model.Pairing, error) {
	var p model.Pairing
	var created, expires dbTime
	var device sql.NullInt64
	if err := r.Scan(&p.TokenHash, &p.UserID, &p.SessionHash, &created, &expires, &device, &p.CodeHash, &p.Attempts); err != nil {
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt, p.DeviceID = created.t, expires.t, device.Int64
	if len(p.CodeHash) == 0 {
		p.CodeHash = nil
	}
	return &p, nil
}

// PairingBySession returns the user's pairing made by sessionHash.
func (s *Store) PairingBySession(ctx context.Context, userID int64, sessionHash []byte) (*model.Pairing, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	p, err := scanPairing(s.row(ctx, s.r, "SELECT "+pairingColumns+" FROM pairings WHERE user_id = ? AND session_hash = ?",
		userID, nonNilBlob(sessionHash)))
	if err != nil {
		return nil, s.wrap(ctx, "pairing by session", err)
	}
	return p, nil
}

// RegisterDevice stores d, inactive, through pairing tokenHash; see
// store.Store.RegisterDevice.
func (s *Store) RegisterDevice(ctx context.Context, tokenHash []byte, d *model.Device, codeHash []byte, now time.Time, limit int) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := Now()
	var userID, id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, err := scanPairing(s.row(ctx, tx, "SELECT "+pairingColumns+" FROM pairings WHERE token_hash = ?"+s.d.LockCounterRow, nonNilBlob(tokenHash)))
		if err != nil {
			return err
		}
		if p.DeviceID != 0 || !now.Before(p.ExpiresAt) {
			return fmt.Errorf("%w: the pairing link was used or has expired", model.ErrNotFound)
		}
		n, err := s.lockedCount(ctx, tx, "devices", p.UserID)
		if err != nil {
			return err
		}
		if n >= limit {
			return fmt.Errorf("%w: the user has %d devices", model.ErrLimit, n)
		}
		if err := s.row(ctx, tx, `INSERT INTO devices (user_id, name, public_key, push, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, p.UserID, d.Name, nonNilBlob(d.PublicKey), nullBlob(d.Push), s.tm(t)).Scan(&id); err != nil {
			return err
		}
		userID = p.UserID
		return s.execOne(ctx, tx, "UPDATE pairings SET device_id = ?, code_hash = ? WHERE token_hash = ?", id, nonNilBlob(codeHash), nonNilBlob(tokenHash))
	})
	if err != nil {
		return s.wrap(ctx, "register device", err)
	}
	d.ID, d.UserID, d.CreatedAt, d.Active = id, userID, t, false
	return nil
}

// ConfirmPairing activates the device of the session's pairing when the
// code matches; see store.Store.ConfirmPairing.
func (s *Store) ConfirmPairing(ctx context.Context, userID int64, sessionHash, codeHash []byte, now time.Time, maxAttempts int) (*model.Device, bool, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var deviceID int64
	var promoted, wrong bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, err := scanPairing(s.row(ctx, tx, "SELECT "+pairingColumns+" FROM pairings WHERE user_id = ? AND session_hash = ?"+s.d.LockCounterRow,
			userID, nonNilBlob(sessionHash)))
		if err != nil {
			return err
		}
		if p.DeviceID == 0 || !now.Before(p.ExpiresAt) {
			return fmt.Errorf("%w: no phone has registered through the link, or it has expired", model.ErrNotFound)
		}
		if subtle.ConstantTimeCompare(p.CodeHash, codeHash) != 1 {
			wrong = true
			return s.countWrongCode(ctx, tx, p, maxAttempts)
		}
		deviceID = p.DeviceID
		if err := s.execOne(ctx, tx, "UPDATE devices SET active = 1, activated_at = ? WHERE id = ?", s.tm(Now()), p.DeviceID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM pairings WHERE token_hash = ?", p.TokenHash); err != nil {
			return err
		}
		promoted, err = s.promote(ctx, tx, userID)
		return err
	})
	if err == nil && wrong {
		err = fmt.Errorf("%w: wrong confirmation code", model.ErrConflict)
	}
	if err != nil {
		return nil, false, s.wrap(ctx, "confirm pairing", err)
	}
	d, err := s.DeviceByID(ctx, deviceID)
	return d, promoted, err
}

// countWrongCode counts a wrong confirmation code on p; at maxAttempts the
// pairing and its device go.
func (s *Store) countWrongCode(ctx context.Context, tx *sql.Tx, p *model.Pairing, maxAttempts int) error {
	if p.Attempts+1 < maxAttempts {
		_, err := s.exec(ctx, tx, "UPDATE pairings SET attempts = attempts + 1 WHERE token_hash = ?", p.TokenHash)
		return err
	}
	if _, err := s.exec(ctx, tx, "DELETE FROM pairings WHERE token_hash = ?", p.TokenHash); err != nil {
		return err
	}
	_, err := s.exec(ctx, tx, "DELETE FROM devices WHERE id = ? AND active = 0", p.DeviceID)
	return err
}

// promote makes an Enabled user Enforced (registering a method does that)
// and reports whether it did.
func (s *Store) promote(ctx context.Context, tx *sql.Tx, userID int64) (bool, error) {
	n, err := s.count(ctx, tx, "UPDATE users SET mfa_state = ?, updated_at = ? WHERE id = ? AND mfa_state = ?",
		string(model.MFAEnforced), s.tm(Now()), userID, string(model.MFAEnabled))
	return n == 1, err
}

const deviceColumns = `id, user_id, name, public_key, push, push_dead, active, created_at, activated_at, last_used_at`

func scanDevice(r scanner) (*model.Device, error) {
	var d model.Device
	var created, activated, used dbTime
	if err := r.Scan(&d.ID, &d.UserID, &d.Name, &d.PublicKey, &d.Push, &d.PushDead, &d.Active, &created, &activated, &used); err != nil {
		return nil, err
	}
	d.CreatedAt, d.ActivatedAt, d.LastUsedAt = created.t, activated.t, used.t
	if len(d.Push) == 0 {
		d.Push = nil
	}
	return &d, nil
}

// Devices lists a user's devices, oldest first.
func (s *Store) Devices(ctx context.Context, userID int64) ([]model.Device, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	rows, err := s.query(ctx, s.r, "SELECT "+deviceColumns+" FROM devices WHERE user_id = ? ORDER BY created_at, id", userID)
	out, err := scanAll(rows, err, scanDevice)
	if err != nil {
		return nil, s.wrap(ctx, "list devices", err)
	}
	return out, nil
}

// DeviceByID returns a device; model.ErrNotFound otherwise.
func (s *Store) DeviceByID(ctx context.Context, id int64) (*model.Device, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	d, err := scanDevice(s.row(ctx, s.r, "SELECT "+deviceColumns+" FROM devices WHERE id = ?", id))
	if err != nil {
		return nil, s.wrap(ctx, "device by id", err)
	}
	return d, nil
}

// SetDevicePush replaces the sealed subscription and clears push_dead.
func (s *Store) SetDevicePush(ctx context.Context, id int64, sealed []byte) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.execOne(ctx, s.w, "UPDATE devices SET push = ?, push_dead = 0 WHERE id = ?", nullBlob(sealed), id)
	return s.wrap(ctx, "set device push", err)
}

// MarkPushDead records that the device's subscription is gone.
func (s *Store) MarkPushDead(ctx context.Context, id int64) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err := s.exec(ctx, s.w, "UPDATE devices SET push_dead = 1 WHERE id = ?", id)
	return s.wrap(ctx, "mark push dead", err)
}

// TouchDevice records a use.
func (s *Store) TouchDevice(ctx context.Context, id int64, at time.Time) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.execOne(ctx, s.w, "UPDATE devices SET last_used_at = ? WHERE id = ?", s.tm(at), id)
	return s.wrap(ctx, "touch device", err)
}

// DeleteDevice removes one device of the user; with keepOne, under the
// user's row lock, not the last method.
func (s *Store) DeleteDevice(ctx context.Context, userID, id int64, keepOne bool, keepSession []byte) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Lock the link the device may wait on first, as ConfirmPairing
		// does (link, device, user): its confirmation can then neither
		// activate the device between the check below and the delete
		// (letting a concurrent DeleteTOTP remove the last method) nor
		// deadlock with the delete's cascade to the link.
		if err := s.lockPairings(ctx, tx, "user_id = ? AND device_id = ?", userID, id); err != nil {
			return err
		}
		if keepOne {
			var active bool
			err := s.row(ctx, tx, "SELECT active FROM devices WHERE id = ? AND user_id = ?", id, userID).Scan(&active)
			if err != nil {
				return err
			}
			// An inactive device is no method: removing it keeps the count.
			if active {
				if err := s.keepLastMethod(ctx, tx, userID); err != nil {
					return err
				}
			}
		}
		if err := s.execOne(ctx, tx, "DELETE FROM devices WHERE id = ? AND user_id = ?", id, userID); err != nil {
			return err
		}
		_, err := s.deleteSessionsBut(ctx, tx, userID, keepSession)
		return err
	})
	return s.wrap(ctx, "delete device", err)
}

// UseNonce records a used nonce unless the device holds max unexpired
// records; expired ones go first. A second use conflicts on the key.
func (s *Store) UseNonce(ctx context.Context, deviceID int64, nonceHash []byte, now, expires time.Time, max int) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := s.row(ctx, tx, "SELECT 1 FROM devices WHERE id = ?"+s.d.LockCounterRow, deviceID).Scan(&one); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "DELETE FROM device_nonces WHERE device_id = ? AND expires_at <= ?", deviceID, s.tm(now)); err != nil {
			return err
		}
		var n int
		if err := s.row(ctx, tx, "SELECT count(*) FROM device_nonces WHERE device_id = ?", deviceID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return fmt.Errorf("%w: %d nonces outstanding", model.ErrLimit, n)
		}
		_, err := s.exec(ctx, tx, "INSERT INTO device_nonces (nonce_hash, device_id, expires_at) VALUES (?, ?, ?)",
			nonNilBlob(nonceHash), deviceID, s.tm(expires))
		return err
	})
	return s.wrap(ctx, "use nonce", err)
}
