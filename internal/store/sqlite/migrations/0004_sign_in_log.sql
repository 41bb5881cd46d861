-- 0004_sign_in_log: every sign-in attempt, browser and basic auth, for the
-- admin's sign-in log and each user's recent activity; and why an account is
-- blocked (reported by the user, or by an admin).

-- No foreign key on user_id: the log outlives deleted users.
CREATE TABLE sign_in_log (
	id            INTEGER PRIMARY KEY,
	at            INTEGER NOT NULL,
	user_id       INTEGER,
	username      TEXT    NOT NULL DEFAULT '',
	site          TEXT    NOT NULL DEFAULT '',
	remote_ip     TEXT    NOT NULL DEFAULT '',
	user_agent    TEXT    NOT NULL DEFAULT '',
	client        TEXT    NOT NULL DEFAULT '',
	first_factor  TEXT    NOT NULL DEFAULT '',
	second_factor TEXT    NOT NULL DEFAULT '',
	result        TEXT    NOT NULL,
	reason        TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX sign_in_log_at ON sign_in_log (at);
CREATE INDEX sign_in_log_user_id ON sign_in_log (user_id, id);

ALTER TABLE users ADD COLUMN blocked_reason TEXT NOT NULL DEFAULT '';

-- Set while the password is a temporary one an admin chose: it stops
-- working then, never works in basic auth, and must be replaced after
-- sign-in. NULL for a password the user chose.
ALTER TABLE users ADD COLUMN password_expires_at INTEGER;
