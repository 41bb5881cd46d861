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

// CreatePairing stores p and voids the user's earlier pairings and the
// inactive devices registered through them, in one transaction.
func (s *Store) CreatePairing(ctx context.Context, p *model.Pairing) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := Now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := s.deletePairings(ctx, tx, "user_id = ?", p.UserID); err != nil {
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

// deletePairings deletes the pairings matching cond and the inactive
// devices waiting on them, links locked first (ConfirmPairing's order).
func (s *Store) deletePairings(ctx context.Context, tx *sql.Tx, cond string, args ...any) error {
	if err := s.lockPairings(ctx, tx, cond, args...); err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx, `DELETE FROM devices WHERE active = 0 AND id IN
		(SELECT device_id FROM pairing_devices WHERE token_hash IN (SELECT token_hash FROM pairings WHERE `+cond+`))`, args...); err != nil {
		return err
	}
	_, err := s.exec(ctx, tx, "DELETE FROM pairings WHERE "+cond, args...)
	return err
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

const pairingColumns = `token_hash, user_id, session_hash, created_at, expires_at, attempts, manifest_token,
	(SELECT count(*) FROM pairing_devices r WHERE r.token_hash = pairings.token_hash)`

func scanPairing(r scanner) (*model.Pairing, error) {
	var p model.Pairing
	var created, expires dbTime
	if err := r.Scan(&p.TokenHash, &p.UserID, &p.SessionHash, &created, &expires, &p.Attempts, &p.ManifestToken, &p.Waiting); err != nil {
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt = created.t, expires.t
	if len(p.ManifestToken) == 0 {
		p.ManifestToken = nil
	}
	return &p, nil
}

// lockedPairing reads the pairing matching cond, locked for the rest of
// tx. (PostgreSQL locks no row of a query with an aggregate, so the lock
// is taken by its own statement.)
func (s *Store) lockedPairing(ctx context.Context, tx *sql.Tx, cond string, args ...any) (*model.Pairing, error) {
	if err := s.lockPairings(ctx, tx, cond, args...); err != nil {
		return nil, err
	}
	return scanPairing(s.row(ctx, tx, "SELECT "+pairingColumns+" FROM pairings WHERE "+cond, args...))
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

// SetPairingManifest records the install manifest's handle hash and
// sealed token on an unexpired pairing.
func (s *Store) SetPairingManifest(ctx context.Context, tokenHash, manifestHash, sealedToken []byte, now time.Time) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	err := s.execOne(ctx, s.w, "UPDATE pairings SET manifest_hash = ?, manifest_token = ? WHERE token_hash = ? AND expires_at > ?",
		nonNilBlob(manifestHash), nonNilBlob(sealedToken), nonNilBlob(tokenHash), s.tm(now))
	return s.wrap(ctx, "set pairing manifest", err)
}

// PairingByManifest returns the pairing whose manifest handle hashes to
// manifestHash.
func (s *Store) PairingByManifest(ctx context.Context, manifestHash []byte) (*model.Pairing, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	p, err := scanPairing(s.row(ctx, s.r, "SELECT "+pairingColumns+" FROM pairings WHERE manifest_hash = ?", nonNilBlob(manifestHash)))
	if err != nil {
		return nil, s.wrap(ctx, "pairing by manifest", err)
	}
	return p, nil
}

// RegisterDevice stores d, inactive, through pairing tokenHash; see
// store.Store.RegisterDevice.
func (s *Store) RegisterDevice(ctx context.Context, tokenHash []byte, d *model.Device, codeHash []byte, now time.Time, limit, maxWaiting int) error {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	t := Now()
	var userID, id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, err := s.lockedPairing(ctx, tx, "token_hash = ?", nonNilBlob(tokenHash))
		if err != nil {
			return err
		}
		if p.Waiting >= maxWaiting || !now.Before(p.ExpiresAt) {
			return fmt.Errorf("%w: the pairing link has %d phones waiting or has expired", model.ErrNotFound, p.Waiting)
		}
		// Active devices count: phones waiting on the link are no
		// method, and its confirmation keeps one of them only.
		var active int
		if err := s.lockUserRow(ctx, tx, p.UserID); err != nil {
			return err
		}
		if err := s.row(ctx, tx, "SELECT count(*) FROM devices WHERE user_id = ? AND active = 1", p.UserID).Scan(&active); err != nil {
			return err
		}
		if active >= limit {
			return fmt.Errorf("%w: the user has %d devices", model.ErrLimit, active)
		}
		if err := s.row(ctx, tx, `INSERT INTO devices (user_id, name, public_key, push, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, p.UserID, d.Name, nonNilBlob(d.PublicKey), nullBlob(d.Push), s.tm(t)).Scan(&id); err != nil {
			return err
		}
		userID = p.UserID
		_, err = s.exec(ctx, tx, "INSERT INTO pairing_devices (device_id, token_hash, code_hash) VALUES (?, ?, ?)",
			id, nonNilBlob(tokenHash), nonNilBlob(codeHash))
		return err
	})
	if err != nil {
		return s.wrap(ctx, "register device", err)
	}
	d.ID, d.UserID, d.CreatedAt, d.Active = id, userID, t, false
	return nil
}

// confirmPairing activates, in tx, the device waiting on the user's link
// made by sessionHash whose code hashes to codeHash, and deletes the link
// with the other phones waiting on it; it returns the device's ID. A wrong
// code is model.ErrConflict, counted on the link (at maxAttempts the link
// and its phones go) in tx.
func (s *Store) confirmPairing(ctx context.Context, tx *sql.Tx, userID int64, sessionHash, codeHash []byte, now time.Time, maxAttempts int) (int64, error) {
	p, err := s.lockedPairing(ctx, tx, "user_id = ? AND session_hash = ?", userID, nonNilBlob(sessionHash))
	if err != nil {
		return 0, err
	}
	if p.Waiting == 0 || !now.Before(p.ExpiresAt) {
		return 0, fmt.Errorf("%w: no phone has registered through the link, or it has expired", model.ErrNotFound)
	}
	deviceID, err := s.waitingDevice(ctx, tx, p.TokenHash, codeHash)
	if err != nil {
		return 0, err
	}
	if deviceID == 0 {
		if err := s.countWrongCode(ctx, tx, p, maxAttempts); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%w: wrong confirmation code", model.ErrConflict)
	}
	if err := s.execOne(ctx, tx, "UPDATE devices SET active = 1, activated_at = ? WHERE id = ?", s.tm(Now()), deviceID); err != nil {
		return 0, err
	}
	return deviceID, s.deletePairings(ctx, tx, "token_hash = ?", p.TokenHash)
}

// waitingDevice returns the device waiting on link tokenHash whose code
// hashes to codeHash (compared in constant time), or 0.
func (s *Store) waitingDevice(ctx context.Context, tx *sql.Tx, tokenHash, codeHash []byte) (int64, error) {
	rows, err := s.query(ctx, tx, "SELECT device_id, code_hash FROM pairing_devices WHERE token_hash = ?", nonNilBlob(tokenHash))
	if err != nil {
		return 0, err
	}
	var found int64
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return 0, errors.Join(err, rows.Close())
		}
		if subtle.ConstantTimeCompare(h, codeHash) == 1 {
			found = id
		}
	}
	return found, errors.Join(rows.Err(), rows.Close())
}

// countWrongCode counts a wrong confirmation code on p; at maxAttempts the
// pairing and its devices go.
func (s *Store) countWrongCode(ctx context.Context, tx *sql.Tx, p *model.Pairing, maxAttempts int) error {
	if p.Attempts+1 < maxAttempts {
		_, err := s.exec(ctx, tx, "UPDATE pairings SET attempts = attempts + 1 WHERE token_hash = ?", p.TokenHash)
		return err
	}
	return s.deletePairings(ctx, tx, "token_hash = ?", p.TokenHash)
}

// LockPairings locks the user's pairing links.
func (t *tx) LockPairings(ctx context.Context, userID int64) error {
	return t.wrap(ctx, "lock pairings", t.s.lockPairings(ctx, t.tx, "user_id = ?", userID))
}

// ConfirmPairing activates the phone showing the code.
func (t *tx) ConfirmPairing(ctx context.Context, userID int64, sessionHash, codeHash []byte, now time.Time, maxAttempts int) (*model.Device, error) {
	id, err := t.s.confirmPairing(ctx, t.tx, userID, sessionHash, codeHash, now, maxAttempts)
	if err != nil {
		return nil, t.wrap(ctx, "confirm pairing", err)
	}
	d, err := scanDevice(t.s.row(ctx, t.tx, "SELECT "+deviceColumns+" FROM devices WHERE id = ?", id))
	if err != nil {
		return nil, t.wrap(ctx, "confirm pairing", err)
	}
	return d, nil
}
