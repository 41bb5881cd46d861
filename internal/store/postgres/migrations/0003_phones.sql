-- 0003_phones: paired phones (sign-in approval with number matching), the
-- one-time links that pair them, the single-use nonces their signed calls
-- carry, the approval requests, and blocked accounts.
-- Mirrors store/sqlite/migrations/0003_phones.sql (flags are integers 0/1 in
-- both, so the shared queries compare them alike).

-- Set when the user reported a sign-in request as fraud; NULL otherwise.
ALTER TABLE users ADD COLUMN blocked_at timestamptz;

CREATE TABLE devices (
	id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         text        NOT NULL,
	public_key   bytea       NOT NULL,
	push         bytea,                 -- sealed Web Push subscription
	push_dead    integer     NOT NULL DEFAULT 0 CHECK (push_dead IN (0, 1)),
	active       integer     NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
	created_at   timestamptz NOT NULL,
	activated_at timestamptz,
	last_used_at timestamptz
);

CREATE INDEX devices_user_id ON devices (user_id, created_at, id);

-- Only hashes of the link's token and of the confirmation code are kept.
CREATE TABLE pairings (
	token_hash   bytea       PRIMARY KEY,
	user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash bytea       NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	device_id    bigint      REFERENCES devices (id) ON DELETE CASCADE,
	code_hash    bytea,
	attempts     integer     NOT NULL DEFAULT 0
);

CREATE INDEX pairings_user_id ON pairings (user_id);

CREATE TABLE device_nonces (
	nonce_hash bytea       PRIMARY KEY,
	device_id  bigint      NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	expires_at timestamptz NOT NULL
);

CREATE INDEX device_nonces_device_id ON device_nonces (device_id, expires_at);

CREATE TABLE approvals (
	id           text        PRIMARY KEY,
	user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash bytea       NOT NULL,
	number       integer     NOT NULL CHECK (number BETWEEN 10 AND 99),
	status       text        NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	answered_at  timestamptz,
	device_id    bigint,
	site         text        NOT NULL DEFAULT '',
	remote_ip    text        NOT NULL DEFAULT '',
	user_agent   text        NOT NULL DEFAULT ''
);

CREATE INDEX approvals_user_id ON approvals (user_id, created_at);
CREATE INDEX approvals_session_hash ON approvals (session_hash, created_at);
CREATE INDEX approvals_created_at ON approvals (created_at);
