-- 0004_sign_in_log: every sign-in attempt, browser and basic auth, for the
-- admin's sign-in log and each user's recent activity; and why an account is
-- blocked (reported by the user, or by an admin).
-- Mirrors store/sqlite/migrations/0004_sign_in_log.sql.

-- No foreign key on user_id: the log outlives deleted users.
CREATE TABLE sign_in_log (
	id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at            timestamptz NOT NULL,
	user_id       bigint,
	username      text        NOT NULL DEFAULT '',
	site          text        NOT NULL DEFAULT '',
	remote_ip     text        NOT NULL DEFAULT '',
	user_agent    text        NOT NULL DEFAULT '',
	client        text        NOT NULL DEFAULT '',
	first_factor  text        NOT NULL DEFAULT '',
	second_factor text        NOT NULL DEFAULT '',
	result        text        NOT NULL,
	reason        text        NOT NULL DEFAULT ''
);

CREATE INDEX sign_in_log_at ON sign_in_log (at);
CREATE INDEX sign_in_log_user_id ON sign_in_log (user_id, id);

ALTER TABLE users ADD COLUMN blocked_reason text NOT NULL DEFAULT '';

-- Set while the password is a temporary one an admin chose: it stops
-- working then, never works in basic auth, and must be replaced after
-- sign-in. NULL for a password the user chose.
ALTER TABLE users ADD COLUMN password_expires_at timestamptz;
