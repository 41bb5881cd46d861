package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// Passkeys and security keys (WebAuthn): the users' handles, their
// credentials and the pending ceremonies' challenges (migration 0009).

const webAuthnCredentialColumns = `id, user_id, credential_id, public_key, attestation_type, aaguid, sign_count,
	name, rp_id, transports, user_verified, backup_eligible, backup_state, discoverable, created_at, last_used_at`

func scanWebAuthnCredential(r scanner) (*model.WebAuthnCredential, error) {
	var c model.WebAuthnCredential
	var signCount int64
	var transports string
	var created, used dbTime
	if err := r.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.PublicKey, &c.AttestationType, &c.AAGUID, &signCount,
		&c.Name, &c.RPID, &transports, &c.UserVerified, &c.BackupEligible, &c.BackupState, &c.Discoverable,
		&created, &used); err != nil {
		return nil, err
	}
	if signCount < 0 || signCount > int64(^uint32(0)) {
		return nil, fmt.Errorf("credential %d: sign count %d out of range", c.ID, signCount)
	}
	c.SignCount = uint32(signCount)
	if transports != "" {
		c.Transports = strings.Split(transports, ",")
	}
	c.CreatedAt, c.LastUsedAt = created.t, used.t
	return &c, nil
}

// flag stores a bool in the 0/1 integer columns.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// webAuthnCredentials lists the user's credentials, oldest first.
func (s *Store) webAuthnCredentials(ctx context.Context, x db, userID int64) ([]model.WebAuthnCredential, error) {
	rows, err := s.query(ctx, x, "SELECT "+webAuthnCredentialColumns+
		" FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id", userID)
	return scanAll(rows, err, scanWebAuthnCredential)
}

// WebAuthnCredentials lists a user's passkeys and security keys, oldest
// first.
func (s *Store) WebAuthnCredentials(ctx context.Context, userID int64) ([]model.WebAuthnCredential, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	out, err := s.webAuthnCredentials(ctx, s.r, userID)
	if err != nil {
		return nil, s.wrap(ctx, "list webauthn credentials", err)
	}
	return out, nil
}

// WebAuthnUserHandle inserts fresh as the user's handle unless one is
// stored (ON CONFLICT DO NOTHING: concurrent first uses on any node keep
// one), then reads the stored one.
func (t *tx) WebAuthnUserHandle(ctx context.Context, userID int64, fresh []byte) ([]byte, error) {
	s := t.s
	if len(fresh) != 32 {
		return nil, fmt.Errorf("%s: webauthn user handle: want 32 bytes, got %d", s.d.Name, len(fresh))
	}
	if _, err := s.exec(ctx, t.tx, `INSERT INTO webauthn_user_handles (user_id, handle, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO NOTHING`, userID, fresh, s.tm(Now())); err != nil {
		return nil, t.wrap(ctx, "webauthn user handle", err)
	}
	var handle []byte
	err := s.row(ctx, t.tx, "SELECT handle FROM webauthn_user_handles WHERE user_id = ?", userID).Scan(&handle)
	if err != nil {
		return nil, t.wrap(ctx, "webauthn user handle", err)
	}
	return handle, nil
}

// WebAuthnCredentials lists the user's credentials in the transaction.
func (t *tx) WebAuthnCredentials(ctx context.Context, userID int64) ([]model.WebAuthnCredential, error) {
	out, err := t.s.webAuthnCredentials(ctx, t.tx, userID)
	if err != nil {
		return nil, t.wrap(ctx, "list webauthn credentials", err)
	}
	return out, nil
}

// AddWebAuthnCredential inserts a credential unless its credential ID is
// registered already, to anyone (model.ErrConflict). ON CONFLICT DO
// NOTHING rather than a unique violation keeps the transaction usable on
// PostgreSQL, so the caller can still commit the rest (the challenge it
// consumed, an audit row).
func (t *tx) AddWebAuthnCredential(ctx context.Context, c *model.WebAuthnCredential) error {
	s := t.s
	if len(c.CredentialID) == 0 || len(c.PublicKey) == 0 || c.RPID == "" {
		return fmt.Errorf("%s: add webauthn credential: credential ID, public key and RP ID are required", s.d.Name)
	}
	at := Now()
	var id int64
	err := s.row(ctx, t.tx, `INSERT INTO webauthn_credentials (user_id, credential_id, public_key, attestation_type,
		aaguid, sign_count, name, rp_id, transports, user_verified, backup_eligible, backup_state, discoverable, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (credential_id) DO NOTHING RETURNING id`,
		c.UserID, c.CredentialID, c.PublicKey, c.AttestationType, nonNilBlob(c.AAGUID), int64(c.SignCount), c.Name,
		c.RPID, strings.Join(c.Transports, ","), flag(c.UserVerified), flag(c.BackupEligible), flag(c.BackupState),
		flag(c.Discoverable), s.tm(at)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("%w: the credential ID is registered already", model.ErrConflict)
	}
	if err != nil {
		return t.wrap(ctx, "add webauthn credential", err)
	}
	c.ID, c.CreatedAt = id, at
	return nil
}

// UseWebAuthnCredential records an assertion.
func (t *tx) UseWebAuthnCredential(ctx context.Context, userID, id int64, signCount uint32, userVerified, backupState bool, at time.Time) error {
	s := t.s
	err := s.execOne(ctx, t.tx, `UPDATE webauthn_credentials SET sign_count = ?, user_verified = ?, backup_state = ?,
		last_used_at = ? WHERE id = ? AND user_id = ?`,
		int64(signCount), flag(userVerified), flag(backupState), s.tm(normTime(at)), id, userID)
	return t.wrap(ctx, "use webauthn credential", err)
}

// DeleteWebAuthnCredential deletes one credential of the user.
func (t *tx) DeleteWebAuthnCredential(ctx context.Context, userID, id int64) error {
	err := t.s.execOne(ctx, t.tx, "DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?", id, userID)
	return t.wrap(ctx, "delete webauthn credential", err)
}

// RenameWebAuthnCredential names one credential of the user.
func (t *tx) RenameWebAuthnCredential(ctx context.Context, userID, id int64, name string) error {
	err := t.s.execOne(ctx, t.tx, "UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?", name, id, userID)
	return t.wrap(ctx, "rename webauthn credential", err)
}

// PutWebAuthnChallenge replaces the session's pending ceremony of c's
// kind, after deleting every expired challenge.
func (t *tx) PutWebAuthnChallenge(ctx context.Context, c *model.WebAuthnChallenge, now time.Time) error {
	s := t.s
	if len(c.SessionHash) == 0 || len(c.Data) == 0 {
		return fmt.Errorf("%s: put webauthn challenge: session hash and data are required", s.d.Name)
	}
	if _, err := s.exec(ctx, t.tx, "DELETE FROM webauthn_challenges WHERE expires_at < ?", s.tm(now)); err != nil {
		return t.wrap(ctx, "put webauthn challenge", err)
	}
	if _, err := s.exec(ctx, t.tx, "DELETE FROM webauthn_challenges WHERE session_hash = ? AND ceremony = ?",
		c.SessionHash, string(c.Ceremony)); err != nil {
		return t.wrap(ctx, "put webauthn challenge", err)
	}
	created := normTime(c.CreatedAt)
	_, err := s.exec(ctx, t.tx, `INSERT INTO webauthn_challenges (session_hash, ceremony, user_id, data, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, c.SessionHash, string(c.Ceremony), c.UserID, c.Data, s.tm(created), s.tm(c.ExpiresAt))
	if err != nil {
		return t.wrap(ctx, "put webauthn challenge", err)
	}
	c.CreatedAt, c.ExpiresAt = created, stored(c.ExpiresAt)
	return nil
}

// TakeWebAuthnChallenge deletes and returns a pending ceremony in one
// statement (DELETE … RETURNING): of two takes, the second waits for the
// first's row lock (PostgreSQL) or the write lock (SQLite) and then finds
// nothing.
func (t *tx) TakeWebAuthnChallenge(ctx context.Context, sessionHash []byte, ceremony model.WebAuthnCeremony) (*model.WebAuthnChallenge, error) {
	s := t.s
	c := model.WebAuthnChallenge{Ceremony: ceremony}
	var created, expires dbTime
	err := s.row(ctx, t.tx, `DELETE FROM webauthn_challenges WHERE session_hash = ? AND ceremony = ?
		RETURNING session_hash, user_id, data, created_at, expires_at`, nonNilBlob(sessionHash), string(ceremony)).
		Scan(&c.SessionHash, &c.UserID, &c.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.wrap(ctx, "take webauthn challenge", model.ErrNotFound)
	}
	if err != nil {
		return nil, t.wrap(ctx, "take webauthn challenge", err)
	}
	c.CreatedAt, c.ExpiresAt = created.t, expires.t
	return &c, nil
}

// WebAuthnUserByHandle returns the ID of the user whose WebAuthn user
// handle is handle.
func (s *Store) WebAuthnUserByHandle(ctx context.Context, handle []byte) (int64, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var id int64
	err := s.row(ctx, s.r, "SELECT user_id FROM webauthn_user_handles WHERE handle = ?", nonNilBlob(handle)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = model.ErrNotFound
	}
	if err != nil {
		return 0, s.wrap(ctx, "webauthn user by handle", err)
	}
	return id, nil
}

// UsePasskeyChallenge records a passwordless challenge as used, after
// deleting the rows whose challenge has expired. Of two records of one
// challenge, on any node, the second inserts nothing (ON CONFLICT DO
// NOTHING: it waits for the first's row lock on PostgreSQL, the write
// lock on SQLite) and gets model.ErrConflict.
func (t *tx) UsePasskeyChallenge(ctx context.Context, challengeHash []byte, expiresAt, now time.Time) error {
	s := t.s
	if len(challengeHash) != 32 {
		return fmt.Errorf("%s: use passkey challenge: want a 32-byte hash, got %d bytes", s.d.Name, len(challengeHash))
	}
	if _, err := s.exec(ctx, t.tx, "DELETE FROM passkey_used_challenges WHERE expires_at < ?", s.tm(normTime(now))); err != nil {
		return t.wrap(ctx, "use passkey challenge", err)
	}
	res, err := s.exec(ctx, t.tx, `INSERT INTO passkey_used_challenges (challenge_hash, expires_at) VALUES (?, ?)
		ON CONFLICT (challenge_hash) DO NOTHING`, challengeHash, s.tm(normTime(expiresAt)))
	if err != nil {
		return t.wrap(ctx, "use passkey challenge", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.wrap(ctx, "use passkey challenge", err)
	}
	if n == 0 {
		return t.wrap(ctx, "use passkey challenge", fmt.Errorf("%w: the challenge was used already", model.ErrConflict))
	}
	return nil
}
