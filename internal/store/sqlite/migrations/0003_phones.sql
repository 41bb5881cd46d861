-- 0003_phones: paired phones (sign-in approval with number matching), the
-- one-time links that pair them, the single-use nonces their signed calls
-- carry, the approval requests, and blocked accounts.

-- Set when the user reported a sign-in request as fraud; NULL otherwise.
ALTER TABLE users ADD COLUMN blocked_at INTEGER;

CREATE TABLE devices (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	public_key   BLOB    NOT NULL,
	push         BLOB,                 -- sealed Web Push subscription
	push_dead    INTEGER NOT NULL DEFAULT 0 CHECK (push_dead IN (0, 1)),
	active       INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
	created_at   INTEGER NOT NULL,
	activated_at INTEGER,
	last_used_at INTEGER
) STRICT;

CREATE INDEX devices_user_id ON devices (user_id, created_at, id);

-- Only hashes of the link's token and of the confirmation code are kept.
CREATE TABLE pairings (
	token_hash   BLOB    PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	device_id    INTEGER REFERENCES devices (id) ON DELETE CASCADE,
	code_hash    BLOB,
	attempts     INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

CREATE INDEX pairings_user_id ON pairings (user_id);

CREATE TABLE device_nonces (
	nonce_hash BLOB    PRIMARY KEY,
	device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX device_nonces_device_id ON device_nonces (device_id, expires_at);

CREATE TABLE approvals (
	id           TEXT    PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash BLOB    NOT NULL,
	number       INTEGER NOT NULL CHECK (number BETWEEN 10 AND 99),
	status       TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	answered_at  INTEGER,
	device_id    INTEGER,
	site         TEXT    NOT NULL DEFAULT '',
	remote_ip    TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

CREATE INDEX approvals_user_id ON approvals (user_id, created_at);
CREATE INDEX approvals_session_hash ON approvals (session_hash, created_at);
CREATE INDEX approvals_created_at ON approvals (created_at);
