package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

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
