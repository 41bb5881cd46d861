-- 0009_webauthn: passkeys and security keys (WebAuthn). Each user gets one
-- random WebAuthn user handle (never the account's ID or name: it is sent
-- to authenticators), created on first use; credentials keep the RP ID they
-- were made for (fixed by the authenticator, so changing rp_id later makes
-- them unusable); a ceremony's challenge waits server-side, bound to the
-- browser's session record, until it is used once or expires.
-- Flags are integers 0/1, as in the other tables.

CREATE TABLE webauthn_user_handles (
	user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	handle     BLOB    NOT NULL UNIQUE CHECK (length(handle) = 32),
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE webauthn_credentials (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id    BLOB    NOT NULL UNIQUE, -- unique across users
	public_key       BLOB    NOT NULL,        -- COSE public key
	attestation_type TEXT    NOT NULL DEFAULT '',
	aaguid           BLOB    NOT NULL,        -- 16 bytes; zeros when hidden
	sign_count       INTEGER NOT NULL DEFAULT 0,
	name             TEXT    NOT NULL DEFAULT '',
	rp_id            TEXT    NOT NULL,
	transports       TEXT    NOT NULL DEFAULT '', -- comma-separated
	user_verified    INTEGER NOT NULL DEFAULT 0 CHECK (user_verified IN (0, 1)),
	backup_eligible  INTEGER NOT NULL DEFAULT 0 CHECK (backup_eligible IN (0, 1)),
	backup_state     INTEGER NOT NULL DEFAULT 0 CHECK (backup_state IN (0, 1)),
	discoverable     INTEGER NOT NULL DEFAULT 0 CHECK (discoverable IN (0, 1)),
	created_at       INTEGER NOT NULL,
	last_used_at     INTEGER
) STRICT;

CREATE INDEX webauthn_credentials_user_id ON webauthn_credentials (user_id, created_at, id);

-- One pending ceremony of each kind per session record; data is the
-- library's session data (JSON: challenge, RP ID, origin, allowed IDs).
CREATE TABLE webauthn_challenges (
	session_hash BLOB    NOT NULL,
	ceremony     TEXT    NOT NULL CHECK (ceremony IN ('register', 'assert')),
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	data         BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	PRIMARY KEY (session_hash, ceremony)
) STRICT, WITHOUT ROWID;

CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
CREATE INDEX webauthn_challenges_user_id ON webauthn_challenges (user_id);
