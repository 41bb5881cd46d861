-- 0013_push_number_digits: a sign-in request's number has 2 to 8 digits
-- (push_number_digits; six or more meets NIST SP 800-63B-4's out-of-band
-- rule), no longer two only. SQLite cannot change a CHECK constraint, so
-- the table is rebuilt with the same columns and indexes and its rows
-- copied (nothing references approvals).

CREATE TABLE approvals_new (
	id           TEXT    PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash BLOB    NOT NULL,
	number       INTEGER NOT NULL CHECK (number BETWEEN 10 AND 99999999),
	status       TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	answered_at  INTEGER,
	device_id    INTEGER,
	site         TEXT    NOT NULL DEFAULT '',
	remote_ip    TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

INSERT INTO approvals_new (id, user_id, session_hash, number, status, created_at, expires_at, answered_at,
	device_id, site, remote_ip, user_agent)
SELECT id, user_id, session_hash, number, status, created_at, expires_at, answered_at,
	device_id, site, remote_ip, user_agent
FROM approvals;

DROP TABLE approvals;
ALTER TABLE approvals_new RENAME TO approvals;

CREATE INDEX approvals_user_id ON approvals (user_id, created_at);
CREATE INDEX approvals_session_hash ON approvals (session_hash, created_at);
CREATE INDEX approvals_created_at ON approvals (created_at);
