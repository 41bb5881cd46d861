package sqlstore

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

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

// RenameDevice names device id of the user.
func (t *tx) RenameDevice(ctx context.Context, userID, id int64, name string) error {
	err := t.s.execOne(ctx, t.tx, "UPDATE devices SET name = ? WHERE id = ? AND user_id = ?", name, id, userID)
	return t.wrap(ctx, "rename device", err)
}

// DeleteDevice deletes one device of the user.
func (t *tx) DeleteDevice(ctx context.Context, userID, id int64) error {
	err := t.s.execOne(ctx, t.tx, "DELETE FROM devices WHERE id = ? AND user_id = ?", id, userID)
	return t.wrap(ctx, "delete device", err)
}
