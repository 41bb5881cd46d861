-- 0002_app_passwords: default sign-in method per user, and app passwords
-- (server-generated passwords for clients that only speak HTTP basic auth).
-- Mirrors store/sqlite/migrations/0002_app_passwords.sql.

-- Existing users get '' (no default chosen). The store validates the value
-- in Go as well.
ALTER TABLE users ADD COLUMN default_method text NOT NULL DEFAULT ''
	CONSTRAINT users_default_method_check CHECK (default_method IN ('', 'code', 'push'));

-- Only hashes are stored: hash (bcrypt) proves the password, lookup_tag (an
-- HMAC under a server key) finds the one row to check.
CREATE TABLE app_passwords (
	id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         text        NOT NULL,
	hash         text        NOT NULL,
	lookup_tag   bytea       NOT NULL CHECK (octet_length(lookup_tag) > 0),
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	last_used_ip text        NOT NULL DEFAULT '',
	UNIQUE (user_id, lookup_tag)
);

-- Per-user listing (oldest first), counting for the limit, cascade deletes.
CREATE INDEX app_passwords_user_id ON app_passwords (user_id, created_at, id);
