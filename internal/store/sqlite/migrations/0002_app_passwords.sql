-- 0002_app_passwords: default sign-in method per user, and app passwords
-- (server-generated passwords for clients that only speak HTTP basic auth).

-- Existing users get '' (no default chosen). SQLite accepts a CHECK on
-- ADD COLUMN; the store validates the value in Go as well.
ALTER TABLE users ADD COLUMN default_method TEXT NOT NULL DEFAULT ''
	CHECK (default_method IN ('', 'code', 'push'));

-- Only hashes are stored: hash (bcrypt) proves the password, lookup_tag (an
-- HMAC under a server key) finds the one row to check.
CREATE TABLE app_passwords (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	hash         TEXT    NOT NULL,
	lookup_tag   BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	last_used_ip TEXT    NOT NULL DEFAULT '',
	UNIQUE (user_id, lookup_tag)
) STRICT;

-- Per-user listing (oldest first), counting for the limit, cascade deletes.
CREATE INDEX app_passwords_user_id ON app_passwords (user_id, created_at, id);
