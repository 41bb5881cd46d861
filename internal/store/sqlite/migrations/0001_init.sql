-- 0001_init: initial schema. Times are INTEGER Unix milliseconds (UTC);
-- NULL stands for the zero time in nullable columns.

CREATE TABLE users (
	id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: audit_log keeps ids
	username       TEXT    NOT NULL UNIQUE CHECK (username <> ''),
	display_name   TEXT    NOT NULL DEFAULT '',
	email          TEXT    NOT NULL DEFAULT '',
	password_hash  TEXT    NOT NULL DEFAULT '',
	mfa_state      TEXT    NOT NULL CHECK (mfa_state IN ('disabled', 'enabled', 'enforced')),
	totp_last_step INTEGER NOT NULL DEFAULT -1,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE user_groups (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	grp     TEXT    NOT NULL,
	PRIMARY KEY (user_id, grp)
) STRICT, WITHOUT ROWID;

CREATE TABLE totp_authenticators (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL DEFAULT '',
	sealed_secret BLOB    NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX totp_authenticators_user_id ON totp_authenticators (user_id);

CREATE TABLE sessions (
	id_hash      BLOB    PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	stage        TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	mfa_at       INTEGER,
	pending_totp BLOB,
	redirect_to  TEXT    NOT NULL DEFAULT '',
	remote_ip    TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);
CREATE INDEX sessions_created_at ON sessions (created_at);

CREATE TABLE failures (
	key          TEXT    PRIMARY KEY,
	count        INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	locked_until INTEGER
) STRICT, WITHOUT ROWID;

CREATE TABLE secrets (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- No foreign key on user_id: the history outlives deleted users.
CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	user_id   INTEGER,
	username  TEXT    NOT NULL DEFAULT '',
	event     TEXT    NOT NULL,
	remote_ip TEXT    NOT NULL DEFAULT '',
	detail    TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user_id ON audit_log (user_id, at);
