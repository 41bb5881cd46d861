-- 0010_recovery_codes: saved recovery codes and the announcements of
-- recoveries. A user has at most one set of codes (regenerating replaces
-- it); each code is a bcrypt hash found by a keyed lookup tag (HMAC of
-- the user and the code), as app passwords are, and is used once
-- (used_at). A recovery (a code or a Temporary Access Pass used to sign
-- in) leaves a notice the user sees on Security info until dismissed and
-- once at their next sign-in.

CREATE TABLE recovery_codes (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	lookup_tag BLOB    NOT NULL,
	hash       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	used_at    INTEGER,
	used_ip    TEXT    NOT NULL DEFAULT '',
	UNIQUE (user_id, lookup_tag)
) STRICT;

CREATE TABLE recovery_notices (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind             TEXT    NOT NULL CHECK (kind IN ('recovery code', 'access pass')),
	remote_ip        TEXT    NOT NULL DEFAULT '',
	site             TEXT    NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	shown_at_sign_in INTEGER,
	dismissed_at     INTEGER
) STRICT;

CREATE INDEX recovery_notices_user_id ON recovery_notices (user_id, created_at, id);
