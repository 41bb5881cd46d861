-- 0010_recovery_codes: saved recovery codes and the announcements of
-- recoveries. A user has at most one set of codes (regenerating replaces
-- it); each code is a bcrypt hash found by a keyed lookup tag (HMAC of
-- the user and the code), as app passwords are, and is used once
-- (used_at). A recovery (a code or a Temporary Access Pass used to sign
-- in) leaves a notice the user sees on Security info until dismissed and
-- once at their next sign-in.
-- Mirrors store/sqlite/migrations/0010_recovery_codes.sql.

CREATE TABLE recovery_codes (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	lookup_tag bytea       NOT NULL,
	hash       text        NOT NULL,
	created_at timestamptz NOT NULL,
	used_at    timestamptz,
	used_ip    text        NOT NULL DEFAULT '',
	UNIQUE (user_id, lookup_tag)
);

CREATE TABLE recovery_notices (
	id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind             text        NOT NULL CHECK (kind IN ('recovery code', 'access pass')),
	remote_ip        text        NOT NULL DEFAULT '',
	site             text        NOT NULL DEFAULT '',
	created_at       timestamptz NOT NULL,
	shown_at_sign_in timestamptz,
	dismissed_at     timestamptz
);

CREATE INDEX recovery_notices_user_id ON recovery_notices (user_id, created_at, id);
