-- 0001_init: initial schema, mirroring store/sqlite/migrations/0001_init.sql.
-- Times are timestamptz written by the store at millisecond precision (UTC);
-- NULL stands for the zero time in nullable columns.

CREATE TABLE users (
	id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused: audit_log keeps ids
	username       text        NOT NULL UNIQUE CHECK (username <> ''),
	display_name   text        NOT NULL DEFAULT '',
	email          text        NOT NULL DEFAULT '',
	password_hash  text        NOT NULL DEFAULT '',
	mfa_state      text        NOT NULL CHECK (mfa_state IN ('disabled', 'enabled', 'enforced')),
	totp_last_step bigint      NOT NULL DEFAULT -1,
	created_at     timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL
);

CREATE TABLE user_groups (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	grp     text   NOT NULL CHECK (grp <> ''),
	PRIMARY KEY (user_id, grp)
);

CREATE TABLE totp_authenticators (
	id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name          text        NOT NULL DEFAULT '',
	sealed_secret bytea       NOT NULL,
	created_at    timestamptz NOT NULL
);

CREATE INDEX totp_authenticators_user_id ON totp_authenticators (user_id);

CREATE TABLE sessions (
	id_hash      bytea       PRIMARY KEY,
	user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	stage        text        NOT NULL,
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	mfa_at       timestamptz,
	pending_totp bytea,
	redirect_to  text        NOT NULL DEFAULT '',
	remote_ip    text        NOT NULL DEFAULT '',
	user_agent   text        NOT NULL DEFAULT ''
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);
CREATE INDEX sessions_created_at ON sessions (created_at);

CREATE TABLE failures (
	key          text        PRIMARY KEY,
	count        integer     NOT NULL CHECK (count > 0),
	window_start timestamptz NOT NULL,
	locked_until timestamptz
);

CREATE TABLE secrets (
	name  text  PRIMARY KEY,
	value bytea NOT NULL
);

-- No foreign key on user_id: the history outlives deleted users.
CREATE TABLE audit_log (
	id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL,
	user_id   bigint,
	username  text        NOT NULL DEFAULT '',
	event     text        NOT NULL,
	remote_ip text        NOT NULL DEFAULT '',
	detail    text        NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user_id ON audit_log (user_id, at);
