-- 0011_access_passes: Temporary Access Passes. An admin issues a user a
-- pass (shown once, stored as a bcrypt hash) that signs them in to
-- Security info only, to register a new method. A user has at most one
-- (user_id is unique: issuing a new one replaces the old). A one-time
-- pass (once = 1) counts as used once uses > 0.

CREATE TABLE access_passes (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
	hash         TEXT    NOT NULL,
	once         INTEGER NOT NULL DEFAULT 0 CHECK (once IN (0, 1)),
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	uses         INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER,
	issued_by    TEXT    NOT NULL DEFAULT ''
) STRICT;
